"""NAD checks that need this node or the cluster's address plan (`multusctl nad validate|test`): the plugin
binaries, the node's interfaces, and IPAM ranges against the cluster/service CIDRs and each other. Each is a
plain function of a `gather.nads.NadSnapshot`; a fact the snapshot does not know keeps its check silent."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from multusctl.checks.cluster_nads import fix_for, nad_config, nad_name
from multusctl.checks.registry import Hit, check
from multusctl.config.nad import MASTER_KEYS, binaries, parsed, plugins
from multusctl.config.nad_ipam import ipam_ranges

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _docs(snap: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(NAD, its parsed spec.config) for each NAD whose config is a JSON object (nad-config-invalid covers the rest)."""
    for nad in getattr(snap, "nads", None) or []:
        text = nad_config(nad)
        doc = parsed(text) if isinstance(text, str) and text.strip() else None
        if doc is not None:
            yield nad, doc


@check("nad-plugin-missing")
def nad_plugin_missing(snap: Any) -> Iterator[Hit]:
    dirs = getattr(snap, "bin_dirs", None)
    if dirs is None:
        return
    found = getattr(snap, "plugins", {}) or {}
    shown = ", ".join(dirs) or "(none)"
    for nad, doc in _docs(snap):
        for at, name in binaries(doc):
            if name in found:
                continue
            yield Hit(message=f"NetworkAttachmentDefinition {nad_name(nad)}: plugin {name!r} is not in the CNI bin "
                      f"dirs of this node ({shown}). A pod that names this NAD fails its ADD with "
                      f"`failed to find plugin \"{name}\" in path [{' '.join(dirs)}]` and stays in ContainerCreating.",
                      fix=f"Install the {name} binary into {dirs[0] if dirs else 'the runtime bin dir'} (Debian: "
                      "containernetworking-plugins; or the reference plugins release), or fix the type "
                      f"({fix_for(nad)})",
                      path=nad_name(nad), field=at, evidence={"nad": nad_name(nad), "plugin": name, "bin_dirs": dirs})


@check("nad-master-missing")
def nad_master_missing(snap: Any) -> Iterator[Hit]:
    ifaces = getattr(snap, "interfaces", None)
    if ifaces is None:
        return
    for nad, doc in _docs(snap):
        for at, p in plugins(doc):
            kind = p.get("type")
            key = MASTER_KEYS.get(kind) if isinstance(kind, str) else None
            value = p.get(key) if key else None
            if key is None or not isinstance(value, str) or not value or value in ifaces:
                continue
            yield Hit(message=f"NetworkAttachmentDefinition {nad_name(nad)}: {p['type']} {key} {value!r} is not an "
                      "interface of this node. The plugin's ADD fails (`Link not found`) on every node that lacks "
                      "it; interface names often differ between nodes (eth0 vs ens3).",
                      fix=f"Use an interface the nodes have ({', '.join(sorted(ifaces)[:6])}), the same on every "
                      f"node a pod can land on ({fix_for(nad)})",
                      path=nad_name(nad), field=f"{at}.{key}", evidence={"nad": nad_name(nad), key: value})


def _ranges(snap: Any) -> list[tuple[dict[str, Any], str, Net]]:
    out: list[tuple[dict[str, Any], str, Net]] = []
    for nad, doc in _docs(snap):
        for at, p in plugins(doc):
            out.extend((nad, where, net) for where, net in ipam_ranges(p.get("ipam"), f"{at}.ipam"))
    return out


def _span(net: Net) -> tuple[int, int, int]:
    # From the prefix, not `broadcast_address`: that cached property costs ~15 us a range, 0.3 s for 10,000 NADs.
    start = int(net.network_address)
    return net.version, start, start + (1 << (net.max_prefixlen - net.prefixlen)) - 1


@check("nad-ipam-overlap")
def nad_ipam_overlap(snap: Any) -> Iterator[Hit]:
    ranges = _ranges(snap)
    planned = [(f"the cluster CIDR ({src})", n) for src, n in getattr(snap, "cluster_cidrs", [])] + \
              [(f"the service CIDR ({src})", n) for src, n in getattr(snap, "service_cidrs", [])]
    for nad, where, net in ranges:
        for what, cidr in planned:
            if net.version == cidr.version and net.overlaps(cidr):
                yield Hit(message=f"NetworkAttachmentDefinition {nad_name(nad)}: range {net} overlaps {what} {cidr}. "
                          "A pod then has two routes into the same addresses: traffic to pods or Services leaves "
                          "through the secondary interface, or addresses collide.",
                          fix=f"Pick a range outside {cidr} ({fix_for(nad)})", path=nad_name(nad), field=where,
                          evidence={"nad": nad_name(nad), "range": str(net), "overlaps": str(cidr)})
    # Between NADs: a sweep over ranges sorted by start (10,000 NADs must not cost 50 million comparisons); each
    # overlapping range is reported once, against the range reaching furthest before it.
    ordered = sorted(((_span(net), nad, where, net) for nad, where, net in ranges), key=lambda r: r[0])
    reach: tuple[int, int, dict[str, Any], str, Net] | None = None
    for (version, start, end), nad, where, net in ordered:
        if reach is not None and reach[0] == version and start <= reach[1] and reach[2] is not nad:
            other, other_at, other_net = reach[2], reach[3], reach[4]
            # whereabouts NADs naming the same range share one pool by design (network_name); not a clash.
            if not (other_net == net and _whereabouts(other, other_at) and _whereabouts(nad, where)):
                yield Hit(message=f"NetworkAttachmentDefinition {nad_name(nad)}: range {net} overlaps {other_net} of "
                          f"{nad_name(other)} ({other_at}). Each IPAM pool hands out the same addresses on its own, "
                          "so two pods can get one address.",
                          fix=f"Give each NAD its own range, or one shared whereabouts pool ({fix_for(nad)})",
                          path=nad_name(nad), field=where,
                          evidence={"nad": nad_name(nad), "range": str(net), "other": nad_name(other),
                                    "other_range": str(other_net)})
        if reach is None or reach[0] != version or end > reach[1]:
            reach = (version, end, nad, where, net)


def _whereabouts(nad: dict[str, Any], where: str) -> bool:
    return ".ipam." in where and ("range" in where.rsplit(".", 1)[-1] or "ipRanges" in where) and \
        "whereabouts" in str(nad_config(nad))
