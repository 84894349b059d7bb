"""Server-side dry run (dryRun=All) on every write, and DeleteOptions (propagationPolicy, preconditions)."""

from __future__ import annotations

import json

import pytest

from multusctl.testing import TestCluster

from .conftest import Http, Kubectl

CM_PATH = "/api/v1/namespaces/default/configmaps"
DS_PATH = "/apis/apps/v1/namespaces/default/daemonsets"


def cm(name: str, value: str = "v") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
            "data": {"k": value}}


def ds(name: str, image: str = "busybox:1") -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


def stored(cluster: TestCluster, plural: str, name: str, group: str = "") -> dict | None:
    return cluster.store.get(group, plural, "default", name)


def test_dry_run_create_answers_what_would_be_stored_and_stores_nothing(http: Http, cluster: TestCluster) -> None:
    rv_before = cluster.store.resource_version
    code, body = http.request("POST", CM_PATH + "?dryRun=All", cm("a"))
    assert code == 201 and body["data"] == {"k": "v"}
    meta = body["metadata"]
    # As the real registry: BeforeCreate's uid and creationTimestamp, no resourceVersion (nothing stored).
    assert meta["uid"] and meta["creationTimestamp"] and "resourceVersion" not in meta
    assert stored(cluster, "configmaps", "a") is None and cluster.store.resource_version == rv_before
    code, body = http.request("POST", DS_PATH + "?dryRun=All", ds("d"))
    assert code == 201 and body["metadata"]["generation"] == 1
    assert body["spec"]["updateStrategy"]["type"] == "RollingUpdate"  # defaults applied
    assert stored(cluster, "daemonsets", "d", "apps") is None


def test_dry_run_create_is_validated(http: Http, cluster: TestCluster) -> None:
    http.request("POST", CM_PATH, cm("a"))
    code, body = http.request("POST", CM_PATH + "?dryRun=All", cm("a"))
    assert code == 409 and body["reason"] == "AlreadyExists"
    code, body = http.request("POST", CM_PATH + "?dryRun=All", cm("Not_A_Name"))
    assert code == 422 and body["reason"] == "Invalid"
    code, body = http.request("POST", "/api/v1/namespaces/nope/configmaps?dryRun=All", cm("a") | {
        "metadata": {"name": "a", "namespace": "nope"}})
    assert code == 404


def test_unsupported_dry_run_value_is_refused_not_written(http: Http, cluster: TestCluster) -> None:
    code, body = http.request("POST", CM_PATH + "?dryRun=Yes", cm("a"))
    assert code == 422 and body["details"]["kind"] == "CreateOptions"
    assert body["message"] == ('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Yes"]: '
                               'supported values: "All"')
    assert stored(cluster, "configmaps", "a") is None


@pytest.mark.parametrize("how", ["merge", "strategic", "json", "update"])
def test_dry_run_update_and_patch(http: Http, cluster: TestCluster, how: str) -> None:
    http.request("POST", DS_PATH, ds("d"))
    live = stored(cluster, "daemonsets", "d", "apps")  # after the DaemonSet controller wrote its status
    assert live is not None
    rv = live["metadata"]["resourceVersion"]
    path = f"{DS_PATH}/d?dryRun=All"
    new_tmpl = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}}
    if how == "merge":
        code, body = http.request("PATCH", path, new_tmpl, "application/merge-patch+json")
    elif how == "strategic":
        code, body = http.request("PATCH", path, new_tmpl, "application/strategic-merge-patch+json")
    elif how == "json":
        code, body = http.request("PATCH", path, [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                                                   "value": "busybox:2"}], "application/json-patch+json")
    else:
        code, body = http.request("PUT", path, ds("d", "busybox:2") | {"metadata": {
            "name": "d", "namespace": "default", "resourceVersion": rv}})
    assert code == 200
    assert body["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    # The live resourceVersion, and the generation the write would have bumped to.
    assert body["metadata"]["resourceVersion"] == rv and body["metadata"]["generation"] == 2
    after = stored(cluster, "daemonsets", "d", "apps")
    assert after is not None and after["metadata"]["resourceVersion"] == rv
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1"


def test_dry_run_update_with_stale_resource_version_conflicts(http: Http, cluster: TestCluster) -> None:
    _, live = http.request("POST", CM_PATH, cm("a"))
    http.request("PATCH", f"{CM_PATH}/a", {"data": {"k": "w"}}, "application/merge-patch+json")
    stale = cm("a", "x") | {"metadata": {"name": "a", "namespace": "default",
                                         "resourceVersion": live["metadata"]["resourceVersion"]}}
    code, body = http.request("PUT", f"{CM_PATH}/a?dryRun=All", stale)
    assert code == 409 and body["reason"] == "Conflict"


def test_dry_run_server_side_apply(http: Http, cluster: TestCluster) -> None:
    apply = "application/apply-patch+yaml"
    code, body = http.request("PATCH", f"{CM_PATH}/a?fieldManager=me&dryRun=All", json.dumps(cm("a")).encode(),
                              apply)
    assert code == 201 and "resourceVersion" not in body["metadata"] and body["metadata"]["uid"]
    assert [m["manager"] for m in body["metadata"]["managedFields"]] == ["me"]
    assert stored(cluster, "configmaps", "a") is None
    http.request("PATCH", f"{CM_PATH}/a?fieldManager=me", json.dumps(cm("a")).encode(), apply)
    live = stored(cluster, "configmaps", "a")
    assert live is not None
    code, body = http.request("PATCH", f"{CM_PATH}/a?fieldManager=other&dryRun=All",
                              json.dumps(cm("a", "x")).encode(), apply)
    assert code == 409 and body["reason"] == "Conflict"  # field ownership is checked in a dry run too
    code, body = http.request("PATCH", f"{CM_PATH}/a?fieldManager=me&dryRun=All",
                              json.dumps(cm("a", "x")).encode(), apply)
    assert code == 200 and body["data"] == {"k": "x"}
    assert body["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    assert stored(cluster, "configmaps", "a") == live


def test_dry_run_delete_keeps_the_object(http: Http, cluster: TestCluster) -> None:
    http.request("POST", CM_PATH, cm("a"))
    before = stored(cluster, "configmaps", "a")
    code, body = http.request("DELETE", f"{CM_PATH}/a?dryRun=All")
    assert code == 200 and body["metadata"]["name"] == "a"
    # kubectl sends the options in the body.
    code, body = http.request("DELETE", f"{CM_PATH}/a", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                         "dryRun": ["All"], "propagationPolicy": "Background"})
    assert code == 200 and stored(cluster, "configmaps", "a") == before
    code, _ = http.request("DELETE", f"{CM_PATH}?dryRun=All")  # deletecollection
    assert code == 200 and stored(cluster, "configmaps", "a") == before
    code, body = http.request("DELETE", f"{CM_PATH}/nope?dryRun=All")
    assert code == 404


def test_delete_options_are_validated(http: Http, cluster: TestCluster) -> None:
    http.request("POST", CM_PATH, cm("a"))
    code, body = http.request("DELETE", f"{CM_PATH}/a", {"propagationPolicy": "Sideways"})
    assert code == 422 and "propagationPolicy: Unsupported value" in body["message"]
    code, body = http.request("DELETE", f"{CM_PATH}/a", {"propagationPolicy": "Orphan", "orphanDependents": True})
    assert code == 422 and "cannot be both set" in body["message"]
    code, body = http.request("DELETE", f"{CM_PATH}/a", {"dryRun": ["Maybe"]})
    assert code == 422 and body["details"]["kind"] == "DeleteOptions"
    assert stored(cluster, "configmaps", "a") is not None
    for policy in ("Foreground", "Background", "Orphan"):
        http.request("POST", CM_PATH, cm("b"))
        code, _ = http.request("DELETE", f"{CM_PATH}/b?propagationPolicy={policy}")
        assert code == 200 and stored(cluster, "configmaps", "b") is None


def test_delete_preconditions(http: Http, cluster: TestCluster) -> None:
    _, live = http.request("POST", CM_PATH, cm("a"))
    code, body = http.request("DELETE", f"{CM_PATH}/a", {"preconditions": {"uid": "not-the-uid"}})
    assert code == 409 and body["message"].startswith('Operation cannot be fulfilled on configmaps "a": '
                                                      "Precondition failed: UID in precondition: not-the-uid")
    code, _ = http.request("DELETE", f"{CM_PATH}/a", {"preconditions": {"resourceVersion": "1"}, "dryRun": ["All"]})
    assert code == 409
    code, _ = http.request("DELETE", f"{CM_PATH}/a", {"preconditions": {
        "uid": live["metadata"]["uid"], "resourceVersion": live["metadata"]["resourceVersion"]}})
    assert code == 200 and stored(cluster, "configmaps", "a") is None


CM_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: kube-system}\ndata: {a: '1'}\n"


@pytest.mark.kubectl
def test_kubectl_server_dry_run(kubectl: Kubectl, cluster: TestCluster) -> None:
    out = kubectl.run("apply", "--server-side", "--dry-run=server", "-f", "-", "-o", "json", stdin=CM_YAML).stdout
    assert json.loads(out)["metadata"]["uid"]
    assert cluster.store.get("", "configmaps", "kube-system", "c1") is None
    kubectl.run("apply", "--server-side", "-f", "-", stdin=CM_YAML)
    proc = kubectl.run("create", "--dry-run=server", "-f", "-", stdin=CM_YAML, check=False)
    assert proc.returncode == 1 and "AlreadyExists" in proc.stderr
    out = kubectl.run("apply", "--server-side", "--dry-run=server", "-f", "-", "-o",
                      "jsonpath={.data.a}", stdin=CM_YAML.replace("'1'", "'2'")).stdout
    assert out == "2"
    assert cluster.store.get("", "configmaps", "kube-system", "c1")["data"] == {"a": "1"}
    out = kubectl.run("delete", "--dry-run=server", "cm", "c1", "-n", "kube-system").stdout
    assert out.strip() == 'configmap "c1" deleted (server dry run)'
    assert cluster.store.get("", "configmaps", "kube-system", "c1") is not None
    kubectl.run("delete", "cm", "c1", "-n", "kube-system", "--cascade=foreground")
    assert cluster.store.get("", "configmaps", "kube-system", "c1") is None
