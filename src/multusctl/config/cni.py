"""CNI network configurations: a single-plugin `.conf` or a `.conflist` chain."""

from __future__ import annotations

from typing import Any

from multusctl.config.errors import ParseError
from multusctl.config.jsonload import loads
from multusctl.records import dataclass, field

CONF_EXTENSIONS = (".conf", ".conflist", ".json")
MULTUS_TYPES = ("multus", "multus-shim")


@dataclass
class CniConfig:
    """A parsed conf or conflist. `plugins` is the chain (a single conf is a chain of one)."""

    raw: dict[str, Any]
    is_list: bool
    name: str | None
    cni_version: str | None
    plugins: list[dict[str, Any]] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [str(p.get("type")) for p in self.plugins if isinstance(p.get("type"), str)]

    @property
    def first_type(self) -> str | None:
        # types[0] without building the list: asked of every conf file several times.
        return next((t for p in self.plugins if isinstance(t := p.get("type"), str)), None)

    @property
    def multus_type(self) -> str | None:
        """'multus' (thin) or 'multus-shim' (thick) when the first plugin of the chain is Multus."""
        t = self.first_type
        return t if t in MULTUS_TYPES else None


def from_obj(obj: Any, *, what: str = "CNI config") -> CniConfig:
    if not isinstance(obj, dict):
        raise ParseError(f"{what} must be a JSON object, not {type(obj).__name__}")
    name = obj.get("name") if isinstance(obj.get("name"), str) else None
    version = obj.get("cniVersion") if isinstance(obj.get("cniVersion"), str) else None
    if "plugins" in obj:
        plugins = obj["plugins"]
        if not isinstance(plugins, list) or not plugins:
            raise ParseError(f"{what}: 'plugins' must be a non-empty list")
        for i, p in enumerate(plugins):
            if not isinstance(p, dict) or not isinstance(p.get("type"), str) or not p.get("type"):
                raise ParseError(f"{what}: plugins[{i}] has no 'type'")
        return CniConfig(obj, True, name, version, list(plugins))
    if not isinstance(obj.get("type"), str) or not obj.get("type"):
        raise ParseError(f"{what} has neither 'type' nor 'plugins'")
    return CniConfig(obj, False, name, version, [obj])


def parse(text: str | bytes, *, what: str = "CNI config") -> CniConfig:
    return from_obj(loads(text), what=what)


def runtime_load_error(obj: Any, filename: str) -> str | None:
    """What libcni (containerd's go-cni, CRI-O's ocicni) says when it loads this parsed file, or None.

    The runtime chooses the parser by extension, not by content (libcni/conf.go): a `.conflist` goes
    through NetworkConfFromBytes (needs a string `name` and a non-empty `plugins` list of objects with a
    `type`), anything else through ConfFromBytes (needs a `type`). So a conflist saved as `.conf`, or a
    single conf saved as `.conflist`, is rejected even though its JSON is fine.
    """
    if not isinstance(obj, dict):
        return f"the file holds a JSON {type(obj).__name__}, not an object"
    if filename.endswith(".conflist"):
        name = obj.get("name")
        if name is None:
            return "error parsing configuration list: no name"
        if not isinstance(name, str):
            return "error parsing configuration list: 'name' is not a string"
        if "cniVersion" in obj and not isinstance(obj["cniVersion"], str):
            return "error parsing configuration list: 'cniVersion' is not a string"
        plugins = obj.get("plugins")
        if plugins is None:
            hint = " (a single-plugin config must be saved as .conf)" if "type" in obj else ""
            return f"no 'plugins' key, so libcni finds no plugin configs{hint}"
        if not isinstance(plugins, list):
            return "error parsing configuration list: 'plugins' is not a list"
        if not plugins:
            return "error parsing configuration list: no plugins in list"
        for i, p in enumerate(plugins):
            if not isinstance(p, dict) or not isinstance(p.get("type"), str) or not p.get("type"):
                return f"failed to parse plugin config {i}: missing 'type'"
        return None
    t = obj.get("type")
    if t is None or t == "":
        hint = " (it holds a 'plugins' list: save it as .conflist)" if "plugins" in obj else ""
        return f"network type not found: missing 'type'{hint}"
    if not isinstance(t, str):
        return "error parsing configuration: 'type' is not a string"
    for key in ("name", "cniVersion"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            return f"error parsing configuration: '{key}' is not a string"
    return None


def version_tuple(version: str | None) -> tuple[int, int, int] | None:
    """'0.3.1' -> (0, 3, 1); None for anything that is not a dotted version."""
    if not version:
        return None
    parts = version.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return (nums[0], nums[1], nums[2])
