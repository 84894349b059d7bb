"""The DaemonSet controller: DaemonSet status always, daemon pods when the cluster has simulated nodes.

Status (desired/current/ready/available counts, observedGeneration) is derived from the Node objects and the
pods the DaemonSet owns or selects, so ``kubectl rollout status`` works on seeded objects. When the cluster
has simulated nodes (``multusctl.testing.nodes``) the controller also creates one pod per eligible node
(nodeSelector, required node affinity, taints against the template's tolerations plus the ones upstream
adds to every daemon pod), named ``<ds>-<5 random>`` with the ``controller-revision-hash`` and
``pod-template-generation`` labels and a controller ownerReference; it binds the pod itself (``nodeName``
and the ``metadata.name`` node affinity upstream sets), as the default scheduler would. It deletes pods on
nodes no longer eligible, replaces pods deleted while the DaemonSet lives and creates nothing for a
DaemonSet being deleted or while a node's old pod is still terminating. Without simulated nodes no pod is
ever created (seeded pods stay what the test made them).

Runs synchronously from the store's observers; re-entrant writes (its own pod creations) only mark work
that the outermost call then does, so a burst of N nodes costs N creations, not N nested reconciles.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import threading
from typing import TYPE_CHECKING

from multusctl.testing.names import generate_name
from multusctl.testing.nodes import DAEMON_TOLERATIONS, schedulable
from multusctl.testing.store import ApiError, Obj, WatchEvent, label_selector_from_dict, matches, now_rfc3339

if TYPE_CHECKING:
    from multusctl.testing.server import TestCluster


def pod_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def template_hash(ds: Obj) -> str:
    template = json.dumps((ds.get("spec") or {}).get("template") or {}, sort_keys=True).encode()
    return hashlib.sha256(template).hexdigest()[:10]


class DaemonSetController:
    def __init__(self, cluster: TestCluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._lock = threading.RLock()
        self._local = threading.local()
        self._dirty: set[tuple[str, str]] | None = None  # None: every DaemonSet

    def observe(self, ev: WatchEvent) -> None:
        kind = (ev.group, ev.plural)
        if kind not in (("", "pods"), ("", "nodes"), ("apps", "daemonsets")):
            return
        with self._lock:
            first = not getattr(self._local, "busy", False)
            self._mark(ev)
            if not first:
                return
            self._local.busy = True
            try:
                while self._dirty is None or self._dirty:
                    dirty, self._dirty = self._dirty, set()
                    self._reconcile(dirty)
            finally:
                self._local.busy = False

    def _mark(self, ev: WatchEvent) -> None:
        if self._dirty is None:
            return
        meta = ev.obj.get("metadata") or {}
        if ev.plural == "nodes":
            self._dirty = None
        elif ev.plural == "daemonsets":
            self._dirty.add((ev.namespace, meta.get("name", "")))
        else:
            owners = [o.get("name", "") for o in meta.get("ownerReferences") or [] if o.get("kind") == "DaemonSet"]
            if owners:
                self._dirty.update((ev.namespace, o) for o in owners)
            else:  # a seeded pod may belong by its labels only
                self._dirty.update((ev.namespace, d["metadata"]["name"])
                                   for d in self.store.peek_list("apps", "daemonsets", ev.namespace))

    def _reconcile(self, dirty: set[tuple[str, str]] | None) -> None:
        nodes = self.store.peek_list("", "nodes")
        for ds in self.store.peek_list("apps", "daemonsets"):
            meta = ds["metadata"]
            if dirty is not None and (meta.get("namespace", ""), meta["name"]) not in dirty:
                continue
            self._sync(ds, nodes)

    def _sync(self, ds: Obj, nodes: list[Obj]) -> None:
        meta = ds["metadata"]
        spec = ds.get("spec") or {}
        tmpl_spec = (spec.get("template") or {}).get("spec") or {}
        effective = dict(tmpl_spec, tolerations=[*(tmpl_spec.get("tolerations") or []), *DAEMON_TOLERATIONS])
        eligible = [n for n in nodes if schedulable(effective, n)]
        selector = label_selector_from_dict(spec.get("selector")) or []
        uid = meta["uid"]
        pods = [p for p in self.store.peek_list("", "pods", meta.get("namespace"))
                if any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences") or [])
                or (selector and matches(p, selector, []))]
        if self.cluster.simulated_nodes and not meta.get("deletionTimestamp"):
            self._manage_pods(ds, eligible, pods)
            pods = [p for p in self.store.peek_list("", "pods", meta.get("namespace"))
                    if any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences") or [])
                    or (selector and matches(p, selector, []))]
        self._write_status(ds, len(eligible), pods)

    def _manage_pods(self, ds: Obj, eligible: list[Obj], pods: list[Obj]) -> None:
        by_node: dict[str, list[Obj]] = {}
        for p in pods:
            by_node.setdefault((p.get("spec") or {}).get("nodeName", ""), []).append(p)
        wanted = {n["metadata"]["name"] for n in eligible}
        for node in sorted(wanted - set(by_node)):
            self._create_pod(ds, node)
        for node, node_pods in by_node.items():
            if node in wanted:
                continue
            for p in node_pods:
                if not p["metadata"].get("deletionTimestamp"):
                    self._delete(p)

    def _delete(self, pod: Obj) -> None:
        with contextlib.suppress(ApiError):
            self.cluster.deleter.delete("", "pods", pod["metadata"].get("namespace"), pod["metadata"]["name"])

    def _create_pod(self, ds: Obj, node: str) -> None:
        meta = ds["metadata"]
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        spec = template.get("spec") or {}
        labels = dict(tmeta.get("labels") or {})
        labels["controller-revision-hash"] = template_hash(ds)
        labels["pod-template-generation"] = str(meta.get("generation", 1))
        tolerations = list(spec.get("tolerations") or [])
        tolerations += [t for t in DAEMON_TOLERATIONS if t not in tolerations]
        spec["tolerations"] = tolerations
        affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
        spec["nodeName"] = node
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": generate_name(f"{meta['name']}-"), "generateName": f"{meta['name']}-",
                         "namespace": meta.get("namespace", "default"), "labels": labels,
                         **({"annotations": dict(tmeta["annotations"])} if tmeta.get("annotations") else {}),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": meta["name"],
                                              "uid": meta["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": now_rfc3339()}]},
        }
        with contextlib.suppress(ApiError):  # a name collision: the next event retries
            self.store.create("", "pods", pod)

    def _write_status(self, ds: Obj, desired: int, pods: list[Obj]) -> None:
        scheduled = [p for p in pods if (p.get("spec") or {}).get("nodeName")]
        ready = [p for p in scheduled if pod_ready(p)]
        status: Obj = {
            "currentNumberScheduled": len(scheduled), "desiredNumberScheduled": desired,
            "numberMisscheduled": 0, "numberReady": len(ready),
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": len(scheduled), "numberAvailable": len(ready),
        }
        if desired - len(ready) > 0:
            status["numberUnavailable"] = desired - len(ready)
        if ds.get("status") != status:
            current = self.store.get("apps", "daemonsets", ds["metadata"].get("namespace"), ds["metadata"]["name"])
            if current is None:
                return
            current["status"] = status
            self.store.update("apps", "daemonsets", current, check_rv=False)
