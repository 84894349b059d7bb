"""Run the node checks over a node root built from a dict, the way `multusctl check --root` does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from multusctl.analyze import analyze_snapshot, node_snapshot
from multusctl.gather.snapshot import NodeSnapshot
from multusctl.layout.detect import Overrides
from multusctl.report.finding import Finding
from tests.noderoot import make_root


def snapshot(tmp_path: Path, files: dict[str, Any], *, now: datetime | None = None,
             daemon_config: str | None = None, **overrides: Any) -> NodeSnapshot:
    root = make_root(tmp_path / "node", files)
    return node_snapshot(str(root), Overrides(**overrides) if overrides else None, daemon_config=daemon_config,
                         now=now)


def findings(tmp_path: Path, files: dict[str, Any], **kw: Any) -> list[Finding]:
    report = analyze_snapshot(snapshot(tmp_path, files, **kw))
    assert not report.crashed, report.crashed
    return report.findings


def ids(tmp_path: Path, files: dict[str, Any], **kw: Any) -> set[str]:
    return {f.id for f in findings(tmp_path, files, **kw)}


@dataclass
class GridCase:
    """One row of a check grid: a node root -> ids present / absent, and what the user reads."""

    name: str
    files: Callable[[], dict[str, Any]]
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    # (id, path, field, severity or None, substrings of message+fix)
    expect: list[tuple[str, str | None, str | None, str | None, tuple[str, ...]]] = field(default_factory=list)


def assert_grid(tmp_path: Path, case: GridCase) -> list[Finding]:
    files = {k: v for k, v in case.files().items() if v is not None}
    found = findings(tmp_path, files)
    got = {f.id for f in found}
    for i in case.present:
        assert i in got, f"{i} missing; got {sorted(got)}"
    for i in case.absent:
        assert i not in got, f"{i} unexpected: {[f.message for f in found if f.id == i]}"
    for fid, path, fld, severity, words in case.expect:
        hits = [f for f in found if f.id == fid and (path is None or f.path == path)
                and (fld is None or f.field == fld)]
        assert hits, f"no {fid} at {path} {fld}: {[(f.id, f.path, f.field) for f in found]}"
        h = hits[0]
        if severity:
            assert h.severity == severity, h
        text = h.message + "\n" + h.fix
        for w in words:
            assert w in text, f"{w!r} not in {text!r}"
        assert h.path is None or not h.path.startswith(str(tmp_path))
    return found
