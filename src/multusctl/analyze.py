"""`analyze_node`: gather a node root, run the node checks, return the report. What `check` and tests call.

The CLI only parses options and prints; everything between a root on disk and a Report is here, so a
test, a later `doctor`, and the per-node runs of `check --all-nodes` all analyze a node the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from multusctl import __version__
from multusctl.gather.nodefs import NodeFS
from multusctl.gather.snapshot import NodeSnapshot, gather_node
from multusctl.layout.detect import Overrides, detect_layout
from multusctl.report.finding import Report, Target

if TYPE_CHECKING:
    from multusctl.checks.registry import Check, CheckRun
    from multusctl.gather.manifests import ManifestSnapshot


class UnknownCheck(ValueError):
    """A --skip id that no check has."""


def node_snapshot(root: str = "/", overrides: Overrides | None = None, *, daemon_config: str | None = None,
                  now: datetime | None = None, trees: Iterable[str] | None = None) -> NodeSnapshot:
    """`trees`: the node trees `root` holds, when not all (NodeFS.sees)."""
    fs = NodeFS(root, trees=trees)
    return gather_node(fs, detect_layout(fs, overrides), daemon_config=daemon_config, now=now)


def _selected(checks: list[Check], skip: Iterable[str]) -> list[str]:
    """The ids of `checks` to run; UnknownCheck for a skipped id that none of them has."""
    ids = [c.id for c in checks]
    skipped = {part.strip() for s in skip for part in s.split(",") if part.strip()}  # --skip a,b and --skip a
    unknown = sorted(skipped - set(ids))
    if unknown:
        raise UnknownCheck(f"unknown check id {', '.join(unknown)} (`multusctl check --list` lists them)")
    return [i for i in ids if i not in skipped]


def report_of(run: CheckRun, checks: list[Check], target: Target) -> Report:
    """The report of one run of `checks` (the catalog entries of those that ran go with it, for SARIF)."""
    return Report(target=target, findings=run.findings, checks_run=run.ran, tool_version=__version__,
                  crashed=run.crashed, checks={c.id: c.entry for c in checks if c.id in run.ran})


def node_check_ids(skip: Iterable[str] = ()) -> list[str]:
    """The ids of the node checks to run; UnknownCheck for a skipped id that does not exist."""
    from multusctl.checks import node_checks

    return _selected(node_checks(), skip)


def analyze_snapshot(snap: NodeSnapshot, *, root: str = "/", skip: Iterable[str] = ()) -> Report:
    from multusctl.checks import node_checks
    from multusctl.checks.registry import run_checks

    run = run_checks(snap, "node", only=node_check_ids(skip))
    layout = snap.layout
    return report_of(run, node_checks(), Target(kind="node", root=root, distro=layout.distro, role=layout.role,
                                                mode=snap.mode))


def analyze_node(root: str = "/", overrides: Overrides | None = None, *, daemon_config: str | None = None,
                 skip: Iterable[str] = (), now: datetime | None = None) -> Report:
    """Every node check of CHECKS.md over the node at `root` (paths in the report as the node sees them)."""
    snap = node_snapshot(root, overrides, daemon_config=daemon_config, now=now)
    return analyze_snapshot(snap, root=root, skip=skip)


def manifest_check_ids(skip: Iterable[str] = ()) -> list[str]:
    """The ids of the manifest checks to run; UnknownCheck for a skipped id that does not exist."""
    from multusctl.checks import manifest_checks

    return _selected(manifest_checks(), skip)


def analyze_manifests(snap: ManifestSnapshot, *, root: str = "/", skip: Iterable[str] = ()) -> Report:
    """Every manifest check of CHECKS.md over the objects of `snap`, judged by its layout."""
    from multusctl.checks import manifest_checks
    from multusctl.checks.manifest_model import multus_daemonsets
    from multusctl.checks.registry import run_checks

    run = run_checks(snap, "manifest", only=manifest_check_ids(skip))
    modes = sorted({ds.mode for ds in multus_daemonsets(snap)})
    layout = snap.layout
    mode = modes[0] if len(modes) == 1 else ("none" if not modes else "unknown")
    return report_of(run, manifest_checks(), Target(kind="manifest", root=root, distro=layout.distro,
                                                    role=layout.role, mode=mode))
