"""Run the node checks over a node root built from a dict, the way `multusctl check --root` does."""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class Expect:
    """What the user reads in the findings of one id: every finding of `id` at `path`/`field` (when given) must
    have `severity`, contain each of `words` in message+fix, `message` in the message, `fix` in the fix, and a
    fix equal to `fix_is`; `count` is how many findings of `id` (anywhere) there must be."""

    id: str
    path: str | None = None
    field: str | None = None
    severity: str | None = None
    words: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    fix_is: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class GridCase:
    """One row of a check grid: a node root -> the ids that fire and those that must not, and what the user reads.

    - `present`: ids that must fire; `absent`: ids that must not.
    - `only`: a family of ids (e.g. every kubeconfig-* id): of these, exactly `present` and the ids of `expect` fire.
    - `loud`: when set, the (id, severity) of every error and warning finding, exactly (info is free). As a
      non-root user the root's files are ours, not root's: the owner warning of kubeconfig-permissions is the
      test run's and is left out of the comparison.
    - `expect`: what the user reads (Expect); `now`, `overrides` (detect Overrides), `daemon_config`: how the
      check runs.
    """

    name: str
    files: Callable[[], dict[str, Any]]
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    expect: tuple[Expect, ...] = ()
    only: frozenset[str] | None = None
    loud: frozenset[tuple[str, str]] | None = None
    now: datetime | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    daemon_config: str | None = None

    def fires(self) -> set[str]:
        """The ids this row says fire (for the meta-test)."""
        return {*self.present, *(e.id for e in self.expect if e.count != 0), *(i for i, _s in self.loud or ())}


def owner_only(f: Finding) -> bool:
    """As a non-root user the root's files belong to us, not root: that one warning is the clone's, not the node's."""
    return os.geteuid() != 0 and f.id == "kubeconfig-permissions" and f.severity == "warning"


def _show(f: Finding) -> dict[str, Any]:
    return {"id": f.id, "path": f.path, "field": f.field, "severity": f.severity, "message": f.message, "fix": f.fix}


def assert_grid(tmp_path: Path, case: GridCase) -> list[Finding]:
    files = {k: v for k, v in case.files().items() if v is not None}
    found = findings(tmp_path, files, now=case.now, daemon_config=case.daemon_config, **case.overrides)
    got = {f.id for f in found}
    for i in case.present:
        assert i in got, f"{i} missing; got {sorted(got)}"
    for i in case.absent:
        assert i not in got, f"{i} unexpected: {[f.message for f in found if f.id == i]}"
    if case.only is not None:
        want = ({*case.present} | {e.id for e in case.expect if e.count != 0}) & case.only
        mine = got & case.only
        assert mine == want, f"missing {sorted(want - mine)}, unexpected {sorted(mine - want)}"
    if case.loud is not None:
        loud = {(f.id, f.severity) for f in found if f.severity != "info" and not owner_only(f)}
        assert loud == set(case.loud), [f"{f.severity} {f.id}: {f.message}" for f in found]
    for e in case.expect:
        if e.count is not None:
            n = sum(f.id == e.id for f in found)
            assert n == e.count, f"{n} x {e.id}, want {e.count}: {[f.message for f in found if f.id == e.id]}"
            if e.count == 0:
                continue
        hits = [f for f in found if f.id == e.id and (e.path is None or f.path == e.path)
                and (e.field is None or f.field == e.field)]
        assert hits, f"no {e.id} at {e.path} {e.field}: {[(f.id, f.path, f.field) for f in found]}"
        for h in hits:
            if e.severity:
                assert h.severity == e.severity, _show(h)
            text = h.message + "\n" + h.fix
            for w in e.words:
                assert w in text, f"{w!r} not in {text!r}"
            for w in e.message:
                assert w in h.message, f"{w!r} not in message {h.message!r}"
            for w in e.fix:
                assert w in h.fix, f"{w!r} not in fix {h.fix!r}"
            if e.fix_is is not None:
                assert h.fix == e.fix_is, _show(h)
    for f in found:  # what the user reads names node paths, never the test's copy of the node
        assert f.path is None or not f.path.startswith(str(tmp_path)), _show(f)
    return found
