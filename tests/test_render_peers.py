"""The rendered thin DaemonSet run for real: the upstream `thin_entrypoint` (../shared/peers v4.0.2 and v4.3.0)
with exactly the command, args and env of the render for k3s, in a private mount namespace laid out as the
kubelet lays out the container: a pod root (the image's files: /thin_entrypoint and the multus binary at
upstream's paths), each hostPath volume bind-mounted from a simulated k3s node root at its mountPath, each
configMap volume as files at its mountPath, and the ServiceAccount token and CA at
/var/run/secrets/kubernetes.io/serviceaccount; KUBERNETES_SERVICE_HOST/PORT name the test cluster (hostNetwork:
the pod shares the host's network, so 127.0.0.1 is the cluster). Then `multusctl check --root` judges the node
the real entrypoint produced.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multusctl.render import RenderOptions, render_objects
from multusctl.testing import TestCluster
from tests import distro_roots as R
from tests.manifestrun import container, pod_spec
from tests.noderoot import make_root
from tests.podmounts import kubelet_mounts
from tests.test_kubeconfig_create import create

PEERS = os.environ.get("MULTUS_PEERS", "")
REPO = Path(__file__).resolve().parent.parent
K3S_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
K3S_BIN = "/var/lib/rancher/k3s/data/cni"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API_PORT = 6443  # k3s's own apiserver port: the kubeconfig the entrypoint writes then reads as on a k3s server

pytestmark = [
    pytest.mark.skipif(not PEERS, reason="MULTUS_PEERS is not set (.ci/run sets it from ../shared/peers/unpack.sh)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a private mount namespace"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare (util-linux)"),
]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def k3s_cluster() -> Iterator[TestCluster]:
    if not _port_free(API_PORT):
        pytest.skip(f"127.0.0.1:{API_PORT} is taken (the test cluster stands in for k3s's apiserver there)")
    with TestCluster(port=API_PORT) as c:
        yield c


def _pod_root(tmp: Path, version: str, token: str, ca: bytes) -> Path:
    """The image's files (images/Dockerfile: /thin_entrypoint, /usr/src/multus-cni/bin/multus) and the
    kubelet's projected ServiceAccount volume."""
    pod = tmp / "pod"
    (pod / "usr/src/multus-cni/bin").mkdir(parents=True)
    shutil.copy(f"{PEERS}/{version}/thin_entrypoint", pod / "thin_entrypoint")
    shutil.copy(f"{PEERS}/{version}/multus", pod / "usr/src/multus-cni/bin/multus")
    sa = pod / SA_DIR.lstrip("/")
    sa.mkdir(parents=True)
    (sa / "token").write_text(token)
    (sa / "ca.crt").write_bytes(ca)
    (sa / "namespace").write_text("kube-system")
    (pod / "tmp").mkdir(exist_ok=True)
    return pod


def _mount_script(objs: list[dict[str, Any]], node: Path, pod: Path, tmp: Path) -> list[str]:
    return kubelet_mounts(pod_spec(objs), container(objs), objs, node, pod, tmp)


def _run_entrypoint(objs: list[dict[str, Any]], node: Path, pod: Path, tmp: Path, cluster: TestCluster,
                    ready: list[str]) -> tuple[subprocess.Popen[str], Path]:
    """The rendered entrypoint running in a mount namespace, once every path of `ready` (relative to the node)
    exists."""
    c = container(objs)
    argv = [*c["command"], *c.get("args", [])]
    script = "set -e\n" + "\n".join(_mount_script(objs, node, pod, tmp)) + f"\nexec chroot {pod} " + " ".join(
        f"'{a}'" for a in argv) + "\n"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": str(cluster.port)}
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", "node1")
    log = tmp / "entrypoint.log"
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while (not all((node / p.lstrip("/")).exists() for p in ready) and proc.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.05)
    time.sleep(0.2)  # the last file written is complete (the entrypoint renames configs into place)
    assert proc.poll() is None, log.read_text()
    return proc, log


def _stop(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # the pod's stop: SIGTERM, then the grace period
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _check(node: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(node), "-o", "json"],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    assert r.returncode in (0, 1), r.stderr
    return dict(json.loads(r.stdout))


def _depth(conf: dict[str, Any]) -> int:
    """How many multus configs are nested in this one (1 = itself only)."""
    plugin = conf["plugins"][0] if "plugins" in conf else conf
    inner = [d for d in plugin.get("delegates", []) if d.get("type") == "multus"
             or any(p.get("type") == "multus" for p in d.get("plugins", []))]
    return 1 + (max(_depth(d) for d in inner) if inner else 0)


def _errors(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["id"], f["message"]) for f in report["findings"] if f["severity"] == "error"]


def test_v4_3_0_thin_render_runs_and_the_node_checks_clean(k3s_cluster: TestCluster, tmp_path: Path) -> None:
    node = make_root(tmp_path / "node", R.k3s_server())
    objs = render_objects(RenderOptions(root=str(node), multus_version="v4.3.0"))  # auto: k3s from the root
    k3s_cluster.seed([o for o in objs if o["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")])
    token = k3s_cluster.create_token("kube-system", "multus")
    pod = _pod_root(tmp_path, "v4.3.0", token, k3s_cluster.ca_pem)
    proc, log = _run_entrypoint(objs, node, pod, tmp_path, k3s_cluster,
                                [f"{K3S_CONF}/00-multus.conflist", f"{K3S_CONF}/multus.d/multus.kubeconfig",
                                 f"{K3S_BIN}/multus"])
    try:
        conf_dir = node / K3S_CONF.lstrip("/")
        multus_conf = conf_dir / "00-multus.conflist"  # flannel's cniVersion is 1.0.0
        assert multus_conf.exists(), (sorted(p.name for p in conf_dir.iterdir()), log.read_text())
        conf = json.loads(multus_conf.read_text())
        assert _depth(conf) == 1
        assert conf["plugins"][0]["delegates"][0]["name"] == "cbr0"  # flannel's, not its own
        assert conf["plugins"][0]["kubeconfig"] == f"{K3S_CONF}/multus.d/multus.kubeconfig"
        assert (node / K3S_BIN.lstrip("/") / "multus").is_file()
        kc = (conf_dir / "multus.d/multus.kubeconfig").read_text()
        assert f"server: https://127.0.0.1:{API_PORT}" in kc and token in kc
        report = _check(node)  # while it runs: what the node has while multus is up
        assert _errors(report) == [], report["findings"]
        assert report["target"]["mode"] == "thin"
        time.sleep(1.5)  # a few watch-loop rounds: still not nested
        assert _depth(json.loads(multus_conf.read_text())) == 1
    finally:
        _stop(proc)
    # --cleanup-config-on-exit=true: the stopped entrypoint takes its config with it (pods then get only the
    # primary network until the next pod starts), as upstream's cleanupMultusConf does.
    assert not (node / K3S_CONF.lstrip("/") / "00-multus.conflist").exists(), log.read_text()


def test_v4_0_2_thin_render_is_static_and_cannot_nest(k3s_cluster: TestCluster, admin_k3s: Path, tmp_path: Path,
                                                       ) -> None:
    node = make_root(tmp_path / "node", R.k3s_server())
    objs = render_objects(RenderOptions(root=str(node), multus_version="v4.0.2"))
    k3s_cluster.seed([o for o in objs if o["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")])
    # v4.0.x writes no kubeconfig for a static config: provisioned as the render's header says.
    home = tmp_path / "home"
    home.mkdir()
    code, out, err = create(home, "--root", str(node), "--kubeconfig", str(admin_k3s), "--server", k3s_cluster.url)
    assert code == 0, out + err
    pod = _pod_root(tmp_path, "v4.0.2", k3s_cluster.create_token("kube-system", "multus"), k3s_cluster.ca_pem)
    proc, log = _run_entrypoint(objs, node, pod, tmp_path, k3s_cluster,
                                [f"{K3S_CONF}/00-multus.conf", f"{K3S_BIN}/multus"])
    try:
        conf_dir = node / K3S_CONF.lstrip("/")
        names = sorted(p.name for p in conf_dir.iterdir())
        assert "00-multus.conf" in names and "00-multus.conflist" not in names, (names, log.read_text())
        conf = json.loads((conf_dir / "00-multus.conf").read_text())
        assert _depth(conf) == 1 and conf["clusterNetwork"] == f"{K3S_CONF}/10-flannel.conflist"
        assert (node / K3S_BIN.lstrip("/") / "multus").is_file()
        report = _check(node)
        assert _errors(report) == [], report["findings"]
        assert "multus-duplicate" not in {f["id"] for f in report["findings"]}
    finally:
        _stop(proc)
    conf = json.loads((node / K3S_CONF.lstrip("/") / "00-multus.conf").read_text())
    assert _depth(conf) == 1  # v4.0.2 has no cleanup for a static config: the file stays, unchanged


@pytest.fixture
def admin_k3s(k3s_cluster: TestCluster, tmp_path: Path) -> Path:
    return k3s_cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
