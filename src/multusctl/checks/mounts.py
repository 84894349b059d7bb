"""Host <-> pod paths of the multus DaemonSet: which values are pod paths, which host paths a pod sees.

Thin configs are read on the host (by the runtime's multus binary); thick daemon-config.json values are
read inside the daemon pod. Shared by the thin, thick, readiness and network-reference checks.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from multusctl.config import multus as multus_mod
from multusctl.gather.effective import EffectiveConfig
from multusctl.gather.snapshot import ConfFile, NodeSnapshot
from multusctl.layout.pathmap import PathMap, for_layout

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


# ---------------------------------------------------------------------------------------------------
# small helpers


def _norm(path: str) -> str:
    return posixpath.normpath(path)


def _is_under(path: str, prefix: str) -> bool:
    path, prefix = _norm(path), _norm(prefix)
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _exists(snap: NodeSnapshot, path: str) -> bool:
    return snap.fs.exists(path)  # False also for a value no file can have (a NUL byte)


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


def network_settings(eff: EffectiveConfig) -> Iterator[tuple[str, str, str, Any]]:
    """(field, key, source, value) of the clusterNetwork and each defaultNetworks entry Multus will use."""
    cn = eff.get("clusterNetwork")
    if cn is not None:
        yield cn.field, "clusterNetwork", cn.source, cn.value
    dn = eff.get("defaultNetworks")
    if dn is not None and isinstance(dn.value, list):
        for i, v in enumerate(dn.value):
            yield f"{dn.field}[{i}]", "defaultNetworks", dn.source, v


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


def _is_host_path(snap: NodeSnapshot, value: str) -> bool:
    """A path that names something of this host (and not of the container image)."""
    if _exists(snap, value):
        return True
    trees = [snap.layout.conf_dir, *snap.layout.bin_dirs, *DISTRO_HOST_TREES]
    if snap.layout.admin_kubeconfig:
        trees.append(posixpath.dirname(snap.layout.admin_kubeconfig))
    return any(_is_under(value, t) for t in trees if t and _norm(t) != "/")


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
