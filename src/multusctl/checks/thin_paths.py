"""thin-pod-path: a thin config names a path only the DaemonSet pod can see.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.mounts import (
    _exists,
    _field,
    _host_for_pod_path,
    _is_abs,
    _is_path_network,
    _is_under,
    _network_values,
    _pod_only_prefixes,
    _thin,
)
from multusctl.checks.registry import Hit, check
from multusctl.config import multus as multus_mod
from multusctl.gather.snapshot import NodeSnapshot
from multusctl.records import dataclass

# The thin entrypoint copies these flags verbatim into the host config (FACTS.md §1), so a pod path
# there usually came from the DaemonSet's args.
THIN_ENTRYPOINT_FLAG = {
    "kubeconfig": "--multus-kubeconfig-file-host",
    "binDir": "--additional-bin-dir",
    "readinessindicatorfile": "--readiness-indicator-file",
    "logFile": "--multus-log-file",
}


@dataclass(frozen=True)
class PodPath:
    """A value of a thin config that names a path only the DaemonSet pod can see."""

    field: str
    key: str
    value: str
    host: str  # the host path that pod path shows under a correct mount for this node
    candidates: tuple[str, ...]


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
