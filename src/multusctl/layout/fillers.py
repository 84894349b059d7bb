"""The per-distribution fillers: what detect knows of kubeadm, kind, microk8s, k0s, OpenShift and unknown nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from multusctl.gather.nodefs import NodeFS
from multusctl.layout import distros as D
from multusctl.layout.containerd import (
    parse_flags,
)
from multusctl.layout.fill_common import (
    CONTAINERD_CONFIG,
    KUBEADM_APISERVER,
    KUBEADM_CONTROLLER_MANAGER,
    KUBELET_CONF,
    OPENSHIFT_APISERVER,
    _Defaults,
    _kubelet_uses_crio,
    _override_cidr,
    _read,
    _server_url,
    _set_common,
    _settle_role,
)
from multusctl.layout.model import Layout
from multusctl.layout.rancher import _fill_k3s, _fill_rke2

# --- kubeadm and kind ---------------------------------------------------------------------------------


def _fill_kubeadm(fs: NodeFS, layout: Layout, role_override: str | None,
                  paths: D.DistroPaths = D.KUBEADM) -> _Defaults:
    src = "kind" if paths.name == "kind" else "kubeadm"
    manifest = _read(fs, KUBEADM_APISERVER, layout) if fs.is_file(KUBEADM_APISERVER) else None
    if manifest is not None:
        role, why = "server", f"{KUBEADM_APISERVER} exists (control plane)"
    elif fs.is_file(KUBELET_CONF):
        role, why = "agent", f"{KUBELET_CONF} exists without {KUBEADM_APISERVER} (worker)"
    else:
        role, why = "unknown", f"neither {KUBEADM_APISERVER} nor {KUBELET_CONF} found"
    role = _settle_role(layout, role, why, role_override)
    if role == "server" or fs.is_file(paths.admin_kubeconfig or ""):
        layout.admin_kubeconfig = paths.admin_kubeconfig
        layout.note("admin_kubeconfig", f"{src} writes it on control-plane nodes")
    _set_common(layout, paths, role, src)
    if manifest is not None:
        flags = parse_flags(manifest)
        port = flags.get("secure-port", "6443")
        if port.isdigit():
            layout.local_api_ports = [int(port)]
            layout.evidence["local_api_ports"] = [f"{KUBEADM_APISERVER} --secure-port"
                                                  + ("" if "secure-port" in flags else " unset (default 6443)")]
            eps = [f"https://127.0.0.1:{port}"]
            if adv := flags.get("advertise-address"):
                eps.append(f"https://{adv}:{port}")
            layout.api_endpoints = eps
            layout.evidence["api_endpoints"] = [f"{KUBEADM_APISERVER} --secure-port/--advertise-address"]
        if rng := flags.get("service-cluster-ip-range"):
            _override_cidr(layout, "service_cidr", rng, f"{KUBEADM_APISERVER} --service-cluster-ip-range")
        if m := re.search(r"image:\s*\S*kube-apiserver:(v[0-9][^\s\"'@]*)", manifest):
            layout.version = m.group(1)
            layout.note("version", f"{KUBEADM_APISERVER} image tag")
    if (fs.is_file(KUBEADM_CONTROLLER_MANAGER) and (cm := _read(fs, KUBEADM_CONTROLLER_MANAGER, layout))
            and (cidr := parse_flags(cm).get("cluster-cidr"))):
            _override_cidr(layout, "cluster_cidr", cidr, f"{KUBEADM_CONTROLLER_MANAGER} --cluster-cidr")
    if role != "server" and (url := _server_url(fs, KUBELET_CONF)):
        layout.api_endpoints = [url]
        layout.evidence["api_endpoints"] = [f"{KUBELET_CONF} server"]
    if paths.name == "kind" and fs.is_file("/kind/version"):
        text = (_read(fs, "/kind/version", layout) or "").strip()
        if text and len(text) < 64 and "\n" not in text:
            layout.version = text
            layout.evidence["version"] = ["/kind/version"]
    return _Defaults(conf_dir=paths.conf_dir, bin_dirs=list(paths.bin_dirs), why=f"{src} default",
                     containerd=[(CONTAINERD_CONFIG, False, {})], crio=True,
                     prefer_crio=_kubelet_uses_crio(fs))


def _fill_kind(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    return _fill_kubeadm(fs, layout, role_override, D.KIND)


# --- microk8s ----------------------------------------------------------------------------------------


def _fill_microk8s(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    paths = D.MICROK8S
    snap_data = D.MICROK8S_SNAP_DATA
    lock = f"{snap_data}/var/lock/clustered.lock"
    if fs.exists(lock):
        role, why = "agent", f"{lock} exists (worker node: no control plane runs here)"
    elif fs.is_dir(snap_data):
        role, why = "server", f"{snap_data} without {lock}"
    else:
        role, why = "unknown", f"{snap_data} not found"
    role = _settle_role(layout, role, why, role_override)
    snap_yaml = f"{D.MICROK8S_SNAP}/meta/snap.yaml"
    if (fs.is_file(snap_yaml) and (text := _read(fs, snap_yaml, layout))
            and (m := re.search(r"^version:\s*['\"]?([^\s'\"]+)", text, re.MULTILINE))):
        layout.version = m.group(1)
        layout.note("version", snap_yaml)
    if role == "server":
        layout.admin_kubeconfig = paths.admin_kubeconfig
        layout.note("admin_kubeconfig", "microk8s client config")
    _set_common(layout, paths, role, "microk8s")
    if role == "agent":
        layout.note("api_endpoints", "workers reach the API through the local apiserver proxy")
    for args, flag, attr in (("kube-apiserver", "service-cluster-ip-range", "service_cidr"),
                             ("kube-proxy", "cluster-cidr", "cluster_cidr")):
        p = f"{snap_data}/args/{args}"
        if fs.is_file(p) and (text := _read(fs, p, layout)) and (v := parse_flags(text).get(flag)):
            _override_cidr(layout, attr, v, f"{p} --{flag}")
    subs = {"SNAP_DATA": snap_data, "SNAP_COMMON": D.MICROK8S_SNAP_COMMON, "SNAP": D.MICROK8S_SNAP}
    return _Defaults(conf_dir=paths.conf_dir, bin_dirs=list(paths.bin_dirs), why="microk8s default",
                     containerd=[(c, False, subs) for c in paths.containerd_configs])


# --- k0s ---------------------------------------------------------------------------------------------


def _fill_k0s(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    paths = D.K0S
    admin = paths.admin_kubeconfig or ""
    if fs.is_file(admin):
        role, why = "server", f"{admin} exists (controller)"
    elif fs.is_dir(D.K0S_DATA_DIR):
        role, why = "agent", f"{D.K0S_DATA_DIR} without {admin} (worker)"
    else:
        role, why = "unknown", f"{D.K0S_DATA_DIR} not found"
    role = _settle_role(layout, role, why, role_override)
    if role == "server":
        layout.admin_kubeconfig = admin
        layout.note("admin_kubeconfig", "k0s controller admin kubeconfig")
    _set_common(layout, paths, role, "k0s")
    if role != "server" and (url := _server_url(fs, f"{D.K0S_DATA_DIR}/kubelet.conf")):
        layout.api_endpoints = [url]
        layout.evidence["api_endpoints"] = [f"{D.K0S_DATA_DIR}/kubelet.conf server"]
    return _Defaults(conf_dir=paths.conf_dir, bin_dirs=list(paths.bin_dirs),
                     why="k0s default (containerd's defaults)",
                     containerd=[(c, False, {}) for c in paths.containerd_configs])


# --- OpenShift ---------------------------------------------------------------------------------------


def _fill_openshift(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    paths = D.OPENSHIFT
    if fs.is_file(OPENSHIFT_APISERVER):
        role, why = "server", f"{OPENSHIFT_APISERVER} exists (control plane)"
    elif fs.is_file(KUBELET_CONF) or fs.is_dir("/etc/machine-config-daemon"):
        role, why = "agent", f"no {OPENSHIFT_APISERVER} (worker)"
    else:
        role, why = "unknown", f"no {OPENSHIFT_APISERVER} and no kubelet kubeconfig"
    role = _settle_role(layout, role, why, role_override)
    if role == "server" and fs.is_file(paths.admin_kubeconfig or ""):
        layout.admin_kubeconfig = paths.admin_kubeconfig
        layout.note("admin_kubeconfig", "OpenShift localhost node kubeconfig")
    _set_common(layout, paths, role, "OpenShift")
    if role != "server" and (url := _server_url(fs, KUBELET_CONF)):
        layout.api_endpoints = [url]
        layout.evidence["api_endpoints"] = [f"{KUBELET_CONF} server"]
    return _Defaults(conf_dir=paths.conf_dir, bin_dirs=list(paths.bin_dirs), why="OpenShift default",
                     crio=True, prefer_crio=True)


# --- unknown -----------------------------------------------------------------------------------------


def _fill_unknown(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    layout.role = role_override or "unknown"
    layout.note("role", "no distribution-specific role signal")
    return _Defaults(conf_dir=D.STANDARD_CONF_DIR, bin_dirs=[D.STANDARD_BIN_DIR],
                     why="no distribution detected: the CNI defaults",
                     containerd=[(CONTAINERD_CONFIG, False, {})], crio=True,
                     prefer_crio=_kubelet_uses_crio(fs))


_FILLERS: dict[str, Callable[[NodeFS, Layout, str | None], _Defaults]] = {
    "k3s": _fill_k3s,
    "rke2": _fill_rke2,
    "kubeadm": _fill_kubeadm,
    "kind": _fill_kind,
    "microk8s": _fill_microk8s,
    "k0s": _fill_k0s,
    "openshift": _fill_openshift,
    "unknown": _fill_unknown,
}
