"""The text report a person reads at 3 a.m. (issue 8 #10-#13): most urgent first, each command and each
piece of shared advice said once, short enough to read on one screen, every fact still there."""

from __future__ import annotations

import json
from pathlib import Path

from multusctl.analyze import analyze_snapshot, node_snapshot
from multusctl.checks.registry import impact_order
from multusctl.report.finding import Finding, Report
from tests.test_examples import SEED, prepared


def _f(cid: str, severity: str = "error", fix: str = "", path: str | None = None) -> Finding:
    return Finding(id=cid, severity=severity, title="t", message="m", fix=fix, path=path)  # type: ignore[arg-type]


def seed_report(tmp_path: Path) -> Report:
    root = prepared(tmp_path, SEED)
    return analyze_snapshot(node_snapshot(str(root)), root=str(root))


def test_findings_are_ordered_by_impact_within_a_severity() -> None:
    got = [_f("kubeconfig-permissions"), _f("config-key-unknown", "warning"), _f("kubeconfig-server-loopback"),
           _f("multus-binary-missing"), _f("kubeconfig-admin-credentials", "warning"),
           _f("multus-conf-wrong-dir", "warning")]
    got.sort(key=impact_order())
    assert [f.id for f in got] == ["multus-binary-missing", "kubeconfig-server-loopback", "kubeconfig-permissions",
                                   "multus-conf-wrong-dir", "kubeconfig-admin-credentials", "config-key-unknown"]


def test_seed_report_leads_with_what_breaks_pods_and_json_keeps_the_order(tmp_path: Path) -> None:
    report = seed_report(tmp_path)
    ids = [f.id for f in report.findings]
    assert ids.index("kubeconfig-server-loopback") < ids.index("kubeconfig-permissions")
    assert [f["id"] for f in json.loads(json.dumps(report.to_dict()))["findings"]] == ids
