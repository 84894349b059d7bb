"""The Multus configuration: the thin `00-multus.conf`, the thick shim conf, and `daemon-config.json`.

Multus decodes these files with Go's encoding/json into structs, which has two consequences modelled
here (verified in multus-cni pkg/types/conf.go, LoadNetConf -> json.Unmarshal into NetConf):
- an unknown key is silently ignored, so a misspelt key is worth a finding of its own;
- a key that differs from a known one only in letter case is NOT ignored: encoding/json matches struct
  fields case-insensitively ("readinessIndicatorFile" sets `readinessindicatorfile`), and when several
  spellings are present the last one in the file wins. `lookup` reproduces that.
- a known key with a value of the wrong JSON type makes the whole decode fail, so every pod ADD fails.
"""

from __future__ import annotations

from typing import Any

from multusctl.config.cni import MULTUS_TYPES, CniConfig, from_obj
from multusctl.config.errors import ParseError
from multusctl.records import dataclass, field

# Keys read from a thin config by pkg/types/types.go NetConf (plus the CNI spec's own keys).
THIN_KEYS = frozenset(
    {
        "name", "type", "cniVersion", "capabilities", "args", "runtimeConfig", "prevResult", "dns", "ipam",
        "confDir", "cniDir", "binDir", "kubeconfig", "delegates", "clusterNetwork", "defaultNetworks",
        "logFile", "logLevel", "logToStderr", "logOptions", "readinessindicatorfile", "namespaceIsolation",
        "globalNamespaces", "systemNamespaces", "multusNamespace", "retryDeleteOnError",
        "auxiliaryCNIChainName", "plugins",
    }
)
# Keys the thick daemon reads from daemon-config.json (pkg/server/config); the rest are copied into each
# CNI request, so every thin key is valid here too.
DAEMON_KEYS = THIN_KEYS | frozenset(
    {
        # pkg/server ControllerNetConf
        "chrootDir", "socketDir", "metricsPort", "perNodeCertificate",
        # pkg/server/config MultusConf (ParseMultusConfig)
        "cniConfigDir", "multusAutoconfigDir", "multusConfigFile", "multusMasterCNI", "daemonSocketDir",
        "forceCNIVersion", "overrideNetworkName",
    }
)
# The shim conf is sent whole to the daemon, which lays daemon-config.json over it and parses the result
# as a thin NetConf; the daemon's generator also writes these into it.
SHIM_KEYS = THIN_KEYS | frozenset({"daemonSocketDir", "socketDir", "overrideNetworkName"})
# Top-level keys of a .conflist read by libcni (the multus plugin's own keys live in plugins[0]).
CONFLIST_KEYS = frozenset(
    {"cniVersion", "cniVersions", "name", "plugins", "disableCheck", "disableGC", "loadOnlyInlinedPlugins"}
)

# Misspellings seen in the wild (docs, blog posts, the thin entrypoint) -> the key Multus reads.
KNOWN_MISTAKES = {
    "readinessIndicatorFile": "readinessindicatorfile",
    "readinessIndicatorfile": "readinessindicatorfile",
    "allowTryDeleteOnErr": "retryDeleteOnError",
    "kubeConfig": "kubeconfig",
    "Kubeconfig": "kubeconfig",
    "confdir": "confDir",
    "cnidir": "cniDir",
    "bindir": "binDir",
    "cniConf": None,  # written by the thin entrypoint, read by nothing
    "logfile": "logFile",
    "loglevel": "logLevel",
    "clusternetwork": "clusterNetwork",
    "defaultnetworks": "defaultNetworks",
    "namespaceisolation": "namespaceIsolation",
    "globalnamespaces": "globalNamespaces",
}

LOG_LEVELS = ("debug", "verbose", "error", "panic")

# Keys whose value is a filesystem path (string) or a list of paths.
PATH_KEYS = ("kubeconfig", "binDir", "confDir", "cniDir", "readinessindicatorfile", "logFile")
DAEMON_PATH_KEYS = (*PATH_KEYS, "cniConfigDir", "multusAutoconfigDir", "socketDir", "chrootDir")

DEFAULT_CONF_DIR = "/etc/cni/multus/net.d"
DEFAULT_BIN_DIR = "/opt/cni/bin"
DEFAULT_CNI_DIR = "/var/lib/cni/multus"
DEFAULT_SOCKET_DIR = "/run/multus"


def lookup(obj: dict[str, Any], key: str) -> Any:
    """`obj[key]` the way Go's encoding/json fills a struct field tagged `key`: exact or case-insensitive
    spelling, the last one in the document winning. None when absent."""
    # (An exact key with no other spelling is the last spelling too: one pass answers both cases.) The field
    # names are ASCII, and a key whose lower() is ASCII has the same length, so the length test skips the
    # lower() of nearly every other key.
    low = key.lower()
    n = len(low) if low.isascii() else -1
    found = None
    for k, v in obj.items():
        if (len(k) == n or n < 0) and (k == key or k.lower() == low):
            found = v
    return found


def spellings(obj: dict[str, Any], key: str) -> list[str]:
    """Every key of `obj` that Go would decode into the field `key`, in document order."""
    low = key.lower()
    return [k for k in obj if k.lower() == low]


# JSON types of NetConf fields (pkg/types/types.go + the embedded CNI types.NetConf). A value of another
# type (JSON null aside) makes json.Unmarshal fail, and multus then rejects every ADD with
# "LoadNetConf: failed to load netconf: json: cannot unmarshal ...".
_STR, _BOOL, _OBJ, _LIST_STR, _LIST_OBJ = "string", "boolean", "object", "list of strings", "list of objects"
NETCONF_TYPES: dict[str, str] = {
    "name": _STR, "type": _STR, "cniVersion": _STR, "confDir": _STR, "cniDir": _STR, "binDir": _STR,
    "clusterNetwork": _STR, "kubeconfig": _STR, "logFile": _STR, "logLevel": _STR,
    "readinessindicatorfile": _STR, "globalNamespaces": _STR, "auxiliaryCNIChainName": _STR,
    "multusNamespace": _STR, "logToStderr": _BOOL, "namespaceIsolation": _BOOL, "retryDeleteOnError": _BOOL,
    "defaultNetworks": _LIST_STR, "systemNamespaces": _LIST_STR, "delegates": _LIST_OBJ,
    "capabilities": _OBJ, "ipam": _OBJ, "dns": _OBJ, "logOptions": _OBJ, "runtimeConfig": _OBJ,
    "prevResult": _OBJ,
}
_LOWER = {key: key.lower() for key in NETCONF_TYPES}


def _json_type_ok(value: Any, want: str) -> bool:
    if value is None:
        return True  # Go leaves the field at its zero value
    if want == _STR:
        return isinstance(value, str)
    if want == _BOOL:
        return isinstance(value, bool)
    if want == _OBJ:
        return isinstance(value, dict)
    if want == _LIST_STR:
        return isinstance(value, list) and all(isinstance(x, str) or x is None for x in value)
    if want == _LIST_OBJ:
        return isinstance(value, list) and all(isinstance(x, dict) or x is None for x in value)
    return True


def json_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def netconf_type_errors(plugin: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key as written, expected type, found type) for each value multus cannot decode."""
    out = []
    by_low: dict[str, list[str]] = {}  # spellings() of every field at once, each in document order
    for k in plugin:
        by_low.setdefault(k.lower(), []).append(k)
    for key, want in NETCONF_TYPES.items():
        for k in by_low.get(_LOWER[key], ()):
            if not _json_type_ok(plugin[k], want):
                out.append((k, want, json_type_name(plugin[k])))
    caps = lookup(plugin, "capabilities")
    if isinstance(caps, dict):
        for name, v in caps.items():
            if v is not None and not isinstance(v, bool):
                out.append((f"capabilities.{name}", _BOOL, json_type_name(v)))
    return out


def suggest_key(key: str, valid: frozenset[str]) -> str | None:
    """The key a user most likely meant, or None when the key is plainly foreign."""
    if key in KNOWN_MISTAKES:
        return KNOWN_MISTAKES[key]
    lower = {k.lower(): k for k in valid}
    if key.lower() in lower:
        return lower[key.lower()]
    import difflib  # only for an unknown key: not on a healthy node's path

    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.85)
    return close[0] if close else None


@dataclass
class MultusConfig:
    """A Multus CNI config (thin `type: multus` or thick `type: multus-shim`)."""

    raw: dict[str, Any]
    cni: CniConfig
    plugin: dict[str, Any]  # the multus plugin object (the first of the chain for a conflist)
    mode: str  # "thin" | "thick"
    delegates: list[CniConfig] = field(default_factory=list)
    delegate_errors: list[str] = field(default_factory=list)
    nesting_depth: int = 0  # how many multus configs are nested inside this one

    def get(self, key: str) -> Any:
        """The value multus sees for `key` (Go's case-insensitive field match, last spelling wins)."""
        # Checks ask each config for several keys: index the spellings once (rebuilt if keys are added).
        plugin = self.plugin
        index = self.__dict__.get("_spelling")
        if index is None or index[0] is not plugin or index[1] != len(plugin):
            index = (plugin, len(plugin), {k.lower(): k for k in plugin})  # the last spelling wins
            self.__dict__["_spelling"] = index
        low = key.lower()
        if not low.isascii():
            return lookup(plugin, key)
        spelled = index[2].get(low)
        return None if spelled is None else plugin.get(spelled)

    def get_str(self, key: str) -> str | None:
        v = self.get(key)
        return v if isinstance(v, str) else None

    @property
    def kubeconfig(self) -> str | None:
        return self.get_str("kubeconfig")

    @property
    def cluster_network(self) -> str | None:
        return self.get_str("clusterNetwork")

    @property
    def default_networks(self) -> list[str]:
        v = self.get("defaultNetworks")
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []

    @property
    def bin_dir(self) -> str:
        return self.get_str("binDir") or DEFAULT_BIN_DIR

    @property
    def conf_dir(self) -> str:
        return self.get_str("confDir") or DEFAULT_CONF_DIR

    @property
    def socket_dir(self) -> str:
        # Every released shim reads only daemonSocketDir (pkg/server/api/shim.go v4.0.0:37, v4.3.0); a shim
        # reading `socketDir` existed only in the pre-release v4.0.0-alpha, and v3 had no shim at all.
        return self.get_str("daemonSocketDir") or DEFAULT_SOCKET_DIR


def multus_depth(obj: Any) -> int:
    """How many multus configs are nested inside `obj` (delegates / plugins), counted without recursion.

    A plugin object whose type is multus counts one level; a conflist wrapping it does not count again.
    """
    best = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        for key in ("delegates", "plugins"):
            children = node.get(key)
            if not isinstance(children, list):
                continue
            for child in children:
                if not isinstance(child, dict):
                    continue
                d = depth + 1 if child.get("type") in MULTUS_TYPES else depth
                best = max(best, d)
                stack.append((child, d))
    return best


def from_cni(cni: CniConfig) -> MultusConfig:
    mtype = cni.multus_type
    if mtype is None:
        raise ParseError("not a Multus config (type is neither multus nor multus-shim)")
    plugin = cni.plugins[0]
    mc = MultusConfig(raw=cni.raw, cni=cni, plugin=plugin, mode="thin" if mtype == "multus" else "thick")
    raw_delegates = lookup(plugin, "delegates")
    if isinstance(raw_delegates, list):
        for i, d in enumerate(raw_delegates):
            try:
                mc.delegates.append(from_obj(d, what=f"delegates[{i}]"))
            except ParseError as exc:
                mc.delegate_errors.append(str(exc))
    elif raw_delegates is not None:
        mc.delegate_errors.append("'delegates' must be a list")
    mc.nesting_depth = multus_depth(plugin)
    return mc


@dataclass
class DaemonConfig:
    """`daemon-config.json` of the thick plugin. Every path in it is read *inside the daemon pod*."""

    raw: dict[str, Any]

    def get(self, key: str) -> Any:
        return lookup(self.raw, key)

    def get_str(self, key: str) -> str | None:
        v = self.get(key)
        return v if isinstance(v, str) else None

    @property
    def chroot_dir(self) -> str | None:
        return self.get_str("chrootDir")


def daemon_from_obj(obj: Any) -> DaemonConfig:
    if not isinstance(obj, dict):
        raise ParseError(f"daemon-config.json must be a JSON object, not {type(obj).__name__}")
    return DaemonConfig(obj)
