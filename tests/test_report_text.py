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


def _render(report: Report, monkeypatch, **kw: bool) -> str:  # type: ignore[no-untyped-def]
    from multusctl.report.text import render_text

    monkeypatch.setenv("COLUMNS", "100")
    return render_text(report, **kw)


def _prose(out: str) -> str:
    return " ".join(out.split())


def test_one_command_that_fixes_several_findings_is_said_once_at_the_top(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = _render(seed_report(tmp_path), monkeypatch)
    top = _prose("\n".join(out.split("\nERRORS")[0].splitlines()[1:]))
    assert top == ("`multusctl kubeconfig create` fixes 3 of these: kubeconfig-server-loopback, "
                   "kubeconfig-permissions, kubeconfig-admin-credentials (see note 1)")


def test_no_paragraph_is_printed_twice(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from multusctl.report.text import _sentences

    for verbose in (False, True):
        text = _prose(_render(seed_report(tmp_path / str(verbose)), monkeypatch, verbose=verbose))
        long = [s for s in _sentences(text) if len(s) >= 40]
        assert len(long) == len(set(long)), [s for s in long if long.count(s) > 1]
        assert text.count("This node has no admin kubeconfig of its own") == 1


def test_seed_report_fits_one_screen_with_every_fact(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from multusctl.report.fixes import CODE, is_command

    report = seed_report(tmp_path)
    out = _render(report, monkeypatch)
    lines = out.splitlines()
    assert len(lines) <= 45, out
    # Terminal rows at 100 columns: a long command line is printed whole and takes two.
    assert sum(max(1, -(-len(line) // 100)) for line in lines) <= 45, out
    prose = _prose(out)
    for f in report.findings:
        assert f.id in out and (f.path is None or f.path in out) and (f.field is None or f.field in out), f.id
        for para in f.fix.split("\n"):
            if is_command(para):
                assert para.strip() in out, para
        for m in CODE.finditer(f.fix):
            assert m.group() in prose, m.group()
    assert "thick-unmounted-path" in out and "rm /var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/daemon-config.json" \
        in out
    verbose = _render(report, monkeypatch, verbose=True)
    assert all(_prose(f.message)[:60] in _prose(verbose) for f in report.findings)
    assert len(verbose.splitlines()) > len(lines)


def test_check_verbose_flag_through_the_command_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = prepared(tmp_path, SEED)
    env = {**os.environ, "COLUMNS": "100"}
    outs = {}
    for args in ([], ["-v"], ["--verbose"]):
        res = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(root), *args],
                             capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 1, res.stderr
        outs[tuple(args)] = res.stdout
    assert "    why  " not in outs[()] and "    why  " in outs[("-v",)]
    assert outs[("-v",)] == outs[("--verbose",)]
