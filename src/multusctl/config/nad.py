"""The CNI config inside a NetworkAttachmentDefinition (`spec.config`, a string), judged as libcni and
multus would load it. Pure: (JSON path, one-line reason) pairs, never an exception."""

from __future__ import annotations

import json
from typing import Any

# libcni's known versions (containernetworking/cni pkg/version); multus refuses others at load.
CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
MAX_CONFIG = 1 << 20


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _plugin_problems(obj: dict[str, Any], at: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind.strip():
        out.append((f"{at}.type", "has no plugin `type` (libcni: the binary to run)"))
    elif "/" in kind or kind in (".", ".."):
        out.append((f"{at}.type", f"plugin type {kind!r} is a path; libcni looks up a file name in CNI_PATH"))
    ipam = obj.get("ipam")
    if ipam is not None:
        if not isinstance(ipam, dict):
            out.append((f"{at}.ipam", f"ipam is a JSON {type(ipam).__name__}, not an object"))
        elif ipam and not isinstance(ipam.get("type"), str):
            out.append((f"{at}.ipam.type", "the ipam block has no `type` (host-local, static, whereabouts, dhcp)"))
    return out


def config_problems(text: Any) -> list[tuple[str, str]]:
    """What keeps `spec.config` from loading; [] when it loads (an empty config is valid: multus then reads
    the file named like the NAD from its confDir)."""
    if not isinstance(text, str):
        return [("spec.config", f"spec.config is a {type(text).__name__}, not a string holding JSON")]
    if not text.strip():
        return []
    if len(text) > MAX_CONFIG:
        return [("spec.config", f"spec.config is {len(text)} bytes long (limit {MAX_CONFIG})")]
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return [("spec.config", f"spec.config is not valid JSON: {reason}{where}")]
    if not isinstance(doc, dict):
        return [("spec.config", f"spec.config is a JSON {type(doc).__name__}, not an object")]
    out: list[tuple[str, str]] = []
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
                out.extend(_plugin_problems(p, f"spec.config.plugins[{i}]"))
        return out
    out.extend(_plugin_problems(doc, "spec.config"))
    return out
