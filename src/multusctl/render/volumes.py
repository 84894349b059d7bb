"""The DaemonSet's hostPath volumes, as a PathMap: the one host <-> pod model the node checks also use.

Render starts from upstream's volumes (layout/pathmap.py `upstream_thin`/`upstream_thick`) and points
them at the layout's dirs with `for_layout`, exactly as the checks imagine "a correct install for this
distro"; so a path the checks would call unmounted cannot be rendered, and vice versa.
"""

from __future__ import annotations

import posixpath
import re

from multusctl.layout import distros as D
from multusctl.layout.model import Layout
from multusctl.layout.pathmap import Mount, PathMap, for_layout, upstream_thick, upstream_thin

CONF_POD = "/host/etc/cni/net.d"  # the conf dir in the pod, whatever the host's is (upstream's choice)
BIN_POD_THIN = "/host/opt/cni/bin"  # thin: the entrypoint copies `multus` here (its --cni-bin-dir)
BIN_POD_INIT = "/host/opt/cni/bin"  # thick: install_multus copies `multus-shim` here (its -d)
DAEMON_CONFIG_DIR = "/etc/cni/net.d/multus.d"  # multus-daemon's default -config dir, in the pod
DAEMON_CONFIG = f"{DAEMON_CONFIG_DIR}/daemon-config.json"
SOCKET_POD = "/host/run/multus/"  # daemon-config socketDir; /run -> /host/run makes it the shim's /run/multus


def bin_dir(layout: Layout) -> str:
    return layout.bin_dirs[0] if layout.bin_dirs else D.STANDARD_BIN_DIR


def k3s_data_dir(layout: Layout) -> str | None:
    """`/var/lib/rancher/k3s/data` (or that of a custom --data-dir) when the bin dir lies below it: its
    `cni` entries are relative symlinks into `../<hash>/bin`, so the whole data dir must be visible."""
    m = re.match(r"^(/.+/k3s/data)(/|$)", posixpath.normpath(bin_dir(layout)))
    return m.group(1) if layout.distro == "k3s" and m else None


def thin_paths(layout: Layout) -> PathMap:
    pm = for_layout(upstream_thin(), layout.conf_dir, bin_dir(layout))
    return PathMap(pm.mounts, "multusctl render (thin)")


def thick_paths(layout: Layout) -> PathMap:
    """Upstream's thick volumes on this layout's dirs. The bin dir is mounted at its own host path: since
    v4.1.0 (PR #1161) the daemon looks plugins up in its pod and only execs them chrooted, so binDir must
    be the same path on both sides; v4.0.x looks them up after chroot, where the same mount is harmless."""
    base = upstream_thick()
    mounts = [m for m in for_layout(base, layout.conf_dir, None).mounts if m.host != D.STANDARD_BIN_DIR]
    data = k3s_data_dir(layout)
    b = bin_dir(layout)
    mounts.append(Mount(data, data) if data else Mount(b, b))
    return PathMap(mounts, "multusctl render (thick)")
