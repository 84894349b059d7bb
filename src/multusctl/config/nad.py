"""The CNI config inside a NetworkAttachmentDefinition (`spec.config`, a string), judged as libcni and
multus would load it. Pure: (JSON path, one-line reason) pairs, never an exception."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from multusctl.config.nad_ipam import ipam_problems

# libcni's known versions (containernetworking/cni pkg/version); multus refuses others at load.
CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
MAX_CONFIG = 1 << 20
# libcni's ValidateNetworkName (pkg/utils): what AddNetwork refuses as `invalid characters found in network name`.
_NET_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")
# Which plugins take an interface of the node, and under which key (nad-master-missing).
MASTER_KEYS = {"macvlan": "master", "ipvlan": "master", "vlan": "master", "host-device": "device"}
# (plugin type) -> the CNI versions its binary says it supports (CNI_COMMAND=VERSION), None when unknown.
Versions = Callable[[str], tuple[str, ...] | None]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _plugin_problems(obj: dict[str, Any], at: str, version: Any = None,
                     versions: Versions | None = None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind.strip():
        out.append((f"{at}.type", "has no plugin `type` (libcni: the binary to run)"))
    elif "/" in kind or kind in (".", ".."):
        out.append((f"{at}.type", f"plugin type {kind!r} is a path; libcni looks up a file name in CNI_PATH"))
    elif versions is not None and isinstance(version, str) and version in CNI_VERSIONS:
        supported = versions(kind)
        if supported is not None and version not in supported:
            out.append((f"{at}.type", f"plugin {kind} does not support cniVersion {version} (libcni: "
                        f"`incompatible CNI versions; config is \"{version}\", plugin supports "
                        f"{json.dumps(list(supported))}`)"))
    ipam = obj.get("ipam")
    if ipam is not None:
        if not isinstance(ipam, dict):
            out.append((f"{at}.ipam", f"ipam is a JSON {type(ipam).__name__}, not an object"))
        elif ipam and not isinstance(ipam.get("type"), str):
            out.append((f"{at}.ipam.type", "the ipam block has no `type` (host-local, static, whereabouts, dhcp)"))
        else:
            out.extend(ipam_problems(ipam, f"{at}.ipam"))
    key = MASTER_KEYS.get(kind) if isinstance(kind, str) else None
    if key and key in obj and (not isinstance(obj[key], str) or not 0 < len(obj[key].encode()) < 16):
        out.append((f"{at}.{key}", f"{key} {obj[key]!r} is not an interface name (1-15 bytes)"))
    return out


@lru_cache(maxsize=1 << 16)  # 10,000 distinct NADs must stay one parse each
def parsed(text: str) -> dict[str, Any] | None:
    """spec.config as a JSON object, None when it is not one (config_problems says why). Cached: every NAD
    check reads the same text, and a cluster's NADs repeat configs. Callers must not mutate the result."""
    try:
        doc = json.loads(text, parse_constant=_reject_constant) if len(text) <= MAX_CONFIG else None
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def plugins(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(JSON path, plugin object) of each plugin of a conf or conflist, in chain order."""
    if "plugins" in doc:
        items = doc["plugins"] if isinstance(doc["plugins"], list) else []
        return [(f"spec.config.plugins[{i}]", p) for i, p in enumerate(items) if isinstance(p, dict)]
    return [("spec.config", doc)]


def binaries(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path of the `type`, binary name) of every binary the chain runs: each plugin and its IPAM plugin."""
    out: list[tuple[str, str]] = []
    for at, p in plugins(doc):
        if isinstance(p.get("type"), str) and p["type"] and "/" not in p["type"]:
            out.append((f"{at}.type", p["type"]))
        ipam = p.get("ipam")
        if isinstance(ipam, dict) and isinstance(ipam.get("type"), str) and ipam["type"] and "/" not in ipam["type"]:
            out.append((f"{at}.ipam.type", ipam["type"]))
    return out


def config_problems(text: Any, versions: Versions | None = None) -> list[tuple[str, str]]:
    """What keeps `spec.config` from loading; [] when it loads (an empty config is valid: multus then reads
    the file named like the NAD from its confDir). `versions` answers what a plugin binary supports."""
    if not isinstance(text, str):
        return [("spec.config", f"spec.config is a {type(text).__name__}, not a string holding JSON")]
    if not text.strip():
        return []
    if len(text) > MAX_CONFIG:
        return [("spec.config", f"spec.config is {len(text)} bytes long (limit {MAX_CONFIG})")]
    try:
        doc = parsed(text) or json.loads(text, parse_constant=_reject_constant)  # the cached parse, else why not
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return [("spec.config", f"spec.config is not valid JSON: {reason}{where}")]
    if not isinstance(doc, dict):
        return [("spec.config", f"spec.config is a JSON {type(doc).__name__}, not an object")]
    out: list[tuple[str, str]] = []
    name = doc.get("name")
    if name not in (None, "") and (not isinstance(name, str) or not _NET_NAME.match(name)):
        # multus injects the NAD's name only when `name` is missing or empty (GetCNIConfigFromSpec)
        out.append(("spec.config.name", f"network name {name!r} has characters libcni refuses (`invalid "
                    "characters found in network name`; allowed: letters, digits, `_`, `.`, `-`)"))
    version = doc.get("cniVersion")
    if version is not None and version not in CNI_VERSIONS:
        out.append(("spec.config.cniVersion", f"cniVersion {version!r} is not one libcni knows "
                    f"({', '.join(CNI_VERSIONS)})"))
    if "plugins" in doc:
        plugins = doc["plugins"]
        if not isinstance(plugins, list) or not plugins:
            out.append(("spec.config.plugins", "plugins is not a non-empty list (libcni: `no plugins in list`)"))
            return out
        for i, p in enumerate(plugins):
            if not isinstance(p, dict):
                out.append((f"spec.config.plugins[{i}]", f"is a JSON {type(p).__name__}, not an object"))
            else:
                out.extend(_plugin_problems(p, f"spec.config.plugins[{i}]", version, versions))
        return out
    out.extend(_plugin_problems(doc, "spec.config", version, versions))
    return out
