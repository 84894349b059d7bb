"""The pod annotation `k8s.v1.cni.cncf.io/networks`, parsed with multus' rules and worded with its messages
(multus-cni v4.3.0 pkg/k8sclient/k8sclient.go: parsePodNetworkAnnotation, parsePodNetworkObjectName), and
multus' interface naming (pkg/multus/multus.go getIfname: a requested name, else `net<position>`, the
cluster network being position 0).

Pure: a list of `Selection`s or `AnnotationError` with multus' one-line message; never another exception.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from multusctl.records import dataclass, field

KEY = "k8s.v1.cni.cncf.io/networks"
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
IFNAMSIZ = 16
# Go's strings.TrimSpace: ASCII whitespace plus the Unicode White_Space set; str.strip() is close, but also strips
# \x1c-\x1f, which Go keeps. Spelled out so the two agree.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
# NetworkSelectionElement's JSON fields (pkg/types/types.go) and the Go type each decodes into.
_FIELDS: dict[str, tuple[str, type]] = {
    "name": ("string", str), "namespace": ("string", str), "ips": ("[]string", list), "mac": ("string", str),
    "infiniband-guid": ("string", str), "interface": ("string", str), "interfacerequest": ("string", str),
    "portmappings": ("[]*types.PortMapEntry", list), "bandwidth": ("types.BandwidthEntry", dict),
    "deviceid": ("string", str), "cni-args": ("map[string]interface {}", dict),
    "default-route": ("[]net.IP", list),
}


class AnnotationError(ValueError):
    """multus' own message for an annotation it refuses (what the pod's events show)."""


@dataclass(frozen=True)
class Selection:
    """One attachment the annotation names (a NetworkSelectionElement)."""

    name: str
    namespace: str
    interface: str = ""
    ips: tuple[str, ...] = ()
    mac: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # the other JSON keys, as given (runtimeConfig material)


def _trim(s: str) -> str:
    return s.strip(_GO_SPACE)


def parse_object_name(item: str) -> tuple[str, str, str]:
    """(namespace, name, ifname) of one `[namespace/]name[@ifname]` item, as parsePodNetworkObjectName."""
    pre = "parsePodNetworkObjectName: "
    slash = item.split("/")
    if len(slash) == 2:
        ns, name = _trim(slash[0]), slash[1]
    elif len(slash) == 1:
        ns, name = "", slash[0]
    else:
        raise AnnotationError(pre + "Invalid network object (failed at '/')")
    at = name.split("@")
    name, ifname = _trim(at[0]), ""
    if len(at) == 2:
        ifname = _trim(at[1])
    elif len(at) != 1:
        raise AnnotationError(pre + "Invalid network object (failed at '@')")
    for part in (ns, name):
        if part and not _DNS1123.match(part):
            raise AnnotationError(
                pre + "Failed to parse: one or more items did not match comma-delimited format (must consist of "
                "lower case alphanumeric characters). Must start and end with an alphanumeric character), "
                f"mismatch @ '{part}'")
    # Go counts bytes here (len of a string), not characters.
    if ifname and (len(ifname.encode("utf-8", "surrogatepass")) > IFNAMSIZ - 1
                   or any(c in ifname for c in " \t\n\v\f\r/")):
        raise AnnotationError(pre + "Failed to parse interface name: must be less than 15 chars and not contain '/' "
                              f"or spaces. interface name '{ifname}'")
    return ns, name, ifname


def _parse_mac(text: str) -> bool:
    """Go's net.ParseMAC: 6, 8 or 20 octets in `:`/`-` pairs or `.` quads."""
    if len(text) < 14:
        return False
    if text[2] in ":-":
        sep = text[2]
        if (len(text) + 1) % 3:
            return False
        n = (len(text) + 1) // 3
        parts = text.split(sep)
        return n in (6, 8, 20) and len(parts) == n and all(re.fullmatch(r"[0-9A-Fa-f]{2}", p) for p in parts)
    if text[4] == ".":
        if (len(text) + 1) % 5:
            return False
        n = 2 * (len(text) + 1) // 5
        parts = text.split(".")
        return n in (6, 8, 20) and all(re.fullmatch(r"[0-9A-Fa-f]{4}", p) for p in parts)
    return False


def _parse_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return "%" not in text  # Go's ParseIP refuses a zone


def _go_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}.get(
        type(value), "number")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN/Infinity are not JSON; Go's decoder refuses them


def _from_json(text: str) -> list[dict[str, Any]]:
    pre = "parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection Annotation JSON format: "
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise AnnotationError(pre + "exceeded max depth") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise AnnotationError(pre + "unexpected end of JSON input") from None
        raise AnnotationError(pre + f"invalid character {text[exc.pos]!r} ({exc.msg}, offset {exc.pos + 1})") from None
    except ValueError:
        raise AnnotationError(pre + "invalid character 'N' looking for beginning of value") from None
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise AnnotationError(pre + f"json: cannot unmarshal {_go_type(doc)} into Go value of type "
                              "[]*types.NetworkSelectionElement")
    out: list[dict[str, Any]] = []
    for el in doc:
        if el is None:
            # multus dereferences the nil element and panics; we say what it is instead.
            raise AnnotationError(pre + "a null element (multus crashes on it)")
        if not isinstance(el, dict):
            raise AnnotationError(pre + f"json: cannot unmarshal {_go_type(el)} into Go value of type "
                                  "types.NetworkSelectionElement")
        norm: dict[str, Any] = {}
        for key, value in el.items():
            spec = _FIELDS.get(key.lower())  # Go's decoder matches field names case-insensitively; last wins
            if spec is None:
                norm.setdefault("extra", {})[key] = value
                continue
            go, kind = spec
            if value is not None and not isinstance(value, kind):
                raise AnnotationError(pre + f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                                      f"NetworkSelectionElement.{key} of type {go}")
            if go == "[]string" and isinstance(value, list) and not all(isinstance(v, str) for v in value):
                bad = next(v for v in value if not isinstance(v, str))
                raise AnnotationError(pre + f"json: cannot unmarshal {_go_type(bad)} into Go struct field "
                                      f"NetworkSelectionElement.{key} of type string")
            norm[key.lower()] = value
        out.append(norm)
    return out


def parse(text: str, default_namespace: str = "default") -> list[Selection]:
    """The attachments of an annotation value, as multus reads them; AnnotationError with multus' message."""
    if text == "":
        raise AnnotationError('parsePodNetworkAnnotation: pod annotation does not have "network" as key')
    raw: list[dict[str, Any]] = []
    if any(c in text for c in '[{"'):
        raw = _from_json(text)
    else:
        for item in text.split(","):
            try:
                ns, name, ifname = parse_object_name(_trim(item))
            except AnnotationError as exc:
                raise AnnotationError(f"parsePodNetworkAnnotation: {exc}") from None
            raw.append({"name": name, "namespace": ns, "interface": ifname})
    out: list[Selection] = []
    for el in raw:
        mac = el.get("mac") or ""
        if mac and not _parse_mac(mac):
            raise AnnotationError(f"parsePodNetworkAnnotation: failed to mac: address {mac}: invalid MAC address")
        guid = el.get("infiniband-guid") or ""
        if guid and not _parse_mac(guid):
            raise AnnotationError("parsePodNetworkAnnotation: failed to validate infiniband GUID: address "
                                  f"{guid}: invalid MAC address")
        ips = tuple(el.get("ips") or ())
        for ip in ips:
            if "/" in ip:
                addr, _, bits = ip.partition("/")
                if not (_parse_ip(addr) and bits.isdigit() and len(bits) <= 3
                        and int(bits) <= (32 if "." in addr and ":" not in addr else 128)):
                    raise AnnotationError(f'failed to parse CIDR "{ip}": invalid CIDR address: {ip}')
            elif not _parse_ip(ip):
                raise AnnotationError(f'failed to parse IP address "{ip}"')
        iface = el.get("interface") or el.get("interfacerequest") or ""
        extra = dict(el.get("extra") or {})
        for key in ("portmappings", "bandwidth", "cni-args", "default-route", "deviceid", "infiniband-guid"):
            if el.get(key) is not None:
                extra[key] = el[key]
        out.append(Selection(name=el.get("name") or "", namespace=el.get("namespace") or default_namespace,
                             interface=iface, ips=ips, mac=mac, extra=extra))
    return out


def interface_names(selections: list[Selection]) -> list[str]:
    """multus' getIfname for each attachment: the requested name, else net<position> (1-based: the cluster
    network is delegate 0), so `a@foo,b` gives foo, net2."""
    return [s.interface or f"net{i}" for i, s in enumerate(selections, start=1)]
