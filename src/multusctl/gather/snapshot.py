"""Everything the node checks look at, read once from a node root.

Gathering reads and parses; it never judges. Checks receive a NodeSnapshot and may ask its read-only
`fs` further questions (does this path exist? what mode has it?), which keeps a check a plain function
of the node whether the root is `/`, a folder copied from another node, or a test's temp dir.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from multusctl.config import cni as cni_mod
from multusctl.config import kubeconfig as kc_mod
from multusctl.config import multus as multus_mod
from multusctl.config.errors import ParseError
from multusctl.config.jsonload import loads
from multusctl.config.secrets import remember
from multusctl.gather import effective
from multusctl.gather.effective import EffectiveConfig
from multusctl.gather.nodefs import NodeFS, NodeFSError, PathInfo
from multusctl.layout.model import Layout
from multusctl.layout.pathmap import PathMap, upstream_thick, upstream_thin
from multusctl.records import dataclass, field

# Conf dirs some runtime on some distro reads; a multus config in one the runtime here does not read is lost.
WELL_KNOWN_CONF_DIRS = (
    "/etc/cni/net.d",
    "/var/lib/rancher/k3s/agent/etc/cni/net.d",
    "/var/snap/microk8s/current/args/cni-network",
    "/etc/kubernetes/cni/net.d",
)
# Host paths where a thick daemon-config.json is usually kept (ConfigMap copies, hand-made installs).
DAEMON_CONFIG_CANDIDATES = ("multus.d/daemon-config.json",)


@dataclass
class ConfFile:
    """A CNI config file of a conf dir, parsed as far as it goes."""

    path: str  # node path
    info: PathInfo | None
    cni: cni_mod.CniConfig | None = None
    error: str | None = None
    multus: multus_mod.MultusConfig | None = None

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass
class KubeconfigFile:
    """The kubeconfig Multus is told to use, where it is named, and what it holds."""

    path: str  # host path
    referenced_as: str  # the value as written in the config (an in-pod path for thick)
    referenced_by: str  # the file and field naming it
    info: PathInfo | None
    config: kc_mod.Kubeconfig | None = None
    error: str | None = None  # unreadable or unparsable


@dataclass
class DaemonConfigFile:
    """The thick plugin's daemon-config.json, parsed."""

    path: str
    config: multus_mod.DaemonConfig | None = None
    error: str | None = None


@dataclass
class NodeSnapshot:
    """Everything the node checks read, gathered once."""

    fs: NodeFS
    layout: Layout
    now: datetime
    conf_dir_error: str | None = None
    conf_files: list[ConfFile] = field(default_factory=list)  # runtime conf dir, in the runtime's order
    stray_multus: list[ConfFile] = field(default_factory=list)  # multus configs where the runtime won't look
    daemon_config: DaemonConfigFile | None = None
    thick_paths: PathMap = field(default_factory=upstream_thick)
    thin_paths: PathMap = field(default_factory=upstream_thin)
    kubeconfig: KubeconfigFile | None = None
    secrets: set[str] = field(default_factory=set)

    _derived: dict[tuple[str, int, int], Any] = field(default_factory=dict, repr=False, compare=False)
    _memo: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)

    def memo(self, what: str, arg: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per (what, arg) for this snapshot: e.g. the network file 10,000 multus configs
        all name is read and parsed once, not once per config. The result is shared: do not mutate it."""
        key = (what, arg)
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _once(self, name: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per conf_files list: checks ask for the primary and the multus files once per
        file, and a rescan each time made `check` quadratic in the number of configs."""
        key = (name, id(self.conf_files), len(self.conf_files))
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    @property
    def multus_files(self) -> list[ConfFile]:
        found: list[ConfFile] = self._once("multus_files",
                                           lambda: [c for c in self.conf_files if c.multus is not None])
        return list(found)

    @property
    def multus(self) -> ConfFile | None:
        """The multus config the runtime would use: the first multus config of the conf dir."""
        found = self.multus_files
        return found[0] if found else None

    @property
    def effective(self) -> EffectiveConfig | None:
        """The multus config the runtime uses, merged as Multus merges it (gather/effective.py)."""
        m = self.multus
        if m is None or m.multus is None:
            return None
        mc = m.multus
        prefix = "plugins[0]." if mc.cni.is_list else ""
        if mc.mode == "thin":
            return effective.thin(mc.plugin, m.path, prefix)
        dcf = self.daemon_config
        raw = dcf.config.raw if dcf is not None and dcf.config is not None else None
        got: EffectiveConfig = self._once(f"effective:{id(dcf)}", lambda: effective.thick(
            mc.plugin, m.path, prefix, raw if isinstance(raw, dict) else None, dcf.path if dcf else None))
        return got

    @property
    def daemon_settings(self) -> EffectiveConfig | None:
        """daemon-config.json as the thick daemon decodes it for its own settings (None: none parsed)."""
        dcf = self.daemon_config
        raw = dcf.config.raw if dcf is not None and dcf.config is not None else None
        if dcf is None or not isinstance(raw, dict):
            return None
        return effective.decode(raw, dcf.path, "", "daemon")

    @property
    def first_conf(self) -> ConfFile | None:
        return self.conf_files[0] if self.conf_files else None

    @property
    def primary(self) -> ConfFile | None:
        """The first valid non-multus config: the cluster's primary network."""
        found: ConfFile | None = self._once(
            "primary", lambda: next((c for c in self.conf_files if c.cni is not None and c.multus is None), None))
        return found

    @property
    def primary_path(self) -> str | None:
        """Node path of the primary network's config: the multus config's path-valued clusterNetwork
        when it names one (OpenShift keeps the primary outside the runtime's conf dir), else `primary`."""
        m = self.multus.multus if self.multus else None
        net = m.cluster_network if m else None
        if m is not None and net and "/" in net:
            host = net if m.mode == "thin" else self.thick_paths.to_host(net)
            if host and self.fs.is_file(host):
                return host
        return self.primary.path if self.primary else None

    @property
    def mode(self) -> str:
        m = self.multus
        if m is not None and m.multus is not None:
            return m.multus.mode
        if self.conf_dir_error is not None:
            return "unknown"
        return "none"

    @property
    def bin_dirs(self) -> list[str]:
        """Where plugins are looked up: the multus binDir (thin) plus the runtime's bin dirs."""
        dirs: list[str] = []
        m = self.multus
        if m is not None and m.multus is not None and m.multus.mode == "thin":
            dirs.append(m.multus.bin_dir)
        if m is not None and m.multus is not None and m.multus.mode == "thick" and self.daemon_config:
            eff = self.effective
            bin_dir = eff.text("binDir") if eff else None
            if bin_dir:
                dirs.append(bin_dir)
        for d in self.layout.bin_dirs:
            if d not in dirs:
                dirs.append(d)
        return dirs


def read_conf_file(fs: NodeFS, path: str) -> ConfFile:
    cf = ConfFile(path=path, info=fs.stat(path))
    try:
        cf.cni = cni_mod.parse(fs.read_bytes(path), what=posixpath.basename(path))
    except (ParseError, NodeFSError) as exc:
        cf.error = str(exc)
        return cf
    if cf.cni.multus_type:
        cf.multus = multus_mod.from_cni(cf.cni)
    return cf


def list_conf_files(fs: NodeFS, conf_dir: str) -> list[str]:
    """Node paths of CNI config files in `conf_dir`, in the order libcni's ConfFiles sorts them."""
    names = fs.listdir(conf_dir)
    out = []
    for n in names:
        p = posixpath.join(conf_dir, n)
        if n.endswith(cni_mod.CONF_EXTENSIONS) and fs.stat(p) is not None and not fs.is_dir(p):
            out.append(p)
    return out


def conf_files_in(fs: NodeFS, conf_dir: str) -> list[str]:
    """`list_conf_files`, empty when the dir is missing or unreadable (for checks that only look)."""
    try:
        return list_conf_files(fs, conf_dir)
    except NodeFSError:
        return []


def read_kubeconfig(fs: NodeFS, host_path: str, written: str, by: str) -> KubeconfigFile:
    kf = KubeconfigFile(path=host_path, referenced_as=written, referenced_by=by, info=fs.stat(host_path))
    if kf.info is None:
        return kf
    try:
        kf.config = kc_mod.parse(fs.read_bytes(host_path))
    except (ParseError, NodeFSError) as exc:
        kf.error = str(exc)
    return kf


def gather_node(fs: NodeFS, layout: Layout, *, daemon_config: str | None = None,
                now: datetime | None = None) -> NodeSnapshot:
    snap = NodeSnapshot(fs=fs, layout=layout, now=now or datetime.now(UTC))
    conf_dir = layout.conf_dir
    try:
        if not fs.is_dir(conf_dir):
            fs.resolve(conf_dir)  # raises "too many levels of symbolic links" for a loop
            what = "is not a directory" if fs.exists(conf_dir) else "no such directory"
            raise NodeFSError(f"{conf_dir}: {what}")
        paths = list_conf_files(fs, conf_dir)
    except NodeFSError as exc:
        snap.conf_dir_error = str(exc)
        paths = []
    snap.conf_files = [read_conf_file(fs, p) for p in paths]

    real_conf = fs.resolve(conf_dir) if snap.conf_dir_error is None else conf_dir
    for d in WELL_KNOWN_CONF_DIRS:
        if d == conf_dir or not fs.is_dir(d) or fs.resolve(d) == real_conf:
            continue
        try:
            for p in list_conf_files(fs, d):
                cf = read_conf_file(fs, p)
                if cf.multus is not None:
                    snap.stray_multus.append(cf)
        except NodeFSError:
            continue

    _gather_daemon_config(snap, daemon_config)
    _gather_paths(snap)
    _gather_kubeconfig(snap)
    if snap.kubeconfig and snap.kubeconfig.config:
        snap.secrets |= snap.kubeconfig.config.secrets
        snap.secrets |= _token_file_secret(fs, snap.kubeconfig)
        remember(snap.secrets)
    return snap


def _token_file_secret(fs: NodeFS, kf: KubeconfigFile) -> set[str]:
    """The token a `tokenFile` holds, so the report's last-line redaction knows it too."""
    ref = kf.config.user_str("tokenFile") if kf.config else None
    if not ref:
        return set()
    path = posixpath.join(posixpath.dirname(kf.path), ref.strip())  # relative to the kubeconfig, as client-go
    try:
        token = fs.read_bytes(path).decode("utf-8", "replace").strip()
    except NodeFSError:
        return set()
    return {token} if token else set()


def _gather_daemon_config(snap: NodeSnapshot, explicit: str | None) -> None:
    fs = snap.fs
    dirs = (snap.layout.conf_dir, *WELL_KNOWN_CONF_DIRS)
    candidates = [explicit] if explicit else [posixpath.join(d, rel) for d in dirs for rel in DAEMON_CONFIG_CANDIDATES]
    for path in dict.fromkeys(candidates):
        if not fs.exists(path):
            continue
        dcf = DaemonConfigFile(path=path)
        try:
            dcf.config = multus_mod.daemon_from_obj(loads(fs.read_bytes(path)))
        except (ParseError, NodeFSError) as exc:
            dcf.error = str(exc)
        snap.daemon_config = dcf
        return
    if explicit:
        snap.daemon_config = DaemonConfigFile(path=explicit, error=f"{explicit}: no such file")


def _gather_paths(snap: NodeSnapshot) -> None:
    """Work out the DaemonSet mounts. Offline we cannot see the DaemonSet, so assume upstream's volumes,
    except where the node itself proves otherwise: a thick conf the daemon wrote into this distro's conf
    dir shows that dir is what the daemon mounts as its conf dir."""
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thick":
        return
    dc = snap.daemon_config.config if snap.daemon_config else None
    # cniConfigDir is where the daemon writes its conf (main.go copyUserProvidedConfig / the config
    # manager), so it is the dir the conf found here proves; multusAutoconfigDir is only where it reads.
    pod_conf = (dc.get_str("cniConfigDir") or dc.get_str("multusAutoconfigDir")) if dc else None
    pod_conf = pod_conf or "/host/etc/cni/net.d"
    if snap.thick_paths.to_host(pod_conf) != snap.fs.resolve(snap.layout.conf_dir) and pod_conf.startswith("/host/"):
        pm = snap.thick_paths.with_mount(snap.layout.conf_dir, pod_conf)
        pm.notes.append(
            f"{m.path} was written by the daemon, so its {pod_conf} is this node's {snap.layout.conf_dir}"
        )
        snap.thick_paths = pm


def _gather_kubeconfig(snap: NodeSnapshot) -> None:
    m = snap.multus
    if m is None or m.multus is None:
        return
    if m.multus.mode == "thin":
        written = m.multus.kubeconfig
        if written:
            snap.kubeconfig = read_kubeconfig(snap.fs, written, written, f"{m.path} kubeconfig")
        return
    dc = snap.daemon_config.config if snap.daemon_config else None
    written = dc.get_str("kubeconfig") if dc else None
    if written and snap.daemon_config is not None:
        host = snap.thick_paths.to_host(written)
        if host is not None:
            snap.kubeconfig = read_kubeconfig(snap.fs, host, written, f"{snap.daemon_config.path} kubeconfig")
