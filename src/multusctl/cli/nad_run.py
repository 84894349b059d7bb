"""The body of `multusctl nad validate|test` without click: `cli.fast` runs a well-formed `nad test FILE`
command line through here without importing click (~30 ms of start-up against a hand run's ~130 ms budget),
and the click commands of cli/nad.py and cli/nad_test.py call the same functions after their usage checks."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn


def valid_ifname(ifname: str) -> bool:
    """What the kernel takes as an interface name (IFNAMSIZ): 1-15 bytes, no `/`, no white space."""
    return 0 < len(ifname.encode()) < 16 and "/" not in ifname and not any(c.isspace() for c in ifname)


def echo_err(message: str) -> None:
    # click.echo, imported only when there is something to say: it strips ANSI codes on a non-terminal, and the
    # messages are the same ones the click path prints.
    import click

    click.echo(message, err=True)


def fail(message: str, secrets: set[str] | None = None) -> NoReturn:
    from multusctl.config.secrets import redact

    echo_err(f"multusctl nad: {redact(message, secrets or set())}")
    sys.exit(2)


def cluster_nads(root: str, distro: str | None, kubeconfig: str | None, context: str | None,
                 namespace: str | None, secrets: set[str]) -> list[dict[str, Any]]:
    """One list call (a namespace, or all) with the admin kubeconfig found like kubectl; exit 2 on failure."""
    from multusctl.cli.admin import admin_api
    from multusctl.nad.source import read_cluster
    from multusctl.provision.api import ApiFailure

    with admin_api("nad", root, distro, kubeconfig, context, secrets) as api:
        try:
            return read_cluster(api, namespace)
        except ApiFailure as exc:
            if exc.code == 404:
                fail("the API does not serve k8s.cni.cncf.io/v1 network-attachment-definitions (CRD not "
                     "installed; `multusctl doctor` says more)")
            fail(str(exc), secrets)


def emit(report: Any, output: str, color: bool | None, verbose: bool, secrets: set[str], prefix: str = "") -> NoReturn:
    from multusctl.report.formats import render

    for crash in report.crashed:
        sys.stderr.write(f"multusctl: internal error in check {crash} (please report this)\n")
    use_color = sys.stdout.isatty() if color is None else color
    sys.stdout.write(prefix + render(report, output, color=use_color, secrets=secrets, verbose=verbose))
    sys.exit(report.exit_code())


def _attachments(target: str | None, annotation: str | None, ifname: str, namespace: str | None, root: str,
                 distro: str | None, kubeconfig: str | None, context: str | None,
                 secrets: set[str]) -> tuple[list[Any], list[str], list[str]]:
    """(attachments, annotation errors, sources) from FILE or NAME (the cluster), chosen by --annotation."""
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
        from multusctl.config import annotation as ann  # only here: its parser is ~1 ms of start-up

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


def run_test(target: str | None, namespace: str | None, ifname: str, annotation: str | None, pings: tuple[str, ...],
             keep: bool, seconds: float, root: str, distro: str | None, bin_dirs: tuple[str, ...],
             kubeconfig: str | None, context: str | None, output: str, color: bool | None,
             verbose: bool) -> NoReturn:
    """`nad test` once its command line is known to be valid (cli/nad_test.py checks it, or cli/fast.py)."""
    from multusctl.cni.sandbox import SandboxError
    from multusctl.interrupt import exit_status
    from multusctl.nad import trial, validate

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
                                     (lambda line: echo_err(f"  {line}")) if progress else lambda _l: None)
        except SandboxError as exc:
            fail(str(exc))
        except KeyboardInterrupt as exc:
            # 130 for Ctrl-C, 143 for SIGTERM: what a shell reports for a process the signal ended.
            status = exit_status(exc)
            echo_err(f"multusctl nad: interrupted (signal {status - 128}); the sandbox was removed")
            sys.exit(status)
    snap.trials = trials
    report = validate.report(snap, (*static.checks_run, "nad-attach-failed", "nad-plugin-timeout", "nad-ping-failed",
                                    "nad-cleanup-failed", "nad-annotation-invalid"))
    report.attachments = [t.to_dict() for t in trials]
    emit(report, output, color, verbose, secrets, prefix=_text(trials, kept) if output == "text" else "")
