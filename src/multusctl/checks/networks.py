"""Networks a multus config names: embedded delegates, clusterNetwork/defaultNetworks by path or name.
"""

from __future__ import annotations

import posixpath
from typing import Any

from multusctl.config import multus as multus_mod
from multusctl.config.errors import ParseError
from multusctl.config.jsonload import loads
from multusctl.gather.snapshot import ConfFile, NodeSnapshot, conf_files_in


def network_field(mc: multus_mod.MultusConfig, key: str) -> str:
    return f"plugins[0].{key}" if mc.cni.is_list else key


def network_paths(snap: NodeSnapshot, cf: ConfFile) -> list[tuple[str, str, str]]:
    """(field, value as written, host path) of each path-valued clusterNetwork/defaultNetworks of a
    multus config. Thin values are host paths; thick ones are read in the daemon pod (mapped back).
    Once per file and snapshot (the list is shared: do not mutate it)."""
    paths: list[tuple[str, str, str]] = snap.memo("network_paths", cf.path, lambda: _network_paths(snap, cf))
    return paths


def _network_paths(snap: NodeSnapshot, cf: ConfFile) -> list[tuple[str, str, str]]:
    mc = cf.multus
    if mc is None:
        return []
    values: list[tuple[str, Any]] = [(network_field(mc, "clusterNetwork"), mc.get("clusterNetwork"))]
    nets = mc.get("defaultNetworks")
    if isinstance(nets, list):
        values += [(network_field(mc, f"defaultNetworks[{i}]"), v) for i, v in enumerate(nets)]
    out = []
    for fld, v in values:
        if not isinstance(v, str) or "/" not in v or "\x00" in v:
            continue
        host = v if mc.mode == "thin" else snap.thick_paths.to_host(v)
        if host:
            out.append((fld, v, posixpath.normpath(host)))
    return out


def read_network(snap: NodeSnapshot, host_path: str) -> tuple[str, dict[str, Any]] | None:
    """(file, parsed object) a clusterNetwork path loads: a dir gives its first conf file. Read once per
    snapshot (the object is shared: do not mutate it)."""
    result: tuple[str, dict[str, Any]] | None = snap.memo("read_network", host_path,
                                                           lambda: _read_network(snap, host_path))
    return result


def _read_network(snap: NodeSnapshot, host_path: str) -> tuple[str, dict[str, Any]] | None:
    fs = snap.fs
    path = host_path
    if fs.is_dir(path):
        files = conf_files_in(fs, path)
        if not files:
            return None
        path = files[0]
    data = fs.read_or_none(path)
    try:
        obj = loads(data) if data is not None else None
    except ParseError:
        return None
    return (path, obj) if isinstance(obj, dict) else None


def master_of(snap: NodeSnapshot, cf: ConfFile) -> tuple[str, str, dict[str, Any]] | None:
    """(where, field, object) of the master (first) network of a multus config: the clusterNetwork file
    when set (it wins over delegates), else delegates[0]."""
    mc = cf.multus
    if mc is None:
        return None
    nets = network_paths(snap, cf)
    cluster = [n for n in nets if n[0].endswith("clusterNetwork")]
    if cluster:
        got = read_network(snap, cluster[0][2])
        return (got[0], "", got[1]) if got else None
    if mc.get("clusterNetwork"):
        return None  # a NAD or a name in confDir: not resolvable offline
    delegates = mc.get("delegates")
    if isinstance(delegates, list) and delegates and isinstance(delegates[0], dict):
        return cf.path, network_field(mc, "delegates[0]"), delegates[0]
    return None


def _referenced(snap: NodeSnapshot) -> set[str]:
    out: set[str] = set()
    for c in snap.multus_files:
        for _f, _v, host in network_paths(snap, c):
            out.add(host)
    return out
