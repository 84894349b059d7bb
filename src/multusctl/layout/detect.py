"""Detect a node's layout: distribution, role, and where the runtime reads CNI configs and plugins.

Cheapest signals first (existence of a few well-known paths, like cilium-cli's flavor detection), then
small reads (runtime config, distro config file, systemd unit). Precedence for each answer:
flags (`Overrides`) > the container runtime's own config > distribution config (`config.yaml`, unit
flags) > distribution defaults. Every answer gets at least one evidence line saying where it came from.
Detection never raises on node content: unreadable or malformed files become evidence.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from multusctl.config import yamlload
from multusctl.config.errors import ParseError
from multusctl.config.secrets import remember
from multusctl.gather.nodefs import NodeFS, NodeFSError, path_problem
from multusctl.layout import distros as D
from multusctl.layout.containerd import (
    CONTAINERD_DEFAULT_BIN_DIR,
    CONTAINERD_DEFAULT_CONF_DIR,
    RuntimeCni,
    expand_glob,
    parse_flags,
    read_containerd_config,
    read_crio_config,
    read_kubelet_flags,
)
from multusctl.layout.model import DISTROS, ROLES, Layout

_SECRET_SETTING = re.compile(r"token|secret|password|access-key", re.IGNORECASE)

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
class Overrides:
    """What the user told detection (--distro, --role, --conf-dir, --bin-dir)."""

    distro: str | None = None
    role: str | None = None
    conf_dir: str | None = None
    bin_dirs: list[str] | None = None


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


# --- shared helpers --------------------------------------------------------------------------------


def _read(fs: NodeFS, path: str, layout: Layout | None = None) -> str | None:
    try:
        return fs.read_text(path)
    except NodeFSError as exc:
        if layout is not None and fs.exists(path):
            layout.note("runtime", f"could not read {exc}")
        return None


def _load_yaml_config(fs: NodeFS, layout: Layout, main: str, dropins: str) -> tuple[dict[str, Any], list[str]]:
    """A k3s/rke2 style config.yaml plus config.yaml.d/*.yaml (later files win). Never raises."""
    merged: dict[str, Any] = {}
    used: list[str] = []
    files = [main, *expand_glob(fs, [f"{dropins}/*.yaml", f"{dropins}/*.yml"])]
    for f in files:
        text = _read(fs, f, layout)
        if text is None:
            continue
        try:
            doc = yamlload.load(text)
        except ParseError as exc:
            # The reason carries line and column only: config.yaml holds the cluster's join token.
            layout.note("runtime", f"{f}: not used ({exc})")
            continue
        if isinstance(doc, dict):
            merged.update({str(k): v for k, v in doc.items()})
            used.append(f)
            # The join token, etcd S3 keys, ...: never echoed, whatever later quotes them.
            remember(str(v) for k, v in doc.items() if _SECRET_SETTING.search(str(k)) and isinstance(v, str))
    return merged, used


def _unit_flags(fs: NodeFS, layout: Layout,
                units: Mapping[str, tuple[str, ...]]) -> tuple[dict[str, str], dict[str, str]]:
    """(flags of the ExecStart lines, {role: unit path}) from installed systemd units."""
    flags: dict[str, str] = {}
    roles: dict[str, str] = {}
    for role, paths in units.items():
        for p in paths:
            text = _read(fs, p, layout) if fs.is_file(p) else None
            if text is None:
                continue
            roles.setdefault(role, p)
            exec_lines = _exec_start(text)
            found = parse_flags(exec_lines)
            remember(v for k, v in found.items() if _SECRET_SETTING.search(k))
            flags.update(found)
    return flags, roles


def _exec_start(unit_text: str) -> str:
    joined = re.sub(r"\\\r?\n", " ", unit_text)
    return "\n".join(line.split("=", 1)[1] for line in joined.splitlines() if line.strip().startswith("ExecStart="))


def _path_setting(layout: Layout, flags: dict[str, str], config: dict[str, Any],
                  key: str) -> tuple[str, str] | None:
    """A k3s/rke2 setting that names an absolute path; one that cannot be a path is noted and ignored."""
    s = _setting(flags, config, key)
    if s is None or not isinstance(s[0], str) or not s[0].startswith("/"):
        return None
    if problem := path_problem(s[0]):
        layout.note("runtime", f"{s[1]} {key} {s[0]!r} ignored: it {problem}")
        return None
    return s[0], s[1]


def _setting(flags: dict[str, str], config: dict[str, Any], key: str) -> tuple[Any, str] | None:
    """A k3s/rke2 setting: command-line flags beat config.yaml, as in k3s."""
    if key in flags:
        return flags[key], "systemd unit flag"
    if key in config and config[key] is not None:
        val = config[key]
        if isinstance(val, list):
            val = ",".join(str(v) for v in val)
        return val, "config.yaml"
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


def _rancher_role(fs: NodeFS, data_dir: str, unit_roles: dict[str, str], admin: str,
                  distro: str) -> tuple[str, str]:
    """(role, why) for k3s and RKE2, which share a layout: `server/` exists only on servers, the admin
    kubeconfig is written only on servers (so on an agent it is a copy), and the systemd unit names the role."""
    server_dir, agent_dir = f"{data_dir}/server", f"{data_dir}/agent"
    if fs.is_dir(server_dir):
        return "server", f"{server_dir} exists" + (" (with a server token)" if fs.is_file(f"{server_dir}/token")
                                                  else "")
    if "server" in unit_roles and "agent" not in unit_roles:
        return "server", f"systemd unit {unit_roles['server']}"
    if fs.is_dir(agent_dir) or "agent" in unit_roles:
        why = (f"{agent_dir} exists without {server_dir}" if fs.is_dir(agent_dir)
               else f"systemd unit {unit_roles['agent']}")
        if admin and fs.is_file(admin):
            why += f"; {admin} is present but {distro} writes it only on servers (a copy?)"
        return "agent", why
    if admin and fs.is_file(admin):
        return "server", f"{admin} exists ({distro} writes it on servers)"
    return "unknown", f"neither {server_dir}, {agent_dir} nor {admin or 'an admin kubeconfig'} found"


def _fill_k3s(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    config, used = _load_yaml_config(fs, layout, D.K3S_CONFIG, D.K3S_CONFIG_DROPINS)
    flags, unit_roles = _unit_flags(fs, layout, K3S_UNITS)
    data_dir = D.K3S_DATA_DIR
    if s := _path_setting(layout, flags, config, "data-dir"):
        data_dir = posixpath.normpath(s[0])
        layout.note("runtime", f"k3s data dir {data_dir} ({s[1]} data-dir)")
    paths = D.k3s_paths(data_dir)

    # Role: the server dir is the strongest signal; k3s.yaml alone can be a copy from a server.
    admin = paths.admin_kubeconfig or ""
    if s := _path_setting(layout, flags, config, "write-kubeconfig"):
        admin = s[0]
    role, why = _rancher_role(fs, data_dir, unit_roles, admin, "k3s")
    role = _settle_role(layout, role, why, role_override)

    layout.version = None
    layout.note("version", "k3s keeps no version file on disk; run `k3s --version` on the node")
    if role == "server" or fs.is_file(admin):
        layout.admin_kubeconfig = admin
        layout.note("admin_kubeconfig", f"k3s writes it on servers ({'present' if fs.is_file(admin) else 'missing'})")
    else:
        layout.note("admin_kubeconfig", f"none: k3s writes {admin} only on servers")
    _set_common(layout, paths, role, "k3s")
    if role == "agent":
        layout.note("api_endpoints", "agents reach the API through the local client load balancer on 6444")
    for key, attr in (("cluster-cidr", "cluster_cidr"), ("service-cidr", "service_cidr")):
        if s := _setting(flags, config, key):
            _override_cidr(layout, attr, s[0], f"k3s {s[1]} {key}")

    flannel = _setting(flags, config, "flannel-backend")
    flannel_none = bool(flannel and str(flannel[0]).strip().lower() == "none")
    tmpl_dir = f"{data_dir}/agent/etc/containerd"
    containerd: list[tuple[str, bool, dict[str, str]]] = [(f"{tmpl_dir}/config.toml", False, {}),
                  # k3s renders config.toml from these (v3 template first); used only if config.toml is absent.
                  (f"{tmpl_dir}/config-v3.toml.tmpl", True, {}),
                  (f"{tmpl_dir}/config.toml.tmpl", True, {})]
    if flannel_none:
        return _Defaults(
            conf_dir=CONTAINERD_DEFAULT_CONF_DIR, bin_dirs=[CONTAINERD_DEFAULT_BIN_DIR],
            why=f"k3s with flannel-backend: none ({flannel[1] if flannel else ''}) sets no CNI dirs, "
                "so containerd uses its defaults",
            containerd=containerd,
            no_cni_hint=f"flannel-backend: none ({flannel[1] if flannel else ''}): k3s writes no CNI dirs")
    bin_dir, bin_why = _k3s_bin_dir(fs, data_dir)
    return _Defaults(conf_dir=paths.conf_dir, bin_dirs=[bin_dir], why="k3s default", bin_why=f"k3s default; {bin_why}",
                     containerd=containerd,
                     no_cni_hint="k3s writes none with --flannel-backend=none, though "
                     + ("config.yaml and the systemd unit do not say so" if used or unit_roles
                        else "no config.yaml or unit was found to confirm it"))


def _k3s_bin_dir(fs: NodeFS, data_dir: str) -> tuple[str, str]:
    """k3s's CNI bin dir when no containerd config says: data/cni (since Oct 2024) or the hash dir."""
    cni = f"{data_dir}/data/cni"
    if fs.is_dir(cni):
        return cni, f"{cni} exists"
    current = f"{data_dir}/data/current/bin"
    if fs.is_dir(current):
        return current, f"{current} exists (pre-October-2024 layout; changes on every upgrade)"
    previous = fs.resolve(f"{data_dir}/data/previous") if fs.exists(f"{data_dir}/data/previous") else None
    hashes = [d for d in fs.glob_dirs(f"{data_dir}/data")
              if posixpath.basename(d) not in ("cni", "current", "previous")
              and fs.resolve(d) != previous and fs.is_dir(f"{d}/bin")]
    if hashes:
        # NodeFS exposes no mtimes; with several candidates the choice is a guess, and says so.
        pick = hashes[-1]
        extra = f" (one of {len(hashes)}; guessed)" if len(hashes) > 1 else ""
        return f"{pick}/bin", f"{pick}/bin exists{extra} (pre-October-2024 layout)"
    return cni, f"{cni} expected but not found"


# --- rke2 --------------------------------------------------------------------------------------------


def _fill_rke2(fs: NodeFS, layout: Layout, role_override: str | None) -> _Defaults:
    config, _ = _load_yaml_config(fs, layout, D.RKE2_CONFIG, D.RKE2_CONFIG_DROPINS)
    flags, unit_roles = _unit_flags(fs, layout, RKE2_UNITS)
    paths = D.RKE2
    role, why = _rancher_role(fs, D.RKE2_DATA_DIR, unit_roles, paths.admin_kubeconfig or "", "RKE2")
    role = _settle_role(layout, role, why, role_override)
    # RKE2 names its runtime dirs data/<version>-<hash>, e.g. v1.30.4-rke2r1-a1b2c3d4.
    versions = sorted({m.group(1) for d in fs.glob_dirs(f"{D.RKE2_DATA_DIR}/data")
                       if (m := re.match(r"^(v\d+\.\d+\.\d+[-+]rke2r\d+)", posixpath.basename(d)))})
    if versions:
        layout.version = versions[-1].replace("-rke2", "+rke2")
        layout.note("version", f"{D.RKE2_DATA_DIR}/data/{layout.version}-*"
                    + (f" (newest of {len(versions)})" if len(versions) > 1 else ""))
    if role == "server" or fs.is_file(paths.admin_kubeconfig or ""):
        layout.admin_kubeconfig = paths.admin_kubeconfig
        layout.note("admin_kubeconfig", "RKE2 writes it on servers")
    _set_common(layout, paths, role, "RKE2")
    for key, attr in (("cluster-cidr", "cluster_cidr"), ("service-cidr", "service_cidr")):
        if s := _setting(flags, config, key):
            _override_cidr(layout, attr, s[0], f"rke2 {s[1]} {key}")
    if s := _setting(flags, config, "cni"):
        layout.note("runtime", f"rke2 {s[1]} cni: {s[0]}")
    return _Defaults(conf_dir=paths.conf_dir, bin_dirs=list(paths.bin_dirs), why="RKE2 default",
                     containerd=[(c, False, {}) for c in paths.containerd_configs])


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


def _kubelet_uses_crio(fs: NodeFS) -> bool:
    for p in ("/var/lib/kubelet/kubeadm-flags.env", KUBELET_CONFIG_YAML):
        text = _read(fs, p) if fs.is_file(p) else None
        if text and "crio.sock" in text:
            return True
    return False


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
