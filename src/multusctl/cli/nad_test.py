"""`multusctl nad test`: try NADs for real in a throwaway network namespace (see nad/trial.py)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from multusctl.cli.nad import cluster_nads, common, emit, fail, nad_group
from multusctl.cli.options import seconds as duration_option


def _attachments(target: str | None, annotation: str | None, ifname: str, namespace: str | None, root: str,
                 distro: str | None, kubeconfig: str | None, context: str | None,
                 secrets: set[str]) -> tuple[list[Any], list[str], list[str]]:
    """(attachments, annotation errors, sources) from FILE or NAME (the cluster), chosen by --annotation."""
    from multusctl.config import annotation as ann
    from multusctl.nad.source import NadInputError, find, read_files
    from multusctl.nad.trial import Attachment

    from_file = target is not None and (target == "-" or os.path.isfile(target))
    if from_file:
        try:
            nads, sources = read_files([target or "-"])
        except NadInputError as exc:
            fail(str(exc))
    else:
        ns = namespace
        if target and "/" in target:
            ns = target.split("/", 1)[0]
        nads = cluster_nads(root, distro, kubeconfig, context, None if annotation else ns or "default", secrets)
        sources = ["cluster"] * len(nads)
    if annotation is not None:
        try:
            selections = ann.parse(annotation, namespace or "default")
        except ann.AnnotationError as exc:
            return [], [str(exc)], sources
        out, errors = [], []
        for sel, name in zip(selections, ann.interface_names(selections), strict=True):
            nad = find(nads, sel.namespace, sel.name)
            if nad is None:
                errors.append(f"cannot find a network-attachment-definition ({sel.name}) in namespace "
                              f"({sel.namespace})")
            else:
                out.append(Attachment(nad, name, sel))
        return out, errors, sources
    if from_file:
        return [Attachment(n, ifname if i == 0 else f"net{i + 1}") for i, n in enumerate(nads)], [], sources
    ns, _, name = (target or "").rpartition("/")
    nad = find(nads, ns or namespace or "default", name)
    if nad is None:
        fail(f"no NetworkAttachmentDefinition {ns or namespace or 'default'}/{name} in the cluster")
    return [Attachment(nad, ifname)], [], sources


def _text(trials: list[Any], kept: str) -> str:
    lines = []
    for t in trials:
        state = "ok" if t.ok else ("not tried: " + t.skipped if t.skipped else "FAILED")
        lines.append(f"attachment {t.nad} as {t.ifname} (netns {t.netns}): {state}")
        res = t.result or {}
        for i, itf in enumerate(res.get("interfaces") or []):
            where = "pod" if itf.get("sandbox") else "host"
            lines.append(f"  interface[{i}] {itf.get('name')} mac {itf.get('mac', '-')} ({where})")
        for ip in res.get("ips") or []:
            lines.append(f"  ip {ip.get('address')} gateway {ip.get('gateway', '-')}")
        for r in res.get("routes") or []:
            lines.append(f"  route {r.get('dst')} via {r.get('gw', '-')}")
        if res.get("dns"):
            lines.append(f"  dns {res['dns']}")
        for addr, why in t.pings:
            lines.append(f"  ping {addr}: {'reply' if why is None else why}")
    if kept:
        lines.append(f"kept the sandbox; remove it with: {kept}")
    return "\n".join(lines) + ("\n\n" if lines else "")


@nad_group.command("test", short_help="Try a NAD for real in a throwaway network namespace (ADD, CHECK, DEL).")
@click.argument("target", required=False, metavar="NAME|FILE")
@click.option("--namespace", "-n", default=None, help="Namespace of NAME (and of the annotation's names).")
@click.option("--ifname", default="net1", show_default=True, help="Interface name in the sandbox.")
@click.option("--annotation", default=None, metavar="VALUE",
              help="A pod's k8s.v1.cni.cncf.io/networks value: try every attachment it names (net1, net2, ...).")
@click.option("--ping", "pings", multiple=True, metavar="ADDR", help="Check reachability of ADDR from inside.")
@click.option("--keep", is_flag=True, help="Leave the namespace for inspection (prints how to remove it).")
@click.option("--timeout", default="10s", show_default=True, metavar="DURATION",
              help="Deadline of each plugin call; a plugin still running then is killed and reported.")
@common
def test_cmd(target: str | None, namespace: str | None, ifname: str, annotation: str | None,
             pings: tuple[str, ...], keep: bool, timeout: str, root: str, distro: str | None,
             bin_dirs: tuple[str, ...], kubeconfig: str | None, context: str | None, output: str,
             color: bool | None, verbose: bool) -> None:
    """On this node, as root: run the NAD's plugin chain as libcni does in a throwaway network namespace (ADD,
    CHECK, then DEL in reverse order), print the result (interfaces, IPs, routes, DNS), and leave nothing behind
    (namespace, links, IPAM state: host-local uses a private dataDir), also on failure, timeout or Ctrl-C.

    Exit status: 0 the attachment works, 1 a finding says why not, 2 bad usage.
    """
    import ipaddress

    from multusctl.cni.sandbox import Interrupted, SandboxError
    from multusctl.nad import trial, validate

    if target is None and annotation is None:
        raise click.UsageError("give NAME or FILE (or --annotation VALUE with the NADs in the cluster)")
    if root != "/" and os.path.realpath(root) != "/":
        raise click.UsageError("nad test runs this node's plugins: --root must be / (use `nad validate --root`)")
    if not 0 < len(ifname.encode()) < 16 or "/" in ifname or any(c.isspace() for c in ifname):
        raise click.BadParameter(f"{ifname!r} is not an interface name (1-15 bytes)", param_hint="--ifname")
    for addr in pings:
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise click.BadParameter(f"{addr!r} is not an IP address", param_hint="--ping") from None
    seconds = duration_option(timeout, "--timeout", low=0.05)
    secrets: set[str] = set()
    attachments, ann_errors, sources = _attachments(target, annotation, ifname, namespace, root, distro, kubeconfig,
                                                    context, secrets)
    nads = [a.nad for a in attachments]
    snap = validate.snapshot(nads, sources[:len(nads)], validate.Options(root=root, distro=distro, bin_dirs=bin_dirs))
    snap.annotation_errors = ann_errors
    static = validate.report(snap)
    trials: list[Any] = []
    kept = ""
    if attachments and not ann_errors and not any(f.severity == "error" for f in static.findings):
        opts = trial.Options(cni_path=[os.path.join(root, d.lstrip("/")) for d in snap.bin_dirs or []],
                             timeout=seconds, keep=keep, pings=list(pings))
        progress = output == "text" and sys.stderr.isatty()
        try:
            trials, kept = trial.run(attachments, opts,
                                     (lambda line: click.echo(f"  {line}", err=True)) if progress else lambda _l: None)
        except SandboxError as exc:
            fail(str(exc))
        except KeyboardInterrupt as exc:
            # 130 for Ctrl-C, 143 for SIGTERM: what a shell reports for a process the signal ended.
            signum = exc.signum if isinstance(exc, Interrupted) else 2
            click.echo(f"multusctl nad: interrupted (signal {signum}); the sandbox was removed", err=True)
            sys.exit(128 + signum)
    snap.trials = trials
    report = validate.report(snap, (*static.checks_run, "nad-attach-failed", "nad-plugin-timeout", "nad-ping-failed",
                                    "nad-cleanup-failed", "nad-annotation-invalid"))
    report.attachments = [t.to_dict() for t in trials]
    emit(report, output, color, verbose, secrets, prefix=_text(trials, kept) if output == "text" else "")
