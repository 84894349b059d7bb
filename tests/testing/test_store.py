"""The object store: resourceVersions, selectors, the watch log and the Lookup protocol."""

from __future__ import annotations

import threading
import time

import pytest

from multusctl.testing.auth import Lookup
from multusctl.testing.store import ApiError, Store, parse_label_selector


def obj(name: str, ns: str = "default", **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels}}


def test_resource_versions_increase_and_noop_updates_keep_them() -> None:
    store = Store()
    a = store.create("", "configmaps", obj("a"))
    b = store.create("", "configmaps", obj("b"))
    assert int(b["metadata"]["resourceVersion"]) > int(a["metadata"]["resourceVersion"])
    same = store.update("", "configmaps", a)
    assert same["metadata"]["resourceVersion"] == a["metadata"]["resourceVersion"]
    a["data"] = {"x": "1"}
    changed = store.update("", "configmaps", a)
    assert int(changed["metadata"]["resourceVersion"]) > int(b["metadata"]["resourceVersion"])
    with pytest.raises(ApiError) as err:
        store.update("", "configmaps", a)  # stale resourceVersion
    assert err.value.code == 409 and err.value.reason == "Conflict"


def test_get_returns_copies_and_store_is_a_lookup() -> None:
    store = Store()
    store.create("rbac.authorization.k8s.io", "clusterroles", {"metadata": {"name": "r"}, "rules": []})
    lookup: Lookup = store
    got = lookup.get("rbac.authorization.k8s.io", "clusterroles", None, "r")
    assert got is not None
    got["rules"].append("mutated")
    assert lookup.get("rbac.authorization.k8s.io", "clusterroles", None, "r")["rules"] == []  # type: ignore[index]
    assert [o["metadata"]["name"] for o in lookup.list("rbac.authorization.k8s.io", "clusterroles")] == ["r"]
    assert lookup.get("", "configmaps", "default", "nope") is None


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=x", ["a"]), ("app==x", ["a"]), ("app!=x", ["b", "c"]), ("app", ["a", "b"]), ("!app", ["c"]),
    ("app in (x, y)", ["a", "b"]), ("app notin (x)", ["b", "c"]), ("app,tier=node", ["b"]), ("", ["a", "b", "c"]),
])
def test_label_selectors(selector: str, expected: list[str]) -> None:
    store = Store()
    store.create("", "configmaps", obj("a", app="x"))
    store.create("", "configmaps", obj("b", app="y", tier="node"))
    store.create("", "configmaps", obj("c"))
    items, _ = store.select("", "configmaps", None, selector)
    assert [o["metadata"]["name"] for o in items] == expected


def test_bad_selectors_are_400() -> None:
    with pytest.raises(ApiError) as err:
        parse_label_selector("a in (x")
    assert err.value.code == 400
    with pytest.raises(ApiError):
        Store().select("", "configmaps", None, field_selector="metadata.name")


def test_events_since_wakes_on_writes_and_respects_deadline() -> None:
    store = Store()
    rv = store.resource_version
    threading.Timer(0.2, lambda: store.create("", "configmaps", obj("late"))).start()
    start = time.monotonic()
    seen = [e for e in store.events_since(rv, time.monotonic() + 1.0, lambda: False, poll=0.1) if e is not None]
    assert [(e.type, e.obj["metadata"]["name"]) for e in seen] == [("ADDED", "late")]
    assert 0.9 <= time.monotonic() - start < 3


def test_namespace_contents_deletion() -> None:
    store = Store()
    store.create("", "configmaps", obj("a", "team"))
    store.create("", "secrets", {"metadata": {"name": "s", "namespace": "team"}})
    store.create("", "configmaps", obj("b", "other"))
    store.delete_namespace_contents("team")
    assert store.list("", "configmaps") == [store.get("", "configmaps", "other", "b")]
    assert store.list("", "secrets") == []
