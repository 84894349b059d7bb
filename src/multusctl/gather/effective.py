"""The multus config as Multus itself sees it: merge rules applied once, every value traceable to its line.

Checks ask `snap.effective.get("binDir")` and get the value, the file that set it and the field (JSON path,
as spelled there), instead of re-deriving "daemon-config.json over the shim conf" each on their own.

Upstream rules (multus-cni v4, verified in the sources):
- Thin: the runtime hands the multus plugin object to `multus`, which decodes it into its NetConf with Go's
  `encoding/json`: a key matches a field exactly or case-insensitively, and the last matching key in the
  document wins (`config.multus.lookup`).
- Thick: the daemon decodes the shim's request config and `daemon-config.json` as Go maps, copies every
  key of daemon-config over the request's (exact keys: `readinessIndicatorFile` and `readinessindicatorfile`
  are two keys), skipping only the exact key `readinessindicatorfile` when `multusConfigFile` is `auto`
  (the config manager watches that file itself), and re-encodes the map (`pkg/server/server.go`
  overrideCNIConfigWithServerConfig). `json.Marshal` sorts map keys, so the NetConf decode sees them in
  byte order: on a case-only collision the lowercase spelling comes last and wins, not the later file.
"""

from __future__ import annotations

from typing import Any

from multusctl.records import dataclass, field

# The exact key the daemon drops from daemon-config.json when it generates the multus config itself.
DAEMON_DROPPED_KEY = "readinessindicatorfile"


@dataclass(frozen=True)
class Setting:
    """One key=value as decoded, with where it came from."""

    key: str  # as spelled in its file
    value: Any
    source: str  # node path of the file that set it
    field: str  # JSON path in that file, e.g. "plugins[0].binDir"

    @property
    def text(self) -> str | None:
        return self.value if isinstance(self.value, str) else None


@dataclass
class EffectiveConfig:
    """The multus NetConf a pod ADD runs with (thin: the conf; thick: the daemon's merge of shim + daemon)."""

    mode: str  # "thin" | "thick"
    entries: list[Setting]  # in the order Go's decoder meets them
    dropped: list[Setting] = field(default_factory=list)  # daemon-config keys the daemon does not forward

    def get(self, key: str) -> Setting | None:
        """The setting that fills field `key` (case-insensitive, last spelling wins), or None."""
        low = key.lower()
        found = None
        for s in self.entries:
            if s.key.lower() == low:
                found = s
        return found

    def value(self, key: str) -> Any:
        s = self.get(key)
        return s.value if s is not None else None

    def text(self, key: str) -> str | None:
        """The value of `key` when it is a non-empty string."""
        s = self.get(key)
        return s.text if s is not None and s.text else None

    def spellings(self, key: str) -> list[Setting]:
        """Every setting that decodes into `key`, in decode order (more than one: a case-only collision)."""
        low = key.lower()
        return [s for s in self.entries if s.key.lower() == low]


def _settings(obj: dict[str, Any], source: str, prefix: str) -> list[Setting]:
    return [Setting(str(k), v, source, f"{prefix}{k}") for k, v in obj.items()]


def decode(obj: dict[str, Any], source: str, prefix: str = "", mode: str = "thin") -> EffectiveConfig:
    """One JSON object as Go decodes it into a struct: a thin conf, or daemon-config.json for the daemon's
    own settings (socketDir, chrootDir, ...), which it reads from that file alone."""
    return EffectiveConfig(mode, _settings(obj, source, prefix))


def thin(plugin: dict[str, Any], source: str, prefix: str = "") -> EffectiveConfig:
    return decode(plugin, source, prefix, "thin")


def thick(shim: dict[str, Any], shim_source: str, shim_prefix: str, daemon: dict[str, Any] | None,
          daemon_source: str | None) -> EffectiveConfig:
    """The daemon's merge of the shim's request config with daemon-config.json (None: no daemon-config)."""
    merged: dict[str, Setting] = {s.key: s for s in _settings(shim, shim_source, shim_prefix)}
    dropped: list[Setting] = []
    if daemon is not None and daemon_source is not None:
        auto = _daemon_value(daemon, "multusConfigFile") == "auto"
        for s in _settings(daemon, daemon_source, ""):
            if auto and s.key == DAEMON_DROPPED_KEY:
                dropped.append(s)
                continue
            merged[s.key] = s
    # json.Marshal of a Go map: keys in byte order of their UTF-8 encoding.
    ordered = sorted(merged.values(), key=lambda s: s.key.encode("utf-8", "surrogatepass"))
    return EffectiveConfig("thick", ordered, dropped)


def _daemon_value(obj: dict[str, Any], key: str) -> Any:
    from multusctl.config.multus import lookup

    return lookup(obj, key)
