"""`multusctl check --all-nodes` against the test cluster's simulated nodes: each node's pod runs the real
zipapp with this machine's python3 over that node's root; the reports, failures and cleanup are what a user
of a real cluster would see."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from multusctl.testing.nodes import SimNode

from .fleetkit import doc_of, expected, got, leftovers, needs_kubelet, run_all

pytestmark = [pytest.mark.root, needs_kubelet]


def _wait_clean(cluster: TestCluster, timeout: float = 15) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := leftovers(cluster)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_three_distros_two_faults_each_node_attributed_nothing_left(distro_nodes: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    want = {name: expected(root) for name, root in distro_nodes.items()}
    assert len({tuple(v) for v in want.values()}) == 3, "the roots must differ for attribution to mean anything"
    kadm = distro_nodes["kubeadm-worker"]
    nodes = [SimNode(name, root) for name, root in distro_nodes.items()]
    nodes += [SimNode("unpullable", kadm, nopull=True), SimNode("hanging", kadm, slow=600)]
    with TestCluster(nodes=nodes) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        started = time.monotonic()
        proc = run_all(cluster, kc, "--timeout", "5s", "-o", "json")
        wall = time.monotonic() - started
        doc = doc_of(proc)
        assert proc.returncode == 1, proc.stderr
        by_node = {n["node"]: n for n in doc["nodes"]}
        assert set(by_node) == {*distro_nodes, "unpullable", "hanging"}  # never a missing row
        for name in distro_nodes:
            assert by_node[name]["checked"], by_node[name]
            assert got(by_node[name]["report"]) == want[name], name
        assert by_node["k3s-server"]["report"]["target"]["distro"] == "k3s"
        assert by_node["rke2-agent"]["report"]["target"]["distro"] == "rke2"
        assert by_node["kubeadm-worker"]["report"]["target"]["distro"] == "kubeadm"
        pull = by_node["unpullable"]["report"]["findings"]
        assert [f["id"] for f in pull] == ["node-gather-failed"] and pull[0]["evidence"]["reason"] == "image"
        assert "cannot be pulled" in pull[0]["message"]
        hang = by_node["hanging"]["report"]["findings"]
        assert [f["id"] for f in hang] == ["node-gather-failed"] and hang[0]["evidence"]["reason"] == "timeout"
        assert "no report within 5 s" in hang[0]["message"] and "ContainerCreating" in hang[0]["message"]
        assert wall < 60  # bounded by the deadline, not a hang (generous: this is no timing test)
        gathered = [g for g in doc["groups"] if g["id"] == "node-gather-failed"]  # one group per reason
        assert sorted(n for g in gathered for n in g["nodes"]) == ["hanging", "unpullable"] and len(gathered) == 2
        assert doc["summary"]["nodes"] == 5 and doc["summary"]["not_checked"] == 2
        assert _wait_clean(cluster) == []


def test_text_groups_identical_findings_across_nodes(distro_nodes: dict[str, Path], tmp_path: Path) -> None:
    root = distro_nodes["rke2-agent"]
    first = expected(root)[0]
    with TestCluster(nodes=[SimNode(f"agent-{i}", root) for i in range(1, 5)]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = run_all(cluster, kc, "--timeout", "20s", "--concurrency", "2")
        assert proc.returncode == (1 if any(f[1] == "error" for f in expected(root)) else 0), proc.stderr
        assert f"{first[0]} on 4 of 4 nodes" in proc.stdout
        assert "e.g. agent-1:" in proc.stdout
        for i in range(1, 5):
            assert f"\nagent-{i} " in proc.stdout  # the per-node table
        assert _wait_clean(cluster) == []


def test_daemonset_mode_gives_the_same_reports(distro_nodes: dict[str, Path], tmp_path: Path) -> None:
    """Also: no DaemonSet pod on a NotReady node (it would never run, and stay Terminating once deleted)."""
    nodes = [SimNode(name, root) for name, root in distro_nodes.items()]
    nodes.append(SimNode("down-1", distro_nodes["kubeadm-worker"], notready=True))
    with TestCluster(nodes=nodes) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = run_all(cluster, kc, "--mode", "daemonset", "--timeout", "20s", "-o", "json")
        doc = doc_of(proc)
        assert doc["mode"] == "daemonset"
        for n in doc["nodes"]:
            if n["node"] == "down-1":
                assert [f["evidence"]["reason"] for f in n["report"]["findings"]] == ["notready"]
                continue
            assert n["checked"], n
            assert got(n["report"]) == expected(distro_nodes[n["node"]])
        assert _wait_clean(cluster) == []


def test_selector_picks_nodes(distro_nodes: dict[str, Path], tmp_path: Path) -> None:
    root = distro_nodes["kubeadm-worker"]
    nodes = [SimNode("a", root, labels={"pool": "multus"}), SimNode("b", root, labels={"pool": "other"})]
    with TestCluster(nodes=nodes) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        doc = doc_of(run_all(cluster, kc, "-l", "pool=multus", "--timeout", "20s", "-o", "json"))
        assert [n["node"] for n in doc["nodes"]] == ["a"]
        proc = run_all(cluster, kc, "-l", "pool=nothing")
        assert proc.returncode == 2 and "no node matches -l pool=nothing" in proc.stderr
        proc = run_all(cluster, kc, "-l", "pool in (a")
        assert proc.returncode == 2 and "selector" in proc.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_remove_everything(distro_nodes: dict[str, Path], tmp_path: Path, sig: int,
                                              code: int) -> None:
    root = distro_nodes["kubeadm-worker"]
    with TestCluster(nodes=[SimNode("slow-1", root, slow=600), SimNode("slow-2", root, slow=600)]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = subprocess.Popen([sys.executable, "-m", "multusctl", "check", "--all-nodes", "--kubeconfig", str(kc),
                                 "--timeout", "300s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while len([x for x in leftovers(cluster) if x.startswith("pod/")]) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(leftovers(cluster)) == 3  # the owner and two pods
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == code, err
        assert "interrupted" in err and "not checked" in out
        assert _wait_clean(cluster) == []


def test_a_killed_run_is_swept_by_the_next(distro_nodes: dict[str, Path], tmp_path: Path) -> None:
    root = distro_nodes["kubeadm-worker"]
    with TestCluster(nodes=[SimNode("slow-1", root, slow=600), SimNode("ok-1", root)]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = subprocess.Popen([sys.executable, "-m", "multusctl", "check", "--all-nodes", "--kubeconfig", str(kc),
                                 "--timeout", "300s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not any(x.startswith("pod/") for x in leftovers(cluster)) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)
        stale = leftovers(cluster)
        assert any(x.startswith("configmap/") for x in stale) and any(x.startswith("pod/slow") or "pod/" in x
                                                                      for x in stale)
        # Time passes beyond the killed run's deadline: its owner says when.
        for cm in cluster.store.list("", "configmaps", "kube-system"):
            if "multusctl.io/expires-at" in (cm["metadata"].get("annotations") or {}):
                cm["metadata"]["annotations"]["multusctl.io/expires-at"] = "2000-01-01T00:00:00Z"
                cluster.store.update("", "configmaps", cm, check_rv=False)
        proc2 = run_all(cluster, kc, "-l", "kubernetes.io/hostname=ok-1", "--timeout", "20s")
        assert proc2.returncode in (0, 1), proc2.stderr
        assert _wait_clean(cluster) == []


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    for args, needle in ((["check", "--image", "x"], "--image needs --all-nodes"),
                         (["check", "--all-nodes", "--timeout", "0s"], "--timeout"),
                         (["check", "--all-nodes", "--skip", "plugin-missing"], "--all-nodes takes none of")):
        proc = subprocess.run([sys.executable, "-m", "multusctl", *args], capture_output=True, text=True, check=False,
                              env={**os.environ, "KUBECONFIG": str(tmp_path / "none")})
        assert proc.returncode == 2 and needle in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_a_namespace_enforcing_pod_security_is_named_before_anything_is_made(distro_nodes: dict[str, Path],
                                                                             tmp_path: Path, level: str) -> None:
    with TestCluster(nodes=[SimNode("n1", distro_nodes["kubeadm-worker"])]) as cluster:
        cluster.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "checks", "labels": {"pod-security.kubernetes.io/enforce": level}}}])
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = run_all(cluster, kc, "--namespace", "checks", "--timeout", "10s")
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip()
        assert "\n" not in line and f'enforces PodSecurity "{level}"' in line, line
        assert "pod-security.kubernetes.io/enforce=privileged" in line
        made = [c["metadata"]["name"] for c in cluster.store.list("", "configmaps", "checks")]
        assert not cluster.store.list("", "pods", "checks") and made == ["kube-root-ca.crt"]  # the namespace's own


def test_missing_permissions_are_named_before_anything_is_made(distro_nodes: dict[str, Path], tmp_path: Path) -> None:
    from multusctl.testing import UserInfo

    root = distro_nodes["kubeadm-worker"]
    token = "viewer-token-" + "q" * 40
    users = {token: UserInfo(username="viewer", groups=["system:authenticated"])}
    with TestCluster(nodes=[SimNode("n1", root)], static_tokens=users) as cluster:
        cluster.seed([
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "nodes-reader"},
             "rules": [{"apiGroups": [""], "resources": ["nodes", "pods", "configmaps"],
                        "verbs": ["get", "list", "watch"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "viewer"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                        "kind": "ClusterRole", "name": "nodes-reader"},
             "subjects": [{"kind": "User", "name": "viewer"}]}])
        kc = cluster.kubeconfig_for_token(tmp_path / "viewer.kubeconfig", token)
        proc = run_all(cluster, kc, "--timeout", "10s")
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip()
        assert "\n" not in line and "may not create configmaps" in line and "get pods/log" in line
        assert "list pods" not in line and token not in proc.stderr + proc.stdout
        assert leftovers(cluster) == []


def test_a_ready_file_under_run_is_not_reported_missing_from_a_pod(tmp_path: Path) -> None:
    """The healthy k3s example has flannel's /run/flannel/subnet.env; the pod does not mount /run, so it must
    not call it missing (every flannel node would), and says instead what it could not verify."""
    import shutil

    from tests.fleet.fleetkit import FHS, node_root

    root = tmp_path / "k3s-server-healthy"  # the name prepare.sh knows
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "k3s-server-healthy", root, symlinks=True)
    subprocess.run(["sh", str(Path(__file__).resolve().parents[2] / "examples" / "prepare.sh"), str(tmp_path)],
                   check=True)  # the file modes git does not keep
    node_root(root, {p: v for p, v in FHS.items()})
    assert (root / "run/flannel/subnet.env").exists() and expected(root) == []
    with TestCluster(nodes=[SimNode("k3s-1", root)]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = run_all(cluster, kc, "--timeout", "20s", "-o", "json")
        doc = doc_of(proc)
        assert proc.returncode == 0, doc
        report = doc["nodes"][0]["report"]
        assert report["findings"] == []
        assert report["unverified"] == [{"id": "readiness-file-missing", "path": "/run/flannel/subnet.env",
                                         "why": "outside the host paths the pod mounts (/etc, /opt, /usr, /var/lib)"}]
        text = run_all(cluster, kc, "--timeout", "20s").stdout
        assert "readiness-file-missing (/run/flannel/subnet.env) on k3s-1" in text


def test_a_host_directory_the_node_lacks_fails_at_its_first_failedmount_not_its_deadline(
        distro_nodes: dict[str, Path], tmp_path: Path) -> None:
    from tests import distro_roots as roots
    from tests.noderoot import make_root

    from .fleetkit import FHS

    bare = {p: e for p, e in {**FHS, **roots.k3s_server()}.items() if p != "/opt" and not p.startswith("/opt/")}
    no_opt = make_root(tmp_path / "no-opt", bare)  # the pod mounts /opt (type Directory): it cannot start
    with TestCluster(nodes=[SimNode("no-opt", no_opt), SimNode("fine", distro_nodes["kubeadm-worker"])]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = run_all(cluster, kc, "--timeout", "60s", "-o", "json")
        doc = doc_of(proc)
        by_node = {n["node"]: n for n in doc["nodes"]}
        assert by_node["fine"]["checked"], by_node["fine"]
        failed = by_node["no-opt"]["report"]["findings"]
        assert [f["id"] for f in failed] == ["node-gather-failed"] and failed[0]["evidence"]["reason"] == "mount"
        message = failed[0]["message"]
        # From the event itself, not from the deadline ("no report within 60 s ..."): the run did not wait.
        assert "hostPath type check failed: /opt is not a directory" in message, message  # the kubelet's words
        assert "no report within" not in message, message
        assert _wait_clean(cluster) == []
