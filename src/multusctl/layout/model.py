"""The answer to "where do things live on this node?", shared by detect, check, render and install."""

from __future__ import annotations

from typing import Literal

from multusctl.records import dataclass, field

Distro = Literal["k3s", "rke2", "kubeadm", "microk8s", "k0s", "openshift", "kind", "unknown"]
Role = Literal["server", "agent", "unknown"]
DISTROS: tuple[str, ...] = ("k3s", "rke2", "kubeadm", "microk8s", "k0s", "openshift", "kind", "unknown")
ROLES: tuple[str, ...] = ("server", "agent", "unknown")


@dataclass
class Layout:
    """Paths as the node sees them (never prefixed with --root).

    `evidence` maps each answer (distro, role, conf_dir, bin_dirs, ...) to the list of signals it was
    decided from, so a user can see why multusctl believes what it believes.
    """

    distro: str = "unknown"
    role: str = "unknown"
    version: str | None = None
    conf_dir: str = "/etc/cni/net.d"
    bin_dirs: list[str] = field(default_factory=lambda: ["/opt/cni/bin"])
    admin_kubeconfig: str | None = None
    api_endpoints: list[str] = field(default_factory=list)
    # Ports an apiserver listens on locally on this node (k3s server: 6443; k3s agent: none, only the
    # client load balancer on 6444). Used to judge a loopback server URL in a kubeconfig.
    local_api_ports: list[int] = field(default_factory=list)
    cluster_cidr: str | None = None
    service_cidr: str | None = None
    evidence: dict[str, list[str]] = field(default_factory=dict)
    # False when nothing under the root looks like a Kubernetes node: no distribution marker, no container
    # runtime config, no CNI conf dir (an empty --root, or a laptop); commands say so instead of judging.
    node_found: bool = True
    runtime: str | None = None  # "containerd" | "CRI-O" | "kubelet flags": whose config named the CNI dirs

    @property
    def multus_kubeconfig(self) -> str:
        return f"{self.conf_dir.rstrip('/')}/multus.d/multus.kubeconfig"

    def note(self, key: str, why: str) -> None:
        self.evidence.setdefault(key, []).append(why)
