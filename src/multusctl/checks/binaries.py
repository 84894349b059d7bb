"""Plugin binaries: is every plugin a config names in a bin dir the runtime and multus search.

Who searches where (verified upstream):
- The runtime execs the plugin named by its chosen config's `type` from its own bin dirs (containerd
  `bin_dir`/`bin_dirs`, CRI-O `plugin_dirs`): `multus` for a thin config, `multus-shim` for a thick one.
- Thin multus runs delegates with libcni over `[binDir] + CNI_PATH` (pkg/multus confAdd/conflistAdd), and
  the runtime sets CNI_PATH to its bin dirs; libcni's FindInPath accepts any regular file there.
- The thick daemon does the same inside its pod. With `chrootDir` set, v4.0.x looks plugins up and runs them
  after chroot into the host (pkg/server/exec_chroot.go v4.0.2:170-181); since v4.1.0 (PR #1161) only the exec
  is chrooted and the lookup runs in the pod (v4.3.0:43-51, 101-103), so `binDir` must be the same path in
  the pod and on the host. The plugin itself must be on the host under both rules, which is what is searched
  here; whether the pod sees that dir is thick-unmounted-path's question (checks/thick_paths.py).
- flannel runs `delegate.type` (default bridge) and its `ipam.type` (default host-local) itself, so those
  must be installed too. k3s bundles only what its flannel needs; macvlan/ipvlan are not bundled (k3s#9224).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import network_field, network_paths, read_network
from multusctl.checks.registry import Hit, check
from multusctl.checks.runtime import runtime_choice, runtime_kind
from multusctl.config.cni import MULTUS_TYPES
from multusctl.gather.snapshot import ConfFile, NodeSnapshot
from multusctl.report.finding import Severity

# Where plugins are commonly installed; searched only to say "it is over there" in a fix.
WELL_KNOWN_BIN_DIRS = (
    "/opt/cni/bin",
    "/usr/lib/cni",
    "/usr/libexec/cni",
    "/var/lib/cni/bin",
    "/var/lib/rancher/k3s/data/cni",
    "/var/lib/rancher/k3s/data/current/bin",
    "/var/snap/microk8s/current/opt/cni/bin",
)
# Plugins of the containernetworking/plugins release (what `cni-plugins-linux-*.tgz` contains).
STANDARD_PLUGINS = frozenset({
    "bandwidth", "bridge", "dhcp", "dummy", "firewall", "host-device", "host-local", "ipvlan", "loopback",
    "macvlan", "portmap", "ptp", "sbr", "static", "tap", "tuning", "vlan", "vrf",
})
K3S_HASH_BIN = re.compile(r"(/[\w./-]*?)/data/([0-9a-f]{16,}|current)/bin(?![\w-])")
K3S_CONTAINERD_FILES = ("config.toml", "config.toml.tmpl", "config-v3.toml.tmpl")


def _plugin_state(snap: NodeSnapshot, path: str) -> str:
    """'ok', 'not-executable' or 'missing' for a plugin binary path."""
    info = snap.fs.stat(path)
    if info is None or info.kind != "file":
        return "missing"
    return "ok" if info.mode & 0o111 else "not-executable"


def _find(snap: NodeSnapshot, name: str, dirs: list[str]) -> tuple[str | None, str | None]:
    """(usable path, path that exists but is not executable) of `name` in `dirs`."""
    not_exec = None
    for d in dirs:
        p = posixpath.join(d, name)
        state = _plugin_state(snap, p)
        if state == "ok":
            return p, None
        if state == "not-executable" and not_exec is None:
            not_exec = p
    return None, not_exec


def _elsewhere(snap: NodeSnapshot, name: str, searched: list[str]) -> str | None:
    others = [d for d in WELL_KNOWN_BIN_DIRS if d not in searched]
    found, _ = _find(snap, name, others)
    return found


@check("multus-binary-missing")
def multus_binary_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    if m is None or m.multus is None:
        return
    name = "multus" if m.multus.mode == "thin" else "multus-shim"
    dirs = list(snap.layout.bin_dirs)
    found, not_exec = _find(snap, name, dirs)
    if found:
        return
    first = dirs[0] if dirs else "/opt/cni/bin"
    src = "; ".join(snap.layout.evidence.get("bin_dirs", [])) or "the distribution's default"
    if not_exec:
        yield Hit(
            message=f"{not_exec} exists but is not executable, so the runtime cannot run {m.name} "
            f"(`fork/exec {not_exec}: permission denied`) and every pod on this node fails to start.",
            fix=f"chmod 0755 {not_exec}",
            path=not_exec, evidence={"bin_dirs": dirs, "config": m.path},
        )
        return
    other = _elsewhere(snap, name, dirs)
    where = f"; it is at {other}, a dir the runtime does not search" if other else ""
    if other:
        fix = f"cp {other} {first}/{name}"
    elif m.multus.mode == "thin":
        fix = (f"Mount {first} as the thin DaemonSet's CNI bin volume (mountPath /host/opt/cni/bin) so its "
               f"entrypoint copies multus there")
        if snap.layout.distro in ("k3s", "rke2"):
            fix += f" (rke2-multus chart: config.cni_conf.binDir={first})"
    else:
        fix = (f"Mount {first} as the thick DaemonSet's CNI bin volume so its init container installs "
               "multus-shim there")
    fix += "; then check the node again."
    crio = runtime_kind(snap) == "crio"
    if crio:
        # ocicni loadNetworks runs libcni ValidateNetworkList on each file and skips one whose plugin binary is
        # not in its plugin dirs (checks/runtime.py crio_skip_reason): nothing fails, multus is just not used.
        used = runtime_choice(snap)
        instead = (f"uses {used.path} instead" if used is not None and used is not m
                   else "uses the next file it can load")
        effect = (f"CRI-O (ocicni) validates every config's plugins when it loads its conf dir and skips {m.name}, "
                  f"so it {instead}: pods on this node start, but silently get only the primary network and "
                  "their k8s.v1.cni.cncf.io/networks annotations are ignored (CRI-O logs the skipped file).")
    else:
        effect = f"Every pod on this node fails with `failed to find plugin \"{name}\"`."
    yield Hit(
        message=f"{m.name} is a {m.multus.mode} config (type {name!r}), "
        f"so the runtime executes {name!r} from its CNI bin dirs ({', '.join(dirs)}: {src}), but it is not "
        f"there{where}. {effect}",
        fix=fix, path=posixpath.join(first, name),
        evidence={"binary": name, "bin_dirs": dirs, "config": m.path, "found_elsewhere": other,
                  "runtime": "crio" if crio else "containerd"},
    )


def plugin_types(obj: dict[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    """(field, plugin type) of every binary a conf or conflist makes the runtime or multus execute."""
    plugins = obj.get("plugins")
    if isinstance(plugins, list):
        for i, p in enumerate(plugins):
            if isinstance(p, dict):
                yield from _one_plugin(p, f"{prefix}plugins[{i}]")
        return
    yield from _one_plugin(obj, prefix.rstrip("."))


def _one_plugin(p: dict[str, Any], fld: str) -> Iterator[tuple[str, str]]:
    dot = f"{fld}." if fld else ""
    t = p.get("type")
    if isinstance(t, str) and t:
        yield f"{dot}type", t
    ipam = p.get("ipam")
    ipam_type = ipam.get("type") if isinstance(ipam, dict) else None
    if isinstance(ipam_type, str) and ipam_type:
        yield f"{dot}ipam.type", ipam_type
    if t == "flannel":
        raw_delegate = p.get("delegate")
        delegate: dict[str, Any] = raw_delegate if isinstance(raw_delegate, dict) else {}
        dt = delegate.get("type") if isinstance(delegate.get("type"), str) else None
        yield f"{dot}delegate.type", dt or "bridge"
        if not ipam_type:
            yield f"{dot}ipam.type", "host-local"


def _search_dirs(snap: NodeSnapshot, m: ConfFile | None) -> list[str]:
    """multus's binDir (host path) + the runtime's bin dirs (its CNI_PATH)."""
    dirs: list[str] = []
    mc = m.multus if m is not None else None
    if mc is not None and mc.mode == "thin":
        dirs.append(mc.bin_dir)
    elif mc is not None:
        dirs.extend(_thick_bin_dirs(snap, m))
    for d in snap.layout.bin_dirs:
        if d not in dirs:
            dirs.append(d)
    return dirs


def _thick_bin_dirs(snap: NodeSnapshot, m: ConfFile | None) -> list[str]:
    dc = snap.daemon_config.config if snap.daemon_config else None
    eff = snap.effective if m is snap.multus else None
    mc = m.multus if m is not None else None
    bin_dir = (eff.text("binDir") if eff else (mc.get_str("binDir") if mc else None)) or "/opt/cni/bin"
    # The chroot is the daemon's own setting (its ControllerNetConf), not the per-request merge. The exec is
    # chrooted under every v4 rule, so the binary must be at host root + binDir; v4.1+ also needs the pod to
    # see binDir at that path, which thick_paths._chrooted_bin_dir judges.
    chroot = dc.get_str("chrootDir") if dc else "/hostroot"  # upstream daemon-config chroots to /hostroot
    if chroot:
        root = snap.thick_paths.to_host(chroot) or "/"
        return [posixpath.normpath(posixpath.join(root, bin_dir.lstrip("/")))]
    host = snap.thick_paths.to_host(bin_dir)
    return [host] if host else []


def _used_plugins(snap: NodeSnapshot) -> list[tuple[str, str, str]]:
    """(config path, field, type) for every plugin multus or the runtime would run, first use wins."""
    out: list[tuple[str, str, str]] = []
    m = snap.multus
    if m is not None and m.multus is not None:
        mc = m.multus
        nets = network_paths(snap, m)
        for _fld, _value, host in nets:
            got = read_network(snap, host)
            if got is not None:
                out += [(got[0], f, t) for f, t in plugin_types(got[1], "")]
        if not mc.get("clusterNetwork"):
            delegates = mc.get("delegates")
            if isinstance(delegates, list):
                for i, d in enumerate(delegates):
                    if isinstance(d, dict):
                        prefix = network_field(mc, f"delegates[{i}]") + "."
                        out += [(m.path, f, t) for f, t in plugin_types(d, prefix)]
    p = snap.primary
    if p is not None and p.cni is not None:
        out += [(p.path, f, t) for f, t in plugin_types(p.cni.raw, "")]
    seen: set[tuple[str, str]] = set()
    unique = []
    for path, fld, t in out:
        if t in MULTUS_TYPES or (path, t) in seen or "/" in t:
            continue
        seen.add((path, t))
        unique.append((path, fld, t))
    return unique


@check("plugin-missing")
def plugin_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    dirs = _search_dirs(snap, m)
    target = snap.layout.bin_dirs[0] if snap.layout.bin_dirs else (dirs[0] if dirs else "/opt/cni/bin")
    for path, fld, t in _used_plugins(snap):
        found, not_exec = _find(snap, t, dirs)
        if found:
            continue
        if not_exec:
            yield Hit(
                message=f"{path} uses plugin {t!r} ({fld}); {not_exec} exists but is not executable, so running "
                f"it fails with `permission denied` and pods using this network fail to start.",
                fix=f"chmod 0755 {not_exec}", path=path, field=fld,
                evidence={"type": t, "searched": dirs, "file": not_exec},
            )
            continue
        other = _elsewhere(snap, t, dirs)
        if other:
            fix = f"cp {other} {target}/{t}"
        elif t in STANDARD_PLUGINS:
            fix = (f"Install it from the containernetworking-plugins release into {target}: "
                   f"tar -xzf cni-plugins-linux-<arch>-<version>.tgz -C {target} ./{t}")
        else:
            fix = (f"Install the {t!r} binary into {target}; it comes from the project that provides the {t!r} "
                   "plugin (usually its DaemonSet installs it), so check that DaemonSet mounts this dir.")
        k3s = (" k3s bundles only the plugins its flannel setup needs; macvlan, ipvlan and most others must "
               "be added (k3s#9224)." if snap.layout.distro == "k3s" else "")
        there = f" It is at {other}, which is not searched." if other else ""
        yield Hit(
            message=f"{path} uses plugin {t!r} ({fld}), but no {t!r} binary is in {', '.join(dirs)} (multus's "
            f"binDir and the runtime's CNI bin dirs), so pods on that network fail with "
            f"`failed to find plugin \"{t}\" in path`.{there}{k3s}",
            fix=fix, path=path, field=fld,
            evidence={"type": t, "searched": dirs, "found_elsewhere": other},
        )


@check("bin-dir-k3s-hash")
def bin_dir_k3s_hash(snap: NodeSnapshot) -> Iterator[Hit]:
    if snap.layout.distro != "k3s":
        return
    seen: set[tuple[str, str]] = set()
    for path, fld, value in _bin_dir_refs(snap):
        for match in K3S_HASH_BIN.finditer(value):
            ref = match.group(0)
            if (path, ref) in seen:
                continue
            seen.add((path, ref))
            hit = _hash_hit(snap, path, fld, ref, match.group(1), match.group(2))
            if hit is not None:
                yield hit


def _bin_dir_refs(snap: NodeSnapshot) -> Iterator[tuple[str, str | None, str]]:
    """(file, field, text) of every place on the node that names a CNI bin dir."""
    m = snap.multus
    if m is not None and m.multus is not None:
        for key in ("binDir",):
            v = m.multus.get(key)
            if isinstance(v, str):
                yield m.path, network_field(m.multus, key), v
    dc = snap.daemon_config
    if dc is not None and dc.config is not None:
        v = dc.config.get("binDir")
        if isinstance(v, str):
            yield dc.path, "binDir", v
    data_dirs = {"/var/lib/rancher/k3s"}
    for d in snap.layout.bin_dirs:
        mm = K3S_HASH_BIN.search(d)
        if mm:
            data_dirs.add(mm.group(1))
    for data in sorted(data_dirs):
        for name in K3S_CONTAINERD_FILES:
            p = f"{data}/agent/etc/containerd/{name}"
            text = snap.fs.text_or_none(p)
            if text is not None:
                yield p, "bin_dir", text


def _hash_hit(snap: NodeSnapshot, path: str, fld: str | None, ref: str, data: str, ver: str) -> Hit | None:
    cni = f"{data}/data/cni"
    has_cni = snap.fs.is_dir(cni)
    exists = snap.fs.is_dir(ref)
    if not has_cni and exists:
        return None  # a pre-October-2024 k3s: the hash dir is the only one there is
    better = cni if has_cni else f"{data}/data/current/bin"
    severity: Severity
    if exists:
        why = (f"since {cni} exists, this k3s keeps its plugins there; {ref} "
               + ("moves to a new hash dir" if ver == "current" else "is replaced by a new hash dir")
               + " on every k3s upgrade, so plugins copied into it (e.g. macvlan) vanish after the next upgrade")
        severity = "warning"
    elif path.endswith(K3S_CONTAINERD_FILES):
        why = (f"{ref} no longer exists (k3s removed it on upgrade), so no plugin is found there and pods using "
               "it fail with `failed to find plugin`")
        severity = "error"
    else:
        # multus searches binDir first, then the runtime's CNI_PATH (pkg/multus: binDir + CNI_PATH), so only
        # plugins that lived in that dir alone are lost (plugin-missing names them when a config uses them).
        why = (f"{ref} no longer exists (k3s removed it on upgrade). Multus looks there first and then in the "
               f"runtime's bin dirs ({', '.join(snap.layout.bin_dirs)}), so k3s's own plugins are still found, "
               "but any plugin that was added to that dir alone (e.g. macvlan) is gone and pods using it fail "
               "with `failed to find plugin`")
        severity = "warning"
    if path.endswith(K3S_CONTAINERD_FILES):
        fix = (f"k3s regenerates {posixpath.basename(path)} from its template on start; if a config.toml.tmpl "
               f'names {ref}, change it to bin_dir = "{{{{ .NodeConfig.AgentConfig.CNIBinDir }}}}" and restart '
               "k3s.")
    else:
        fix = f'Set "{fld or "binDir"}": "{better}".'
        if not has_cni:
            fix += (f" {better} follows k3s upgrades, but a plugin you add there yourself (e.g. macvlan) is gone "
                    "after the next one: keep such plugins in a dir k3s does not manage (e.g. /opt/cni/bin) and "
                    f'name that dir in "{fld or "binDir"}" instead; multus still finds k3s\'s own plugins in the '
                    "runtime's bin dir.")
    return Hit(
        message=f"{path} names the k3s plugin dir {ref}: {why}.",
        fix=fix, path=path, field=fld, severity=severity,
        evidence={"bin_dir": ref, "exists": exists, "data_cni": cni if has_cni else None, "use": better},
    )
