"""Simulated nodes: what a node is (name, root directory, fault flags), its Node object, and scheduling rules.

A simulated node is a Node object the test cluster's kubelet (``multusctl.testing.kubelet``) runs pods for.
It comes from ``TestCluster(nodes=...)``, ``TestCluster.add_node``, ``serve --node NAME=ROOT[:FLAG,...]`` or
a seeded Node carrying the :data:`ROOT_ANNOTATION` (and optionally :data:`FLAGS_ANNOTATION`) annotations.
Flags: ``notready`` (Ready=False with the not-ready taints; its kubelet never acts), ``nopull`` (every image
pull fails), ``slow=SECONDS`` (containers start that much later).

The scheduling predicates here are the ones the DaemonSet controller applies: nodeSelector, required node
affinity (matchExpressions on labels, matchFields on metadata.name), and NoSchedule/NoExecute taints against
tolerations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multusctl.testing.store import Obj, now_rfc3339

ROOT_ANNOTATION = "testing.multusctl.io/node-root"
FLAGS_ANNOTATION = "testing.multusctl.io/node-flags"
NOT_READY_TAINTS = ({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
                    {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"})


class NodeSpecError(ValueError):
    pass


@dataclass
class SimNode:
    """A simulated node. `root` is the directory hostPath volumes are taken from (``/etc/x`` is ``root/etc/x``)."""

    name: str
    root: Path
    notready: bool = False
    nopull: bool = False
    slow: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flags(self) -> str:
        out = [f for f in ("notready", "nopull") if getattr(self, f)]
        if self.slow:
            out.append(f"slow={self.slow:g}")
        return ",".join(out)

    def node_object(self, index: int, kubelet_version: str) -> Obj:
        now = now_rfc3339()
        ready = not self.notready
        conditions = [{"type": t, "status": "False", "reason": f"KubeletHas{r}", "message": m,
                       "lastHeartbeatTime": now, "lastTransitionTime": now}
                      for t, r, m in (("MemoryPressure", "SufficientMemory", "kubelet has sufficient memory available"),
                                      ("DiskPressure", "NoDiskPressure", "kubelet has no disk pressure"),
                                      ("PIDPressure", "SufficientPID", "kubelet has sufficient PID available"))]
        conditions.append({"type": "Ready", "status": "True" if ready else "False",
                           "reason": "KubeletReady" if ready else "KubeletNotReady",
                           "message": "kubelet is posting ready status" if ready
                           else "container runtime network not ready: NetworkReady=false",
                           "lastHeartbeatTime": now, "lastTransitionTime": now})
        ip = node_ip(index)
        taints = [dict(t) for t in self.taints]
        if self.notready:
            taints += [dict(t, timeAdded=now) for t in NOT_READY_TAINTS]
        spec: Obj = {"podCIDR": f"10.42.{index % 256}.0/24", "podCIDRs": [f"10.42.{index % 256}.0/24"]}
        if taints:
            spec["taints"] = taints
        annotations = {ROOT_ANNOTATION: str(self.root)}
        if self.flags:
            annotations[FLAGS_ANNOTATION] = self.flags
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": self.name, "annotations": annotations,
                         "labels": {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                                    "beta.kubernetes.io/arch": "amd64", **self.labels}},
            "spec": spec,
            "status": {
                "conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": self.name}],
                "capacity": {"cpu": "2", "memory": "4026680Ki", "pods": "110", "ephemeral-storage": "20511312Ki"},
                "allocatable": {"cpu": "2", "memory": "4026680Ki", "pods": "110",
                                "ephemeral-storage": "19953680Ki"},
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "osImage": "multusctl test node",
                             "kernelVersion": "simulated", "kubeletVersion": kubelet_version,
                             "kubeProxyVersion": kubelet_version, "containerRuntimeVersion": "simulated://1.0",
                             "machineID": "", "systemUUID": "", "bootID": ""},
            },
        }


def node_ip(index: int) -> str:
    return f"10.0.{(index >> 8) & 255}.{(index & 255) or 1}"


def parse_flags(node: SimNode, text: str) -> SimNode:
    for flag in (f.strip() for f in text.split(",") if f.strip()):
        key, _, value = flag.partition("=")
        if key in ("notready", "nopull") and not value:
            setattr(node, key, True)
        elif key == "slow" and value:
            try:
                node.slow = float(value)
            except ValueError:
                raise NodeSpecError(f"slow={value!r}: not a number of seconds") from None
            if node.slow < 0:
                raise NodeSpecError("slow must not be negative")
        else:
            raise NodeSpecError(f"unknown node flag {flag!r} (flags: notready, nopull, slow=SECONDS)")
    return node


def parse_node_spec(text: str) -> SimNode:
    """``NAME=ROOT[:FLAG,...]`` (the ``serve --node`` syntax)."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise NodeSpecError(f"{text!r}: expected NAME=ROOT[:FLAG,...]")
    root, _, flags = rest.partition(":")
    return parse_flags(SimNode(name=name, root=Path(root)), flags)


def sim_node_from_object(node: Obj) -> SimNode | None:
    """The simulated node a (seeded) Node object describes through its annotations, if any."""
    meta = node.get("metadata") or {}
    ann = meta.get("annotations") or {}
    root = ann.get(ROOT_ANNOTATION)
    if not root:
        return None
    try:
        sim = parse_flags(SimNode(name=meta.get("name", ""), root=Path(root)), ann.get(FLAGS_ANNOTATION, ""))
    except NodeSpecError:
        return None
    sim.notready = sim.notready or not node_ready(node)
    return sim


def node_ready(node: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


# ---- scheduling predicates -------------------------------------------------------------------------------


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        op = tol.get("operator") or "Equal"
        if op == "Exists" and (not tol.get("key") or tol.get("key") == taint.get("key")):
            return True
        if op == "Equal" and tol.get("key") == taint.get("key") and (tol.get("value") or "") == (
                taint.get("value") or ""):
            return True
    return False


def _expr_matches(expr: dict[str, Any], value: str | None) -> bool:
    op, values = expr.get("operator"), [str(v) for v in expr.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            return int(value) > int(values[0]) if op == "Gt" else int(value) < int(values[0])
        except ValueError:
            return False
    return False


def _affinity_matches(pod_spec: Obj, node: Obj) -> bool:
    required = ((((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution")) or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        fexprs = term.get("matchFields") or []
        if not exprs and not fexprs:
            continue
        if all(_expr_matches(e, labels.get(e.get("key", ""))) for e in exprs) and all(
                _expr_matches(e, fields.get(e.get("key", ""))) for e in fexprs):
            return True
    return False


def schedulable(pod_spec: Obj, node: Obj) -> bool:
    """Whether a pod with `pod_spec` may run on `node` (nodeSelector, required node affinity, taints)."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    if not _affinity_matches(pod_spec, node):
        return False
    tolerations = pod_spec.get("tolerations") or []
    return all(tolerates(tolerations, t) for t in (node.get("spec") or {}).get("taints") or []
               if t.get("effect") in ("NoSchedule", "NoExecute"))


# The tolerations the DaemonSet controller adds to every daemon pod (util.AddOrUpdateDaemonPodTolerations).
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
