"""The Multus configuration: the thin `00-multus.conf`, the thick shim conf, and `daemon-config.json`.

Key names are case-sensitive and unknown keys are silently ignored by Multus (FACTS.md §2), which is why
a misspelt key is worth a finding of its own.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from multusctl.config.cni import MULTUS_TYPES, CniConfig, from_obj
from multusctl.config.errors import ParseError

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
        "chrootDir", "cniConfigDir", "multusAutoconfigDir", "multusConfigFile", "multusMasterCNI",
        "socketDir", "daemonSocketDir", "forceCNIVersion", "metricsPort", "perNodeCertificate",
        "overwriteConfig", "readinessIndicatorFileDir",
    }
)
SHIM_KEYS = THIN_KEYS | frozenset({"daemonSocketDir", "socketDir"})

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


def suggest_key(key: str, valid: frozenset[str]) -> str | None:
    """The key a user most likely meant, or None when the key is plainly foreign."""
    if key in KNOWN_MISTAKES:
        return KNOWN_MISTAKES[key]
    lower = {k.lower(): k for k in valid}
    if key.lower() in lower:
        return lower[key.lower()]
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

    def get_str(self, key: str) -> str | None:
        v = self.plugin.get(key)
        return v if isinstance(v, str) else None

    @property
    def kubeconfig(self) -> str | None:
        return self.get_str("kubeconfig")

    @property
    def cluster_network(self) -> str | None:
        return self.get_str("clusterNetwork")

    @property
    def default_networks(self) -> list[str]:
        v = self.plugin.get("defaultNetworks")
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []

    @property
    def bin_dir(self) -> str:
        return self.get_str("binDir") or DEFAULT_BIN_DIR

    @property
    def conf_dir(self) -> str:
        return self.get_str("confDir") or DEFAULT_CONF_DIR

    @property
    def socket_dir(self) -> str:
        return self.get_str("daemonSocketDir") or self.get_str("socketDir") or DEFAULT_SOCKET_DIR


def multus_depth(obj: Any) -> int:
    """How many multus configs are nested inside `obj` (delegates / plugins), counted without recursion."""
    best = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        children: list[Any] = []
        for key in ("delegates", "plugins"):
            v = node.get(key)
            if isinstance(v, list):
                children.extend(v)
        for child in children:
            if isinstance(child, dict):
                is_multus = child.get("type") in MULTUS_TYPES or (
                    isinstance(child.get("plugins"), list)
                    and child["plugins"]
                    and isinstance(child["plugins"][0], dict)
                    and child["plugins"][0].get("type") in MULTUS_TYPES
                )
                d = depth + 1 if is_multus and child is not node else depth
                best = max(best, d)
                stack.append((child, d))
    return best


def from_cni(cni: CniConfig) -> MultusConfig:
    mtype = cni.multus_type
    if mtype is None:
        raise ParseError("not a Multus config (type is neither multus nor multus-shim)")
    plugin = cni.plugins[0]
    mc = MultusConfig(raw=cni.raw, cni=cni, plugin=plugin, mode="thin" if mtype == "multus" else "thick")
    raw_delegates = plugin.get("delegates")
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

    def get_str(self, key: str) -> str | None:
        v = self.raw.get(key)
        return v if isinstance(v, str) else None

    @property
    def chroot_dir(self) -> str | None:
        return self.get_str("chrootDir")


def daemon_from_obj(obj: Any) -> DaemonConfig:
    if not isinstance(obj, dict):
        raise ParseError(f"daemon-config.json must be a JSON object, not {type(obj).__name__}")
    return DaemonConfig(obj)
