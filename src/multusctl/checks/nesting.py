"""multus-duplicate: more than one multus config, or multus nested in its own delegates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import network_field, network_paths, read_network
from multusctl.checks.registry import Hit, check
from multusctl.config import cni as cni_mod
from multusctl.config import multus as multus_mod
from multusctl.config.errors import ParseError
from multusctl.config.jsonload import json_depth
from multusctl.gather.snapshot import ConfFile, NodeSnapshot


@check("multus-duplicate")
def multus_duplicate(snap: NodeSnapshot) -> Iterator[Hit]:
    files = snap.multus_files
    if len(files) > 1:
        keep, extra = files[0], files[1:]
        yield Hit(
            message=f"{len(files)} multus configs in {snap.layout.conf_dir}: "
            f"{', '.join(c.name for c in files)}. The runtime uses only {keep.name}; the others are stale, and "
            "Multus's auto-config can take one of them as the primary network and nest Multus in Multus "
            "(pods then fail with `interface name net1 already exists`, MC#549).",
            fix="Remove the extra ones: rm " + " ".join(c.path for c in extra),
            path=extra[0].path,
            evidence={"files": [c.path for c in files], "in_use": keep.path},
        )
    for cf in files:
        yield from _nesting(snap, cf)


def _nesting(snap: NodeSnapshot, cf: ConfFile) -> Iterator[Hit]:
    mc = cf.multus
    if mc is None:
        return
    primary = snap.primary
    regen = (f"Delete it (rm {cf.path}) and let Multus regenerate it from the primary"
             + (f" ({primary.path})" if primary else "")
             + "; with a multus thin image older than v4.1.0 (which nests itself on every restart, FACTS.md "
             "§7 #20) use a static config instead: --multus-conf-file=<file> whose clusterNetwork names the "
             "primary by path.")
    if mc.nesting_depth > 0:
        size = cf.info.size if cf.info else None
        depth = _text_depth(snap, cf.path)
        yield Hit(
            message=f"{cf.name} nests multus inside itself {mc.nesting_depth} level(s) deep (its delegates "
            f"contain another multus config). Each level runs Multus again for the same pod, so secondary "
            "interfaces are added twice (`interface name net1 already exists`, MC#549) and the file grows "
            f"on every restart of a pre-v4.1 thin DaemonSet"
            + (f" (now {size} bytes, JSON depth {depth})" if size is not None else "") + ".",
            fix=regen, path=cf.path, field=network_field(mc, "delegates"),
            evidence={"depth": mc.nesting_depth, "size": size, "json_depth": depth},
        )
    for fld, value, host in network_paths(snap, cf):
        got = read_network(snap, host)
        if got is None:
            continue
        target, obj = got
        tcfg = snap.memo("cni_config", target, functools.partial(_cni_or_none, obj))
        if tcfg is None or tcfg.multus_type is None:
            continue
        here = snap.fs.resolve_or_none(target)
        self_ref = here is not None and here == snap.fs.resolve_or_none(cf.path)
        inner = multus_mod.multus_depth(tcfg.plugins[0])
        depth_txt = "it points at itself, so the nesting has no end" if self_ref else \
            f"nesting depth {1 + inner}"
        yield Hit(
            message=f'"{fld}": "{value}" in {cf.name} loads {target}, which is itself a multus config '
            f"({depth_txt}): Multus runs Multus for every pod, adding its interfaces twice or looping until "
            "the runtime times out.",
            fix=f'Point "{fld}" at the primary CNI config'
            + (f" ({_as_written(snap, cf, primary.path)})" if primary else "") + ".",
            path=cf.path, field=fld,
            evidence={"target": target, "depth": None if self_ref else 1 + inner, "self": self_ref},
        )


def _as_written(snap: NodeSnapshot, cf: ConfFile, host: str) -> str:
    if cf.multus is not None and cf.multus.mode == "thick":
        return snap.thick_paths.to_pod(host) or host
    return host


def _text_depth(snap: NodeSnapshot, path: str) -> int | None:
    text = snap.fs.text_or_none(path)
    return json_depth(text) if text is not None else None


def _cni_or_none(obj: dict[str, Any]) -> cni_mod.CniConfig | None:
    try:
        return cni_mod.from_obj(obj)
    except ParseError:
        return None
