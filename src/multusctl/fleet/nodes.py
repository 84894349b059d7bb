"""The Nodes of a run: which can run a pod at all, and which host directories each one's checks read.

Mounts: the node checks read the CNI conf and bin dirs, kubeconfigs, runtime configs and the
distribution's own files, which live under /etc, /opt, /usr and /var/lib on every distribution
(FHS directories, present on every Linux node), plus /var/snap and /snap on microk8s and /run/k0s on k0s.
Each is a read-only hostPath of type Directory: a hostPath of type "" that does not exist is *created* by
containerd, and a read-only diagnosis must not create directories on a node; a missing one fails the mount,
which the run reports as that node's `node-gather-failed`. /run is not mounted whole: it holds the container
runtime's socket, which a read-only mount would still let the pod connect to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

BASE_MOUNTS: tuple[str, ...] = ("/etc", "/opt", "/usr", "/var/lib")
DISTRO_MOUNTS: dict[str, tuple[str, ...]] = {
    "microk8s": ("/var/snap/microk8s", "/snap/microk8s"),
    "k0s": ("/run/k0s",),
}


@dataclass(frozen=True)
class NodeInfo:
    name: str
    uid: str
    ready: bool
    not_ready_why: str  # "" when ready
    distro: str  # a hint from the Node object; the pod detects the layout itself
    kubelet: str
    runtime: str


def distro_hint(node: Obj) -> str:
    """The distribution as the Node object tells it (kubelet version suffix, labels): only to pick mounts."""
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    info = (node.get("status") or {}).get("nodeInfo") or {}
    kubelet = str(info.get("kubeletVersion") or "")
    for suffix, distro in (("+k3s", "k3s"), ("+rke2", "rke2"), ("+k0s", "k0s")):
        if suffix in kubelet:
            return distro
    if "microk8s.io/cluster" in labels:
        return "microk8s"
    if any(k.startswith("node.openshift.io/") for k in labels):
        return "openshift"
    return "unknown"


def readiness(node: Obj) -> tuple[bool, str]:
    """(Ready=True, why not): a NotReady node's kubelet starts nothing, so no pod is made for it."""
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            if cond.get("status") == "True":
                return True, ""
            why = cond.get("reason") or "no reason given"
            msg = cond.get("message") or ""
            return False, f"the node is NotReady (Ready={cond.get('status')}, {why}{': ' + msg if msg else ''})"
    return False, "the node is NotReady (it has no Ready condition: its kubelet never reported)"


def node_info(node: Obj) -> NodeInfo:
    meta = node.get("metadata") or {}
    info = (node.get("status") or {}).get("nodeInfo") or {}
    ready, why = readiness(node)
    return NodeInfo(str(meta.get("name") or ""), str(meta.get("uid") or ""), ready, why, distro_hint(node),
                    str(info.get("kubeletVersion") or ""), str(info.get("containerRuntimeVersion") or ""))


def mounts_for(distro: str) -> tuple[str, ...]:
    return BASE_MOUNTS + DISTRO_MOUNTS.get(distro, ())
