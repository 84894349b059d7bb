"""Thick daemon paths: host paths the daemon pod cannot see, and the daemon's socket.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from multusctl.checks.mounts import (
    _exists,
    _host_for_pod_path,
    _is_abs,
    _is_host_path,
    _is_path_network,
    _is_under,
    _live_caveat,
    _norm,
    _pod_path_for,
    _thick,
    _thin,
    network_settings,
)
from multusctl.checks.registry import Hit, check
from multusctl.checks.runtime import multus_pods
from multusctl.gather.snapshot import NodeSnapshot
from multusctl.records import dataclass
from multusctl.report.finding import Severity

SOCKET_NAME = "multus.sock"  # api.SocketPath(dir) = dir + "/multus.sock"
# Keys of daemon-config.json the daemon reads for itself, in its pod. `daemonSocketDir` is deliberately
# absent: it is copied into the shim conf and read by the shim on the host.
DAEMON_POD_KEYS = (
    "cniConfigDir", "multusAutoconfigDir", "socketDir", "chrootDir", "logFile", "kubeconfig",
    "readinessindicatorfile",
)
# Keys of the per-request config (shim conf merged with daemon-config.json) the daemon reads in its pod.
REQUEST_POD_KEYS = ("confDir", "cniDir", "binDir", "readinessindicatorfile")


# ---------------------------------------------------------------------------------------------------
# thick: host paths where the daemon pod is what reads them


@dataclass(frozen=True)
class ThickPath:
    """A path the thick daemon reads in its pod, and where it is written."""

    source: str  # node path of the file naming it
    field: str
    key: str
    value: str


def _chroot_host_root(snap: NodeSnapshot) -> str | None:
    """The host dir the daemon chroots into before looking up plugins (None: no chroot)."""
    own = snap.daemon_settings
    if own is None:
        # No daemon-config here: assume upstream's, which chroots to /hostroot.
        return snap.thick_paths.to_host("/hostroot")
    chroot = own.text("chrootDir")
    return snap.thick_paths.to_host(chroot) if chroot else None


def thick_pod_read_paths(snap: NodeSnapshot) -> list[ThickPath]:
    """Paths the thick daemon reads in its pod: its own settings from daemon-config.json, and those of the
    per-request merge of the shim conf with daemon-config.json (gather/effective.py)."""
    out: list[ThickPath] = []
    own = snap.daemon_settings
    if own is not None:
        for k in DAEMON_POD_KEYS:
            if (s := own.get(k)) is not None:
                out.append(ThickPath(s.source, s.field, k, s.value))
        mcf = own.get("multusConfigFile")
        if mcf is not None and isinstance(mcf.value, str) and mcf.value != "auto":
            out.append(ThickPath(mcf.source, mcf.field, "multusConfigFile", mcf.value))
        pnc = own.get("perNodeCertificate")
        if pnc is not None and isinstance(pnc.value, dict):
            for k in ("bootstrapKubeconfig", "certDir"):
                if k in pnc.value:
                    out.append(ThickPath(pnc.source, f"{pnc.field}.{k}", k, pnc.value[k]))
    eff = snap.effective if _thick(snap) else None
    if eff is not None:
        for k in REQUEST_POD_KEYS:
            if (s := eff.get(k)) is not None:
                out.append(ThickPath(s.source, s.field, k, s.value))
        for fld, key, source, value in network_settings(eff):
            if _is_path_network(value):
                out.append(ThickPath(source, fld, key, value))
    seen: set[tuple[str, str]] = set()
    unique = []
    for tp in out:  # the daemon's own and the request's readinessindicatorfile are often the same line
        if (tp.source, tp.field) not in seen and _is_abs(tp.value):
            seen.add((tp.source, tp.field))
            unique.append(tp)
    return unique


@dataclass(frozen=True)
class Unmounted:
    """A thick daemon path whose host location no DaemonSet mount shows the pod."""

    tp: ThickPath
    reason: str
    fix: str
    severity: Severity | None
    rule: str | None = None  # which multus lookup rule the finding was judged by (binDir): v4.0, v4.1+, both


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


K3S_DATA_CNI = re.compile(r"^(/[\w./-]*?/data)/cni/?$")


def _chrooted_bin_dir(snap: NodeSnapshot, tp: ThickPath, chroot_root: str) -> Unmounted | None:
    """binDir of a daemon with chrootDir, judged under both upstream rules (the multus version is not on the
    node offline):
    - v4.0.x: FindInPath runs after chroot into the host root (pkg/server/exec_chroot.go v4.0.2:170-181), so
      binDir is a host path;
    - v4.1.0+ (PR #1161, 1dd4edded): only the exec is chrooted (SysProcAttr.Chroot, v4.3.0:43-51); FindInPath
      runs in the daemon pod (v4.3.0:101-103), so binDir must exist at the same path in the pod and on the
      host. k3s's data/cni entries are relative symlinks into ../<hash>/bin: the pod needs all of data/."""
    host = posixpath.join(chroot_root, tp.value.lstrip("/"))
    v40_ok = _exists(snap, host)
    if not v40_ok:
        found = _host_for_pod_path(snap, tp.value)
        as_pod = found[0] if found else None
        if as_pod is None or not _exists(snap, as_pod) or _norm(as_pod) == _norm(tp.value):
            return None  # a plain missing bin dir: plugin-missing says what is not found
        return Unmounted(
            tp,
            f"{tp.value} is a pod path. With chrootDir set the daemon runs each plugin chrooted into the host "
            f"root, where {tp.value} does not exist (rule v4.1+: the lookup runs in the pod but the exec of the "
            "found path is chrooted; rule v4.0: lookup and exec both run in the host root), so under both rules "
            "every delegate fails with `failed to find plugin` or a failed exec.",
            f'Set "{tp.field}": "{as_pod}" (the host path) in {tp.source}, and mount {as_pod} into the multus '
            "DaemonSet at that same path (multus v4.1.0+ looks plugins up in the pod).",
            None if _thick(snap) else "warning",
            "both",
        )
    pod_host = snap.thick_paths.to_host(tp.value)
    need = tp.value
    k3s = K3S_DATA_CNI.match(_norm(tp.value))
    if k3s:
        need = k3s.group(1)  # data/cni/<plugin> -> ../<hash>/bin/<plugin>: the pod needs data/ at its path
    need_host = snap.thick_paths.to_host(need)
    if (pod_host is not None and _norm(pod_host) == _norm(host) and need_host is not None
            and _norm(need_host) == _norm(posixpath.join(chroot_root, need.lstrip("/")))):
        return None  # same path in the pod and on the host: fine under both rules
    links = (f" On k3s the entries of {tp.value} are relative symlinks into ../<hash>/bin, so the pod needs all "
             f"of {need} at that path, not only {tp.value}." if k3s else "")
    return Unmounted(
        tp,
        f"{tp.value} exists on the host, which is all multus v4.0.x needs (it looks plugins up after chroot). "
        "Since v4.1.0 (multus-cni PR #1161) only the exec is chrooted: the daemon looks plugins up inside its "
        f"pod, and {tp.value} is not visible there at the same path through the DaemonSet's mounts as assumed "
        f"({snap.thick_paths.source}), so with multus v4.1+ every delegate fails with `failed to find plugin`."
        f"{links} Rule applied: v4.1+ (the multus version cannot be read offline); a warning, because the "
        "DaemonSet's real mounts are not on the node.",
        f"Mount host {need} into the multus DaemonSet at the same path (hostPath {need} -> mountPath {need}), "
        "keeping the binDir as it is.",
        # OpenShift's multus DaemonSet is the network operator's, not upstream's: its mounts are not assumed.
        "info" if snap.layout.distro == "openshift" else "warning",
        "v4.1+",
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
    found = thick_unmounted(snap)
    thin = _thin(snap) if _thick(snap) is None else None
    if thin is not None and found:
        # A thin node: nothing reads daemon-config.json, so one info line per file, not mount advice per path.
        for source in dict.fromkeys(u.tp.source for u in found):
            paths = [u.tp for u in found if u.tp.source == source]
            fields = " and ".join(tp.field for tp in paths)
            yield Hit(
                message=f"Nothing reads this file: the multus config in use ({thin[0].path}) is thin (type: "
                f"multus), and only the thick daemon reads daemon-config.json. Its {fields} name host paths "
                "the thick daemon pod would not see.",
                fix=f"Nothing reads it on a thin node; delete it: `rm {source}`",
                path=source,
                evidence={"thick_in_use": False, "unused": True, "fields": [tp.field for tp in paths],
                          "values": {tp.field: tp.value for tp in paths}, "mounts": snap.thick_paths.source},
                severity="info",
            )
        return
    for u in found:
        tp = u.tp
        yield Hit(
            message=f'"{tp.field}": "{tp.value}" in {tp.source}: {u.reason}',
            fix=u.fix,
            path=tp.source,
            field=tp.field,
            evidence={"value": tp.value, "mounts": snap.thick_paths.source,
                      "notes": list(snap.thick_paths.notes), "thick_in_use": _thick(snap) is not None,
                      **({"rule": u.rule} if u.rule else {})},
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
    # Released shims read only daemonSocketDir (pkg/server/api/shim.go v4.0.0:37 .. v4.3.0); `socketDir` in
    # the shim conf was read only by the v4.0.0-alpha shim (v3 had no shim), so it counts as a hint only.
    dirs = [sock_dir]
    alpha_dir = mc.get_str("socketDir") if not mc.get_str("daemonSocketDir") else None
    info = None
    for d in dirs:
        found = snap.fs.stat(posixpath.join(d, SOCKET_NAME))
        if found is not None and found.kind != "dir":
            return  # a unix socket on a live node, an empty file in a copied root: both count
        info = info or found
    key = "daemonSocketDir" if mc.get_str("daemonSocketDir") else None
    where = (f'"{key}": "{sock_dir}" in {conf.path}' if key
             else f"{conf.path} sets no daemonSocketDir, so the shim uses its default {sock_dir}")
    hints = []
    own = snap.daemon_settings
    daemon_sock = own.text("socketDir") if own else None
    if isinstance(daemon_sock, str) and daemon_sock:
        host = snap.thick_paths.to_host(daemon_sock)
        if host is None:
            hints.append(f'the daemon\'s "socketDir": "{daemon_sock}" is not on any host mount, so its '
                         "socket stays inside the pod")
        elif _norm(host) != _norm(sock_dir):
            hints.append(f'the daemon listens in "socketDir": "{daemon_sock}", which is the host\'s '
                         f"{host}, not {sock_dir} where the shim dials")
    if alpha_dir:
        hints.append(f'{conf.path} sets "socketDir": "{alpha_dir}", which no released multus-shim reads (only the '
                     "v4.0.0-alpha one did); the shim's key is \"daemonSocketDir\"")
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
