"""Deletion as the apiserver and the garbage collector do it: graceful pod deletion, propagation policies,
and deleting dependents by ownerReferences.

* Pods bound to a simulated node (``multusctl.testing.nodes``) and not yet terminal are deleted gracefully:
  the delete sets ``deletionTimestamp`` and ``deletionGracePeriodSeconds`` (DeleteOptions.gracePeriodSeconds,
  else the pod's terminationGracePeriodSeconds, else 30) and the kubelet removes the object once its
  containers are gone (SIGTERM, the grace period, SIGKILL). On a ``notready`` node nothing confirms, so the
  pod stays Terminating, as on a real cluster, until it is force-deleted (gracePeriodSeconds=0) or its Node
  is deleted (the pod GC then removes pods of nodes that no longer exist). Every other object, and every
  pod elsewhere, is deleted at once.
* ``propagationPolicy``: Background (the default) deletes the owner now and its dependents right after;
  Foreground marks the owner (deletionTimestamp, the ``foregroundDeletion`` finalizer), deletes the
  dependents and removes the owner when the last one is gone (graceful pods included); Orphan removes the
  owner's entry from its dependents' ownerReferences and keeps them.
* The collector: when an object is deleted, every object whose ownerReferences name its uid and whose
  other owners (if any) are gone too is deleted in the background, recursively.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from multusctl.testing.store import ApiError, Obj, WatchEvent, not_found

if TYPE_CHECKING:
    from multusctl.testing.server import TestCluster

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
DEFAULT_GRACE = 30


def rfc3339_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Deleter:
    def __init__(self, cluster: TestCluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._foreground: set[tuple[str, str, str, str]] = set()
        self._lock = threading.RLock()

    # ---- the delete verb ----

    def delete(self, group: str, plural: str, namespace: str | None, name: str, *, grace: int | None = None,
               propagation: str | None = None) -> Obj:
        live = self.store.get(group, plural, namespace, name)
        if live is None:
            raise not_found(group, plural, name)
        if (group, plural) == ("", "pods"):
            terminating = self._graceful_pod(live, grace)
            if terminating is not None:
                return terminating
        if propagation == "Orphan":
            self._orphan(live)
        elif propagation == "Foreground" and self._dependents(live["metadata"]["uid"]):
            return self._start_foreground(group, plural, live)
        return self.store.delete(group, plural, namespace, name)

    def _graceful_pod(self, pod: Obj, grace: int | None) -> Obj | None:
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        if not node or node not in self.cluster.simulated_nodes or grace == 0:
            return None
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return None
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds")
            grace = DEFAULT_GRACE if grace is None else int(grace)
        if grace <= 0:
            grace = 1  # the apiserver turns a graceful 0 into 1: the kubelet still gets to kill the containers
        meta = pod["metadata"]
        old = meta.get("deletionGracePeriodSeconds")
        if old is not None and int(old) <= grace:
            return pod
        meta["deletionTimestamp"] = rfc3339_in(grace)
        meta["deletionGracePeriodSeconds"] = grace
        return self.store.update("", "pods", pod, check_rv=False)

    def _orphan(self, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        for (group, plural, _ns, _name), obj in self._dependents(uid):
            current = self.store.get(group, plural, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            if current is None:
                continue
            refs = [r for r in current["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                current["metadata"]["ownerReferences"] = refs
            else:
                current["metadata"].pop("ownerReferences", None)
            self.store.update(group, plural, current, check_rv=False)

    def _start_foreground(self, group: str, plural: str, owner: Obj) -> Obj:
        meta = owner["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = rfc3339_in(0)
            meta["deletionGracePeriodSeconds"] = 0
        if FOREGROUND not in (meta.get("finalizers") or []):
            meta["finalizers"] = [*(meta.get("finalizers") or []), FOREGROUND]
        marked = self.store.update(group, plural, owner, check_rv=False)
        with self._lock:
            self._foreground.add((group, plural, meta.get("namespace") or "", meta["name"]))
        self._collect(meta["uid"])
        self._finish_foreground()
        return self.store.get(group, plural, meta.get("namespace"), meta["name"]) or marked

    # ---- the collector ----

    def _dependents(self, uid: str) -> list[tuple[tuple[str, str, str, str], Obj]]:
        return [(key, obj) for key, obj in self.store.peek_all()
                if any(r.get("uid") == uid for r in obj.get("metadata", {}).get("ownerReferences") or [])]

    def _exists(self, uid: str) -> bool:
        return any(obj.get("metadata", {}).get("uid") == uid for _k, obj in self.store.peek_all())

    def _collect(self, uid: str) -> None:
        for (group, plural, ns, name), obj in self._dependents(uid):
            others = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if any(self._exists(r.get("uid", "")) for r in others):
                continue
            if obj["metadata"].get("deletionTimestamp") and (group, plural) == ("", "pods"):
                continue  # already terminating
            try:
                self.delete(group, plural, ns or None, name)
            except ApiError:
                continue

    def _finish_foreground(self) -> None:
        with self._lock:
            pending = list(self._foreground)
        for key in pending:
            group, plural, ns, name = key
            owner = self.store.get(group, plural, ns or None, name)
            if owner is None:
                with self._lock:
                    self._foreground.discard(key)
                continue
            if self._dependents(owner["metadata"]["uid"]):
                continue
            with self._lock:
                if key not in self._foreground:
                    continue
                self._foreground.discard(key)
            with contextlib.suppress(ApiError):
                self.store.delete(group, plural, ns or None, name)

    def observe(self, ev: WatchEvent) -> None:
        if ev.type != "DELETED":
            return
        uid = (ev.obj.get("metadata") or {}).get("uid")
        if uid:
            self._collect(uid)
        if (ev.group, ev.plural) == ("", "nodes"):
            self._collect_pods_of_node(ev.obj["metadata"]["name"])
        if self._foreground:
            self._finish_foreground()

    def _collect_pods_of_node(self, node: str) -> None:
        """The pod GC: pods bound to a node that no longer exists are deleted at once."""
        for pod in self.store.peek_list("", "pods"):
            if (pod.get("spec") or {}).get("nodeName") == node:
                try:
                    self.store.delete("", "pods", pod["metadata"].get("namespace"), pod["metadata"]["name"])
                except ApiError:
                    continue
