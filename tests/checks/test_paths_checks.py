"""Grid for the host-path / pod-path checks (checks/paths.py): thin and thick, k3s and kubeadm.

Each row: a node root (a distro root from tests/distro_roots.py plus the case's files) -> the ids that
must be reported and the ids that must not, plus what a user would read (path, field, fix, severity).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import distro_roots as R
from tests.checkrun import Expect as E
from tests.checkrun import GridCase as Case
from tests.checkrun import assert_grid, findings
from tests.fuzzkit import examples
from tests.noderoot import Dir, File

K3S_CONF = R.K3S_CONF_DIR
K3S_BIN = R.K3S_BIN_DIR
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
STD_KC = "/etc/cni/net.d/multus.d/multus.kubeconfig"
MINE = ("thin-pod-path", "thick-unmounted-path", "thick-socket-missing", "readiness-file-missing",
        "cluster-network-unresolved")

UPSTREAM_DAEMON_CONFIG: dict[str, Any] = {
    "chrootDir": "/hostroot",
    "cniVersion": "0.3.1",
    "logLevel": "verbose",
    "logToStderr": True,
    "cniConfigDir": "/host/etc/cni/net.d",
    "multusAutoconfigDir": "/host/etc/cni/net.d",
    "multusConfigFile": "auto",
    "socketDir": "/host/run/multus/",
}


def thin_conf(conf_dir: str, **keys: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "cniVersion": "1.0.0",
        "name": "multus-cni-network",
        "type": "multus",
        "kubeconfig": f"{conf_dir}/multus.d/multus.kubeconfig",
        "delegates": [R.flannel_conflist()],
    }
    conf.update(keys)
    return {k: v for k, v in conf.items() if v is not None}


def k3s_thin(**keys: Any) -> dict[str, Any]:
    """A k3s agent running thin multus done right, plus overrides of the thin config's keys."""
    return {
        **R.k3s_agent(),
        f"{K3S_BIN}/multus": File("#!/bin/sh\n", mode=0o755),
        f"{K3S_CONF}/00-multus.conf": thin_conf(K3S_CONF, **{"binDir": K3S_BIN, **keys}),
        K3S_KC: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600),
    }


def kubeadm_thin(**keys: Any) -> dict[str, Any]:
    conf = thin_conf("/etc/cni/net.d", **keys)
    conf["delegates"] = [R.kubeadm_control_plane()["/etc/cni/net.d/10-calico.conflist"]]
    return {
        **R.kubeadm_control_plane(),
        "/opt/cni/bin/multus": File("#!/bin/sh\n", mode=0o755),
        "/etc/cni/net.d/00-multus.conf": conf,
        STD_KC: File(R.kubeconfig("https://10.96.0.1:443", "multus", "local"), mode=0o600),
    }


def thick_conf(**keys: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "cniVersion": "0.3.1",
        "name": "multus-cni-network",
        "type": "multus-shim",
        "logLevel": "verbose",
        "logToStderr": True,
        "clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist",
    }
    conf.update(keys)
    return {k: v for k, v in conf.items() if v is not None}


def kubeadm_thick(conf: dict[str, Any] | None = None, daemon: dict[str, Any] | None = None,
                  socket_path: str | None = "/run/multus/multus.sock") -> dict[str, Any]:
    """A kubeadm control plane running the upstream thick DaemonSet."""
    files = {
        **R.kubeadm_control_plane(),
        "/opt/cni/bin/multus-shim": File("#!/bin/sh\n", mode=0o755),
        "/etc/cni/net.d/00-multus.conf": thick_conf(**(conf or {})),
        "/etc/cni/net.d/multus.d/daemon-config.json": {**UPSTREAM_DAEMON_CONFIG, **(daemon or {})},
    }
    if socket_path:
        files[socket_path] = File(b"", mode=0o600)
    return files


def k3s_thick(conf: dict[str, Any] | None = None, daemon: dict[str, Any] | None = None) -> dict[str, Any]:
    """k3s server with a thick daemon whose DaemonSet mounts the k3s conf dir at /host/etc/cni/net.d."""
    return {
        **R.k3s_server(),
        f"{K3S_BIN}/multus-shim": File("#!/bin/sh\n", mode=0o755),
        f"{K3S_CONF}/00-multus.conf": thick_conf(**{"clusterNetwork": "/host/etc/cni/net.d/10-flannel.conflist",
                                                    **(conf or {})}),
        f"{K3S_CONF}/multus.d/daemon-config.json": {**UPSTREAM_DAEMON_CONFIG, **(daemon or {})},
        "/run/multus/multus.sock": File(b"", mode=0o600),
    }


def without(files: dict[str, Any], *paths: str) -> dict[str, Any]:
    return {k: v for k, v in files.items() if k not in paths}


CASES: list[Case] = [
    # --- thin-pod-path ---------------------------------------------------------------------------
    Case("thin k3s: kubeconfig by its pod path",
         lambda: k3s_thin(kubeconfig="/host/etc/cni/net.d/multus.d/multus.kubeconfig"),
         present=("thin-pod-path",),
         expect=(E("thin-pod-path", path=f"{K3S_CONF}/00-multus.conf", field="kubeconfig",
                   fix=(f'"kubeconfig": "{K3S_KC}"',), severity="error",
                   message=("/host/etc/cni/net.d/multus.d/multus.kubeconfig",)),)),
    Case("thin k3s: binDir by its pod path",
         lambda: k3s_thin(binDir="/host/opt/cni/bin"),
         present=("thin-pod-path",),
         expect=(E("thin-pod-path", field="binDir", fix=(f'"binDir": "{K3S_BIN}"',)),)),
    Case("thin kubeadm: kubeconfig by its pod path",
         lambda: kubeadm_thin(kubeconfig="/host/etc/cni/net.d/multus.d/multus.kubeconfig"),
         present=("thin-pod-path",),
         expect=(E("thin-pod-path", path="/etc/cni/net.d/00-multus.conf", fix=(f'"kubeconfig": "{STD_KC}"',)),)),
    Case("thin k3s: clusterNetwork by its pod path (one finding, not two)",
         lambda: k3s_thin(clusterNetwork="/host/etc/cni/net.d/10-flannel.conflist"),
         present=("thin-pod-path",), absent=("cluster-network-unresolved",),
         expect=(E("thin-pod-path", field="clusterNetwork", fix=(f"{K3S_CONF}/10-flannel.conflist",)),)),
    Case("thin k3s: readinessindicatorfile by its pod path (one finding, not two)",
         lambda: k3s_thin(readinessindicatorfile="/host/run/flannel/subnet.env"),
         present=("thin-pod-path",), absent=("readiness-file-missing",),
         expect=(E("thin-pod-path", field="readinessindicatorfile",
                   fix=('"readinessindicatorfile": "/run/flannel/subnet.env"',)),)),
    Case("thin k3s: logFile under /hostroot",
         lambda: k3s_thin(logFile="/hostroot/var/log/multus.log"),
         present=("thin-pod-path",),
         expect=(E("thin-pod-path", field="logFile", fix=('"logFile": "/var/log/multus.log"',)),)),
    Case("thin k3s: defaultNetworks entry by its pod path",
         lambda: k3s_thin(defaultNetworks=["/host/etc/cni/net.d/20-extra.conf"]),
         present=("thin-pod-path",),
         expect=(E("thin-pod-path", field="defaultNetworks[0]"),)),
    Case("thin k3s: cniDir and confDir by pod paths",
         lambda: k3s_thin(cniDir="/host/var/lib/cni/multus", confDir="/host/etc/cni/multus/net.d"),
         present=("thin-pod-path",)),
    Case("thin k3s: kubeconfig inside the pod's ServiceAccount mount",
         lambda: k3s_thin(kubeconfig="/var/run/secrets/kubernetes.io/serviceaccount/kubeconfig"),
         present=("thin-pod-path",),
         expect=(E("thin-pod-path", fix=("multusctl kubeconfig create",), message=("only inside a pod",)),)),
    Case("thin k3s: all host paths (the seed's 00-multus.conf, done right)",
         lambda: {**k3s_thin(readinessindicatorfile="/run/flannel/subnet.env",
                             clusterNetwork=f"{K3S_CONF}/10-flannel.conflist")},
         absent=MINE),
    Case("thin: a /host path that really exists on this host is left alone",
         lambda: {**k3s_thin(logFile="/host/log/multus.log"), "/host/log/multus.log": ""},
         absent=("thin-pod-path",)),
    Case("thin: a stray thin config the runtime does not read is not judged here",
         lambda: {**k3s_thin(), "/etc/cni/net.d/00-multus.conf":
                  thin_conf("/etc/cni/net.d", kubeconfig="/host/etc/cni/net.d/multus.d/multus.kubeconfig")},
         absent=("thin-pod-path",)),
    Case("thick: /host paths in a thick conf are correct",
         lambda: kubeadm_thick(), absent=MINE),

    # --- thick-unmounted-path --------------------------------------------------------------------
    Case("thick kubeadm: cniConfigDir is the host path",
         lambda: kubeadm_thick(daemon={"cniConfigDir": "/etc/cni/net.d"}),
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", path="/etc/cni/net.d/multus.d/daemon-config.json", field="cniConfigDir",
                   severity="error", fix=('"cniConfigDir": "/host/etc/cni/net.d"',)),)),
    Case("thick k3s: multusAutoconfigDir is the k3s host path",
         lambda: k3s_thick(daemon={"multusAutoconfigDir": K3S_CONF}),
         present=("thick-unmounted-path",), absent=("cluster-network-unresolved",),
         expect=(E("thick-unmounted-path", field="multusAutoconfigDir",
                   fix=('"multusAutoconfigDir": "/host/etc/cni/net.d"',),
                   message=("cannot find valid master CNI config",)),)),
    Case("thick: socketDir is the host's /run/multus",
         lambda: kubeadm_thick(daemon={"socketDir": "/run/multus"}),
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", field="socketDir", fix=('"socketDir": "/host/run/multus"',)),)),
    Case("thick k3s: shim clusterNetwork is the host path of flannel's conflist",
         lambda: k3s_thick(conf={"clusterNetwork": f"{K3S_CONF}/10-flannel.conflist"}),
         present=("thick-unmounted-path",), absent=("cluster-network-unresolved",),
         expect=(E("thick-unmounted-path", path=f"{K3S_CONF}/00-multus.conf", field="clusterNetwork",
                   fix=('"clusterNetwork": "/host/etc/cni/net.d/10-flannel.conflist"',)),)),
    Case("thick k3s: readinessindicatorfile is the host path (one finding, not two)",
         lambda: k3s_thick(daemon={"readinessindicatorfile": "/run/flannel/subnet.env"}),
         present=("thick-unmounted-path",), absent=("readiness-file-missing",),
         expect=(E("thick-unmounted-path", fix=('"readinessindicatorfile": "/host/run/flannel/subnet.env"',)),)),
    Case("thick with chrootDir: binDir by a pod path is wrong (plugins are looked up in the host root)",
         lambda: kubeadm_thick(daemon={"binDir": "/host/opt/cni/bin"}),
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", field="binDir", fix=('"binDir": "/opt/cni/bin"',), message=("chroot",)),)),
    # Fact change (multus-cni PR #1161, v4.1.0): the lookup runs in the pod, only the exec is chrooted, so the
    # k3s host path is right for v4.0.x only; v4.1+ needs data/ mounted at the same path (relative symlinks).
    Case("thick with chrootDir: binDir by the k3s host path is right for v4.0 only",
         lambda: k3s_thick(daemon={"binDir": K3S_BIN}),
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", field="binDir", severity="warning", message=("v4.1.0",),
                   fix=("hostPath /var/lib/rancher/k3s/data -> mountPath "
                                                 "/var/lib/rancher/k3s/data",)),)),
    Case("thick with chrootDir: binDir /opt/cni/bin, mounted at the same path: fine under both rules",
         lambda: kubeadm_thick(daemon={"binDir": "/opt/cni/bin"}), absent=("thick-unmounted-path",)),
    Case("thick without chrootDir: binDir by the k3s host path is not in the pod",
         lambda: k3s_thick(daemon={"binDir": K3S_BIN, "chrootDir": None}),
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", field="binDir"),)),
    Case("thick: an unmounted kubeconfig is only info (the daemon uses its in-cluster ServiceAccount)",
         lambda: {**k3s_thick(daemon={"kubeconfig": K3S_KC}),
                  K3S_KC: File(R.kubeconfig("https://10.43.0.1:443"), mode=0o600)},
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", severity="info", fix=('Remove "kubeconfig"',)),)),
    Case("thin node with a stray daemon-config.json naming host paths: one info, delete it",
         lambda: {**k3s_thin(), f"{K3S_CONF}/multus.d/daemon-config.json":
                  {**UPSTREAM_DAEMON_CONFIG, "cniConfigDir": K3S_CONF}},
         present=("thick-unmounted-path",),
         expect=(E("thick-unmounted-path", severity="info", message=("Nothing reads this file",),
                   fix=("`rm /var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/",), count=1),)),
    Case("thick: a logFile path inside the container image is not judged",
         lambda: kubeadm_thick(daemon={"logFile": "/var/log/multus/multus.log"}),
         absent=("thick-unmounted-path",)),
    Case("thick: daemonSocketDir is a host path (read by the shim), left alone",
         lambda: kubeadm_thick(daemon={"daemonSocketDir": "/run/multus"}), absent=MINE),

    # --- thick-socket-missing --------------------------------------------------------------------
    Case("thick kubeadm: no daemon socket",
         lambda: kubeadm_thick(socket_path=None),
         present=("thick-socket-missing",),
         expect=(E("thick-socket-missing", path="/run/multus/multus.sock", severity="error", message=("MC#1165",)),)),
    Case("thick: daemonSocketDir names where the shim dials",
         lambda: kubeadm_thick(conf={"daemonSocketDir": "/run/multus/socket"}),
         present=("thick-socket-missing",),
         expect=(E("thick-socket-missing", path="/run/multus/socket/multus.sock", field="daemonSocketDir"),)),
    Case("thick: socket under daemonSocketDir exists",
         lambda: kubeadm_thick(conf={"daemonSocketDir": "/run/multus/socket"},
                               socket_path="/run/multus/socket/multus.sock"),
         absent=("thick-socket-missing",)),
    Case("thick: multus.sock is a directory",
         lambda: {**kubeadm_thick(socket_path=None), "/run/multus/multus.sock": Dir()},
         present=("thick-socket-missing",)),
    Case("thick: the daemon listens elsewhere than the shim dials",
         lambda: kubeadm_thick(daemon={"socketDir": "/host/run/multus-daemon/"}, socket_path=None),
         present=("thick-socket-missing",),
         expect=(E("thick-socket-missing", message=("not /run/multus where the shim dials",)),)),
    Case("thick: only socketDir (read by no released shim) and the socket at the default",
         lambda: kubeadm_thick(conf={"socketDir": "/var/run/multus-v3"}), absent=("thick-socket-missing",)),
    # Fact change: there was no v3 shim reading socketDir (only v4.0.0-alpha's), so the shim dials the default.
    Case("thick: only socketDir, no socket anywhere",
         lambda: kubeadm_thick(conf={"socketDir": "/var/run/multus-v3"}, socket_path=None),
         present=("thick-socket-missing",),
         expect=(E("thick-socket-missing", path="/run/multus/multus.sock", message=('"daemonSocketDir"',)),)),
    Case("thick: only socketDir, socket only where socketDir points: the shim does not dial there",
         lambda: {**kubeadm_thick(conf={"socketDir": "/var/run/multus-v3"}, socket_path=None),
                  "/var/run/multus-v3/multus.sock": ""},
         present=("thick-socket-missing",)),
    Case("thick: daemonSocketDir set to a pod path",
         lambda: kubeadm_thick(conf={"daemonSocketDir": "/host/run/multus"}),
         present=("thick-socket-missing",),
         expect=(E("thick-socket-missing", message=("looks like a pod path",)),)),
    Case("thin: no socket needed", lambda: k3s_thin(), absent=("thick-socket-missing",)),

    # --- readiness-file-missing ------------------------------------------------------------------
    Case("thin k3s: flannel's subnet.env missing",
         lambda: without(k3s_thin(readinessindicatorfile="/run/flannel/subnet.env"), "/run/flannel/subnet.env"),
         present=("readiness-file-missing",),
         expect=(E("readiness-file-missing", path=f"{K3S_CONF}/00-multus.conf", field="readinessindicatorfile",
                   severity="warning", message=("45 s",)),)),
    Case("thin k3s: subnet.env present",
         lambda: k3s_thin(readinessindicatorfile="/run/flannel/subnet.env"), absent=("readiness-file-missing",)),
    Case("thin: relative readinessindicatorfile",
         lambda: k3s_thin(readinessindicatorfile="subnet.env"), present=("readiness-file-missing",),
         expect=(E("readiness-file-missing", message=("not an absolute path",)),)),
    Case("thick kubeadm: pod path of a missing ready file",
         lambda: kubeadm_thick(daemon={"readinessindicatorfile": "/host/run/calico/ready"}),
         present=("readiness-file-missing",),
         expect=(E("readiness-file-missing", path="/etc/cni/net.d/multus.d/daemon-config.json",
                   message=("/run/calico/ready does not exist",)),)),
    Case("thick kubeadm: pod path of a present ready file",
         lambda: {**kubeadm_thick(daemon={"readinessindicatorfile": "/host/run/calico/ready"}),
                  "/run/calico/ready": ""},
         absent=("readiness-file-missing",)),
    Case("no readinessindicatorfile", lambda: k3s_thin(), absent=("readiness-file-missing",)),

    # --- cluster-network-unresolved --------------------------------------------------------------
    Case("thin k3s: clusterNetwork file missing",
         lambda: k3s_thin(clusterNetwork=f"{K3S_CONF}/10-calico.conflist"),
         present=("cluster-network-unresolved",),
         expect=(E("cluster-network-unresolved", severity="error", field="clusterNetwork",
                   fix=(f"{K3S_CONF}/10-flannel.conflist",)),)),
    Case("thin k3s: clusterNetwork file present",
         lambda: k3s_thin(clusterNetwork=f"{K3S_CONF}/10-flannel.conflist"),
         absent=("cluster-network-unresolved",)),
    Case("thin k3s: clusterNetwork is a dir without configs",
         lambda: {**k3s_thin(clusterNetwork="/etc/cni/multus/net.d"), "/etc/cni/multus/net.d": Dir()},
         present=("cluster-network-unresolved",), expect=(E("cluster-network-unresolved", message=("directory",)),)),
    Case("thin k3s: a name that may be a NAD -> info, needs doctor",
         lambda: k3s_thin(clusterNetwork="cbr0"),
         present=("cluster-network-unresolved",),
         expect=(E("cluster-network-unresolved", severity="info", fix=("multusctl doctor",),
                   message=("not in the runtime's conf dir",)),)),
    Case("thin k3s: a name found in confDir",
         lambda: k3s_thin(clusterNetwork="cbr0", confDir=K3S_CONF), absent=("cluster-network-unresolved",)),
    Case("thin k3s: a name found in the default confDir",
         lambda: {**k3s_thin(defaultNetworks=["extra"]), "/etc/cni/multus/net.d/20-extra.conf":
                  {"cniVersion": "0.3.1", "name": "extra", "type": "bridge"}},
         absent=("cluster-network-unresolved",)),
    Case("thin k3s: a name that cannot be a NAD -> error",
         lambda: k3s_thin(clusterNetwork="My_Net"),
         present=("cluster-network-unresolved",),
         expect=(E("cluster-network-unresolved", severity="error"),)),
    Case("thin k3s: defaultNetworks path missing",
         lambda: k3s_thin(defaultNetworks=["/etc/cni/multus/net.d/missing.conf"]),
         present=("cluster-network-unresolved",),
         expect=(E("cluster-network-unresolved", field="defaultNetworks[0]"),)),
    Case("thin without kubeconfig: multus never resolves clusterNetwork (kubeconfig-unset says why)",
         lambda: k3s_thin(kubeconfig=None, clusterNetwork="/nowhere/x.conflist"),
         absent=("cluster-network-unresolved",)),
    Case("thick kubeadm: clusterNetwork pod path of a missing file",
         lambda: kubeadm_thick(conf={"clusterNetwork": "/host/etc/cni/net.d/10-missing.conflist"}),
         present=("cluster-network-unresolved",),
         expect=(E("cluster-network-unresolved", message=("host's /etc/cni/net.d/10-missing.conflist",),
                   fix=("/host/etc/cni/net.d/10-calico.conflist",)),)),
    Case("thick k3s: clusterNetwork pod path maps onto the k3s conf dir",
         lambda: k3s_thick(), absent=MINE),
    Case("thick: daemon-config's clusterNetwork wins over the shim conf's",
         lambda: kubeadm_thick(conf={"clusterNetwork": "/host/etc/cni/net.d/10-missing.conflist"},
                               daemon={"clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist"}),
         absent=("cluster-network-unresolved",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_paths_grid(tmp_path: Path, case: Case) -> None:
    for f in assert_grid(tmp_path, case):
        if f.id in MINE:
            assert f.message and f.fix, f


def test_real_unix_socket_counts(tmp_path: Path) -> None:
    """A live node has a unix socket, not a file: the existence test must accept both."""
    base = Path("/tmp") / f"mc-{os.getpid()}"  # sun_path is limited to 108 bytes; tmp_path may be longer
    files = kubeadm_thick(socket_path=None)
    sock_path = base / "node" / "run" / "multus" / "multus.sock"
    if len(str(sock_path)) > 100:
        pytest.skip("socket path too long for AF_UNIX here")
    try:
        from tests.noderoot import make_root

        root = make_root(base / "node", files)
        sock_path.parent.mkdir(parents=True, exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(sock_path))
        try:
            from multusctl.checks import node_checks
            from multusctl.checks.registry import run_checks
            from multusctl.gather.nodefs import NodeFS
            from multusctl.gather.snapshot import gather_node
            from multusctl.layout.detect import detect_layout

            fs = NodeFS(str(root))
            snap = gather_node(fs, detect_layout(fs))
            run = run_checks(snap, "node", only=[c.id for c in node_checks()])
            assert not run.crashed
            assert "thick-socket-missing" not in {f.id for f in run.findings}
        finally:
            s.close()
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_copied_root_caveat(tmp_path: Path) -> None:
    """A root that is a copy says that /run and sockets are usually not copied."""
    got = [f for f in findings(tmp_path, kubeadm_thick(socket_path=None)) if f.id == "thick-socket-missing"]
    assert got and "copy of the node" in got[0].message


def test_thin_pod_path_on_k3s_gives_k3s_host_path(tmp_path: Path) -> None:
    """The founding case: /host/etc/cni/net.d/... on k3s is the k3s conf dir on the host, not /etc/cni/net.d."""
    got = findings(tmp_path, k3s_thin(kubeconfig="/host/etc/cni/net.d/multus.d/multus.kubeconfig"))
    hit = next(f for f in got if f.id == "thin-pod-path")
    assert hit.evidence["host_path"] == K3S_KC
    assert hit.evidence["host_path_exists"] is True
    assert "/etc/cni/net.d/multus.d/multus.kubeconfig" in hit.evidence["candidates"]
    assert "--multus-kubeconfig-file-host" in hit.fix


def test_thin_pod_path_prefers_existing_candidate(tmp_path: Path) -> None:
    """If the file only exists at upstream's host path, that is where the thin plugin can read it."""
    files = without(k3s_thin(kubeconfig="/host/etc/cni/net.d/multus.d/multus.kubeconfig"), K3S_KC)
    files[STD_KC] = File(R.kubeconfig("https://10.43.0.1:443"), mode=0o600)
    hit = next(f for f in findings(tmp_path, files) if f.id == "thin-pod-path")
    assert hit.evidence["host_path"] == STD_KC


def test_no_secret_in_path_findings(tmp_path: Path) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLWNsYWltcw.c2lnbmF0dXJlLXNlY3JldC1ieXRlcw"
    files = k3s_thin(kubeconfig="/host/etc/cni/net.d/multus.d/multus.kubeconfig")
    files[K3S_KC] = File(R.kubeconfig("https://10.43.0.1:443").replace(
        f"client-key-data: {R.PLACEHOLDER_B64}", f"token: {token}"), mode=0o600)
    for f in findings(tmp_path, files):
        if f.id in MINE:
            assert token not in f.message + f.fix + repr(f.evidence)


@pytest.mark.parametrize("junk", [
    {"kubeconfig": 42, "binDir": ["/host/opt"], "clusterNetwork": {"a": 1}, "defaultNetworks": "x"},
    {"readinessindicatorfile": "/host/\x00bad", "logFile": "", "clusterNetwork": "/"},
    {"clusterNetwork": "a/b/../../..", "defaultNetworks": [None, 3, "/host/" + "x" * 5000]},
])
def test_odd_values_never_crash(tmp_path: Path, junk: dict[str, Any]) -> None:
    findings(tmp_path, k3s_thin(**junk))
    findings(tmp_path / "thick", kubeadm_thick(conf=junk, daemon=junk))


PATHISH = st.one_of(
    st.sampled_from(["/host/etc/cni/net.d/x", "/hostroot/", "/host", "/run/multus", K3S_CONF, "/", "",
                     "relative/path", "cbr0", "/var/run/secrets/kubernetes.io/x", "/host/../etc", "//host//x"]),
    st.text(min_size=0, max_size=40),
    st.integers(), st.none(), st.lists(st.text(max_size=10), max_size=3),
)
KEYS = st.sampled_from(["kubeconfig", "binDir", "confDir", "cniDir", "readinessindicatorfile", "logFile",
                        "clusterNetwork", "defaultNetworks", "socketDir", "daemonSocketDir", "chrootDir",
                        "cniConfigDir", "multusAutoconfigDir", "multusConfigFile", "perNodeCertificate",
                        "multusNamespace"])


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conf_keys=st.dictionaries(KEYS, PATHISH, max_size=6), daemon_keys=st.dictionaries(KEYS, PATHISH, max_size=6),
       thick=st.booleans())
def test_any_path_values_never_crash(tmp_path: Path, conf_keys: dict[str, Any], daemon_keys: dict[str, Any],
                                     thick: bool) -> None:
    """Whatever the values, the five checks give findings or nothing, never an exception."""
    import json

    from multusctl.checks import node_checks
    from multusctl.checks.registry import run_checks
    from multusctl.gather.nodefs import NodeFS
    from multusctl.gather.snapshot import gather_node
    from multusctl.layout.detect import detect_layout
    from tests.noderoot import make_root

    root = tmp_path / "fuzz"
    if not root.exists():
        make_root(root, {**R.k3s_agent(), f"{K3S_BIN}/multus": "x"})
    conf = {"cniVersion": "1.0.0", "name": "m", "type": "multus-shim" if thick else "multus",
            "delegates": [R.flannel_conflist()], **conf_keys}
    (root / K3S_CONF.lstrip("/") / "00-multus.conf").write_text(json.dumps(conf))
    dc = root / K3S_CONF.lstrip("/") / "multus.d" / "daemon-config.json"
    dc.parent.mkdir(parents=True, exist_ok=True)
    dc.write_text(json.dumps(daemon_keys))
    fs = NodeFS(str(root))
    snap = gather_node(fs, detect_layout(fs))
    run = run_checks(snap, "node", only=[c.id for c in node_checks() if c.id in MINE])
    assert not run.crashed, run.crashed


def test_camel_case_readiness_key_is_read_like_multus_reads_it(tmp_path: Path) -> None:
    # Go's encoding/json matches keys case-insensitively, so multus waits on this file too.
    from tests import distro_roots as R
    from tests.checkrun import findings as run
    from tests.noderoot import File

    k = R.K3S_CONF_DIR
    files = {
        **R.k3s_agent(), f"{R.K3S_BIN_DIR}/multus": File("#!/bin/sh\n", mode=0o755),
        f"{k}/00-multus.conf": {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
                                "kubeconfig": f"{k}/multus.d/multus.kubeconfig", "delegates": [R.flannel_conflist()],
                                "readinessIndicatorFile": "/run/nope/subnet.env"},
    }
    hits = [f for f in run(tmp_path, files) if f.id == "readiness-file-missing"]
    assert len(hits) == 1 and "/run/nope/subnet.env" in hits[0].message
