"""A cluster and a node for `multusctl bundle`, each holding secrets planted where a careless bundle would pick
them up: the node's multus kubeconfig (a real ServiceAccount token and a client key), the k3s join token in
config.yaml, the admin kubeconfig's client key, a Secret object, and, in what the bundle does collect, a
ConfigMap with a kubeconfig, a NAD, a pod's env and the multus logs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from multusctl.testing import TestCluster
from tests import certs
from tests import distro_roots as roots
from tests.noderoot import File, make_root
from tests.test_doctor import MULTUS_ROLE, NAD_CRD, account, binding, nad

REPO = Path(__file__).resolve().parents[2]
K3S_KC = f"{roots.K3S_CONF_DIR}/multus.d/multus.kubeconfig"
JOIN_PASSWORD = "f6b1c0ffee5eca1ab1ed0d15ea5e5a17"
JOIN_TOKEN = "K10" + "7e" * 32 + "::server:" + JOIN_PASSWORD
SECRET_OBJECT_VALUE = "planted-secret-object-value-7f3a91"  # in a Secret: the bundle never reads one
CM_JOIN_PASSWORD = "0ddba11deadbeef1234567890abcdef0"


@dataclass
class Planted:
    """name -> value of every secret the test put somewhere; none may appear in any view of any member."""

    secrets: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # JWTs whose fingerprints must appear


def thin_conf() -> dict[str, Any]:
    return {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "kubeconfig": K3S_KC,
            "delegates": [roots.flannel_conflist()]}


def key_body(pem: bytes) -> str:
    """A line from the middle of a PEM key: what must not survive even when the BEGIN/END lines are gone."""
    lines = pem.decode().splitlines()
    return lines[len(lines) // 2]


def node_info(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"nodeInfo": {"kubeletVersion": "v1.31.4+k3s1", "kernelVersion": "6.8.0",
                                    "containerRuntimeVersion": "containerd://1.7.23-k3s2", "osImage": "Ubuntu 24.04",
                                    "architecture": "amd64"}}}


def daemonset() -> dict[str, Any]:
    container = {"name": "kube-multus", "image": "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0-thick",
                 "command": ["/usr/src/multus-cni/bin/multus-daemon"]}
    spec = {"serviceAccountName": "multus", "containers": [container],
            "volumes": [{"name": "cfg", "configMap": {"name": "daemon-cfg"}}]}  # a thick daemon-config by another name
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "multus"}},
                     "template": {"metadata": {"labels": {"app": "multus"}}, "spec": spec}}}


def multus_pod(name: str, node: str, *, restarts: int = 0, env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    state = {"waiting": {"reason": "CrashLoopBackOff"}} if restarts else {"running": {}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"app": "multus"}},
            "spec": {"nodeName": node, "containers": [{"name": "kube-multus", "image": "multus", "env": env or []}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "kube-multus", "ready": not restarts, "restartCount": restarts, "state": state}]}}


def stuck_pod(name: str, namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"nodeName": "node1", "containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "web", "ready": False, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}]}}


def event(pod: dict[str, Any], name: str, message: str) -> dict[str, Any]:
    meta = pod["metadata"]
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": meta["namespace"]},
            "involvedObject": {"kind": "Pod", "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
            "reason": "FailedCreatePodSandBox", "type": "Warning", "message": message}


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "kube-system"},
            "data": data}


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture
def admin(cluster: TestCluster, tmp_path: Path, planted: Planted) -> Path:
    path = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    planted.secrets["admin client key"] = key_body(base64.b64decode(user["client-key-data"]))
    return path


@pytest.fixture
def node_root(cluster: TestCluster, tmp_path: Path, planted: Planted) -> Path:
    """A k3s server whose thin multus kubeconfig holds a real token of kube-system/multus and a client key,
    and whose config.yaml holds the join token."""
    cluster.seed([account(), MULTUS_ROLE, binding()])
    token = cluster.create_token("kube-system", "multus")
    client = certs.plain_client()
    kc = certs.kubeconfig(cluster.url, ca_pem=cluster.ca_pem, token=token,
                          user_extra={"client-certificate-data": client.cert_b64, "client-key-data": client.key_b64})
    planted.secrets |= {"node multus token": token, "node client key": key_body(client.key_pem),
                        "k3s join token": JOIN_TOKEN, "k3s join password": JOIN_PASSWORD}
    planted.tokens["node multus token"] = token
    files = roots.k3s_server()
    files[f"{roots.K3S_CONF_DIR}/00-multus.conf"] = thin_conf()
    files[f"{roots.K3S_BIN_DIR}/multus"] = File("#!/bin/sh\n", mode=0o755)
    files[K3S_KC] = File(kc, mode=0o600)
    files["/etc/rancher/k3s/config.yaml"] = File(f"token: {JOIN_TOKEN}\nwrite-kubeconfig-mode: '0600'\n", mode=0o600)
    return make_root(tmp_path / "node", files)


@pytest.fixture
def populated(cluster: TestCluster, planted: Planted, node_root: Path) -> dict[str, Any]:
    """The multus DaemonSet and pods (one crash-looping), their logs, the multus ConfigMaps (one mounted by the
    DaemonSet under another name), NADs, a pod stuck in ContainerCreating with events, a Secret."""
    sa_token = cluster.create_token("default", "default")
    log_token = cluster.create_token("kube-system", "multus")
    cm_key = certs.client_cert(certs.ca(), "someone")
    planted.secrets |= {"default SA token": sa_token, "log token": log_token,
                        "configmap key": key_body(cm_key.key_pem), "secret object": SECRET_OBJECT_VALUE,
                        "nad join password": CM_JOIN_PASSWORD}
    planted.tokens |= {"default SA token": sa_token, "log token": log_token}
    stolen_kc = certs.kubeconfig("https://10.43.0.1:443", token=sa_token,
                                 user_extra={"client-key-data": cm_key.key_b64})
    cluster.seed([NAD_CRD, node_info("node1"), node_info("node2"), daemonset(),
                  multus_pod("kube-multus-ds-aaaaa", "node1", env=[{"name": "TOKEN", "value": sa_token}]),
                  multus_pod("kube-multus-ds-bbbbb", "node2", restarts=3),
                  configmap("multus-kubeconfig", kubeconfig=stolen_kc,
                            **{"kubeconfig.b64": base64.b64encode(stolen_kc.encode()).decode()}),
                  configmap("daemon-cfg", **{"daemon-config.json": json.dumps(
                      {"cniVersion": "0.3.1", "logLevel": "verbose", "socketDir": "/host/run/multus/"})}),
                  configmap("unrelated", x="not multus"),
                  {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "stringData": {"value": SECRET_OBJECT_VALUE},
                   "metadata": {"name": "multus-extra", "namespace": "kube-system"}}])
    cluster.seed([nad("macvlan-conf", json.dumps({"cniVersion": "0.3.1", "type": "macvlan", "master": "eth0",
                                                  "ipam": {"type": "host-local", "subnet": "10.10.0.0/16"}})),
                  nad("odd", json.dumps({"cniVersion": "0.3.1", "type": "bridge",
                                         "note": f"K10{'ab' * 32}::server:{CM_JOIN_PASSWORD}"}), namespace="team-a")])
    web = cluster.seed([stuck_pod("web")])[0]
    cluster.seed([event(web, "web.1", "Failed to create pod sandbox: plugin type=\"multus\" failed (add): "
                                      "Unauthorized"),
                  event(web, "web.2", "still waiting")])
    key = cm_key.key_pem.decode()
    cluster.set_pod_log("kube-system", "kube-multus-ds-aaaaa",
                        f"2026-12-02T01:00:00Z [verbose] using token {log_token}\n"
                        f"2026-12-02T01:00:01Z [error] bad key {json.dumps(key)}\n"
                        "2026-12-02T01:00:02Z [verbose] Readiness Indicator file check\n")
    cluster.set_pod_log("kube-system", "kube-multus-ds-bbbbb", f"[panic] token={log_token}\n{key}")
    return {"web": web}


def run_bundle(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """`multusctl bundle ...` as its own process, with no $KUBECONFIG and an empty home (nothing found by
    accident)."""
    base = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    base |= {"PYTHONPATH": str(REPO / "src"), "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "multusctl", "bundle", *args], cwd=cwd, env=base | (env or {}),
                          capture_output=True, timeout=timeout, check=False)


def members(path: Path) -> dict[str, bytes]:
    """name -> bytes of every regular member; asserts the one top-level directory and fixed headers."""
    out = {}
    with tarfile.open(path) as tar:
        infos = tar.getmembers()
        tops = {i.name.split("/", 1)[0] for i in infos}
        assert len(tops) == 1, tops
        assert next(iter(tops)).startswith("multusctl-bundle-")
        mtimes = {i.mtime for i in infos}
        assert len(mtimes) == 1
        for info in infos:
            assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
            assert not info.issym() and not info.islnk()
            if info.isfile():
                assert info.mode == 0o600
                f = tar.extractfile(info)
                assert f is not None
                out[info.name.split("/", 1)[1]] = f.read()
            else:
                assert info.isdir() and info.mode == 0o700
    return out


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "work"
    d.mkdir()
    yield d
