"""The bodies of `check` and `detect`, free of click.

The click commands (cli/check.py, cli/detect.py) and the start-up fast path (cli/fast.py) both call these,
so the two can never disagree on what a command does; only the argument parsing differs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multusctl.gather.nodefs import NodeFS
    from multusctl.layout.model import Layout


class UsageProblem(Exception):
    """Bad usage found after parsing (click shows it as a UsageError: usage line, hint, exit 2)."""


class NotANode(Exception):
    """The input cannot be judged (no node under the root, a named file missing, files we may not read):
    one line on stderr, exit 2, and no finding that would blame the node for it."""


def not_a_node(root: str, layout: Layout) -> str:
    return (f"no Kubernetes node found under {root}: no distribution marker, no container runtime config and no "
            f"CNI conf dir {layout.conf_dir} (`multusctl detect --root {root}` shows what was looked for); run "
            "this on a node, point --root at a copy of a node's files, or name the distribution with --distro")


def detect_layout_from(root: str, distro: str | None, role: str | None, conf_dir: str | None,
                       bin_dirs: tuple[str, ...]) -> tuple[NodeFS, Layout]:
    from multusctl.gather.nodefs import NodeFS
    from multusctl.layout.detect import Overrides, detect_layout

    fs = NodeFS(root)
    layout = detect_layout(
        fs, Overrides(distro=distro, role=role, conf_dir=conf_dir, bin_dirs=list(bin_dirs) or None)
    )
    return fs, layout


def unknown_skips(skip: tuple[str, ...]) -> list[str]:
    from multusctl.analyze import UnknownCheck, node_check_ids

    try:
        node_check_ids(skip)
    except UnknownCheck as exc:
        return [str(exc)]
    return []


def run_check(root: str, distro: str | None, role: str | None, conf_dir: str | None, bin_dirs: tuple[str, ...],
              output: str, daemon_config: str | None, skip: tuple[str, ...], color: bool | None,
              verbose: bool = False) -> None:
    """`multusctl check`; raises UsageProblem for an unknown --skip id (before reading anything)."""
    try:
        _check(root, distro, role, conf_dir, bin_dirs, output, daemon_config, skip, color, verbose)
    except NotANode as exc:
        sys.stderr.write(f"multusctl: {exc}\n")
        sys.exit(2)


def _check(root: str, distro: str | None, role: str | None, conf_dir: str | None, bin_dirs: tuple[str, ...],
           output: str, daemon_config: str | None, skip: tuple[str, ...], color: bool | None,
           verbose: bool = False) -> None:
    from multusctl.analyze import UnknownCheck, analyze_snapshot, node_check_ids, node_snapshot
    from multusctl.layout.detect import Overrides
    from multusctl.report.formats import render

    try:
        node_check_ids(skip)  # a bad --skip is bad usage, said before the node is read
    except UnknownCheck as exc:
        raise UsageProblem(f"--skip: {exc}") from None
    overrides = Overrides(distro=distro, role=role, conf_dir=conf_dir, bin_dirs=list(bin_dirs) or None)
    snap = node_snapshot(root, overrides, daemon_config=daemon_config)
    if not snap.layout.node_found:
        raise NotANode(not_a_node(root, snap.layout))
    if daemon_config and (snap.daemon_config is None or snap.daemon_config.config is None):
        why = snap.daemon_config.error if snap.daemon_config and snap.daemon_config.error else "no such file"
        why = why.removeprefix(f"{daemon_config}: ")
        raise NotANode(f"--daemon-config {daemon_config}: {why}"
                       + (f" (a node path under --root {root})" if root != "/" else ""))
    if snap.fs.denied:
        raise NotANode(f"cannot read {snap.fs.denied[0]}: permission denied (run as root, or copy the node's "
                       "files and pass --root)" + (f"; {len(snap.fs.denied) - 1} more unreadable"
                                                    if len(snap.fs.denied) > 1 else ""))
    report = analyze_snapshot(snap, root=root, skip=skip)
    for crash in report.crashed:
        # The exception text may quote the node's files: the stream guard redacts it like every line.
        sys.stderr.write(f"multusctl: internal error in check {crash} (please report this)\n")
    use_color = sys.stdout.isatty() if color is None else color
    sys.stdout.write(render(report, output, color=use_color, secrets=snap.secrets, verbose=verbose))
    sys.exit(2 if report.crashed and not report.findings else report.exit_code())


def run_check_manifests(paths: tuple[str, ...], root: str, distro: str | None, role: str | None,
                        conf_dir: str | None, bin_dirs: tuple[str, ...], output: str, skip: tuple[str, ...],
                        color: bool | None, verbose: bool = False) -> None:
    """`multusctl check --manifest FILE...`: the manifest checks against the layout of --root / --distro."""
    from multusctl.analyze import UnknownCheck, analyze_manifests, manifest_check_ids
    from multusctl.gather.manifests import ManifestError, ManifestSnapshot, read_sources
    from multusctl.report.formats import render

    try:
        manifest_check_ids(skip)
    except UnknownCheck as exc:
        raise UsageProblem(f"--skip: {exc}") from None
    _fs, layout = detect_layout_from(root, distro, role, conf_dir, bin_dirs)
    if not layout.node_found and not distro:
        sys.stderr.write(f"multusctl: --manifest: {not_a_node(root, layout)}\n")
        sys.exit(2)
    try:
        objects = read_sources(list(paths))
    except ManifestError as exc:
        sys.stderr.write(f"multusctl: --manifest {exc}\n")
        sys.exit(2)
    snap = ManifestSnapshot(objects, layout, list(paths))
    report = analyze_manifests(snap, root=root, skip=skip)
    for crash in report.crashed:
        sys.stderr.write(f"multusctl: internal error in check {crash} (please report this)\n")
    use_color = sys.stdout.isatty() if color is None else color
    sys.stdout.write(render(report, output, color=use_color, verbose=verbose))
    sys.exit(2 if report.crashed and not report.findings else report.exit_code())


def run_detect(root: str, distro: str | None, role: str | None, conf_dir: str | None,
               bin_dirs: tuple[str, ...], output: str) -> None:
    """`multusctl detect`."""
    from multusctl.gather.snapshot import gather_node
    from multusctl.report.detect import detect_document, render_detect_text

    fs, layout = detect_layout_from(root, distro, role, conf_dir, bin_dirs)
    snap = gather_node(fs, layout)
    doc = detect_document(snap, root)
    if output == "json":
        import json

        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(render_detect_text(doc))
