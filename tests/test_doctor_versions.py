"""doctor settles the node findings that depend on the multus release by the multus DaemonSets' images
(doctor/versions.py): conflist-del-lossy, a warning on the node, is an error naming the DaemonSet when it runs
v4.2.1-v4.3.0, goes away for a release outside that range, and stays a warning for a tag that names none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from multusctl.cli.group import cli
from multusctl.testing import TestCluster
from tests.checks.test_conflist_del_lossy import HOST_LOCAL, LIST, thin
from tests.noderoot import make_root

ID = "conflist-del-lossy"


def multus_ds(image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "multus"}}, "template": {
                "metadata": {"labels": {"app": "multus"}},
                "spec": {"containers": [{"name": "kube-multus", "image": image, "command": ["/thin_entrypoint"]}]}}}}


@pytest.mark.parametrize(("tag", "severity"), [
    ("v4.3.0", "error"), ("v4.2.1", "error"), ("v4.2.0", None), ("v4.1.4", None), ("snapshot", "warning")])
def test_the_daemonset_s_release_settles_the_finding(cluster: TestCluster, admin: Path, tmp_path: Path, tag: str,
                                                     severity: str | None) -> None:
    root = make_root(tmp_path / "node", thin(LIST, files={LIST: HOST_LOCAL}))
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus",
                                                                              "namespace": "kube-system"}},
                  multus_ds(f"ghcr.io/k8snetworkplumbingwg/multus-cni:{tag}")])
    multus_kc = cluster.kubeconfig_for_token(tmp_path / "multus.kubeconfig",
                                             cluster.create_token("kube-system", "multus"))
    res = CliRunner().invoke(cli, ["doctor", "--root", str(root), "--multus-kubeconfig", str(multus_kc),
                                   "--kubeconfig", str(admin), "-o", "json"], catch_exceptions=False)
    found = [f for f in json.loads(res.stdout)["findings"] if f["id"] == ID]
    if severity is None:
        assert found == []
        return
    (f,) = found
    assert f["severity"] == severity and f["field"] == "clusterNetwork"
    confirmed = ("Confirmed: the DaemonSet kube-system/kube-multus-ds runs "
                 f"ghcr.io/k8snetworkplumbingwg/multus-cni:{tag}")
    assert (confirmed in f["message"]) == (severity == "error"), f["message"]


@pytest.mark.parametrize(("tags", "severity"), [
    (("v4.1.4", "v4.3.0"), "error"),  # one affected DaemonSet is enough, and it is the one named
    (("v4.1.4", "v4.2.0"), None),
    (("v4.1.4", "latest"), "warning"),  # one release unknown: nothing settled
    ((), "warning"),  # no multus DaemonSet read (no admin kubeconfig)
])
def test_several_daemonsets(tags: tuple[str, ...], severity: str | None) -> None:
    from multusctl.doctor.versions import settle
    from multusctl.report.finding import Finding

    finding = Finding(ID, "warning", "t", "m.", "f", path="/p", field="clusterNetwork")
    daemonsets = [multus_ds(f"multus-cni:{t}") | {"metadata": {"name": f"ds-{t}", "namespace": "ns"}} for t in tags]
    got = settle([finding], daemonsets)
    assert [f.severity for f in got] == ([severity] if severity else [])
    if severity == "error":
        assert "ns/ds-v4.3.0 runs multus-cni:v4.3.0 (v4.3.0)" in got[0].message


@pytest.mark.parametrize("odd", [
    {"spec": []}, {"spec": {"template": "x"}}, {"spec": {"template": {"spec": {"containers": "nginx"}}}},
    {"spec": {"template": {"spec": {"containers": [{"image": 5}, None]}}}}, {"metadata": "x"}, {},
])
def test_a_daemonset_of_any_shape_settles_nothing_and_never_raises(odd: dict[str, Any]) -> None:
    from multusctl.doctor.versions import settle
    from multusctl.report.finding import Finding

    finding = Finding(ID, "warning", "t", "m.", "f")
    assert settle([finding], [odd]) == [finding]
