"""`multusctl install | status | uninstall`: Multus from `multusctl render`, applied and watched.

The object list comes from `multusctl.render` (imported lazily, by name: it may not be in this build),
the cluster work from `multusctl.install`; lightkube is imported only inside the commands.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from multusctl.cli.admin import admin_api, fail
from multusctl.cli.options import seconds as duration_option
from multusctl.layout.model import DISTROS

DEFAULT_TIMEOUT = "5m"


def _progress() -> Callable[[str], None]:
    """Progress lines on a terminal only: a pipe or a CI log gets the outcome, not the ticking."""
    tty = sys.stderr.isatty()
    return (lambda line: click.echo(f"  {line}", err=True)) if tty else (lambda _line: None)


def _ds_progress(say: Callable[[str], None], name: str) -> Callable[[Any], None]:
    return lambda p: say(f"DaemonSet {name}: {p.line()}")


def render(verb: str, **options: Any) -> list[dict[str, Any]]:
    """`multusctl.render.render_objects(RenderOptions(**options))`, or exit 2 when render is not built in."""
    try:
        mod = importlib.import_module("multusctl.render")
    except ModuleNotFoundError:
        fail(2, f"{verb}: this multusctl has no `render` (multusctl.render is missing), so there is nothing to "
                 "install; update multusctl")
    try:
        objects: list[dict[str, Any]] = mod.render_objects(mod.RenderOptions(**options))
    except (ValueError, OSError) as exc:
        fail(2, f"{verb}: render: {exc}")
    return objects


def _api_errors(verb: str, secrets: set[str]) -> Any:
    """Map the install library's failures to one line and an exit status (1 refused, 2 unusable config)."""
    from multusctl.install.apply import ApplyConflict
    from multusctl.install.preflight import Refused
    from multusctl.install.rollout import RolloutGone, RolloutTimeout
    from multusctl.provision.api import ApiFailure
    from multusctl.provision.api_objects import UnknownKind

    @contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except Refused as exc:
            fail(1, str(exc), secrets)
        except (ApplyConflict, RolloutTimeout, RolloutGone, UnknownKind) as exc:
            fail(1, f"{verb}: {exc}", secrets)
        except ApiFailure as exc:
            fail(2 if exc.kind == "config" else 1, f"{verb}: {exc}", secrets)

    return guard()


def _interrupted(verb: str, what: str) -> NoReturn:
    click.echo(f"multusctl: {verb}: interrupted while {what}", err=True)
    sys.exit(130)


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed([
        click.option("--kubeconfig", "admin_kubeconfig", default=None, metavar="FILE",
                     help="Admin kubeconfig (default: $KUBECONFIG, the node's admin kubeconfig, ~/.kube/config)."),
        click.option("--context", default=None, help="Context of the admin kubeconfig (default: its current one)."),
        click.option("--namespace", default="kube-system", show_default=True, help="Namespace of Multus."),
    ]):
        fn = opt(fn)
    return fn


@click.command("install", short_help="Apply Multus (server-side) and wait for it.")
@_common
@click.option("--distro", type=click.Choice(["auto", *DISTROS[:-1]]), default="auto", show_default=True,
              help="Distribution whose paths to render for.")
@click.option("--root", default="/", show_default=True, metavar="DIR", help="Read the node's layout from DIR.")
@click.option("--mode", type=click.Choice(["thin", "thick"]), default="thin", show_default=True)
@click.option("--multus-version", default="v4.3.0", show_default=True, metavar="VERSION")
@click.option("--image", default=None, metavar="REF", help="Multus image (default: the version's upstream one).")
@click.option("--dry-run", is_flag=True, help="Server-side dry run: show what would change, change nothing.")
@click.option("--wait", is_flag=True, help="Wait for the DaemonSet's rollout (see --timeout).")
@click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True, metavar="DURATION", help="Bound for --wait.")
@click.option("--force-conflicts", is_flag=True,
              help="Take over objects and fields another field manager owns (off: refuse, naming it).")
@click.option("--backup-dir", default=None, metavar="DIR",
              help="Where the objects install replaces are saved (default: ~/.local/state/multusctl/backups/).")
def install_cmd(admin_kubeconfig: str | None, context: str | None, namespace: str, distro: str, root: str,
                mode: str, multus_version: str, image: str | None, dry_run: bool, wait: bool, timeout: str,
                force_conflicts: bool, backup_dir: str | None) -> None:
    """Server-side apply (field manager multusctl) of what `multusctl render` produces, after checking that
    the API answers, that these credentials may write every object and that no object of ours belongs to
    someone else. Idempotent: a second run reports every object unchanged. Replaced objects are saved first.

    Exit status: 0 applied (and rolled out, with --wait), 1 refused, a conflict, or no rollout in time,
    2 bad usage or no usable kubeconfig, 130 interrupted.
    """
    from multusctl.install.apply import apply
    from multusctl.install.backup import Backup, default_dir
    from multusctl.install.rollout import wait_rollout

    seconds = duration_option(timeout, "--timeout")
    objects = render("install", distro=distro, root=root, mode=mode, multus_version=multus_version, image=image,
                     namespace=namespace)
    secrets: set[str] = set()
    backup = Backup(backup_dir or default_dir("install"))
    with admin_api("install", root, distro, admin_kubeconfig, context, secrets) as api, _api_errors("install", secrets):
        changes = apply(api, objects, dry_run, force=force_conflicts, backup=backup)
        for ch in changes:
            click.echo(ch.line(dry_run))
            for f in ch.fields:
                click.echo(f"    {f}")
        if backup.files:
            click.echo(f"backup of the {len(backup.files)} replaced object(s): {backup.directory}")
        if not wait or dry_run:
            return
        say = _progress()
        for ds in (o for o in objects if o.get("kind") == "DaemonSet"):
            name = ds["metadata"]["name"]
            try:
                done = wait_rollout(api, ds["metadata"].get("namespace") or namespace, name, seconds,
                                    _ds_progress(say, name))
            except KeyboardInterrupt:
                _interrupted("install", f"waiting for DaemonSet {name} to roll out; the objects are applied, "
                             "`multusctl status --wait` waits again")
            click.echo(f"DaemonSet {name} rolled out: {done.line()}")


@click.command("status", short_help="Multus pods per node, NADs and version.")
@_common
@click.option("--wait", is_flag=True, help="First wait for the DaemonSet's rollout (see --timeout).")
@click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True, metavar="DURATION", help="Bound for --wait.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--root", default="/", show_default=True, metavar="DIR", hidden=True)
def status_cmd(admin_kubeconfig: str | None, context: str | None, namespace: str, wait: bool, timeout: str,
               output: str, root: str) -> None:
    """DaemonSet desired/ready/updated, each pod's state per node (Running, CrashLoopBackOff, OOMKilled with
    its last message, ...), the NetworkAttachmentDefinition count and the Multus version from the image.

    Exit status: 0 everything ready, 1 anything not ready (or not installed), 2 no usable kubeconfig.
    """
    from multusctl.install.objects import SELECTOR
    from multusctl.install.rollout import RolloutTimeout, wait_rollout
    from multusctl.install.status import render_text, status

    seconds = duration_option(timeout, "--timeout")
    secrets: set[str] = set()
    with admin_api("status", root, None, admin_kubeconfig, context, secrets) as api, _api_errors("status", secrets):
        if wait:
            say = _progress()
            found, _ = api.list_objects("apps/v1", "DaemonSet", namespace, labels=SELECTOR)
            for ds in found:
                name = ds["metadata"]["name"]
                try:
                    wait_rollout(api, namespace, name, seconds, _ds_progress(say, name))
                except RolloutTimeout as exc:
                    click.echo(f"multusctl: status: {exc}", err=True)
                except KeyboardInterrupt:
                    _interrupted("status", f"waiting for DaemonSet {name}; nothing was changed")
        st = status(api, namespace)
    if output == "json":
        click.echo(json.dumps(st.to_json(), indent=2))
    else:
        for line in render_text(st):
            click.echo(line)
    sys.exit(st.exit_code)


@click.command("uninstall", short_help="Remove what install manages; clean the nodes.")
@_common
@click.option("--distro", type=click.Choice(["auto", *DISTROS[:-1]]), default="auto", show_default=True,
              help="Distribution whose node paths to clean.")
@click.option("--root", default="/", show_default=True, metavar="DIR", help="Read the node's layout from DIR.")
@click.option("--conf-dir", default=None, metavar="PATH", help="Override the CNI conf dir to clean (node path).")
@click.option("--dry-run", is_flag=True, help="Server-side dry run of every delete and of the cleanup DaemonSet.")
@click.option("--print-node-commands", is_flag=True,
              help="Print the commands that clean a node instead of running the cleanup DaemonSet.")
@click.option("--image", default="busybox:1.36", show_default=True, metavar="REF",
              help="Image of the cleanup DaemonSet (needs sh and rm).")
@click.option("--delete-crd", is_flag=True,
              help="Also delete the NetworkAttachmentDefinition CRD (refused while any NAD exists).")
@click.option("--timeout", default="2m", show_default=True, metavar="DURATION",
              help="Bound for the node cleanup (and the DaemonSet's termination).")
@click.option("--backup-dir", default=None, metavar="DIR",
              help="Where deleted objects are saved (default: ~/.local/state/multusctl/backups/).")
def uninstall_cmd(admin_kubeconfig: str | None, context: str | None, namespace: str, distro: str, root: str,
                  conf_dir: str | None, dry_run: bool, print_node_commands: bool, image: str, delete_crd: bool,
                  timeout: str, backup_dir: str | None) -> None:
    """Delete, in reverse order, only the objects install manages (label app.kubernetes.io/managed-by=
    multusctl or field manager multusctl; a same-named object of someone else's is refused and left alone),
    keep the NAD CRD unless --delete-crd, then remove 00-multus.conf* and multus.d/multus.kubeconfig from
    every node: a leftover 00-multus.conf with no multus binary breaks every new pod.

    Exit status: 0 done, 1 refused or the node cleanup did not finish, 2 bad usage or no usable kubeconfig.
    """
    from multusctl.cli.run import detect_layout_from
    from multusctl.install.backup import Backup, default_dir
    from multusctl.install.uninstall import NodeCleanup, uninstall

    seconds = duration_option(timeout, "--timeout")
    _, layout = detect_layout_from(root, None if distro == "auto" else distro, None, conf_dir, ())
    # Render's names, to refuse same-named objects of someone else's: of both modes, since whichever was
    # installed, uninstall is not told (the thick set adds the daemon-config ConfigMap).
    rendered: list[dict[str, Any]] = []
    for mode in ("thin", "thick"):
        for obj in render("uninstall", distro=distro, root=root, namespace=namespace, mode=mode):
            if (obj["kind"], obj["metadata"]["name"]) not in {(o["kind"], o["metadata"]["name"]) for o in rendered}:
                rendered.append(obj)
    nodes = NodeCleanup(layout.conf_dir, layout.multus_kubeconfig, image, seconds, print_node_commands)
    secrets: set[str] = set()
    backup = Backup(backup_dir or default_dir("uninstall"))
    say = _progress()
    with admin_api("uninstall", root, distro, admin_kubeconfig, context, secrets) as api, \
            _api_errors("uninstall", secrets):
        try:
            result = uninstall(api, namespace, dry_run, rendered=rendered, delete_crd=delete_crd, nodes=nodes,
                               backup=backup, on_progress=say)
        except KeyboardInterrupt:
            _interrupted("uninstall", "removing Multus; what was deleted stays deleted (and the cleanup "
                         "DaemonSet is removed); run `multusctl uninstall` again to finish")
    suffix = " (server dry run)" if dry_run else ""
    for ref in result.deleted:
        click.echo(f"{ref} deleted{suffix}")
    for line in result.kept:
        click.echo(line)
    if result.backup:
        click.echo(f"backup of the {len(backup.files)} deleted object(s): {result.backup}")
    if result.cleaned_nodes:
        click.echo(f"cleaned {len(result.cleaned_nodes)} node(s): {', '.join(result.cleaned_nodes)}")
    if print_node_commands:
        click.echo(f"# on every node ({layout.distro} layout), as root:")
        for cmd in result.node_commands:
            click.echo(cmd)
    for p in result.problems:
        click.echo(f"multusctl: uninstall: {p}", err=True)
    sys.exit(result.exit_code)
