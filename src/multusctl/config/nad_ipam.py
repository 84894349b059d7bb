"""The IPAM block of a NAD plugin, judged by the shape its IPAM plugin reads (host-local, static, whereabouts,
dhcp), and the address ranges it hands out (for nad-ipam-overlap). Pure; never an exception."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Problem = tuple[str, str]


def _net(value: Any) -> Net | None:
    return _cidr(value) if isinstance(value, str) else None


@lru_cache(maxsize=1 << 16)  # ipaddress is slow, and validation and the overlap check read each range
def _cidr(value: str) -> Net | None:
    """A CIDR as the plugins parse it (net.ParseCIDR: host bits allowed, so `10.1.2.3/24` is 10.1.2.0/24)."""
    if "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _cidr_field(obj: dict[str, Any], key: str, at: str, out: list[Problem], *, required: bool) -> Net | None:
    if key not in obj:
        if required:
            out.append((f"{at}.{key}", f"the IPAM block has no `{key}` (a CIDR such as 10.10.0.0/24)"))
        return None
    net = _net(obj[key])
    if net is None:
        out.append((f"{at}.{key}", f"{key} {obj[key]!r} is not a CIDR (e.g. 10.10.0.0/24)"))
    return net


def _ip_in(obj: dict[str, Any], key: str, net: Net | None, at: str, out: list[Problem]) -> None:
    if key not in obj:
        return
    ip = _ip(obj[key])
    if ip is None:
        out.append((f"{at}.{key}", f"{key} {obj[key]!r} is not an IP address"))
    elif net is not None and ip not in net:
        out.append((f"{at}.{key}", f"{key} {ip} is outside the subnet {net}"))


def _routes(ipam: dict[str, Any], at: str, out: list[Problem]) -> None:
    routes = ipam.get("routes")
    if routes is None:
        return
    if not isinstance(routes, list):
        out.append((f"{at}.routes", "routes is not a list of {\"dst\": CIDR}"))
        return
    for i, r in enumerate(routes):
        if not isinstance(r, dict) or _net(r.get("dst")) is None:
            out.append((f"{at}.routes[{i}].dst", "a route needs `dst`, a CIDR (0.0.0.0/0 for a default route)"))


def _host_local(ipam: dict[str, Any], at: str, out: list[Problem]) -> None:
    if "ranges" in ipam:
        ranges = ipam["ranges"]
        if not isinstance(ranges, list) or not ranges:
            out.append((f"{at}.ranges", "ranges is not a non-empty list of range sets (lists of {\"subnet\": ...})"))
            return
        for i, rset in enumerate(ranges):
            if not isinstance(rset, list) or not rset:
                out.append((f"{at}.ranges[{i}]", "a range set is a non-empty list of {\"subnet\": CIDR}"))
                continue
            for j, r in enumerate(rset):
                where = f"{at}.ranges[{i}][{j}]"
                if not isinstance(r, dict):
                    out.append((where, "a range is an object with `subnet`"))
                    continue
                net = _cidr_field(r, "subnet", where, out, required=True)
                for key in ("rangeStart", "rangeEnd", "gateway"):
                    _ip_in(r, key, net, where, out)
    elif "subnet" in ipam:
        net = _cidr_field(ipam, "subnet", at, out, required=True)
        for key in ("rangeStart", "rangeEnd", "gateway"):
            _ip_in(ipam, key, net, at, out)
    else:
        out.append((f"{at}.ranges", "host-local needs `ranges` (or the older `subnet`): it has no addresses to "
                    "hand out (`no IP ranges specified`)"))
    if "dataDir" in ipam and not isinstance(ipam["dataDir"], str):
        out.append((f"{at}.dataDir", "dataDir is not a path string"))
    _routes(ipam, at, out)


def _static(ipam: dict[str, Any], at: str, out: list[Problem]) -> None:
    addrs = ipam.get("addresses")
    if addrs is not None:
        if not isinstance(addrs, list):
            out.append((f"{at}.addresses", "addresses is not a list of {\"address\": CIDR}"))
        else:
            for i, a in enumerate(addrs):
                where = f"{at}.addresses[{i}]"
                if not isinstance(a, dict):
                    out.append((where, "an address is an object with `address` (a CIDR such as 10.10.0.5/24)"))
                    continue
                net = _cidr_field(a, "address", where, out, required=True)
                _ip_in(a, "gateway", net, where, out)
    _routes(ipam, at, out)


def _whereabouts(ipam: dict[str, Any], at: str, out: list[Problem]) -> None:
    pools = ipam.get("ipRanges")
    if pools is not None:
        if not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools):
            out.append((f"{at}.ipRanges", "ipRanges is not a list of {\"range\": CIDR}"))
        else:
            for i, p in enumerate(pools):
                _cidr_field(p, "range", f"{at}.ipRanges[{i}]", out, required=True)
    if "range" in ipam or pools is None:
        net = _cidr_field(ipam, "range", at, out, required=pools is None)
        for key in ("range_start", "range_end", "gateway"):
            _ip_in(ipam, key, net, at, out)
    excl = ipam.get("exclude")
    if excl is not None and (not isinstance(excl, list) or any(_net(e) is None for e in excl)):
        out.append((f"{at}.exclude", "exclude is not a list of CIDRs"))
    _routes(ipam, at, out)


_SHAPES = {"host-local": _host_local, "static": _static, "whereabouts": _whereabouts}


def ipam_problems(ipam: dict[str, Any], at: str) -> list[Problem]:
    """What the IPAM plugin named by `ipam.type` would refuse; other IPAM types are not judged (dhcp reads
    nothing from the block; its daemon must run on the node)."""
    out: list[Problem] = []
    shape = _SHAPES.get(str(ipam.get("type")))
    if shape is not None:
        shape(ipam, at, out)
    return out


def ipam_ranges(ipam: Any, at: str) -> list[tuple[str, Net]]:
    """(JSON path, network) of every range the block hands out addresses from."""
    if not isinstance(ipam, dict):
        return []
    out: list[tuple[str, Net]] = []
    kind = ipam.get("type")
    if kind == "host-local":
        ranges = ipam.get("ranges")
        if isinstance(ranges, list):
            for i, rset in enumerate(ranges):
                for j, r in enumerate(rset if isinstance(rset, list) else []):
                    if isinstance(r, dict) and (n := _net(r.get("subnet"))) is not None:
                        out.append((f"{at}.ranges[{i}][{j}].subnet", n))
        elif (n := _net(ipam.get("subnet"))) is not None:
            out.append((f"{at}.subnet", n))
    elif kind == "whereabouts":
        if (n := _net(ipam.get("range"))) is not None:
            out.append((f"{at}.range", n))
        pools = ipam.get("ipRanges")
        for i, p in enumerate(pools if isinstance(pools, list) else []):
            if isinstance(p, dict) and (n := _net(p.get("range"))) is not None:
                out.append((f"{at}.ipRanges[{i}].range", n))
    elif kind == "static":
        addrs = ipam.get("addresses")
        for i, a in enumerate(addrs if isinstance(addrs, list) else []):
            if isinstance(a, dict) and _net(a.get("address")) is not None:
                # a static address takes one address, not its whole subnet
                host = ipaddress.ip_network(a["address"].split("/")[0])
                out.append((f"{at}.addresses[{i}].address", host))
    return out
