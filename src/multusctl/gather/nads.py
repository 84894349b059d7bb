"""What the NAD checks judge, gathered once: the NADs, and what this node can tell about them (the plugin
binaries in the bin dirs of --root and the CNI versions they support, the node's interfaces, the cluster
and service CIDRs, the files of multus' confDir for a NAD with an empty config).

Checks read only this snapshot (docs/DESIGN.md: gathering does the I/O, checks judge). A field left None
means "not known here", and the checks that need it stay silent rather than guess.
"""

from __future__ import annotations

import ipaddress
import json
import os
import posixpath
from typing import Any

from multusctl.config.multus import DEFAULT_CONF_DIR
from multusctl.config.nad import binaries, parsed
from multusctl.records import dataclass, field

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Plugin:
    path: str  # as the node sees it
    versions: tuple[str, ...] | None = None  # CNI_COMMAND=VERSION's supportedVersions; None: not asked


@dataclass
class NadSnapshot:
    nads: list[dict[str, Any]]
    # Where each NAD came from (a file, `-`, the cluster), parallel to nads.
    sources: list[str] = field(default_factory=list)
    root: str = "/"
    bin_dirs: list[str] | None = None  # node paths; None: no node to look at
    plugins: dict[str, Plugin] = field(default_factory=dict)  # binary name -> found
    interfaces: set[str] | None = None  # None: not run on the node
    cluster_cidrs: list[tuple[str, Net]] = field(default_factory=list)  # (where it came from, network)
    service_cidrs: list[tuple[str, Net]] = field(default_factory=list)
    conf_dir: str = DEFAULT_CONF_DIR
    conf_networks: dict[str, str] | None = None  # network name -> file (node path); None: not readable
    # One per NAD: what trials (nad test) found; empty for validate.
    trials: list[Any] = field(default_factory=list)
    annotation_errors: list[str] = field(default_factory=list)
    # VERSION queries still running (gather(wait=False)): joined by settle(), before any version is read.
    pending: list[Any] = field(default_factory=list, repr=False, compare=False)

    def settle(self) -> None:
        while self.pending:
            self.pending.pop().join()

    def versions(self, plugin: str) -> tuple[str, ...] | None:
        self.settle()
        p = self.plugins.get(plugin)
        return p.versions if p else None


def parse_cidrs(values: list[str], where: str) -> list[tuple[str, Net]]:
    """`--cluster-cidr 10.42.0.0/16,fd00::/56` (repeatable, comma lists as k3s writes them); ValueError on junk."""
    out: list[tuple[str, Net]] = []
    for v in values:
        for part in (p.strip() for p in v.split(",")):
            if part:
                out.append((where, ipaddress.ip_network(part, strict=False)))
    return out


def _conf_networks(root: str, conf_dir: str) -> dict[str, str] | None:
    """multus' GetCNIConfigFromFile: the `name` of each .conf/.json/.conflist of its confDir."""
    host = os.path.join(root, conf_dir.lstrip("/"))
    try:
        names = sorted(os.listdir(host))
    except OSError:
        return None
    out: dict[str, str] = {}
    for n in names:
        if not n.endswith((".conf", ".json", ".conflist")):
            continue
        try:
            with open(os.path.join(host, n), "rb") as f:
                doc = json.loads(f.read(1 << 20))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("name"), str):
            out.setdefault(doc["name"], posixpath.join(conf_dir, n))
    return out


def gather(nads: list[dict[str, Any]], sources: list[str], *, root: str = "/", bin_dirs: list[str] | None = None,
           cluster_cidrs: list[tuple[str, Net]] | None = None, service_cidrs: list[tuple[str, Net]] | None = None,
           on_node: bool | None = None, wait: bool = True) -> NadSnapshot:
    """The snapshot for `nads`; `bin_dirs` are node paths under `root` (None: none known). The plugins are
    asked for their versions, and the interfaces listed, only on the node itself (`root` is `/`): a copied
    root's binaries are not ours to run, and its interfaces are not in this kernel. With wait=False the
    VERSION queries may still be running on return (snap.settle() or snap.versions() waits for them)."""
    here = root == "/" if on_node is None else on_node
    snap = NadSnapshot(nads=nads, sources=sources, root=root, bin_dirs=bin_dirs,
                       cluster_cidrs=cluster_cidrs or [], service_cidrs=service_cidrs or [])
    if bin_dirs is not None:
        wanted: set[str] = set()
        for nad in nads:
            spec = nad.get("spec")
            text = spec.get("config") if isinstance(spec, dict) else None
            doc = parsed(text) if isinstance(text, str) and text.strip() else None
            if doc is not None:
                wanted.update(b for _at, b in binaries(doc))
        for name in sorted(wanted):
            for d in bin_dirs:
                host = os.path.join(root, d.lstrip("/"), name)
                if os.path.isfile(host):
                    snap.plugins[name] = Plugin(posixpath.join(d, name))
                    break
        if here:
            snap.pending = _ask_versions(root, list(snap.plugins.values()))
            if wait:
                snap.settle()
    if here:
        try:
            snap.interfaces = set(os.listdir(os.path.join(root, "sys/class/net")))
        except OSError:
            snap.interfaces = None
    if any(_empty_config(n) for n in nads):
        snap.conf_networks = _conf_networks(root, snap.conf_dir)
    return snap


def _ask_versions(root: str, found: list[Plugin]) -> list[Any]:
    """CNI_COMMAND=VERSION of every plugin at once, each in a thread (returned, started): each is a process start
    (~10-20 ms for a Go binary), and nad test (budget: 1.5x a hand run of the plugins) would otherwise wait for
    them one after the other, and before importing its checks, which they can overlap with."""
    import threading

    from multusctl.cni.exec import versions

    def ask(p: Plugin) -> None:
        p.versions = versions(os.path.join(root, p.path.lstrip("/")))

    threads = [threading.Thread(target=ask, args=(p,), daemon=True) for p in found]
    for t in threads:
        t.start()
    return threads


def _empty_config(nad: dict[str, Any]) -> bool:
    spec = nad.get("spec")
    return isinstance(spec, dict) and isinstance(spec.get("config", ""), str) and not spec.get("config", "").strip()
