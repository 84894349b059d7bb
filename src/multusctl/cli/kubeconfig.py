"""`multusctl kubeconfig create|inspect`: the least-privilege kubeconfig Multus's thin plugin needs.

lightkube and the provisioning code are imported inside the commands, so `multusctl check` (which
imports this module through the command group) never pays for the API client.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from multusctl.cli.options import detect_layout_from, node_options
from multusctl.gather.nodefs import NodeFSError, read_regular_file

if TYPE_CHECKING:
    from multusctl.config.kubeconfig import Kubeconfig
    from multusctl.gather.nodefs import NodeFS
    from multusctl.layout.model import Layout


def _fail(code: int, message: str) -> NoReturn:
    click.echo(f"multusctl: {message}", err=True)
    sys.exit(code)


def _admin_kubeconfig(verb: str, fs: NodeFS, layout: Layout, explicit: str | None) -> tuple[str, str, Kubeconfig]:
    """(path, where it came from, parsed) of the admin kubeconfig to talk to the API with; exit 2 without one."""
    from multusctl.config.errors import ParseError
    from multusctl.config.kubeconfig import parse
    from multusctl.provision.target import find_admin_kubeconfig

    node_admin, unusable = None, ""
    if layout.admin_kubeconfig:
        try:
            node_admin = fs.host(layout.admin_kubeconfig)
        except NodeFSError as exc:  # a symlink loop: skip it, and say so if nothing else is found
            unusable = f"; the node's admin kubeconfig is unusable: {exc}"
    found = find_admin_kubeconfig(explicit, os.environ.get("KUBECONFIG"), node_admin, os.path.expanduser("~"))
    if found is None:
        _fail(2, f"kubeconfig {verb}: no admin kubeconfig found ($KUBECONFIG, the node's admin kubeconfig, "
                 f"~/.kube/config){unusable}; pass --kubeconfig FILE")
    path, source = found
    try:
        return path, source, parse(read_regular_file(path, path))  # a FIFO or device is refused, not read
    except NodeFSError as exc:
        _fail(2, f"kubeconfig {verb}: cannot read {exc}")
    except ParseError as exc:
        _fail(2, f"kubeconfig {verb}: {path}: {exc}")


@click.group("kubeconfig", short_help="Create, refresh or inspect the kubeconfig Multus uses.")
def kubeconfig_group() -> None:
    """The kubeconfig Multus's thin plugin uses: create a least-privilege one, refresh its token, inspect it."""


@kubeconfig_group.command(
    "create", short_help="ServiceAccount, RBAC and a verified least-privilege kubeconfig for Multus.")
@node_options
@click.option("--path", default=None, metavar="FILE",
              help="Write here (a local path) instead of the node's multus.d/multus.kubeconfig under --root.")
@click.option("--kubeconfig", "admin_kubeconfig", default=None, metavar="FILE",
              help="Admin kubeconfig to talk to the API (default: $KUBECONFIG, the node's admin kubeconfig, "
                   "~/.kube/config).")
@click.option("--context", default=None, help="Context of the admin kubeconfig (default: its current-context).")
@click.option("--namespace", default="kube-system", show_default=True, help="Namespace of the ServiceAccount.")
@click.option("--service-account", default="multus", show_default=True, help="ServiceAccount name.")
@click.option("--server", default=None, metavar="URL",
              help="API URL to write (default: the ClusterIP:port of Service default/kubernetes).")
@click.option("--token-duration", default=None, metavar="DURATION",
              help="Use a TokenRequest token of this lifetime (e.g. 24h, 8760h; at least 10m) instead of a "
                   "long-lived Secret token. Nothing refreshes it.")
@click.option("--no-verify", is_flag=True,
              help="Do not contact the written server (e.g. its ClusterIP is not reachable from here); the token "
                   "is still checked through the admin connection.")
@click.option("--dry-run", is_flag=True, help="Change nothing; print the plan and a redacted diff.")
def create_cmd(root: str, distro: str | None, role: str | None, conf_dir: str | None, bin_dirs: tuple[str, ...],
               path: str | None, admin_kubeconfig: str | None, context: str | None, namespace: str,
               service_account: str, server: str | None, token_duration: str | None, no_verify: bool,
               dry_run: bool) -> None:
    """Create (idempotently) ServiceAccount, ClusterRole and binding for Multus, and write a verified
    ServiceAccount kubeconfig at the node's multus.d/multus.kubeconfig (mode 0600, old file backed up).

    Exit status: 0 done (or nothing to do), 1 the API refused or verification failed, 2 bad usage or
    unreadable input.
    """
    from multusctl.provision import duration
    from multusctl.provision.objects import Names
    from multusctl.provision.target import server_url_problem

    seconds = None
    if token_duration is not None:
        try:
            seconds = duration.token_seconds(token_duration)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--token-duration") from None
    problem = server_url_problem(server) if server is not None else None
    if problem:
        raise click.BadParameter(problem, param_hint="--server")

    fs, layout = detect_layout_from(root, distro, role, conf_dir, bin_dirs)
    if not layout.node_found and not path:
        from multusctl.cli.run import not_a_node

        if not dry_run:
            _fail(2, f"kubeconfig create: {not_a_node(root, layout)}; or write to a file with --path FILE")
        click.echo(f"! No Kubernetes node detected under {root}: the plan below writes to the CNI default "
                   f"{layout.multus_kubeconfig}; pass --root DIR, --distro or --path FILE")
    admin_path, admin_source, admin_kc = _admin_kubeconfig("create", fs, layout, admin_kubeconfig)
    secrets = set(admin_kc.secrets)
    admin_ca = admin_kc.decoded(admin_kc.cluster, "certificate-authority-data")

    from multusctl.provision.files import LocalError
    from multusctl.provision.target import node_target

    try:
        target, shown, may_create = node_target(fs, layout, path)
    except LocalError as exc:
        _fail(2, f"kubeconfig create: {exc}")
    from multusctl.provision.api import ApiFailure, connect_admin
    from multusctl.provision.create import Failed, Options, Output, run

    opts = Options(admin_path=admin_path, admin_source=admin_source, context=context,
                   names=Names.for_account(namespace, service_account), target=target, shown=shown,
                   server=server, token_seconds=seconds, verify=not no_verify, dry_run=dry_run,
                   may_create=may_create)
    out = Output(echo=click.echo, secrets=secrets)
    try:
        admin = connect_admin(admin_path, admin_kc.raw, context, secrets)
    except ApiFailure as exc:
        _fail(2, f"kubeconfig create: {exc}")
    try:
        code = run(opts, admin, out, admin_ca)
    except (ApiFailure, Failed) as exc:
        # The ApiFailure/Failed texts are built secret-free; redact once more in case a server echoed one.
        from multusctl.config.secrets import redact

        # An admin kubeconfig lightkube cannot use (say, an exec plugin it lacks) is unusable input: 2;
        # a bad local target (a link, a directory, a missing parent) says so with Failed.code 2.
        _fail(exc.code if isinstance(exc, Failed) else 2 if exc.kind == "config" else 1,
              redact(f"kubeconfig create: {exc}", out.secrets))
    finally:
        admin.close()
    sys.exit(code)


@kubeconfig_group.command(
    "refresh", short_help="Renew the kubeconfig's TokenRequest token when it expires within --before.")
@node_options
@click.option("--path", default=None, metavar="FILE",
              help="Refresh this file (a local path) instead of the node's multus.d/multus.kubeconfig under --root.")
@click.option("--kubeconfig", "admin_kubeconfig", default=None, metavar="FILE",
              help="Admin kubeconfig to request the token with (default: $KUBECONFIG, the node's admin "
                   "kubeconfig, ~/.kube/config); read only when a new token is due.")
@click.option("--context", default=None, help="Context of the admin kubeconfig (default: its current-context).")
@click.option("--before", default="24h", show_default=True, metavar="DURATION",
              help="Renew when the token expires within this time (e.g. 24h, 72h, 30m).")
@click.option("--force", is_flag=True, help="Renew even when the token is not due yet.")
@click.option("--no-verify", is_flag=True,
              help="Do not contact the file's server (its ClusterIP may not be reachable from here); the new "
                   "token is still checked through the admin connection.")
@click.option("--dry-run", is_flag=True, help="Change nothing; say whether a token is due and show the diff.")
@click.option("--in-cluster", is_flag=True,
              help="Request the token with this pod's own ServiceAccount (what --print-cronjob's job does).")
@click.option("--service-account-dir", default="/var/run/secrets/kubernetes.io/serviceaccount", show_default=True,
              metavar="DIR", help="Where --in-cluster finds the pod's token, ca.crt and namespace.")
@click.option("--print-systemd-timer", "print_timer", is_flag=True,
              help="Print a systemd service and timer that run this refresh hourly, and exit.")
@click.option("--print-cronjob", "print_cronjob", is_flag=True,
              help="Print a CronJob (and its ServiceAccount, allowed only to create multus tokens) that runs "
                   "this refresh on one node, and exit; needs --image.")
@click.option("--image", default=None, metavar="REF", help="With --print-cronjob: an image that contains multusctl.")
@click.option("--node", default=None, metavar="NAME", help="With --print-cronjob: the node to run on (nodeName).")
@click.option("--schedule", default="17 * * * *", show_default=True, help="With --print-cronjob: its cron schedule.")
def refresh_cmd(root: str, distro: str | None, role: str | None, conf_dir: str | None, bin_dirs: tuple[str, ...],
                path: str | None, admin_kubeconfig: str | None, context: str | None, before: str, force: bool,
                no_verify: bool, dry_run: bool, in_cluster: bool, service_account_dir: str, print_timer: bool,
                print_cronjob: bool, image: str | None, node: str | None, schedule: str) -> None:
    """Renew the TokenRequest token of Multus's kubeconfig when it expires within --before.

    Keeps the file's server and CA, requests a token of the same ServiceAccount and lifetime, verifies it
    as `create` does and writes it atomically (0600, old file backed up). A long-lived Secret token needs
    nothing. The cluster is contacted only when a token is due, so a timer may run it often.

    Exit status: 0 refreshed or nothing due, 1 the API refused or verification failed, 2 bad usage or a
    file refresh cannot renew.
    """
    from datetime import UTC, datetime, timedelta

    from multusctl.provision import duration, files
    from multusctl.provision.files import LocalError
    from multusctl.provision.plan import Failed, Output
    from multusctl.provision.refresh import due, run, systemd_exec, systemd_units
    from multusctl.provision.target import node_target

    try:
        window = timedelta(seconds=duration.parse(before))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--before") from None
    if print_timer:
        import shutil

        # systemd wants an absolute ExecStart; the one installed where this runs.
        exe = shutil.which("multusctl") or os.path.abspath(sys.argv[0])
        from multusctl.report.escape import one_line

        args = [exe, "kubeconfig", "refresh", "--before", before]
        args += ["--path", os.path.abspath(path)] if path else ["--root", os.path.abspath(root)]
        if admin_kubeconfig:
            args += ["--kubeconfig", os.path.abspath(admin_kubeconfig)]
        bad = [a for a in args if one_line(a) != a]
        if bad:  # a newline would start a directive of its own in the unit file
            raise click.UsageError(f"{one_line(bad[0])!r} holds a control character; a unit file cannot carry it")
        click.echo(systemd_units(systemd_exec(args)), nl=False)
        return
    if in_cluster and admin_kubeconfig:
        raise click.UsageError("--in-cluster and --kubeconfig exclude each other")
    fs, layout = detect_layout_from(root, distro, role, conf_dir, bin_dirs)
    if print_cronjob:
        import posixpath

        from multusctl.provision.objects import Names
        from multusctl.provision.refresh import cronjob_manifests, cronjob_problem

        if not image:
            raise click.UsageError("--print-cronjob needs --image REF (an image that contains multusctl)")
        host_dir = posixpath.dirname(path) if path else posixpath.dirname(layout.multus_kubeconfig)
        if problem := cronjob_problem(image, node, schedule, host_dir):
            raise click.UsageError(problem)
        click.echo(cronjob_manifests(host_dir, image, names=Names.for_account(), node=node, schedule=schedule,
                                     before=before), nl=False)
        return
    try:
        target, shown, _may_create = node_target(fs, layout, path)
        existing = files.read_existing(target, shown(target))
    except files.FileError as exc:
        _fail(2, f"kubeconfig refresh: {exc}")
    out = Output(echo=click.echo)
    try:
        d = due(existing.data, shown(target), datetime.now(UTC), window, force)
    except Failed as exc:
        _fail(exc.code, f"kubeconfig refresh: {exc}")
    if not d.needed:
        out.ok(d.why)
        sys.exit(0)
    out.info(d.why)

    from multusctl.config.secrets import redact
    from multusctl.provision.api import ApiFailure, connect_admin, connect_in_cluster
    from multusctl.provision.create import Options

    assert d.names is not None
    try:
        if in_cluster:
            admin = connect_in_cluster(service_account_dir, out.secrets)
            admin_path, admin_source = service_account_dir, "--in-cluster"
        else:
            admin_path, admin_source, admin_kc = _admin_kubeconfig("refresh", fs, layout, admin_kubeconfig)
            out.secrets |= admin_kc.secrets
            admin = connect_admin(admin_path, admin_kc.raw, context, out.secrets)
    except ApiFailure as exc:
        _fail(2, f"kubeconfig refresh: {exc}")
    opts = Options(admin_path=admin_path, admin_source=admin_source, context=context, names=d.names,
                   target=target, shown=shown, verify=not no_verify, dry_run=dry_run)
    try:
        code = run(opts, d, admin, out, existing)
    except (ApiFailure, Failed, LocalError) as exc:
        code_ = exc.code if isinstance(exc, Failed) else 2 if isinstance(exc, LocalError) or exc.kind == "config" \
            else 1
        _fail(code_, redact(f"kubeconfig refresh: {exc}", out.secrets))
    finally:
        admin.close()
    sys.exit(code)


@kubeconfig_group.command(
    "inspect", short_help="Who a kubeconfig authenticates as, server, CA, expiry; offline, no secrets.")
@click.argument("file", required=False, metavar="[FILE]")
@click.option("--root", default="/", show_default=True, metavar="DIR", type=click.Path(file_okay=False, exists=True),
              help="Inspect the multus kubeconfig of the node copied in DIR.")
@click.option("--path", default=None, metavar="FILE", help="Inspect this file instead (same as the argument).")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def inspect_cmd(file: str | None, root: str, path: str | None, output: str) -> None:
    """Who a kubeconfig authenticates as, its server, CA and token expiry, file mode. Offline; prints no secret.

    FILE (or --path) is a local file; without it, the multus kubeconfig of the node under --root.
    """
    import json

    from multusctl.config.errors import ParseError
    from multusctl.provision.inspect import describe, describe_json

    if file and path and file != path:
        raise click.UsageError("give the file once: as FILE or as --path")
    path = path or file
    try:
        if path:
            shown = path
            data = read_regular_file(path, path)
            st = os.stat(path)
            mode, uid = st.st_mode & 0o777, st.st_uid
        else:
            fs, layout = detect_layout_from(root, None, None, None, ())
            shown = layout.multus_kubeconfig
            data = fs.read_bytes(shown)  # symlinks resolve inside the root, as `check` reads it
            info = fs.stat(shown)
            mode, uid = (info.mode, info.uid) if info else (0, 0)
    except (NodeFSError, OSError) as exc:
        _fail(2, f"kubeconfig inspect: cannot read {exc if isinstance(exc, NodeFSError) else shown}")
    try:
        text = (json.dumps(describe_json(data, shown, mode, uid), indent=2) if output == "json"
                else "\n".join(describe(data, shown, mode, uid)))
    except ParseError as exc:
        _fail(2, f"kubeconfig inspect: {shown}: {exc}")
    click.echo(text)
