"""The test cluster's simulated nodes, kubelet, DaemonSet controller and garbage collector (Python level)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from multusctl.testing.nodes import FLAGS_ANNOTATION, ROOT_ANNOTATION, SimNode, parse_node_spec

from .kubeletkit import (
    descendants,
    get_pod,
    log_of,
    make_root,
    needs_unshare,
    pid_alive,
    pod,
    wait_for,
    wait_phase,
    waiting_reason,
)

pytestmark = [pytest.mark.root, needs_unshare]

NODE_ENV = {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
DS_NAME = re.compile(r"^ds-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def daemonset(name: str = "ds", tolerate_all: bool = True, script: str = "echo up on $NODE; sleep 1000",
              **spec: object) -> dict:
    tmpl: dict = {"containers": [{"name": "main", "image": "docker.io/library/busybox:1.36",
                                  "command": ["/bin/sh", "-c", script],
                                  "env": [NODE_ENV]}],
                  "terminationGracePeriodSeconds": 2, **spec}
    if tolerate_all:
        tmpl["tolerations"] = [{"operator": "Exists", "effect": "NoSchedule"}, {"operator": "Exists",
                                                                                 "effect": "NoExecute"}]
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": tmpl}}}


def ds_pods(cluster: TestCluster, name: str = "ds") -> dict[str, dict]:
    return {p["spec"]["nodeName"]: p for p in cluster.store.list("", "pods", "default")
            if any(o.get("name") == name for o in p["metadata"].get("ownerReferences") or [])}


def test_parse_node_spec() -> None:
    node = parse_node_spec("a=/r/x:notready,slow=1.5")
    assert (node.name, node.root, node.notready, node.nopull, node.slow) == ("a", Path("/r/x"), True, False, 1.5)
    with pytest.raises(ValueError, match="unknown node flag"):
        parse_node_spec("a=/r:fast")


def test_host_path_config_map_env_and_read_only(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", "k3s-test")
    with TestCluster(nodes=[SimNode("n1", root)]) as cluster:
        cluster.seed([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"},
                       "data": {"greeting": "hello from the configmap\n"}}])
        cluster.seed([pod("reader", "n1", "cat /host/etc/os-release /cfg/greeting; echo node=$NODE pod=$POD ns=$NS; "
                                          "touch /host/etc/x 2>/dev/null || echo ro-refused; "
                                          "touch /cfg/x 2>/dev/null || echo cm-ro-refused; "
                                          "echo data > /scratch/f && cat /scratch/f; echo oops >&2; exit 0",
                          container={"env": [NODE_ENV,
                                             {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                             {"name": "NS", "valueFrom": {"fieldRef": {
                                                 "fieldPath": "metadata.namespace"}}}],
                                     "volumeMounts": [{"name": "etc", "mountPath": "/host/etc", "readOnly": True},
                                                      {"name": "cfg", "mountPath": "/cfg"},
                                                      {"name": "scratch", "mountPath": "/scratch"}]},
                          volumes=[{"name": "etc", "hostPath": {"path": "/etc", "type": "Directory"}},
                                   {"name": "cfg", "configMap": {"name": "cfg"}},
                                   {"name": "scratch", "emptyDir": {}}])])
        done = wait_phase(cluster, "reader", "Succeeded", "Failed")
        log = log_of(cluster, "reader")
        assert done["status"]["phase"] == "Succeeded", log
        assert "ID=k3s-test" in log and "hello from the configmap" in log
        assert "node=n1 pod=reader ns=default" in log
        assert "ro-refused" in log and "cm-ro-refused" in log and "data\n" in log and "oops" in log
        assert not (root / "etc" / "x").exists()
        term = done["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (term["exitCode"], term["reason"]) == (0, "Completed")
        conds = {c["type"]: (c["status"], c.get("reason")) for c in done["status"]["conditions"]}
        assert conds["Ready"] == ("False", "PodCompleted") and conds["PodScheduled"] == ("True", None)
        assert conds["Initialized"] == ("True", None)
        assert not Path("/host").exists()  # mount points were made in the container's overlay, not here


def test_exit_codes_start_errors_and_restarts(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    with TestCluster(nodes=[SimNode("n1", root)], restart_backoff=0.2) as cluster:
        cluster.seed([pod("fails", "n1", "echo bye; exit 3"),
                      pod("nocmd", "n1", "", container={"command": ["/no/such/binary"]}),
                      pod("crashes", "n1", "echo run; exit 1", restart="Always"),
                      pod("missing-cm", "n1", "true", volumes=[{"name": "c", "configMap": {"name": "absent"}}])])
        failed = wait_phase(cluster, "fails", "Failed")["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (failed["exitCode"], failed["reason"]) == (3, "Error")
        start = wait_phase(cluster, "nocmd", "Failed")["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (start["exitCode"], start["reason"]) == (128, "StartError")
        assert 'exec: "/no/such/binary": executable file not found in $PATH' in start["message"]
        crash = wait_for(lambda: (p := get_pod(cluster, "crashes")) and
                         p["status"]["containerStatuses"][0]["restartCount"] >= 2 and p, what="two restarts")
        assert crash["status"]["phase"] == "Running"
        assert crash["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 1
        wait_for(lambda: waiting_reason(get_pod(cluster, "crashes") or {}) == "CrashLoopBackOff", what="back-off")
        assert waiting_reason(get_pod(cluster, "missing-cm") or {}) == "ContainerCreating"
        events = [e for e in cluster.store.list("", "events", "default") if e["involvedObject"]["name"] == "missing-cm"]
        assert any(e["reason"] == "FailedMount" and 'configmap "absent" not found' in e["message"] for e in events)


def test_daemonset_over_three_nodes_with_faults(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    nodes = [SimNode("good", root), SimNode("down", root, notready=True), SimNode("nopull", root, nopull=True)]
    with TestCluster(nodes=nodes, pull_backoff=0.3) as cluster:
        cluster.seed([daemonset(), daemonset("strict", tolerate_all=False)])
        pods = wait_for(lambda: len(p := ds_pods(cluster)) == 3 and p, what="three daemon pods")
        assert set(ds_pods(cluster, "strict")) == {"good", "nopull"}  # the not-ready taint keeps it off "down"
        ds = cluster.store.get("apps", "daemonsets", "default", "ds")
        for node, p in pods.items():
            assert DS_NAME.match(p["metadata"]["name"]), p["metadata"]["name"]
            assert p["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds",
                                                         "uid": ds["metadata"]["uid"], "controller": True,
                                                         "blockOwnerDeletion": True}]
            assert p["metadata"]["labels"]["app"] == "ds" and "controller-revision-hash" in p["metadata"]["labels"]
            assert p["spec"]["nodeName"] == node
        good = wait_for(lambda: (p := ds_pods(cluster)["good"])["status"].get("phase") == "Running" and p)
        assert {c["type"]: c["status"] for c in good["status"]["conditions"]}["Ready"] == "True"
        wait_for(lambda: "up on good" in log_of(cluster, good["metadata"]["name"]), what="the good pod's log")
        wait_for(lambda: waiting_reason(ds_pods(cluster)["nopull"]) == "ImagePullBackOff", what="ImagePullBackOff")
        down = ds_pods(cluster)["down"]
        assert down["status"]["phase"] == "Pending" and "containerStatuses" not in down["status"]
        st = wait_for(lambda: (d := cluster.store.get("apps", "daemonsets", "default", "ds"))["status"].get(
            "numberReady") == 1 and d["status"])
        assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberUnavailable"]) == (3, 3, 2)
        node_down = cluster.store.get("", "nodes", None, "down")
        assert {c["type"]: c["status"] for c in node_down["status"]["conditions"]}["Ready"] == "False"


def test_hanging_command_killed_on_delete(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    with TestCluster(nodes=[SimNode("n1", root)]) as cluster:
        cluster.seed([pod("hangs", "n1", "sleep 1000", terminationGracePeriodSeconds=5),
                      pod("stubborn", "n1", "trap '' TERM; sleep 1000 & wait; sleep 1000",
                          terminationGracePeriodSeconds=1)])
        for name in ("hangs", "stubborn"):
            wait_phase(cluster, name, "Running")
        wait_for(lambda: len(descendants(os.getpid())) >= 3, what="the pods' processes")
        procs = descendants(os.getpid())
        started = time.monotonic()
        cluster.deleter.delete("", "pods", "default", "hangs")
        cluster.deleter.delete("", "pods", "default", "stubborn")
        assert get_pod(cluster, "stubborn")["metadata"]["deletionTimestamp"]  # Terminating until killed
        wait_for(lambda: get_pod(cluster, "hangs") is None, what="hangs removed")
        assert time.monotonic() - started < 2  # SIGTERM was enough
        wait_for(lambda: get_pod(cluster, "stubborn") is None, what="stubborn removed")
        assert time.monotonic() - started >= 0.9  # it ignored SIGTERM: SIGKILL after the grace period
        wait_for(lambda: not any(pid_alive(p) for p in procs), what="every process gone")
        reasons = [e["reason"] for e in cluster.store.list("", "events", "default")
                   if e["involvedObject"]["name"] == "stubborn"]
        assert "Killing" in reasons and "Started" in reasons


def test_gc_background_orphan_foreground(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    with TestCluster(nodes=[SimNode(f"n{i}", root) for i in range(3)]) as cluster:
        cluster.seed([daemonset("bg"), daemonset("orphan"), daemonset("fg")])
        for name in ("bg", "orphan", "fg"):
            wait_for(lambda n=name: len(ds_pods(cluster, n)) == 3, what=f"pods of {name}")
        cluster.deleter.delete("apps", "daemonsets", "default", "bg")  # Background, the default
        assert cluster.store.get("apps", "daemonsets", "default", "bg") is None
        wait_for(lambda: not ds_pods(cluster, "bg"), what="bg's pods collected")
        kept = {p["metadata"]["name"] for p in ds_pods(cluster, "orphan").values()}
        cluster.deleter.delete("apps", "daemonsets", "default", "orphan", propagation="Orphan")
        left = {p["metadata"]["name"]: p for p in cluster.store.list("", "pods", "default")
                if p["metadata"]["name"] in kept}
        assert set(left) == kept and all("ownerReferences" not in p["metadata"] for p in left.values())
        marked = cluster.deleter.delete("apps", "daemonsets", "default", "fg", propagation="Foreground")
        assert marked["metadata"]["finalizers"] == ["foregroundDeletion"] and marked["metadata"]["deletionTimestamp"]
        wait_for(lambda: cluster.store.get("apps", "daemonsets", "default", "fg") is None, what="fg removed")
        assert not ds_pods(cluster, "fg")


def test_daemon_pod_replaced_and_nodes_from_seed(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    with TestCluster(nodes=1, node_root=root) as cluster:
        cluster.seed([{"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": "seeded", "annotations": {ROOT_ANNOTATION: str(root), FLAGS_ANNOTATION: "slow=0.5"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}])
        assert set(cluster.simulated_nodes) == {"node-1", "seeded"}
        cluster.seed([daemonset()])
        first = wait_for(lambda: len(p := ds_pods(cluster)) == 2 and p)
        assert waiting_reason(first["seeded"]) in ("ContainerCreating", None)
        wait_for(lambda: ds_pods(cluster)["seeded"]["status"].get("phase") == "Running", what="slow node runs")
        old = first["node-1"]["metadata"]["name"]
        cluster.deleter.delete("", "pods", "default", old, grace=0)
        new = wait_for(lambda: (p := ds_pods(cluster).get("node-1")) and p["metadata"]["name"] != old and p)
        assert DS_NAME.match(new["metadata"]["name"])


def test_no_simulated_nodes_no_daemon_pods(cluster: TestCluster) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "plain"}}, daemonset()])
    time.sleep(0.2)
    assert cluster.store.list("", "pods", "default") == []
    assert cluster.store.get("apps", "daemonsets", "default", "ds")["status"]["desiredNumberScheduled"] == 1


def test_stop_leaves_no_process_and_no_mount(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    mounts_before = Path("/proc/mounts").read_text()
    cluster = TestCluster(nodes=2, node_root=root).start()
    try:
        cluster.seed([daemonset(script="sleep 1000 & sleep 1000")])
        wait_for(lambda: sum(p["status"].get("phase") == "Running" for p in ds_pods(cluster).values()) == 2)
        wait_for(lambda: len(descendants(os.getpid())) >= 4, what="the pods' processes")
        procs = descendants(os.getpid())
        workdir = cluster.kubelet.workdir
    finally:
        cluster.stop()
    assert not any(pid_alive(p) for p in procs)
    assert descendants(os.getpid()) == set()
    assert Path("/proc/mounts").read_text() == mounts_before
    assert str(workdir) not in Path("/proc/mounts").read_text()
    assert not workdir.exists()
