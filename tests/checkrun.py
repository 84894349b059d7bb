"""Run the node checks over a node root built from a dict, the way `multusctl check --root` does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from multusctl.checks import node_checks
from multusctl.checks.registry import run_checks
from multusctl.gather.nodefs import NodeFS
from multusctl.gather.snapshot import NodeSnapshot, gather_node
from multusctl.layout.detect import Overrides, detect_layout
from multusctl.report.finding import Finding
from tests.noderoot import make_root


def snapshot(tmp_path: Path, files: dict[str, Any], *, now: datetime | None = None,
             daemon_config: str | None = None, **overrides: Any) -> NodeSnapshot:
    root = make_root(tmp_path / "node", files)
    fs = NodeFS(str(root))
    layout = detect_layout(fs, Overrides(**overrides) if overrides else None)
    return gather_node(fs, layout, daemon_config=daemon_config, now=now)


def findings(tmp_path: Path, files: dict[str, Any], **kw: Any) -> list[Finding]:
    snap = snapshot(tmp_path, files, **kw)
    run = run_checks(snap, "node", only=[c.id for c in node_checks()])
    assert not run.crashed, run.crashed
    return run.findings


def ids(tmp_path: Path, files: dict[str, Any], **kw: Any) -> set[str]:
    return {f.id for f in findings(tmp_path, files, **kw)}
