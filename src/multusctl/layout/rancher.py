"""k3s and RKE2: config.yaml and its drop-ins, unit flags, data dir, role and bin dir.

Flags of the systemd unit beat config.yaml, later drop-ins beat earlier ones, as in k3s; the join token
and other secret settings are remembered for redaction and never echoed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from multusctl.config import yamlload
from multusctl.config.errors import ParseError
from multusctl.config.secrets import remember
from multusctl.gather.nodefs import NodeFS, path_problem
from multusctl.layout import distros as D
from multusctl.layout.containerd import (
    CONTAINERD_DEFAULT_BIN_DIR,
    CONTAINERD_DEFAULT_CONF_DIR,
    expand_glob,
    parse_flags,
)
from multusctl.layout.fill_common import (
    K3S_UNITS,
    RKE2_UNITS,
    _Defaults,
    _override_cidr,
    _read,
    _set_common,
    _settle_role,
)
from multusctl.layout.model import Layout

_SECRET_SETTING = re.compile(r"token|secret|password|access-key", re.IGNORECASE)


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
