"""Detect a node's layout: distribution, role, and where the runtime reads CNI configs and plugins.

Cheapest signals first (existence of a few well-known paths, like cilium-cli's flavor detection), then
small reads (runtime config, distro config file, systemd unit). Precedence for each answer:
flags (`Overrides`) > the container runtime's own config > distribution config (`config.yaml`, unit
flags) > distribution defaults. Every answer gets at least one evidence line saying where it came from.
Detection never raises on node content: unreadable or malformed files become evidence.

The per-distribution fillers are in layout/rancher.py (k3s, RKE2) and layout/fillers.py (the others).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from multusctl.gather.nodefs import NodeFS
from multusctl.layout import distros as D
from multusctl.layout.containerd import (
    RuntimeCni,
    read_containerd_config,
    read_crio_config,
    read_kubelet_flags,
)
from multusctl.layout.fill_common import (
    K3S_UNITS,
    KUBEADM_APISERVER,
    KUBELET_CONF,
    OPENSHIFT_APISERVER,
    RKE2_UNITS,
    _Defaults,
)
from multusctl.layout.fillers import _FILLERS, _fill_unknown
from multusctl.layout.model import DISTROS, ROLES, Layout
from multusctl.records import dataclass


@dataclass
class Overrides:
    """What the user told detection (--distro, --role, --conf-dir, --bin-dir)."""

    distro: str | None = None
    role: str | None = None
    conf_dir: str | None = None
    bin_dirs: list[str] | None = None


def detect_layout(fs: NodeFS, overrides: Overrides | None = None) -> Layout:
    ov = overrides or Overrides()
    layout = Layout()
    if ov.distro:
        distro = ov.distro if ov.distro in DISTROS else "unknown"
        layout.note("distro", f"--distro flag ({ov.distro})")
    else:
        distro = _guess_distro(fs, layout)
    layout.distro = distro
    fill = _FILLERS.get(distro, _fill_unknown)
    role_override = ov.role if ov.role in ROLES else None
    defaults = fill(fs, layout, role_override)
    if role_override:
        layout.role = role_override
        layout.evidence["role"] = [f"--role flag ({role_override})", *layout.evidence.get("role", [])]
    runtime_found = _resolve_cni_dirs(fs, layout, defaults)
    _apply_overrides(layout, ov)
    layout.node_found = bool(distro != "unknown" or runtime_found or ov.conf_dir or fs.is_dir(layout.conf_dir))
    if not layout.node_found:
        layout.note("node", f"no Kubernetes node found: no distribution marker, no container runtime config and "
                            f"no CNI conf dir {layout.conf_dir} (point at a node with --root DIR, or name its "
                            "distribution with --distro)")
    for key in ("version", "admin_kubeconfig", "api_endpoints", "cluster_cidr", "service_cidr"):
        if key not in layout.evidence:
            layout.note(key, "not determined from the node's files")
    return layout


# --- distribution --------------------------------------------------------------------------------


def _k3s_signals(fs: NodeFS) -> list[str]:
    found = [p for p in (D.K3S_DATA_DIR, "/etc/rancher/k3s") if fs.is_dir(p)]
    found += [u for units in K3S_UNITS.values() for u in units if fs.is_file(u)]
    return found


def _rke2_signals(fs: NodeFS) -> list[str]:
    found = [p for p in (D.RKE2_DATA_DIR, "/etc/rancher/rke2") if fs.is_dir(p)]
    found += [u for units in RKE2_UNITS.values() for u in units if fs.is_file(u)]
    return found


def _microk8s_signals(fs: NodeFS) -> list[str]:
    return [p for p in ("/var/snap/microk8s", "/snap/microk8s") if fs.is_dir(p)]


def _k0s_signals(fs: NodeFS) -> list[str]:
    return [p for p in (D.K0S_DATA_DIR, "/etc/k0s") if fs.is_dir(p)]


def _kind_signals(fs: NodeFS) -> list[str]:
    return [p for p in ("/kind/version", "/kind") if fs.exists(p)][:1]


def _openshift_signals(fs: NodeFS) -> list[str]:
    found = [p for p in ("/etc/machine-config-daemon", OPENSHIFT_APISERVER) if fs.exists(p)]
    if fs.is_dir("/etc/kubernetes/cni/net.d") and fs.is_dir("/var/lib/cni/bin"):
        found.append("/etc/kubernetes/cni/net.d + /var/lib/cni/bin")
    return found


def _kubeadm_signals(fs: NodeFS) -> list[str]:
    return [p for p in (KUBEADM_APISERVER, KUBELET_CONF, "/etc/kubernetes/admin.conf") if fs.is_file(p)]


# Most specific first: kind and OpenShift nodes also look like kubeadm nodes.
_SIGNALS: list[tuple[str, Callable[[NodeFS], list[str]]]] = [
    ("k3s", _k3s_signals),
    ("rke2", _rke2_signals),
    ("microk8s", _microk8s_signals),
    ("k0s", _k0s_signals),
    ("kind", _kind_signals),
    ("openshift", _openshift_signals),
    ("kubeadm", _kubeadm_signals),
]


def _guess_distro(fs: NodeFS, layout: Layout) -> str:
    hits = [(name, found) for name, probe in _SIGNALS if (found := probe(fs))]
    if not hits:
        looked = ", ".join(
            [D.K3S_DATA_DIR, D.RKE2_DATA_DIR, "/var/snap/microk8s", D.K0S_DATA_DIR, "/kind",
             "/etc/machine-config-daemon", KUBEADM_APISERVER, KUBELET_CONF]
        )
        layout.note("distro", f"no distribution marker found (looked for {looked})")
        return "unknown"
    name, found = hits[0]
    layout.note("distro", f"found {', '.join(found)}")
    for other, other_found in hits[1:]:
        if name in ("kind", "openshift") and other == "kubeadm":
            continue  # expected: both are kubeadm-shaped underneath
        layout.note("distro", f"also found {', '.join(other_found)} ({other}); {name} was checked first")
    return name


# --- CNI dirs -----------------------------------------------------------------------------------------


def _runtime_config(fs: NodeFS, d: _Defaults) -> tuple[RuntimeCni | None, list[str]]:
    """The runtime config that decides, and the paths looked at."""
    looked: list[str] = []
    found_containerd: RuntimeCni | None = None
    for path, template, subs in d.containerd:
        looked.append(path)
        res = read_containerd_config(fs, path, template=template, substitutions=subs)
        if res is not None:
            found_containerd = res
            break
    crio = None
    if d.crio:
        looked.append("/etc/crio/crio.conf(.d)")
        crio = read_crio_config(fs)
    if d.prefer_crio and crio is not None:
        return crio, looked
    if found_containerd is not None:
        return found_containerd, looked
    if crio is not None:
        return crio, looked
    flags = read_kubelet_flags(fs)
    if flags is not None:
        return flags, looked
    return None, looked


def _resolve_cni_dirs(fs: NodeFS, layout: Layout, d: _Defaults) -> bool:
    """Set the conf and bin dirs; True when a container runtime config was found."""
    rt, looked = _runtime_config(fs, d)
    conf, bins = d.conf_dir, list(d.bin_dirs)
    conf_why, bin_base = d.why, d.bin_why or d.why
    bin_why = bin_base
    if rt is not None:
        for p in rt.problems:
            layout.note("runtime", p)
        for n in rt.notes:
            layout.note("runtime", n)
    if rt is None:
        layout.note("runtime", f"no container runtime config found (looked at {', '.join(looked) or 'nothing'})")
    elif not rt.parsed:
        layout.note("runtime", f"{rt.source} could not be read; using the distribution's defaults")
        conf_why, bin_why = f"{d.why} ({rt.source} unreadable)", f"{bin_base} ({rt.source} unreadable)"
    elif rt.kind == "kubelet-flags":
        layout.note("runtime", f"{rt.source}: kubelet CNI flags (honoured only by the dockershim, Kubernetes < 1.24)")
        layout.runtime = "kubelet flags"
        if rt.conf_dir:
            conf, conf_why = rt.conf_dir, rt.conf_dir_from or rt.source
        if rt.bin_dirs:
            bins, bin_why = rt.bin_dirs, rt.bin_dirs_from or rt.source
    elif rt.templated and not rt.sets_dirs and rt.placeholders:
        # A template whose CNI values are k3s placeholders: k3s fills in its own defaults.
        layout.note("runtime", f"{rt.source}: CNI dirs are template placeholders; k3s fills in its defaults")
        conf_why, bin_why = f"{d.why} (rendered from {rt.source})", f"{bin_base} (rendered from {rt.source})"
    else:
        runtime = "CRI-O" if rt.kind == "crio" else "containerd"
        layout.runtime = runtime
        default_conf = D.STANDARD_CONF_DIR
        default_bin = D.STANDARD_BIN_DIR
        layout.note("runtime", f"{runtime} config {rt.source}"
                    + (f" (version {rt.version})" if rt.version is not None else ""))
        if rt.conf_dir:
            conf, conf_why = rt.conf_dir, f"{runtime} config {rt.conf_dir_from}"
        elif "conf_dir" in rt.placeholders:
            conf_why = f"{d.why} (conf_dir is a template placeholder in {rt.source})"
        else:
            conf = default_conf
            conf_why = f"{runtime} config {rt.source} sets no CNI conf dir: {runtime}'s default"
            if d.no_cni_hint:
                conf_why += f" ({d.no_cni_hint})"
        if rt.bin_dirs:
            bins, bin_why = list(rt.bin_dirs), f"{runtime} config {rt.bin_dirs_from}"
        elif {"bin_dir", "bin_dirs"} & set(rt.placeholders):
            bin_why = f"{bin_base} (bin dir is a template placeholder in {rt.source})"
        else:
            bins = [default_bin]
            bin_why = f"{runtime} config {rt.source} sets no CNI bin dir: {runtime}'s default"
            if d.no_cni_hint:
                bin_why += f" ({d.no_cni_hint})"
    layout.conf_dir = conf
    layout.bin_dirs = bins
    layout.note("conf_dir", conf_why)
    layout.note("bin_dirs", bin_why)
    if layout.distro in ("unknown", "kubeadm", "kind") and fs.is_dir(D.CRIO_BIN_DIR) \
            and D.CRIO_BIN_DIR not in layout.bin_dirs and (rt is None or rt.kind == "crio"):
        layout.note("bin_dirs", f"{D.CRIO_BIN_DIR} exists (CRI-O packages install plugins there) "
                    "but the runtime config does not list it")
    return rt is not None


def _apply_overrides(layout: Layout, ov: Overrides) -> None:
    if ov.conf_dir:
        detected = f"{layout.conf_dir} from {'; '.join(layout.evidence.get('conf_dir', []))}"
        layout.conf_dir = posixpath.normpath(ov.conf_dir)
        layout.evidence["conf_dir"] = [f"--conf-dir flag (detected: {detected})"]
    if ov.bin_dirs:
        detected = f"{', '.join(layout.bin_dirs)} from {'; '.join(layout.evidence.get('bin_dirs', []))}"
        layout.bin_dirs = [posixpath.normpath(b) for b in ov.bin_dirs]
        layout.evidence["bin_dirs"] = [f"--bin-dir flag (detected: {detected})"]
