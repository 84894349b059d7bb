"""The real kubectl against pods the test kubelet runs: logs (-f), get -w, wait, delete, serve --nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from multusctl.testing import TestCluster
from multusctl.testing.nodes import SimNode
from tests.kubectlkit import KUBECTL

from .conftest import Kubectl, kubectl_binaries
from .kubeletkit import get_pod, make_root, needs_unshare, pod, wait_for, wait_phase

pytestmark = [pytest.mark.kubectl, pytest.mark.root, needs_unshare]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[TestCluster]:
    root = make_root(tmp_path / "root")
    with TestCluster(nodes=[SimNode("n1", root), SimNode("slow", root, slow=0.8),
                            SimNode("nopull", root, nopull=True)]) as c:
        yield c


@pytest.fixture(params=kubectl_binaries())
def kubectl(request: pytest.FixtureRequest, cluster: TestCluster, tmp_path: Path) -> Kubectl:
    home = tmp_path / "home"
    home.mkdir()
    return Kubectl(request.param, home, cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig"))


def popen(kubectl: Kubectl, *args: str) -> subprocess.Popen[str]:
    env = {"HOME": str(kubectl.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    return subprocess.Popen([kubectl.binary, "--kubeconfig", str(kubectl.kubeconfig), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_logs_and_follow(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([pod("talker", "n1", "for i in 1 2 3; do echo line $i; sleep 0.4; done; echo err >&2")])
    wait_phase(cluster, "talker", "Running")
    follow = popen(kubectl, "logs", "-f", "talker")
    out, err = follow.communicate(timeout=20)
    assert follow.returncode == 0, err
    assert out == "line 1\nline 2\nline 3\nerr\n"  # streamed until the container exited
    wait_phase(cluster, "talker", "Succeeded")
    assert kubectl.run("logs", "talker").stdout == "line 1\nline 2\nline 3\nerr\n"
    assert kubectl.run("logs", "talker", "--tail=1").stdout == "err\n"
    assert kubectl.run("logs", "talker", "-c", "main", "--limit-bytes=6").stdout == "line 1"
    proc = kubectl.run("logs", "talker", "--previous", check=False)
    assert proc.returncode != 0 and 'previous terminated container "main" in pod "talker" not found' in proc.stderr


def test_logs_of_a_pod_that_cannot_start(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([pod("nopull-pod", "nopull", "true")])
    wait_for(lambda: (get_pod(cluster, "nopull-pod") or {}).get("status", {}).get("containerStatuses"))
    proc = kubectl.run("logs", "nopull-pod", check=False)
    assert proc.returncode != 0
    assert 'container "main" in pod "nopull-pod" is waiting to start: trying and failing to pull image' in proc.stderr
    out = kubectl.run("get", "pod", "nopull-pod").stdout
    assert "ErrImagePull" in out or "ImagePullBackOff" in out


def test_wait_ready_then_delete_kills(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([pod("server", "slow", "echo serving; sleep 1000", terminationGracePeriodSeconds=3)])
    started = time.monotonic()
    kubectl.run("wait", "--for=condition=Ready", "pod/server", "--timeout=20s", request_timeout="0")
    assert time.monotonic() - started >= 0.7  # the node's slow=0.8
    assert kubectl.run("get", "pod", "server", "-o", "jsonpath={.status.phase}").stdout == "Running"
    assert kubectl.run("logs", "server").stdout == "serving\n"
    out = kubectl.run("delete", "pod", "server", "--timeout=20s", request_timeout="0").stdout
    assert 'pod "server" deleted' in out
    assert get_pod(cluster, "server") is None


def test_wait_for_jsonpath_succeeded(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([pod("job", "n1", "sleep 0.5; echo done")])
    kubectl.run("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/job", "--timeout=20s", request_timeout="0")
    status = json.loads(kubectl.run("get", "pod", "job", "-o", "json").stdout)["status"]
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_get_pods_watch_shows_the_lifecycle(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([pod("marker", "nopull", "true")])
    watch = popen(kubectl, "get", "pods", "-w", "--request-timeout=20s")
    assert watch.stdout is not None
    rows: list[list[str]] = []
    try:
        # The list comes first (header, marker); the watch then starts from that list's resourceVersion, so a
        # pod created from here on is seen from its first event.
        assert watch.stdout.readline().split()[0] == "NAME"
        assert watch.stdout.readline().startswith("marker ")
        cluster.seed([pod("life", "slow", "sleep 0.5; exit 2")])
        for line in watch.stdout:  # until the watch shows the container's end
            if line.startswith("life "):
                rows.append(line.split())
                if rows[-1][2] == "Error":
                    break
    finally:
        watch.terminate()
        out, _ = watch.communicate(timeout=10)
    statuses = [r[2] for r in rows]
    assert "ContainerCreating" in statuses and "Running" in statuses and statuses[-1] == "Error", (rows, out)
    assert rows[-1][1] == "0/1"
    wait_phase(cluster, "life", "Failed", timeout=20)


def test_daemonset_rollout_status(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"nodeSelector": {"kubernetes.io/hostname": "n1"},
                                         "containers": [{"name": "agent", "image": "busybox",
                                                         "command": ["sh", "-c", "echo agent on $NODE; sleep 1000"],
                                                         "env": [{"name": "NODE", "valueFrom": {"fieldRef": {
                                                             "fieldPath": "spec.nodeName"}}}]}]}}}}
    path = tmp_path / "ds.yaml"
    path.write_text(yaml.safe_dump(ds))
    kubectl.run("apply", "-f", str(path))
    kubectl.run("rollout", "status", "ds/agent", "--timeout=20s", request_timeout="0")
    names = kubectl.run("get", "pods", "-l", "app=agent", "-o", "name").stdout.split()
    assert len(names) == 1
    assert kubectl.run("logs", names[0]).stdout == "agent on n1\n"
    kubectl.run("delete", "ds", "agent", "--timeout=20s", request_timeout="0")
    wait_for(lambda: not cluster.store.list("", "pods", "default"), what="the daemon pod collected")


def test_serve_with_nodes(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    out_dir = tmp_path / "serve"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "multusctl.testing", "serve", "--dir", str(out_dir),
                             "--nodes", "2", "--node-root", str(root), "--node", f"extra={root}:nopull"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("https://127.0.0.1:")
        kubeconfig = out_dir / "admin.kubeconfig"
        names = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
                               capture_output=True, text=True, timeout=30, check=True).stdout.split()
        assert names == ["node/extra", "node/node-1", "node/node-2"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0
