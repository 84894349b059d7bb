"""The pure parts of `check --all-nodes`: the zipapp, the selector, a pod's verdict, the log, the groups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.fleet import aggregate, outcome, zipapp
from multusctl.fleet.model import FleetResult, NodeResult
from multusctl.fleet.node_main import REPORT_PREFIX, UNSEEN
from multusctl.fleet.ratelimit import TokenBucket
from multusctl.fleet.selector import SelectorError, match_expressions
from multusctl.report.formats import render
from tests import distro_roots as roots
from tests.fuzzkit import examples

from .fleetkit import expected, node_root

ROOTS = {"k3s_server": roots.k3s_server, "k3s_agent": roots.k3s_agent, "rke2_server": roots.rke2_server,
         "rke2_agent": roots.rke2_agent, "kubeadm_control_plane": roots.kubeadm_control_plane,
         "kubeadm_worker": roots.kubeadm_worker, "kubeadm_crio_worker": roots.kubeadm_crio_worker,
         "kind_control_plane": roots.kind_control_plane, "microk8s_node": roots.microk8s_node,
         "k0s_worker": roots.k0s_worker, "openshift_worker": roots.openshift_worker,
         "plain_containerd_node": roots.plain_containerd_node}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pyz") / "multusctl-node.pyz"
    path.write_bytes(zipapp.build())
    return path


def test_archive_fits_a_configmap_and_is_the_same_each_time(archive: Path) -> None:
    assert archive.stat().st_size < zipapp.CONFIGMAP_LIMIT
    assert zipapp.build() == archive.read_bytes()  # the same ConfigMap content run after run


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_archive_alone_finds_what_check_finds(archive: Path, tmp_path: Path, name: str) -> None:
    """`python3 -I -S`: no site-packages, so PyYAML and every module must come from the archive."""
    root = node_root(tmp_path / name, ROOTS[name]())
    probe = ("import sys, runpy; sys.argv = ['x', sys.argv[1]]\n"
             "try:\n runpy.run_path(sys.argv[0] if False else ARCHIVE, run_name='__main__')\n"
             "except SystemExit as e: code = e.code\n"
             "import json; print(json.dumps({'code': code, 'outside': sorted(m for m, v in sys.modules.items() "
             "if getattr(v, '__file__', None) and not v.__file__.startswith((ARCHIVE, sys.base_prefix))), "
             "'yaml_c': '_yaml' in sys.modules or 'yaml._yaml' in sys.modules}), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", f"ARCHIVE = {str(archive)!r}\n" + probe, str(root)],
                          capture_output=True, text=True, timeout=60, check=False)
    meta = json.loads(proc.stderr.strip().splitlines()[-1])
    assert meta == {"code": 0, "outside": [], "yaml_c": False}, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith(REPORT_PREFIX)
    doc = json.loads(line[len(REPORT_PREFIX):])
    assert [(f["id"], f["severity"], f["message"]) for f in doc["findings"]] == expected(root)
    assert set(doc["not_run"]) == set(UNSEEN) and not set(UNSEEN) & set(doc["checks_run"])


def test_archive_on_an_empty_root_says_why_in_one_line(archive: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-I", "-S", str(archive), str(tmp_path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0
    report, why = outcome.parse_log(proc.stdout)
    assert report is None and "show no Kubernetes node" in why


@pytest.mark.parametrize(("text", "want"), [
    ("pool=multus", [{"key": "pool", "operator": "In", "values": ["multus"]}]),
    ("a==b,c!=d", [{"key": "a", "operator": "In", "values": ["b"]},
                   {"key": "c", "operator": "NotIn", "values": ["d"]}]),
    ("zone in (a, b),tier notin (x)", [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                                        {"key": "tier", "operator": "NotIn", "values": ["x"]}]),
    ("gpu,!node-role.kubernetes.io/control-plane", [
        {"key": "gpu", "operator": "Exists"},
        {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}]),
])
def test_selector_to_match_expressions(text: str, want: list[dict[str, Any]]) -> None:
    assert match_expressions(text) == want


@pytest.mark.parametrize("bad", ["pool in (a", "=x", "a b", "!a in (b)", "a=(b)"])
def test_bad_selector_is_one_line(bad: str) -> None:
    with pytest.raises(SelectorError, match="not a label selector term"):
        match_expressions(bad)


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab=!,() in notin\t.-/_0")), max_size=40))
def test_selector_fuzz_never_crashes(text: str) -> None:
    try:
        out = match_expressions(text)
    except SelectorError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(e["operator"] in ("In", "NotIn", "Exists", "DoesNotExist") for e in out)


def _pod(phase: str = "Pending", state: dict[str, Any] | None = None, *, init: bool = False,
         reason: str | None = None) -> dict[str, Any]:
    cs = {"name": "check", "state": state or {"waiting": {"reason": "ContainerCreating"}}}
    status: dict[str, Any] = {"phase": phase, ("initContainerStatuses" if init else "containerStatuses"): [cs]}
    if reason:
        status.update(reason=reason, message="The node was low on resource: memory.")
    return {"spec": {"containers": [{"name": "check", "image": "python:3.12-alpine"}]}, "status": status}


@pytest.mark.parametrize(("pod", "state", "kind", "words"), [
    (_pod(), "waiting", "", ""),
    (_pod("Running", {"running": {}}), "waiting", "", ""),
    (_pod("Succeeded", {"terminated": {"exitCode": 0}}), "done", "", ""),
    (_pod("Pending", {"terminated": {"exitCode": 0}}, init=True), "done", "", ""),  # the DaemonSet's init container
    (_pod("Failed", {"terminated": {"exitCode": 3, "reason": "Error"}}), "failed", "checker", "exited with code 3"),
    (_pod(state={"waiting": {"reason": "ErrImagePull", "message": "dial tcp: no such host"}}), "failed", "image",
     "cannot be pulled (python:3.12-alpine)"),
    (_pod(state={"waiting": {"reason": "ImagePullBackOff"}}), "failed", "image", "cannot be pulled"),
    (_pod(state={"waiting": {"reason": "CreateContainerConfigError"}}), "failed", "rejected", "configured"),
    (_pod(state={"waiting": {"reason": "CrashLoopBackOff"}}, init=True), "failed", "checker", "crashing"),
    (_pod("Failed", reason="Evicted"), "failed", "evicted", "evicted [Evicted]: The node was low"),
    (_pod("Failed", reason="OutOfcpu"), "failed", "rejected", "rejected the pod [OutOfcpu]"),
    (_pod("Failed", reason="DeadlineExceeded"), "failed", "timeout", "activeDeadlineSeconds"),
    ({}, "waiting", "", ""),
])
def test_pod_verdicts(pod: dict[str, Any], state: str, kind: str, words: str) -> None:
    v = outcome.judge_pod(pod)
    assert (v.state, v.kind) == (state, kind) and words in v.why


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=300), st.sampled_from(["", REPORT_PREFIX, "multusctl-node-error/v1 "]))
def test_log_fuzz_gives_a_report_or_a_reason(text: str, prefix: str) -> None:
    report, why = outcome.parse_log(prefix + text)
    assert (report is None) != (why == "")
    assert "\n" not in why


def test_a_report_line_after_other_output_is_found() -> None:
    doc = {"schema": "multusctl.report/v1", "findings": []}
    report, why = outcome.parse_log("warming up\n" + REPORT_PREFIX + json.dumps(doc) + "\n")
    assert report == doc and why == ""
    assert outcome.parse_log(REPORT_PREFIX + '{"schema": "other"}')[1].endswith("unknown schema")
    assert "log ends: boom" in outcome.parse_log("boom\n")[1]


def test_token_bucket_allows_the_burst_then_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    slept: list[float] = []
    monkeypatch.setattr("multusctl.fleet.ratelimit.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("multusctl.fleet.ratelimit.time.sleep", lambda s: slept.append(s))
    bucket = TokenBucket(qps=10, burst=3)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.1)
    assert bucket.take() == pytest.approx(0.2)  # the debt grows while no time passes
    clock[0] += 10
    assert bucket.take() == 0.0  # refilled, up to the burst


def _report(node: str, ids: list[str]) -> dict[str, Any]:
    findings = [{"id": i, "severity": "warning", "title": f"title {i}", "message": f"{i} on {node}",
                 "fix": "fix it", "path": None, "field": None, "evidence": {}} for i in ids]
    return {"schema": "multusctl.report/v1", "target": {"distro": "k3s", "mode": "thin"}, "node": node,
            "checks_run": ids, "findings": findings}


def test_groups_count_nodes_and_failed_nodes_have_a_row() -> None:
    nodes = [NodeResult(f"n{i}", report=_report(f"n{i}", ["kubeconfig-token-expiring"])) for i in range(1, 11)]
    nodes.append(NodeResult("n11", failure_kind="image", failure="the image cannot be pulled", pod="ns/p"))
    result = FleetResult("run1", "kube-system", "pods", nodes)
    doc = aggregate.document(result)
    groups = {g["id"]: g for g in doc["groups"]}
    assert groups["kubeconfig-token-expiring"]["count"] == 10 and groups["kubeconfig-token-expiring"]["of"] == 11
    assert doc["groups"][0]["id"] == "node-gather-failed"  # errors first
    assert doc["summary"] == {"nodes": 11, "checked": 10, "not_checked": 1, "error": 1, "warning": 10, "info": 0}
    text = aggregate.render_text(result)
    assert "kubeconfig-token-expiring on 10 of 11 nodes" in text and "(+2)" in text
    assert "n11" in text and "not checked: the image cannot be pulled" in text
    assert "more finding(s)" not in text  # one finding a node here
    two = FleetResult("r2", "kube-system", "pods", [NodeResult("a", report=_report("a", ["x-id", "x-id"]))])
    assert "and  1 more finding(s) of this id" in aggregate.render_text(two)
    kinds = FleetResult("r3", "kube-system", "pods", [
        NodeResult("p", failure_kind="image", failure="the image cannot be pulled"),
        NodeResult("q", failure_kind="notready", failure="the node is NotReady")])
    gathered = [g for g in aggregate.groups(kinds) if g["id"] == "node-gather-failed"]
    assert [g["nodes"] for g in gathered] == [["p"], ["q"]]  # each reason its own message and fix
    assert aggregate.exit_code(result) == 1
    sarif = json.loads(render(aggregate.merged_report(result), "sarif"))
    messages = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert any(m.startswith("node n11: ") for m in messages) and any(m.startswith("node n3: ") for m in messages)
    assert "node-gather-failed" in {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}


def test_junit_has_a_suite_per_node_and_sarif_a_fingerprint_per_node() -> None:
    import xml.etree.ElementTree as ET

    from tests.sarifkit import sarif_validator

    nodes = [NodeResult(f"n{i}", report=_report(f"n{i}", ["kubeconfig-token-expiring"])) for i in range(1, 4)]
    nodes.append(NodeResult("n4", failure_kind="image", failure="the image cannot be pulled", pod="ns/p"))
    result = FleetResult("run1", "kube-system", "pods", nodes)
    root = ET.fromstring(aggregate.render_junit(result))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"multusctl check n{i}" for i in range(1, 5)]
    for i, suite in enumerate(suites, 1):  # each node's testcases on their own, not one testcase for all
        cases = suite.findall("testcase")
        assert {c.get("classname") for c in cases} == {f"multusctl.node.n{i}"}
        want = "node-gather-failed" if i == 4 else "kubeconfig-token-expiring"
        assert [c.get("name") for c in cases if c.find("failure") is not None] == [want]
    assert root.get("tests") == "4" and root.get("failures") == "4"
    sarif = json.loads(render(aggregate.merged_report(result), "sarif"))
    validator = sarif_validator()
    assert validator is None or not list(validator.iter_errors(sarif))
    prints = [r.get("partialFingerprints", {}).get("multusctlNode/v1") for r in sarif["runs"][0]["results"]]
    assert sorted(prints) == ["n1", "n2", "n3", "n4"]  # four results, never folded into one alert
    secret = "sEcReT-in-a-message"
    leaky = FleetResult("r", "kube-system", "pods", [NodeResult("n1", report=_report(secret, ["x-id"]))])
    assert secret not in aggregate.render_junit(leaky, {secret})


def test_node_names_and_messages_cannot_drive_the_terminal() -> None:
    result = FleetResult("r", "kube-system", "pods", [NodeResult("n1", report=_report("n1\x1b[2J", ["x-id"]))])
    assert "\x1b" not in aggregate.render_text(result)


def _interpreter(version: str) -> str | None:
    """A `python3.X` of this machine (PATH, then pyenv's versions), to run the archive as an image would."""
    import glob
    import shutil

    found = shutil.which(f"python{version}")
    candidates = [found] if found else []
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for c in candidates:
        ok = subprocess.run([c, "-I", "-S", "-c", "pass"], capture_output=True, timeout=30, check=False)
        if ok.returncode == 0:
            return c
    return None


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_archive_runs_on_the_pythons_of_the_images(archive: Path, tmp_path: Path, version: str) -> None:
    """The default image is python:3.12; users pick others: the archive is judged the same by each."""
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no python{version} on this machine")
    for name in ("k3s_server", "rke2_agent", "kubeadm_crio_worker", "microk8s_node"):
        root = node_root(tmp_path / name, ROOTS[name]())
        proc = subprocess.run([python, "-I", "-S", str(archive), str(root)], capture_output=True, text=True,
                              timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout.strip().splitlines()[-1][len(REPORT_PREFIX):])
        assert [(f["id"], f["severity"], f["message"]) for f in doc["findings"]] == expected(root), (version, name)
