"""The rendered thick DaemonSet run for real: the upstream v4.3.0 `multus-daemon` (../shared/peers) started with
exactly the command, args and env of the render for k3s, and the real `multus-shim` as the container runtime
would exec it on the host, shared by tests/test_thick_peers.py.

The daemon runs in a private mount namespace laid out as the kubelet lays out its container: a pod root
(the image's /usr/src/multus-cni/bin/multus-daemon, /etc/passwd, a /proc), each hostPath volume rbind-mounted
(as containerd does) from a simulated k3s node root at its mountPath, the daemon-config ConfigMap as a file
at its mountPath, the ServiceAccount token and CA at /var/run/secrets/kubernetes.io/serviceaccount, and
KUBERNETES_SERVICE_HOST/PORT naming the test cluster (hostNetwork: 127.0.0.1 is the cluster).

The node root stands for the host's "/": the daemon chroots into it (`chrootDir: /hostroot`, hostPath "/")
to exec plugins, so it holds what a real host has there and a copied test root lacks: the real plugins of
containernetworking-plugins laid out as k3s lays out its own (data/cni/<plugin> -> ../<hash>/bin/<plugin>),
the C library they link against, a /proc, and the pod's network namespace under /run/netns. Those extra
mounts are made inside the daemon's mount namespace only, so nothing reaches the real host's mount table.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from multusctl.render import RenderOptions, render_objects
from multusctl.testing import TestCluster
from tests import distro_roots as R
from tests.noderoot import make_root
from tests.podmounts import kubelet_mounts

PEERS = os.environ.get("MULTUS_PEERS", "")
VERSION = "v4.3.0"  # the only release with thick binaries in ../shared/peers
REPO = Path(__file__).resolve().parent.parent
CNI_BIN = "/usr/lib/cni"
K3S_CONF = R.K3S_CONF_DIR
K3S_BIN = R.K3S_BIN_DIR
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DAEMON_CONFIG_NODE_PATH = "/etc/multusctl-test/daemon-config.json"  # where `check --daemon-config` reads it
IPAM_DIR = "/var/lib/cni/mctl-ipam"  # host-local's dataDir: inside the node root, so private to the test
PLUGINS = ("ptp", "host-local", "loopback")
NODE = "node1"
# What a test of the real daemon needs; each missing piece skips it with the reason.
PEER_MARKS = [
    pytest.mark.skipif(not PEERS, reason="MULTUS_PEERS is not set (.ci/run sets it from ../shared/peers/unpack.sh)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for mount and network namespaces"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare (util-linux)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="no ip (iproute2) for the network namespace"),
    pytest.mark.skipif(not all(os.path.exists(f"{CNI_BIN}/{p}") for p in PLUGINS),
                       reason=f"no {', '.join(PLUGINS)} in {CNI_BIN} (Debian package containernetworking-plugins)"),
]


def primary(cni_version: str = "1.0.0", *, conflist: bool = False) -> dict[str, Any]:
    """The node's primary network: ptp + host-local in place of k3s's flannel (whose plugin needs flanneld).
    ptp's DEL removes both veth ends, so a clean DEL leaves no link on the host (a bridge would stay). A
    single-plugin .conf by default: v4.3.0 caches a conflist delegate lossily and its DEL fails (MC#1449)."""
    plugin = {"type": "ptp", "ipMasq": False,
              "ipam": {"type": "host-local", "dataDir": IPAM_DIR, "ranges": [[{"subnet": "10.250.1.0/24"}]]}}
    if conflist:
        return {"cniVersion": cni_version, "name": "cbr0", "plugins": [plugin]}
    return {"cniVersion": cni_version, "name": "cbr0", **plugin}


def nad_config() -> dict[str, Any]:
    return {"cniVersion": "0.3.1", "name": "extra", "type": "ptp", "ipMasq": False,
            "ipam": {"type": "host-local", "dataDir": IPAM_DIR, "ranges": [[{"subnet": "10.250.2.0/24"}]]}}


def _copy_libs(node: Path, binary: str) -> None:
    """The dynamic loader and libraries `binary` needs, at their paths, so it runs chrooted in the node root
    (Debian builds the plugins dynamically linked; a real host root has its C library)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for path in re.findall(r"(/\S+)", out):
        dest = node / path.lstrip("/")
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(os.path.realpath(path), dest)


def k3s_node(tmp: Path, *, primary_version: str = "1.0.0", conflist: bool = False) -> Path:
    node = make_root(tmp / "node", R.k3s_server())
    conf = node / K3S_CONF.lstrip("/")
    (conf / "10-flannel.conflist").unlink()
    name = "10-ptp.conflist" if conflist else "10-ptp.conf"
    (conf / name).write_text(json.dumps(primary(primary_version, conflist=conflist), indent=2))
    data_bin = node / f"var/lib/rancher/k3s/data/{R.K3S_HASH}/bin"
    for p in PLUGINS:
        shutil.copy(f"{CNI_BIN}/{p}", data_bin / p)
        link = node / K3S_BIN.lstrip("/") / p
        link.unlink(missing_ok=True)
        link.symlink_to(f"../{R.K3S_HASH}/bin/{p}")  # k3s's own shape: relative, into ../<hash>/bin
    _copy_libs(node, f"{CNI_BIN}/ptp")
    for d in ("proc", "run/netns", "run/multus"):
        (node / d).mkdir(parents=True, exist_ok=True)
    return node


def install_shim(node: Path) -> Path:
    """What the render's init container (install_multus -d /host/opt/cni/bin, hostPath = the k3s bin dir) does."""
    dest = node / K3S_BIN.lstrip("/") / "multus-shim"
    shutil.copy(f"{PEERS}/{VERSION}/multus-shim", dest)
    return dest


def daemonset(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == "DaemonSet")


def daemon_container(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(daemonset(objs)["spec"]["template"]["spec"]["containers"][0])


def daemon_config(objs: list[dict[str, Any]]) -> dict[str, Any]:
    cm = next(o for o in objs if o["kind"] == "ConfigMap")
    return dict(json.loads(cm["data"]["daemon-config.json"]))


def set_daemon_config(objs: list[dict[str, Any]], conf: dict[str, Any]) -> None:
    cm = next(o for o in objs if o["kind"] == "ConfigMap")
    cm["data"]["daemon-config.json"] = json.dumps(conf, indent=4) + "\n"


def save_daemon_config(objs: list[dict[str, Any]], node: Path) -> str:
    """The ConfigMap's daemon-config.json as a node file, for `multusctl check --daemon-config`."""
    dest = node / DAEMON_CONFIG_NODE_PATH.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(next(o for o in objs if o["kind"] == "ConfigMap")["data"]["daemon-config.json"])
    return DAEMON_CONFIG_NODE_PATH


@contextlib.contextmanager
def netns() -> Iterator[str]:
    """A fresh network namespace (the pod's sandbox); its name. Deleted on exit."""
    name = f"mctl-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _mount_lines(objs: list[dict[str, Any]], node: Path, pod: Path, tmp: Path) -> list[str]:
    return kubelet_mounts(daemonset(objs)["spec"]["template"]["spec"], daemon_container(objs), objs, node, pod, tmp)


def _pod_root(tmp: Path, cluster: TestCluster, token: str) -> Path:
    """The thick image's files (images/Dockerfile.thick: /usr/src/multus-cni/bin/multus-daemon) and the
    kubelet's projected ServiceAccount volume."""
    pod = tmp / "pod"
    (pod / "usr/src/multus-cni/bin").mkdir(parents=True)
    shutil.copy(f"{PEERS}/{VERSION}/multus-daemon", pod / "usr/src/multus-cni/bin/multus-daemon")
    (pod / "etc").mkdir()
    (pod / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")  # os/user.Current: the daemon wants uid 0
    (pod / "proc").mkdir()
    (pod / "tmp").mkdir()
    sa = pod / SA_DIR.lstrip("/")
    sa.mkdir(parents=True)
    (sa / "token").write_text(token)
    (sa / "ca.crt").write_bytes(cluster.ca_pem)
    (sa / "namespace").write_text("kube-system")
    return pod


def start_daemon(objs: list[dict[str, Any]], node: Path, tmp: Path, cluster: TestCluster, sandbox: str | None,
                 ) -> Daemon:
    """The daemon container of the rendered DaemonSet, started; `sandbox` the pod netns it must see."""
    token = cluster.create_token("kube-system", daemonset(objs)["spec"]["template"]["spec"]["serviceAccountName"])
    pod = _pod_root(tmp, cluster, token)
    q = shlex.quote
    # The host's own mounts, under the node root (mount namespace of the daemon only): /proc for the
    # chrooted plugins (netns switching reads /proc/<pid>/task/<tid>/ns/net), and ip_forward shadowed by a
    # file that reads 1 so ptp's EnableForward never writes the real host's sysctl.
    fwd = tmp / "ip_forward"
    fwd.write_text("1\n")
    host = [f"mount -t proc proc {q(str(node / 'proc'))}",
            f"mount --bind {q(str(fwd))} {q(str(node / 'proc/sys/net/ipv4/ip_forward'))}"]
    if sandbox:
        # `ip netns add` made /run/netns/<name> on the real host; on the simulated one it is this bind.
        (node / "run/netns" / sandbox).touch()
        host.append(f"mount --bind /run/netns/{q(sandbox)} {q(str(node / 'run/netns' / sandbox))}")
    c = daemon_container(objs)
    argv = [*c["command"], *c.get("args", [])]
    script = "\n".join(["set -e", *host, *_mount_lines(objs, node, pod, tmp),
                        f"mount -t proc proc {q(str(pod / 'proc'))}",  # the runtime gives every container one
                        f"exec chroot {q(str(pod))} " + " ".join(q(a) for a in argv)])
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": str(urlsplit(cluster.url).port)}
    for e in c.get("env", []):
        # MULTUS_NODE_NAME comes from the downward API (spec.nodeName): the node the pod runs on.
        env[e["name"]] = e.get("value", NODE)
    log = tmp / "daemon.log"
    with log.open("wb") as out:
        # unshare execs sh, sh execs chroot, chroot execs the daemon: one pid, killed by that pid only.
        proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    return Daemon(proc, log)


def stop_daemon(d: Daemon) -> None:
    if d.proc.poll() is not None:
        return
    d.proc.send_signal(signal.SIGTERM)
    try:
        d.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        d.proc.wait(timeout=5)


@contextlib.contextmanager
def running_daemon(objs: list[dict[str, Any]], node: Path, tmp: Path, cluster: TestCluster,
                   sandbox: str | None) -> Iterator[Daemon]:
    d = start_daemon(objs, node, tmp, cluster, sandbox)
    try:
        yield d
    finally:
        stop_daemon(d)


def wait_for(pred: Any, d: Daemon, seconds: float = 10) -> None:
    """Poll `pred()` until true; fail with the daemon's log when it exits or time runs out."""
    deadline = time.monotonic() + seconds
    while not pred():
        if d.proc.poll() is not None:
            raise AssertionError(f"multus-daemon exited with {d.proc.returncode}:\n{d.output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s:\n{d.output}")
        time.sleep(0.05)


def render(node: Path) -> list[dict[str, Any]]:
    """multusctl's thick render for the node at `node` (the distro read from the root)."""
    return render_objects(RenderOptions(root=str(node), mode="thick", multus_version=VERSION))


def seed(cluster: TestCluster, objs: list[dict[str, Any]]) -> None:
    """What the daemon needs in the cluster before it starts: the NAD CRD, its ServiceAccount and RBAC."""
    cluster.seed([o for o in objs if o["kind"] in ("CustomResourceDefinition", "ServiceAccount", "ClusterRole",
                                                  "ClusterRoleBinding")])


def started(d: Daemon, node: Path) -> dict[str, Any]:
    """Wait for the daemon's socket and its config; the config (the shim's, as the runtime reads it)."""
    sock = node / "run/multus/multus.sock"
    wait_for(lambda: sock.exists() and multus_conf(node) is not None, d)
    path = multus_conf(node)
    assert path is not None
    return dict(json.loads(path.read_text()))


def multus_conf(node: Path) -> Path | None:
    found = sorted((node / K3S_CONF.lstrip("/")).glob("00-multus.conf*"))
    return found[0] if found else None


def shim(node: Path, command: str, conf: dict[str, Any], sandbox: str, pod: dict[str, str],
         ifname: str = "eth0", timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """One CNI command through the real multus-shim, run as containerd runs it on the host: the binary from
    the bin dir, the config on stdin, CNI_PATH the bin dir, CNI_NETNS the sandbox's host path. Its mount
    namespace has the node root's /run at /run, so the shim's own socket lookup (daemonSocketDir, default
    /run/multus/) is unchanged and reaches the socket the daemon made under the node root."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": command,
           "CNI_CONTAINERID": f"c0ffee{pod['uid'][:8]}",
           "CNI_NETNS": f"/run/netns/{sandbox}", "CNI_IFNAME": ifname, "CNI_PATH": K3S_BIN,
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod['namespace']};K8S_POD_NAME={pod['name']};"
                       f"K8S_POD_INFRA_CONTAINER_ID=c0ffee{pod['uid'][:8]};K8S_POD_UID={pod['uid']}"}
    shim_bin = node / K3S_BIN.lstrip("/") / "multus-shim"
    script = f"mount --rbind {shlex.quote(str(node / 'run'))} /run && exec {shlex.quote(str(shim_bin))}"
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], input=json.dumps(conf),
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)


def check(node: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(node), "-o", "json", *args],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    assert r.returncode in (0, 1), r.stderr
    return dict(json.loads(r.stdout))


def errors(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["id"], f["message"]) for f in report["findings"] if f["severity"] == "error"]


def host_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def netns_links(name: str) -> set[str]:
    out = subprocess.run(["ip", "-n", name, "-o", "link", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}
