"""Host <-> pod paths of the Multus DaemonSet: one model for checking and rendering.

The thin plugin runs on the host, so every path in its config is a host path. The thick daemon reads
`daemon-config.json` and the thick `clusterNetwork` inside its pod, through the DaemonSet's hostPath
mounts; a path is visible there only under one of those mounts.
"""

from __future__ import annotations

import posixpath

from multusctl.records import dataclass, field


@dataclass(frozen=True)
class Mount:
    """One hostPath volume of the multus DaemonSet: host path <-> path in the pod."""

    host: str
    pod: str


def _under(path: str, prefix: str) -> str | None:
    """The rest of `path` below `prefix` ("" when equal), or None when it is not below it."""
    path, prefix = posixpath.normpath(path), posixpath.normpath(prefix)
    if prefix == "/":
        return path.lstrip("/")
    if path == prefix:
        return ""
    if path.startswith(prefix + "/"):
        return path[len(prefix) + 1 :]
    return None


@dataclass
class PathMap:
    """The DaemonSet's host <-> pod path mounts."""

    mounts: list[Mount]
    source: str  # where the mounts came from, for the evidence of a finding
    notes: list[str] = field(default_factory=list)

    def to_host(self, pod_path: str) -> str | None:
        """The host path a pod path reads, or None when no mount covers it. Longest mount wins."""
        best: tuple[int, str] | None = None
        for m in self.mounts:
            rest = _under(pod_path, m.pod)
            if rest is None:
                continue
            host = posixpath.join(m.host, rest) if rest else m.host
            score = len(posixpath.normpath(m.pod))
            if best is None or score > best[0]:
                best = (score, posixpath.normpath(host))
        return best[1] if best else None

    def to_pod(self, host_path: str) -> str | None:
        """The pod path that shows a host path, preferring the most specific mount."""
        best: tuple[int, str] | None = None
        for m in self.mounts:
            rest = _under(host_path, m.host)
            if rest is None:
                continue
            pod = posixpath.join(m.pod, rest) if rest else m.pod
            score = len(posixpath.normpath(m.host))
            if best is None or score > best[0]:
                best = (score, posixpath.normpath(pod))
        return best[1] if best else None

    def with_mount(self, host: str, pod: str) -> PathMap:
        kept = [m for m in self.mounts if posixpath.normpath(m.pod) != posixpath.normpath(pod)]
        return PathMap([Mount(host, pod), *kept], self.source, list(self.notes))


def upstream_thick() -> PathMap:
    """Volumes of the upstream `multus-daemonset-thick.yml` (FACTS.md §1)."""
    return PathMap(
        [
            Mount("/etc/cni/net.d", "/host/etc/cni/net.d"),
            Mount("/opt/cni/bin", "/opt/cni/bin"),
            Mount("/run", "/host/run"),
            Mount("/var/lib/cni/multus", "/var/lib/cni/multus"),
            Mount("/var/lib/kubelet", "/var/lib/kubelet"),
            Mount("/run/k8s.cni.cncf.io", "/run/k8s.cni.cncf.io"),
            Mount("/run/netns", "/run/netns"),
            Mount("/", "/hostroot"),
            Mount("/etc/cni/multus/net.d", "/etc/cni/multus/net.d"),
        ],
        source="the upstream thick DaemonSet's volumes",
    )


def upstream_thin() -> PathMap:
    """Volumes of the upstream thin `multus-daemonset.yml`."""
    return PathMap(
        [Mount("/etc/cni/net.d", "/host/etc/cni/net.d"), Mount("/opt/cni/bin", "/host/opt/cni/bin")],
        source="the upstream thin DaemonSet's volumes",
    )


def for_layout(base: PathMap, conf_dir: str, bin_dir: str | None) -> PathMap:
    """The same DaemonSet with its CNI volumes pointed at this distro's dirs (what a correct install mounts)."""
    pm = base
    conf_pod = "/host/etc/cni/net.d"
    pm = pm.with_mount(conf_dir, conf_pod)
    if bin_dir:
        bin_pod = next((m.pod for m in base.mounts if m.host == "/opt/cni/bin"), None)
        if bin_pod:
            pm = pm.with_mount(bin_dir, bin_pod)
    return pm
