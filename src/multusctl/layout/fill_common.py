"""What every distribution's filler shares: the defaults a filler returns, and small readers.
"""

from __future__ import annotations

import re
from typing import Any

from multusctl.gather.nodefs import NodeFS, NodeFSError
from multusctl.layout import distros as D
from multusctl.layout.model import Layout
from multusctl.records import dataclass, field

K3S_UNITS = {
    "server": ("/etc/systemd/system/k3s.service", "/lib/systemd/system/k3s.service"),
    "agent": ("/etc/systemd/system/k3s-agent.service", "/lib/systemd/system/k3s-agent.service"),
}
RKE2_UNITS = {
    "server": ("/etc/systemd/system/rke2-server.service", "/usr/lib/systemd/system/rke2-server.service",
               "/usr/local/lib/systemd/system/rke2-server.service"),
    "agent": ("/etc/systemd/system/rke2-agent.service", "/usr/lib/systemd/system/rke2-agent.service",
              "/usr/local/lib/systemd/system/rke2-agent.service"),
}
KUBEADM_APISERVER = "/etc/kubernetes/manifests/kube-apiserver.yaml"
KUBEADM_CONTROLLER_MANAGER = "/etc/kubernetes/manifests/kube-controller-manager.yaml"
KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
KUBELET_CONFIG_YAML = "/var/lib/kubelet/config.yaml"
OPENSHIFT_APISERVER = "/etc/kubernetes/manifests/kube-apiserver-pod.yaml"
CONTAINERD_CONFIG = "/etc/containerd/config.toml"


@dataclass
class _Defaults:
    """Where CNI lives if the runtime config says nothing usable, and why."""

    conf_dir: str
    bin_dirs: list[str]
    why: str
    bin_why: str = ""  # when the bin dir was decided differently from the conf dir
    # Runtime configs to try, in order: (node path, is a Go template, ${VAR} substitutions).
    containerd: list[tuple[str, bool, dict[str, str]]] = field(default_factory=list)
    crio: bool = False  # try CRI-O's config too
    prefer_crio: bool = False  # the kubelet talks to CRI-O (or the distro only uses CRI-O)
    no_cni_hint: str = ""  # said when a runtime config sets no CNI dirs


# --- shared helpers --------------------------------------------------------------------------------


def _read(fs: NodeFS, path: str, layout: Layout | None = None) -> str | None:
    try:
        return fs.read_text(path)
    except NodeFSError as exc:
        if layout is not None and fs.exists(path):
            layout.note("runtime", f"could not read {exc}")
        return None


def _server_url(fs: NodeFS, kubeconfig: str) -> str | None:
    text = _read(fs, kubeconfig)
    if text is None:
        return None
    m = re.search(r"^\s*server:\s*[\"']?([^\s\"']+)", text, re.MULTILINE)
    return m.group(1) if m else None


def _set_common(layout: Layout, paths: D.DistroPaths, role: str, src: str) -> None:
    """Endpoints, local API ports and CIDRs from the distribution's defaults for this role."""
    server = role == "server"
    if role in ("server", "agent"):
        layout.api_endpoints = list(paths.server_endpoints if server else paths.agent_endpoints)
        if layout.api_endpoints:
            layout.note("api_endpoints", f"{src} {role} default")
    layout.local_api_ports = list(paths.server_api_ports if server else ())
    if role == "unknown":
        layout.note("local_api_ports", "role unknown: no local apiserver assumed")
    else:
        layout.note("local_api_ports", f"{src} {role}: " + (
            f"apiserver listens on {', '.join(map(str, layout.local_api_ports))}" if layout.local_api_ports
            else "no apiserver runs on this node"))
    if paths.cluster_cidr:
        layout.cluster_cidr = paths.cluster_cidr
        layout.note("cluster_cidr", f"{src} default")
    if paths.service_cidr:
        layout.service_cidr = paths.service_cidr
        layout.note("service_cidr", f"{src} default")


def _override_cidr(layout: Layout, key: str, value: Any, why: str) -> None:
    if value:
        setattr(layout, key, str(value))
        layout.evidence[key] = [why]


# --- k3s ---------------------------------------------------------------------------------------------


def _settle_role(layout: Layout, detected: str, why: str, override: str | None) -> str:
    """Record the detected role and why; a --role override wins (detect_layout notes the flag)."""
    layout.role = override or detected
    layout.note("role", why)
    return layout.role


def _kubelet_uses_crio(fs: NodeFS) -> bool:
    for p in ("/var/lib/kubelet/kubeadm-flags.env", KUBELET_CONFIG_YAML):
        text = _read(fs, p) if fs.is_file(p) else None
        if text and "crio.sock" in text:
            return True
    return False
