"""`multusctl uninstall` against a real TestCluster: only our objects, the CRD rule, the node cleanup."""

from __future__ import annotations

from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from tests.installkit import K3S_CONF, NS, TOKEN, FakeKubelet, FakeRender, run, snapshot

CLEANUP = "multusctl-node-cleanup"


@pytest.fixture
def installed(cluster: TestCluster, kc: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> FakeRender:
    fake = FakeRender(monkeypatch)
    assert run(home, "install", "--kubeconfig", kc, "--mode", "thick")[0] == 0
    return fake


def uninstall(home: Path, kc: str, *args: str) -> tuple[int, str, str]:
    code, out, err = run(home, "uninstall", "--kubeconfig", kc, "--distro", "k3s", *args)
    assert TOKEN not in out + err
    return code, out, err


def test_removes_only_managed_objects_and_cleans_nodes(cluster: TestCluster, kc: str, home: Path,
                                                       installed: FakeRender) -> None:
    kubelet = FakeKubelet(cluster, CLEANUP, ["node-a", "node-b"])
    cluster.seed([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated", "namespace": NS},
                   "data": {"k": "v"}}])
    code, out, err = uninstall(home, kc, "--image", "alpine:3.20")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:5] == ["DaemonSet kube-system/kube-multus-ds deleted", "ConfigMap kube-system/multus-daemon-config "
                         "deleted", "ClusterRoleBinding multus deleted", "ClusterRole multus deleted",
                         "ServiceAccount kube-system/multus deleted"]
    assert lines[5].startswith("CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io kept")
    assert lines[6].startswith("backup of the 5 deleted object(s): ")
    assert lines[7] == "cleaned 2 node(s): node-a, node-b"
    for plural, name in (("daemonsets", "kube-multus-ds"), ("configmaps", "multus-daemon-config")):
        assert cluster.store.get("apps" if plural == "daemonsets" else "", plural, NS, name) is None
    assert cluster.store.get("", "configmaps", NS, "unrelated") is not None  # unlabelled: untouched
    assert cluster.store.get("apiextensions.k8s.io", "customresourcedefinitions", None,
                             "network-attachment-definitions.k8s.cni.cncf.io") is not None
    # The cleanup DaemonSet: exactly the k3s conf dir and its multus.d, every taint tolerated, then deleted.
    (ds,) = kubelet.created
    spec = ds["spec"]["template"]["spec"]
    assert sorted(v["hostPath"]["path"] for v in spec["volumes"]) == [K3S_CONF, f"{K3S_CONF}/multus.d"]
    assert spec["tolerations"] == [{"operator": "Exists"}]
    script = spec["initContainers"][0]["command"][-1]
    assert "00-multus.conf*" in script and "multus.kubeconfig" in script
    assert {c["image"] for c in spec["initContainers"] + spec["containers"]} == {"alpine:3.20"}
    assert cluster.store.get("apps", "daemonsets", NS, CLEANUP) is None
    code, out, _ = uninstall(home, kc)  # again: nothing of ours left but the kept CRD
    assert code == 0 and "deleted" not in out.replace("cleaned", "")


def test_foreign_same_name_refused_and_left_alone(cluster: TestCluster, kc: str, home: Path,
                                                  installed: FakeRender) -> None:
    cluster.store.delete("", "configmaps", NS, "multus-daemon-config")
    cluster.seed([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "multus-daemon-config", "namespace": NS,
        "managedFields": [{"manager": "helm", "operation": "Update"}]}, "data": {"mine": "yes"}}])
    before = snapshot(cluster)
    code, out, err = uninstall(home, kc, "--print-node-commands")
    assert code == 1 and out == ""
    assert err.strip() == ("multusctl: uninstall: ConfigMap kube-system/multus-daemon-config is not managed by "
                           "multusctl (field managers helm, no managed-by label): refusing to delete it; nothing "
                           "was changed")
    assert snapshot(cluster) == before


def test_dry_run_deletes_nothing(cluster: TestCluster, kc: str, home: Path, installed: FakeRender) -> None:
    before = snapshot(cluster)
    code, out, err = uninstall(home, kc, "--dry-run")
    assert code == 0, err
    assert "DaemonSet kube-system/kube-multus-ds deleted (server dry run)" in out
    assert snapshot(cluster) == before and not (home / "state").exists()


@pytest.mark.parametrize(("distro", "conf"), [("k3s", K3S_CONF), ("kubeadm", "/etc/cni/net.d")])
def test_print_node_commands(cluster: TestCluster, kc: str, home: Path, installed: FakeRender, distro: str,
                             conf: str) -> None:
    code, out, err = run(home, "uninstall", "--kubeconfig", kc, "--distro", distro, "--root", str(home),
                         "--print-node-commands")
    assert code == 0, err
    assert out.splitlines()[-3:] == [f"# on every node ({distro} layout), as root:",
                                     f"rm -f -- {conf}/00-multus.conf*",
                                     f"rm -f -- {conf}/multus.d/multus.kubeconfig"]
    assert cluster.store.get("apps", "daemonsets", NS, CLEANUP) is None


def test_cleanup_timeout_deletes_the_cleanup_daemonset(cluster: TestCluster, kc: str, home: Path,
                                                       installed: FakeRender) -> None:
    code, _, err = uninstall(home, kc, "--timeout", "1s")  # no kubelet: the cleanup never runs
    assert code == 1
    assert "node cleanup did not finish" in err and f"rm -f -- {K3S_CONF}/00-multus.conf*" in err
    assert cluster.store.get("apps", "daemonsets", NS, CLEANUP) is None


def test_delete_crd_only_without_nads(cluster: TestCluster, kc: str, home: Path, installed: FakeRender) -> None:
    cluster.seed([{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                   "metadata": {"name": "macvlan", "namespace": "default"}, "spec": {"config": "{}"}}])
    before = snapshot(cluster)
    code, _, err = uninstall(home, kc, "--delete-crd", "--print-node-commands")
    assert code == 1 and "1 NetworkAttachmentDefinition(s) still exist (default/macvlan)" in err
    assert snapshot(cluster) == before
    cluster.store.delete("k8s.cni.cncf.io", "network-attachment-definitions", "default", "macvlan")
    code, out, err = uninstall(home, kc, "--delete-crd", "--print-node-commands")
    assert code == 0, err
    assert "CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io deleted" in out
