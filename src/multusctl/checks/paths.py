"""Host paths versus in-pod paths: the thin plugin reads host paths, the thick daemon reads pod paths.

Who reads what (verified against multus-cni master, FACTS.md §1):
- thin: the `multus` binary runs on the host, so every path of a thin config is a host path.
- thick: `multus-shim` runs on the host but only reads `daemonSocketDir` (+ logging keys) from its conf
  (pkg/server/api/shim.go); everything else is merged with `daemon-config.json` and read by the daemon
  *inside its pod*, through the DaemonSet's mounts (`snap.thick_paths`). Keys of daemon-config.json win
  over the shim conf's (the server appends its config to each request's).
- thick with `chrootDir`: plugins are looked up (`FindInPath`) and run after chroot into the host root
  (pkg/server/exec_chroot.go), so `binDir` is then a host path, not a pod path.
- the thick daemon talks to the API with its in-cluster client (`NewCNIServer` -> `InClusterK8sClient`,
  and `GetK8sClient` returns the client it is handed), so a `kubeconfig` in daemon-config.json is unused.
- `clusterNetwork`/`defaultNetworks` (pkg/k8sclient getNetDelegate): a value with `/` is a path (dir ->
  first conf, `.conflist` -> chain, else a single conf); otherwise a NAD in `multusNamespace`, then a
  `.conf/.json/.conflist` in `confDir` whose `name` matches. Only resolved when multus has an API client.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from multusctl.checks.confdir import multus_pods
from multusctl.checks.registry import Hit, check
from multusctl.config import multus as multus_mod
from multusctl.gather.nodefs import NodeFSError
from multusctl.gather.snapshot import ConfFile, NodeSnapshot, list_conf_files, read_conf_file
from multusctl.layout.pathmap import PathMap, for_layout
from multusctl.report.finding import Severity

SOCKET_NAME = "multus.sock"  # api.SocketPath(dir) = dir + "/multus.sock"
# The thin entrypoint copies these flags verbatim into the host config (FACTS.md §1), so a pod path
# there usually came from the DaemonSet's args.
THIN_ENTRYPOINT_FLAG = {
    "kubeconfig": "--multus-kubeconfig-file-host",
    "binDir": "--additional-bin-dir",
    "readinessindicatorfile": "--readiness-indicator-file",
    "logFile": "--multus-log-file",
}
# Host trees that belong to one distribution: a path below one is a host path even when the file is gone.
DISTRO_HOST_TREES = (
    "/var/lib/rancher",
    "/etc/rancher",
    "/var/snap/microk8s",
    "/var/lib/k0s",
    "/etc/kubernetes",
)
# Trees every pod has and no host does: the ServiceAccount token the kubelet projects into the pod.
POD_ONLY_TREES = ("/var/run/secrets/kubernetes.io", "/run/secrets/kubernetes.io")
# Keys of daemon-config.json the daemon reads in its pod. `daemonSocketDir` is deliberately absent: it
# is copied into the shim conf and read by the shim on the host.
THICK_POD_KEYS = (
    "cniConfigDir", "multusAutoconfigDir", "socketDir", "chrootDir", "confDir", "cniDir", "binDir",
    "readinessindicatorfile", "logFile", "kubeconfig",
)
# The same keys as read from a thick shim conf the daemon receives (the daemon-config's values win).
THICK_SHIM_POD_KEYS = ("confDir", "cniDir", "binDir", "readinessindicatorfile")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# ---------------------------------------------------------------------------------------------------
# small helpers


def _norm(path: str) -> str:
    return posixpath.normpath(path)


def _is_under(path: str, prefix: str) -> bool:
    path, prefix = _norm(path), _norm(prefix)
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _exists(snap: NodeSnapshot, path: str) -> bool:
    try:
        return snap.fs.exists(path)
    except NodeFSError:  # a NUL byte in a value
        return False


def _is_abs(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("/") and "\x00" not in value


def _is_path_network(value: Any) -> bool:
    """clusterNetwork/defaultNetworks values with a '/' are paths (getNetDelegate's isNetnamePath)."""
    return isinstance(value, str) and "/" in value


def _thin(snap: NodeSnapshot) -> tuple[ConfFile, multus_mod.MultusConfig] | None:
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thin":
        return None
    return m, m.multus


def _thick(snap: NodeSnapshot) -> tuple[ConfFile, multus_mod.MultusConfig] | None:
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thick":
        return None
    return m, m.multus


def _daemon_raw(snap: NodeSnapshot) -> dict[str, Any] | None:
    dc = snap.daemon_config
    if dc is None or dc.config is None or not isinstance(dc.config.raw, dict):
        return None
    return dc.config.raw


def _field(mc: multus_mod.MultusConfig, key: str) -> str:
    return f"plugins[0].{key}" if mc.cni.is_list else key


def _network_values(obj: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, value) of clusterNetwork and each defaultNetworks entry."""
    if "clusterNetwork" in obj:
        yield "clusterNetwork", obj.get("clusterNetwork")
    nets = obj.get("defaultNetworks")
    if isinstance(nets, list):
        for i, v in enumerate(nets):
            yield f"defaultNetworks[{i}]", v


def _first_bin_dir(snap: NodeSnapshot) -> str | None:
    return snap.layout.bin_dirs[0] if snap.layout.bin_dirs else None


def _layout_thin(snap: NodeSnapshot) -> PathMap:
    """The thin DaemonSet as a correct install for this distro mounts it (conf/bin dirs of the layout)."""
    return for_layout(snap.thin_paths, snap.layout.conf_dir, _first_bin_dir(snap))


def _layout_thick(snap: NodeSnapshot) -> PathMap:
    return for_layout(snap.thick_paths, snap.layout.conf_dir, None)


def _live_caveat(snap: NodeSnapshot, path: str) -> str:
    """Copies of a node (tar, rsync) drop sockets and the tmpfs /run: say so instead of crying wolf."""
    if snap.fs.root == "/" or not _is_under(path, "/run"):
        return ""
    return (f" (this root is a copy of the node: copies usually leave out /run and sockets, so confirm "
            f"on the node with `ls -l {path}`)")


# ---------------------------------------------------------------------------------------------------
# thin: in-pod paths where the host is what reads them


def _pod_only_prefixes(snap: NodeSnapshot) -> list[str]:
    """Pod-side mount points that differ from their host path: a path below one names the pod's view."""
    out = {"/host", *POD_ONLY_TREES}
    for pm in (snap.thin_paths, snap.thick_paths):
        for m in pm.mounts:
            if _norm(m.pod) not in ("/", _norm(m.host)):
                out.add(_norm(m.pod))
    return sorted(out)


@dataclass(frozen=True)
class PodPath:
    field: str
    key: str
    value: str
    host: str  # the host path that pod path shows under a correct mount for this node
    candidates: tuple[str, ...]


def _host_for_pod_path(snap: NodeSnapshot, value: str) -> tuple[str, tuple[str, ...]] | None:
    """Where the file named by a pod path is on the host: the layout-correct mount first, upstream's
    mounts next; a candidate that exists wins."""
    cands: list[str] = []
    for pm in (_layout_thin(snap), snap.thin_paths, _layout_thick(snap), snap.thick_paths):
        h = pm.to_host(value)
        if h is not None and h not in cands:
            cands.append(h)
    if not cands:
        return None
    existing = [c for c in cands if _exists(snap, c)]
    return (existing[0] if existing else cands[0]), tuple(cands)


def thin_pod_paths(snap: NodeSnapshot) -> list[PodPath]:
    """Every value of the thin config the runtime uses that names a path only the DaemonSet pod sees."""
    t = _thin(snap)
    if t is None:
        return []
    _, mc = t
    prefixes = _pod_only_prefixes(snap)
    values: list[tuple[str, str, Any]] = [
        (_field(mc, k), k, mc.get(k)) for k in multus_mod.PATH_KEYS if mc.get(k) is not None
    ]
    values += [(_field(mc, f), f.split("[")[0], v) for f, v in _network_values(mc.plugin)
               if _is_path_network(v)]
    out: list[PodPath] = []
    for fld, key, value in values:
        if not _is_abs(value) or not any(_is_under(value, p) for p in prefixes):
            continue
        if _exists(snap, value):  # this host really has that path: the thin plugin will find it
            continue
        found = _host_for_pod_path(snap, value)
        if found is None and key == "kubeconfig":
            found = (snap.layout.multus_kubeconfig, ())  # a pod-only file: a kubeconfig must be written
        host, cands = found if found else (value, ())
        out.append(PodPath(fld, key, value, host, cands))
    return out


@check("thin-pod-path")
def thin_pod_path(snap: NodeSnapshot) -> Iterator[Hit]:
    t = _thin(snap)
    if t is None:
        return
    conf, _ = t
    for pp in thin_pod_paths(snap):
        flag = THIN_ENTRYPOINT_FLAG.get(pp.key)
        origin = (f" If the multus DaemonSet writes {conf.name}, set {flag}={pp.host} in its args, "
                  "since the entrypoint copies that flag verbatim." if flag else "")
        if pp.candidates:
            where = f"It is the path inside the multus DaemonSet pod; on the host that file is {pp.host}."
            fix = f'Set "{pp.field}": "{pp.host}" in {conf.path}.{origin}'
        elif pp.key == "kubeconfig":
            where = "That file exists only inside a pod (its projected ServiceAccount token), never on the host."
            fix = (f"Write a ServiceAccount kubeconfig on the host with `multusctl kubeconfig create` and set "
                   f'"{pp.field}": "{pp.host}" in {conf.path}.')
        else:
            where = "No DaemonSet mount maps it to a host path."
            fix = f'Set "{pp.field}" in {conf.path} to the host path of that file.'
        yield Hit(
            message=f'{conf.path} is a thin config (type "multus"): the multus binary runs on the host, '
            f'so "{pp.field}": "{pp.value}" is read as a host path, and {pp.value} does not exist on '
            f"this node. {where} {_thin_consequence(pp.key)}",
            fix=fix,
            path=conf.path,
            field=pp.field,
            evidence={"value": pp.value, "host_path": pp.host, "host_path_exists": _exists(snap, pp.host),
                      "candidates": list(pp.candidates), "distro": snap.layout.distro,
                      "conf_dir": snap.layout.conf_dir},
        )


def _thin_consequence(key: str) -> str:
    return {
        "kubeconfig": "Multus cannot load it (`GetK8sClient: failed to get context for the kubeconfig`, "
        "MC#564), so every pod ADD fails.",
        "binDir": "Plugins are looked up there first; with the dir missing, delegates are only found "
        "through the runtime's CNI_PATH.",
        "confDir": "Networks named by clusterNetwork/defaultNetworks or NADs without a spec are looked "
        "up there and not found.",
        "cniDir": "Multus caches each delegate's config there for DEL; a missing dir makes teardown fail.",
        "readinessindicatorfile": "Every ADD waits 45 s for that file and then fails "
        "(`still waiting for readinessindicatorfile`).",
        "logFile": "Multus cannot open its log file, so its logs are lost.",
        "clusterNetwork": "The cluster network cannot be loaded, so every pod ADD fails "
        "(`GetDefaultNetworks: failed to get clusterNetwork`).",
        "defaultNetworks": "That default network cannot be loaded, so every ADD outside kube-system fails.",
    }.get(key, "")


# ---------------------------------------------------------------------------------------------------
# thick: host paths where the daemon pod is what reads them


@dataclass(frozen=True)
class ThickPath:
    source: str  # node path of the file naming it
    field: str
    key: str
    value: str


def _chroot_host_root(snap: NodeSnapshot) -> str | None:
    """The host dir the daemon chroots into before looking up plugins (None: no chroot)."""
    raw = _daemon_raw(snap)
    if raw is None:
        # No daemon-config here: assume upstream's, which chroots to /hostroot.
        return snap.thick_paths.to_host("/hostroot")
    chroot = raw.get("chrootDir")
    if not isinstance(chroot, str) or not chroot:
        return None
    return snap.thick_paths.to_host(chroot)


def thick_pod_read_paths(snap: NodeSnapshot) -> list[ThickPath]:
    """Paths the thick daemon reads in its pod: daemon-config.json's, and the shim conf's it keeps."""
    out: list[ThickPath] = []
    raw = _daemon_raw(snap)
    dc_path = snap.daemon_config.path if snap.daemon_config else ""
    if raw is not None:
        for k in THICK_POD_KEYS:
            if k in raw:
                out.append(ThickPath(dc_path, k, k, raw[k]))
        mcf = raw.get("multusConfigFile")
        if isinstance(mcf, str) and mcf != "auto":
            out.append(ThickPath(dc_path, "multusConfigFile", "multusConfigFile", mcf))
        for f, v in _network_values(raw):
            if _is_path_network(v):
                out.append(ThickPath(dc_path, f, f.split("[")[0], v))
        pnc = raw.get("perNodeCertificate")
        if isinstance(pnc, dict):
            for k in ("bootstrapKubeconfig", "certDir"):
                if k in pnc:
                    out.append(ThickPath(dc_path, f"perNodeCertificate.{k}", k, pnc[k]))
    t = _thick(snap)
    if t is not None:
        conf, mc = t
        overridden = set(raw) if raw is not None else set()
        for k in THICK_SHIM_POD_KEYS:
            if mc.get(k) is not None and k not in overridden:
                out.append(ThickPath(conf.path, _field(mc, k), k, mc.get(k)))
        if "clusterNetwork" not in overridden and "defaultNetworks" not in overridden:
            for f, v in _network_values(mc.plugin):
                if _is_path_network(v):
                    out.append(ThickPath(conf.path, _field(mc, f), f.split("[")[0], v))
    return [tp for tp in out if _is_abs(tp.value)]


def _is_host_path(snap: NodeSnapshot, value: str) -> bool:
    """A path that names something of this host (and not of the container image)."""
    if _exists(snap, value):
        return True
    trees = [snap.layout.conf_dir, *snap.layout.bin_dirs, *DISTRO_HOST_TREES]
    if snap.layout.admin_kubeconfig:
        trees.append(posixpath.dirname(snap.layout.admin_kubeconfig))
    return any(_is_under(value, t) for t in trees if t and _norm(t) != "/")


@dataclass(frozen=True)
class Unmounted:
    tp: ThickPath
    reason: str
    fix: str
    severity: Severity | None


def _pod_path_for(snap: NodeSnapshot, host: str) -> tuple[str | None, str]:
    """The pod path that shows `host`, and which DaemonSet volume it needs when upstream lacks it."""
    layout_pm = _layout_thick(snap)
    pod = layout_pm.to_pod(host)
    if pod is None:
        return None, ""
    if snap.thick_paths.to_host(pod) == _norm(host):
        return pod, ""
    return pod, (f" and mount the host dir {snap.layout.conf_dir} at /host/etc/cni/net.d in the multus "
                 "DaemonSet (hostPath volume)")


def thick_unmounted(snap: NodeSnapshot) -> list[Unmounted]:
    out: list[Unmounted] = []
    chroot_root = _chroot_host_root(snap)
    in_use = _thick(snap) is not None
    for tp in thick_pod_read_paths(snap):
        if tp.key == "binDir" and chroot_root is not None:
            u = _chrooted_bin_dir(snap, tp, chroot_root)
            if u:
                out.append(u)
            continue
        if snap.thick_paths.to_host(tp.value) is not None:
            continue  # visible through a mount; whether the file is there is another check's question
        if not _is_host_path(snap, tp.value):
            continue  # may well live in the container image
        pod, extra = _pod_path_for(snap, tp.value)
        fix = (f'Set "{tp.field}": "{pod}" in {tp.source}{extra}' if pod else
               f"Mount {tp.value} into the multus DaemonSet and name it by its mount path in {tp.source}")
        severity: Severity | None = None
        why = _thick_consequence(tp.key)
        if tp.key == "kubeconfig":
            severity = "info"
            why = ("The thick daemon does not use it anyway (it talks to the API with its in-cluster "
                   "ServiceAccount), so it is only misleading.")
            fix = f'Remove "kubeconfig" from {tp.source}.'
        elif tp.key == "logFile":
            severity = "warning"
        if not in_use and severity != "info":
            severity = "warning"
            why += (" This node does not run thick multus now (the runtime's multus config is "
                    f"{'thin' if _thin(snap) else 'absent'}), so nothing reads this file today; it breaks "
                    "the day the thick daemon starts with it.")
        out.append(Unmounted(tp, f"{tp.value} is a host path, and the daemon pod does not see it through "
                             f"any of its mounts ({snap.thick_paths.source}). {why}", fix + ".", severity))
    return out


def _chrooted_bin_dir(snap: NodeSnapshot, tp: ThickPath, chroot_root: str) -> Unmounted | None:
    """With chrootDir the daemon finds and runs plugins inside the host root: binDir is a host path."""
    host = posixpath.join(chroot_root, tp.value.lstrip("/"))
    if _exists(snap, host):
        return None
    found = _host_for_pod_path(snap, tp.value)
    as_pod = found[0] if found else None
    if as_pod is None or not _exists(snap, as_pod) or _norm(as_pod) == _norm(tp.value):
        return None  # a plain missing bin dir: plugin-missing says what is not found
    return Unmounted(
        tp,
        f"{tp.value} is a pod path, but with chrootDir set the daemon looks plugins up and runs them after "
        f"chroot into the host root, where {tp.value} does not exist; every delegate fails with "
        "`failed to find plugin`.",
        f'Set "{tp.field}": "{as_pod}" (the host path) in {tp.source}.',
        None if _thick(snap) else "warning",
    )


def _thick_consequence(key: str) -> str:
    return {
        "cniConfigDir": "The daemon writes its 00-multus.conf into the pod's own filesystem, where the "
        "container runtime never sees it, so pods get only the primary network.",
        "multusAutoconfigDir": "The daemon cannot find the primary CNI config "
        "(`cannot find valid master CNI config`, MC#685) and writes no multus config.",
        "socketDir": "The daemon listens on a socket inside the pod that multus-shim on the host cannot "
        "reach, so every pod ADD fails (`dial unix .../multus.sock`, MC#1165).",
        "chrootDir": "The daemon cannot chroot to run plugins, so every delegate fails.",
        "confDir": "Networks named by name are looked up there and not found.",
        "cniDir": "The daemon caches delegate configs there for DEL; they vanish with the pod.",
        "binDir": "Plugins are looked up there and not found.",
        "readinessindicatorfile": "The daemon waits 45 s for it at start-up and exits "
        "(CrashLoopBackOff), so every pod ADD fails.",
        "logFile": "The daemon logs into the container's filesystem, where the log is lost with the pod.",
        "multusConfigFile": "The daemon cannot copy the user-provided config into the conf dir.",
        "clusterNetwork": "The daemon cannot load the cluster network, so every pod ADD fails.",
        "defaultNetworks": "The daemon cannot load that default network, so every ADD outside "
        "kube-system fails.",
        "bootstrapKubeconfig": "Per-node certificates cannot be requested, so the daemon cannot start.",
        "certDir": "Per-node certificates are written into the pod and lost on restart.",
    }.get(key, "")


@check("thick-unmounted-path")
def thick_unmounted_path(snap: NodeSnapshot) -> Iterator[Hit]:
    for u in thick_unmounted(snap):
        tp = u.tp
        yield Hit(
            message=f'"{tp.field}": "{tp.value}" in {tp.source}: {u.reason}',
            fix=u.fix,
            path=tp.source,
            field=tp.field,
            evidence={"value": tp.value, "mounts": snap.thick_paths.source,
                      "notes": list(snap.thick_paths.notes), "thick_in_use": _thick(snap) is not None},
            severity=u.severity,
        )


# ---------------------------------------------------------------------------------------------------
# thick socket


@check("thick-socket-missing")
def thick_socket_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    t = _thick(snap)
    if t is None:
        return
    conf, mc = t
    sock_dir = mc.socket_dir
    sock = posixpath.join(sock_dir, SOCKET_NAME)
    # v4 shims read daemonSocketDir, v3 shims read socketDir; with only socketDir set, either may be
    # installed, so the default dir counts too (pkg/server/api/shim.go, both versions).
    dirs = [sock_dir]
    if not mc.get_str("daemonSocketDir") and mc.get_str("socketDir"):
        dirs.append(multus_mod.DEFAULT_SOCKET_DIR)
    info = None
    for d in dirs:
        try:
            found = snap.fs.stat(posixpath.join(d, SOCKET_NAME))
        except NodeFSError:
            found = None
        if found is not None and found.kind != "dir":
            return  # a unix socket on a live node, an empty file in a copied root: both count
        info = info or found
    key = "daemonSocketDir" if mc.get_str("daemonSocketDir") else ("socketDir" if mc.get_str("socketDir")
                                                                    else None)
    where = (f'"{key}": "{sock_dir}" in {conf.path}' if key
             else f"{conf.path} sets no daemonSocketDir, so the shim uses its default {sock_dir}")
    hints = []
    raw = _daemon_raw(snap)
    daemon_sock = raw.get("socketDir") if raw else None
    if isinstance(daemon_sock, str) and daemon_sock:
        host = snap.thick_paths.to_host(daemon_sock)
        if host is None:
            hints.append(f'the daemon\'s "socketDir": "{daemon_sock}" is not on any host mount, so its '
                         "socket stays inside the pod")
        elif _norm(host) != _norm(sock_dir):
            hints.append(f'the daemon listens in "socketDir": "{daemon_sock}", which is the host\'s '
                         f"{host}, not {sock_dir} where the shim dials")
    if _is_under(sock_dir, "/host") or _is_under(sock_dir, "/hostroot"):
        hints.append(f"{sock_dir} looks like a pod path, but the shim runs on the host")
    if info is not None:
        hints.append(f"{sock} is a directory")
    hint = (" Also: " + "; ".join(hints) + ".") if hints else ""
    ns, sel = multus_pods(snap)
    # The daemon's socketDir is a pod path: the one that shows the host dir the shim dials.
    pod_sock_dir = snap.thick_paths.to_pod(sock_dir) if not _is_under(sock_dir, "/host") else None
    pod_sock_dir = (pod_sock_dir.rstrip("/") + "/") if pod_sock_dir else "/host/run/multus/"
    yield Hit(
        message=f"{conf.path} is a thick config (type \"multus-shim\"): for every pod the shim POSTs the "
        f"request to the multus daemon over {sock} ({where}), and that socket does not exist, so the "
        f"daemon is not running (crashed, OOMKilled, not scheduled) or listens elsewhere; every pod ADD "
        f"fails with `dial unix {sock}` (MC#1165, MC#1346).{hint}{_live_caveat(snap, sock)}",
        fix=f"Check the daemon: `kubectl -n {ns} get pods -l '{sel}' -o wide --field-selector "
        f"spec.nodeName=<this node>` and that pod's logs (`kubectl -n {ns} logs <pod>`); raise its memory limit "
        "to at least 100Mi if it was OOMKilled, and keep the DaemonSet's hostPath /run mounted at /host/run "
        f'with "socketDir": "{pod_sock_dir}" in daemon-config.json, so the daemon listens where the shim '
        f"dials ({sock_dir}).",
        path=sock,
        field=key,
        evidence={"socket": sock, "socket_dir": sock_dir, "daemon_socket_dir": daemon_sock,
                  "root_is_live": snap.fs.root == "/"},
    )


# ---------------------------------------------------------------------------------------------------
# readiness indicator file


def _readiness(snap: NodeSnapshot) -> tuple[str, str, str, str | None] | None:
    """(source file, field, value as written, host path or None when no mount shows it)."""
    t = _thin(snap)
    if t is not None:
        conf, mc = t
        v = mc.get("readinessindicatorfile")
        if not isinstance(v, str) or not v:
            return None
        return conf.path, _field(mc, "readinessindicatorfile"), v, v
    t = _thick(snap)
    if t is None:
        return None
    conf, mc = t
    raw = _daemon_raw(snap)
    if raw is not None and isinstance(raw.get("readinessindicatorfile"), str) and raw["readinessindicatorfile"]:
        v = raw["readinessindicatorfile"]
        src, fld = (snap.daemon_config.path if snap.daemon_config else ""), "readinessindicatorfile"
    else:
        v = mc.get("readinessindicatorfile")
        if not isinstance(v, str) or not v:
            return None
        src, fld = conf.path, _field(mc, "readinessindicatorfile")
    return src, fld, v, snap.thick_paths.to_host(v) if v.startswith("/") else None


@check("readiness-file-missing")
def readiness_file_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    r = _readiness(snap)
    if r is None:
        return
    src, fld, value, host = r
    thin = _thin(snap) is not None
    if thin and any(pp.key == "readinessindicatorfile" for pp in thin_pod_paths(snap)):
        return  # thin-pod-path names the cause and the host path
    if not _is_abs(value):
        yield Hit(
            message=f'"{fld}": "{value}" in {src} is not an absolute path: multus resolves it against its '
            "working directory, so the file is practically never found and every ADD waits 45 s and fails.",
            fix=f'Set "{fld}" to the absolute path of the primary CNI\'s ready file (flannel on k3s: '
            '/run/flannel/subnet.env) or remove it.',
            path=src, field=fld, evidence={"value": value},
        )
        return
    if host is None:
        if _exists(snap, value):
            return  # a host path the pod cannot see: thick-unmounted-path says so
        check_path = value
    else:
        check_path = host
    if _exists(snap, check_path):
        return
    seen_as = "" if check_path == value else f" (the daemon pod's {value} is the host's {check_path})"
    effect = ("every pod ADD waits 45 s for it and then fails (`still waiting for readinessindicatorfile "
              f"@ {value}`, MC#402)" if thin else
              "the daemon waits 45 s for it at start-up and then exits: it crash-loops, and every pod ADD "
              "fails on the missing socket")
    yield Hit(
        message=f'"{fld}": "{value}" in {src}: {check_path} does not exist{seen_as}, so {effect}. The '
        f"primary CNI writes it once it is ready; it is missing when the primary network is down or the "
        f"path is wrong.{_live_caveat(snap, check_path)}",
        fix=f"Check the primary CNI is running on this node; if {check_path} is not the file it writes, set "
        f'"{fld}" to the right path (flannel: /run/flannel/subnet.env on the host), or remove the key.',
        path=src, field=fld,
        evidence={"value": value, "host_path": check_path, "mode": "thin" if thin else "thick"},
    )


# ---------------------------------------------------------------------------------------------------
# clusterNetwork / defaultNetworks


@dataclass(frozen=True)
class NetRef:
    source: str
    field: str
    value: str
    thick: bool


def _network_refs(snap: NodeSnapshot) -> tuple[list[NetRef], str | None, str]:
    """The effective clusterNetwork/defaultNetworks, the host path of the confDir used for names, and
    the confDir as written."""
    t = _thin(snap)
    if t is not None:
        conf, mc = t
        refs = [NetRef(conf.path, _field(mc, f), v, False) for f, v in _network_values(mc.plugin)
                if isinstance(v, str) and v]
        return refs, mc.conf_dir, mc.conf_dir
    t = _thick(snap)
    if t is None:
        return [], None, ""
    conf, mc = t
    raw = _daemon_raw(snap) or {}
    dc_path = snap.daemon_config.path if snap.daemon_config else ""
    if "clusterNetwork" in raw or "defaultNetworks" in raw:
        refs = [NetRef(dc_path, f, v, True) for f, v in _network_values(raw) if isinstance(v, str) and v]
    else:
        refs = [NetRef(conf.path, _field(mc, f), v, True) for f, v in _network_values(mc.plugin)
                if isinstance(v, str) and v]
    conf_dir = raw.get("confDir") if isinstance(raw.get("confDir"), str) else mc.get_str("confDir")
    conf_dir = conf_dir or multus_mod.DEFAULT_CONF_DIR
    return refs, snap.thick_paths.to_host(conf_dir), conf_dir


def _multus_namespace(snap: NodeSnapshot) -> str:
    """multusNamespace as the reader of the config sees it (daemon-config.json wins in thick mode)."""
    raw = _daemon_raw(snap) if _thick(snap) else None
    m = snap.multus.multus if snap.multus else None
    for v in ((raw or {}).get("multusNamespace"), m.plugin.get("multusNamespace") if m else None):
        if isinstance(v, str) and v:
            return v
    return "kube-system"


def _named_in_conf_dir(snap: NodeSnapshot, conf_dir: str, name: str) -> str | None:
    """The first .conf/.json/.conflist in conf_dir whose `name` is `name` (GetCNIConfigFromFile)."""
    try:
        paths = list_conf_files(snap.fs, conf_dir)
    except NodeFSError:
        return None
    for p in paths:
        cf = read_conf_file(snap.fs, p)
        if cf.cni is not None and cf.cni.name == name:
            return p
    return None


def _first_conf_in(snap: NodeSnapshot, d: str) -> bool:
    try:
        return any(p.endswith((".conf", ".conflist")) for p in list_conf_files(snap.fs, d))
    except NodeFSError:
        return False


@check("cluster-network-unresolved")
def cluster_network_unresolved(snap: NodeSnapshot) -> Iterator[Hit]:
    refs, conf_dir_host, conf_dir_written = _network_refs(snap)
    if not refs:
        return
    t = _thin(snap)
    if t is not None and not t[1].kubeconfig:
        return  # without an API client multus never resolves them (GetDefaultNetworks); kubeconfig-unset
    pod_flagged = {pp.value for pp in thin_pod_paths(snap)}
    unmounted = {u.tp.value for u in thick_unmounted(snap)}
    for ref in refs:
        if "/" in ref.value:
            yield from _unresolved_path(snap, ref, pod_flagged, unmounted)
        else:
            yield from _unresolved_name(snap, ref, conf_dir_host, conf_dir_written)


def _unresolved_path(snap: NodeSnapshot, ref: NetRef, pod_flagged: set[str],
                     unmounted: set[str]) -> Iterator[Hit]:
    if not ref.thick and ref.value in pod_flagged:
        return  # thin-pod-path
    if ref.thick and ref.value in unmounted:
        return  # thick-unmounted-path
    host = snap.thick_paths.to_host(ref.value) if ref.thick else ref.value
    if host is None:
        host = ref.value
    key = ref.field.split("[")[0].split(".")[-1]
    seen_as = f" (the daemon pod's {ref.value} is the host's {host})" if host != ref.value else ""
    if _exists(snap, host):
        if snap.fs.is_dir(host) and not _first_conf_in(snap, host):
            yield Hit(
                message=f'"{ref.field}": "{ref.value}" in {ref.source} is a directory{seen_as} with no '
                f".conf/.conflist file, so multus finds no network there and every pod ADD fails.",
                fix=f"Point {key} at the primary CNI's config file, e.g. {_suggest_primary(snap, ref)}.",
                path=ref.source, field=ref.field, evidence={"value": ref.value, "host_path": host},
            )
        return
    suggestion = _suggest_primary(snap, ref)
    effect = ("the cluster network, and every pod ADD fails" if key == "clusterNetwork"
              else "that default network, and every ADD outside kube-system fails")
    yield Hit(
        message=f'"{ref.field}": "{ref.value}" in {ref.source}: {host} does not exist{seen_as}, so multus '
        f"cannot load {effect} (`GetDefaultNetworks: failed to get clusterNetwork`).",
        fix=f'Set "{ref.field}": "{suggestion}" in {ref.source} (the primary CNI config in '
        f"{snap.layout.conf_dir}).",
        path=ref.source, field=ref.field,
        evidence={"value": ref.value, "host_path": host, "suggested": suggestion},
    )


def _suggest_primary(snap: NodeSnapshot, ref: NetRef) -> str:
    """The primary conf, named as the reader of this config sees it."""
    p = snap.primary
    if p is None:
        return f"{snap.layout.conf_dir}/<primary>.conflist"
    if not ref.thick:
        return p.path
    pod = _layout_thick(snap).to_pod(p.path)
    return pod or p.path


def _unresolved_name(snap: NodeSnapshot, ref: NetRef, conf_dir_host: str | None,
                     conf_dir_written: str) -> Iterator[Hit]:
    if conf_dir_host is not None and _named_in_conf_dir(snap, conf_dir_host, ref.value):
        return
    may_be_nad = len(ref.value) <= 253 and bool(DNS1123_SUBDOMAIN.match(ref.value))
    ns = _multus_namespace(snap)
    primary = snap.primary
    hint = ""
    if primary is not None and primary.cni is not None and primary.cni.name == ref.value:
        hint = (f" The primary config {primary.path} has that name, but multus looks names up in confDir "
                f"({conf_dir_written}), not in the runtime's conf dir.")
    where = f"{conf_dir_written}" + (f" (the host's {conf_dir_host})" if conf_dir_host and
                                     conf_dir_host != conf_dir_written else "")
    if may_be_nad:
        yield Hit(
            message=f'"{ref.field}": "{ref.value}" in {ref.source} is a name: multus first looks for a '
            f"NetworkAttachmentDefinition {ref.value} in its multusNamespace ({ns}), "
            f"then for a config named {ref.value} in confDir {where}, and no file there has that name.{hint} "
            "Offline this cannot tell whether the NAD exists.",
            fix=f"Run `multusctl doctor` to check the NAD {ns}/{ref.value} exists; or name the "
            f"primary config by path instead: \"{ref.field}\": \"{_suggest_primary(snap, ref)}\".",
            path=ref.source, field=ref.field,
            evidence={"value": ref.value, "conf_dir": conf_dir_written, "conf_dir_host": conf_dir_host},
            severity="info",
        )
        return
    yield Hit(
        message=f'"{ref.field}": "{ref.value}" in {ref.source} is not a valid NetworkAttachmentDefinition '
        f"name, and no config in confDir {where} is named {ref.value}, so multus cannot load it and every "
        f"pod ADD fails.{hint}",
        fix=f'Set "{ref.field}": "{_suggest_primary(snap, ref)}" in {ref.source}.',
        path=ref.source, field=ref.field,
        evidence={"value": ref.value, "conf_dir": conf_dir_written, "conf_dir_host": conf_dir_host},
    )
