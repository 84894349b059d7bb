"""Writes to the status subresource keep what the apiserver's status strategies keep.

podStatusStrategy.PrepareForUpdate: the spec and ownerReferences are the old object's, a deletionTimestamp
can never be changed by an update (rest.BeforeUpdate), and the new labels and annotations are taken; this is
how Multus's `k8s.v1.cni.cncf.io/network-status` annotation lands (UpdateStatus, a PUT on pods/status).
Custom resources keep the old metadata altogether (ResetObjectMetaForStatus)."""

from __future__ import annotations

import copy

import pytest

from multusctl.testing import TestCluster

from .conftest import Http

BASE = "/api/v1/namespaces/default/pods/web"
OWNER = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "0000-ds", "controller": True}]
DELETING = "2026-01-01T00:00:00Z"


@pytest.fixture
def pod(cluster: TestCluster) -> dict:
    (stored,) = cluster.seed([{
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                     "annotations": {"old": "1"}, "ownerReferences": OWNER},
        "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}]}}])
    # A create drops deletionTimestamp (as the apiserver does); a pod being deleted gets it from the store.
    stored["metadata"]["deletionTimestamp"] = DELETING
    return cluster.store.update("", "pods", stored)


def _sent(pod: dict) -> dict:
    sent = copy.deepcopy(pod)
    sent["metadata"]["annotations"] = {"k8s.v1.cni.cncf.io/network-status": "[]"}
    sent["metadata"]["labels"] = {"app": "web", "new": "yes"}
    sent["metadata"]["ownerReferences"] = []
    sent["metadata"]["deletionTimestamp"] = None
    sent["spec"]["nodeName"] = "elsewhere"
    sent["status"] = {"phase": "Running"}
    return sent


def _assert_strategy(got: dict) -> None:
    meta = got["metadata"]
    assert meta["annotations"] == {"k8s.v1.cni.cncf.io/network-status": "[]"}
    assert meta["labels"] == {"app": "web", "new": "yes"}
    assert meta["ownerReferences"] == OWNER
    assert meta["deletionTimestamp"] == DELETING
    assert got["spec"]["nodeName"] == "node1" and got["status"] == {"phase": "Running"}


def test_a_pod_status_update_takes_labels_and_annotations_and_keeps_spec_owners_and_deletion(
        cluster: TestCluster, http: Http, pod: dict) -> None:
    code, got = http.request("PUT", f"{BASE}/status", _sent(pod))
    assert code == 200, got
    _assert_strategy(got)
    _assert_strategy(cluster.store.get("", "pods", "default", "web") or {})


def test_a_pod_status_patch_follows_the_same_strategy(http: Http, pod: dict) -> None:
    sent = _sent(pod)
    patch = {"metadata": {k: sent["metadata"][k] for k in ("labels", "annotations", "ownerReferences",
                                                           "deletionTimestamp")},
             "spec": sent["spec"], "status": sent["status"]}
    patch["metadata"]["annotations"]["old"] = None  # merge patch: delete the key
    code, got = http.request("PATCH", f"{BASE}/status", patch, "application/merge-patch+json")
    assert code == 200, got
    _assert_strategy(got)


def test_a_plain_update_cannot_change_a_deletion_timestamp(http: Http, pod: dict) -> None:
    sent = copy.deepcopy(pod)
    sent["metadata"].pop("deletionTimestamp")
    code, got = http.request("PUT", BASE, sent)
    assert code == 200 and got["metadata"]["deletionTimestamp"] == DELETING, got


def test_a_stale_resource_version_in_a_status_write_conflicts(http: Http, pod: dict) -> None:
    sent = _sent(pod)
    assert http.request("PUT", f"{BASE}/status", sent)[0] == 200
    code, got = http.request("PUT", f"{BASE}/status", sent)  # the same, now stale, resourceVersion
    assert code == 409, got
    patch = {"metadata": {"resourceVersion": pod["metadata"]["resourceVersion"]}, "status": {"phase": "Failed"}}
    assert http.request("PATCH", f"{BASE}/status", patch, "application/merge-patch+json")[0] == 409


def test_a_custom_resource_status_write_keeps_the_old_metadata(cluster: TestCluster, http: Http) -> None:
    cluster.seed([{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                   "metadata": {"name": "widgets.example.com"},
                   "spec": {"group": "example.com", "scope": "Namespaced",
                            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                            "versions": [{"name": "v1", "served": True, "storage": True,
                                          "subresources": {"status": {}},
                                          "schema": {"openAPIV3Schema": {"type": "object"}}}]}}])
    (widget,) = cluster.seed([{"apiVersion": "example.com/v1", "kind": "Widget",
                               "metadata": {"name": "w", "namespace": "default", "annotations": {"old": "1"}},
                               "spec": {"size": 1}}])
    sent = dict(copy.deepcopy(widget), status={"ready": True}, spec={"size": 2})
    sent["metadata"]["annotations"] = {"changed": "yes"}
    code, got = http.request("PUT", "/apis/example.com/v1/namespaces/default/widgets/w/status", sent)
    assert code == 200, got
    assert got["metadata"]["annotations"] == {"old": "1"} and got["spec"] == {"size": 1}
    assert got["status"] == {"ready": True}
