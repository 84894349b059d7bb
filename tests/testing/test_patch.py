"""Patch flavours in isolation: merge patch, strategic merge patch and server-side apply."""

from __future__ import annotations

import pytest

from multusctl.testing.patch import json_merge_patch, json_patch, server_side_apply, strategic_merge_patch
from multusctl.testing.store import ApiError


def pod(containers: list[dict], volumes: list[dict] | None = None) -> dict:
    return {"spec": {"containers": containers, "volumes": volumes or []}}


def test_json_merge_patch_rfc7386() -> None:
    assert json_merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == {
        "a": "z", "c": {"d": "e"}}
    assert json_merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert json_merge_patch({"a": 1}, {"b": {"c": None}}) == {"a": 1, "b": {}}


def test_json_patch_operations() -> None:
    doc = {"a": {"b": [1, 2]}}
    out = json_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 3}, {"op": "replace", "path": "/a/b/0",
                                                                          "value": 0},
                           {"op": "remove", "path": "/a/b/1"}, {"op": "copy", "from": "/a", "path": "/c"}])
    assert out == {"a": {"b": [0, 3]}, "c": {"b": [0, 3]}}
    assert doc == {"a": {"b": [1, 2]}}
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "test", "path": "/a/b/0", "value": 9}])


def test_smp_merges_containers_env_ports_and_mounts_by_key() -> None:
    live = pod([{"name": "main", "image": "a:1", "env": [{"name": "X", "value": "1"}],
                 "ports": [{"containerPort": 80, "name": "http"}],
                 "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
                {"name": "side", "image": "s:1"}], [{"name": "v", "hostPath": {"path": "/v"}}])
    patch = {"spec": {"containers": [{"name": "main", "image": "a:2", "env": [{"name": "Y", "value": "2"}],
                                      "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                      "volumeMounts": [{"mountPath": "/w", "name": "w"}]}],
                      "volumes": [{"name": "w", "emptyDir": {}}]}}
    out = strategic_merge_patch(live, patch)
    main, side = out["spec"]["containers"]
    assert main["image"] == "a:2" and side == {"name": "side", "image": "s:1"}
    assert main["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]
    assert main["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
    assert [m["mountPath"] for m in main["volumeMounts"]] == ["/v", "/w"]
    assert [v["name"] for v in out["spec"]["volumes"]] == ["v", "w"]


def test_smp_directives() -> None:
    live = pod([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}], [{"name": "v", "hostPath": {"path": "/"}}])
    out = strategic_merge_patch(live, {"spec": {
        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
        "containers": [{"name": "a", "$patch": "delete"}],
        "volumes": [{"name": "v", "$retainKeys": ["name", "emptyDir"], "emptyDir": {}}]}})
    assert out["spec"]["containers"] == [{"name": "b", "image": "y"}]
    assert out["spec"]["volumes"] == [{"name": "v", "emptyDir": {}}]
    out = strategic_merge_patch(live, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["b", "a"]
    out = strategic_merge_patch(live, {"spec": {"containers": [{"name": "z", "image": "z"}, {"$patch": "replace"}]}})
    assert out["spec"]["containers"] == [{"name": "z", "image": "z"}]
    out = strategic_merge_patch({"metadata": {"finalizers": ["a"]}}, {"metadata": {
        "finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == ["b"]
    # Unknown lists (args, tolerations) are replaced, as their patch strategy is atomic.
    out = strategic_merge_patch({"spec": {"tolerations": [{"operator": "Exists"}]}},
                                {"spec": {"tolerations": [{"key": "k"}]}})
    assert out["spec"]["tolerations"] == [{"key": "k"}]


def cm(**data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


def test_ssa_owns_removes_and_conflicts() -> None:
    obj = server_side_apply(None, cm(a="1", b="2"), "one", False, "v1")
    assert obj["data"] == {"a": "1", "b": "2"}
    entry = obj["metadata"]["managedFields"][0]
    assert entry["manager"] == "one" and entry["operation"] == "Apply"
    assert entry["fieldsV1"]["f:data"] == {"f:a": {}, "f:b": {}}
    obj = server_side_apply(obj, cm(a="1"), "one", False, "v1")
    assert obj["data"] == {"a": "1"}  # b was only ours: dropped
    obj = server_side_apply(obj, cm(c="3"), "two", False, "v1")
    assert obj["data"] == {"a": "1", "c": "3"}
    with pytest.raises(ApiError) as err:
        server_side_apply(obj, cm(a="9"), "two", False, "v1")
    assert err.value.code == 409 and 'conflict with "one": .data.a' in err.value.message
    # Same value: shared ownership, no conflict.
    obj = server_side_apply(obj, cm(a="1", c="3"), "two", False, "v1")
    forced = server_side_apply(obj, cm(a="9", c="3"), "two", True, "v1")
    assert forced["data"]["a"] == "9"
    # "one" lost its last field, so it no longer appears among the managers.
    assert [m["manager"] for m in forced["metadata"]["managedFields"]] == ["two"]


def test_ssa_keyed_lists() -> None:
    def ds(*names: str) -> dict:
        return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"},
                "spec": {"template": {"spec": {"containers": [{"name": n, "image": f"{n}:1"} for n in names]}}}}

    obj = server_side_apply(None, ds("a", "b"), "m", False, "apps/v1")
    fields = obj["metadata"]["managedFields"][0]["fieldsV1"]
    assert 'k:{"name":"a"}' in fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    obj = server_side_apply(obj, ds("b"), "m", False, "apps/v1")
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["b"]
