"""Running the real upstream Multus thin plugin (../shared/peers) against the test cluster, shared by
tests/test_peers.py and tests/test_peers_faults.py.

`multus(...)` runs one CNI command of the thin plugin with a config naming the kubeconfig, in a network
namespace the caller made (`throwaway_netns`), with the real plugins of containernetworking-plugins as
delegates. The binaries come from MULTUS_PEERS (`.ci/run` sets it from ../shared/peers/unpack.sh); without
it, or without root, /usr/lib/cni or iproute2, `PEER_MARKS` skip with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multusctl.testing import TestCluster

PEERS = os.environ.get("MULTUS_PEERS", "")
CNI_BIN = "/usr/lib/cni"
STATUS = "k8s.v1.cni.cncf.io/network-status"
NETWORKS = "k8s.v1.cni.cncf.io/networks"
VERSIONS = ("v4.0.2", "v4.3.0")
LOOPBACK_DELEGATE = {"cniVersion": "0.3.1", "name": "lo-net", "type": "loopback"}

PEER_MARKS = [
    pytest.mark.skipif(not PEERS, reason="MULTUS_PEERS is not set (.ci/run sets it from ../shared/peers/unpack.sh)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace"),
    pytest.mark.skipif(not os.path.exists(f"{CNI_BIN}/loopback"),
                       reason=f"no {CNI_BIN}/loopback (Debian package containernetworking-plugins)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="no ip (iproute2) for the network namespace"),
]


@contextlib.contextmanager
def throwaway_netns() -> Iterator[str]:
    """A fresh, empty network namespace (the pod's); yields its path, deletes it on exit."""
    name = f"mctl-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield f"/var/run/netns/{name}"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def seed_pod(cluster: TestCluster, name: str = "web", namespace: str = "default",
             annotations: dict[str, str] | None = None, **meta: Any) -> dict[str, str]:
    """Store a scheduled pod; returns the `{name, namespace, uid}` the CNI_ARGS name."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, **meta}
    if annotations:
        metadata["annotations"] = dict(annotations)
    (stored,) = cluster.seed([{"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                               "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}]}}])
    return {"name": name, "namespace": namespace, "uid": stored["metadata"]["uid"]}


def multus(version: str, command: str, kubeconfig: Path, netns: str, pod: dict[str, str],
           tmp: Path, *, version_key: str = "0.3.1", delegate_version: str = "0.3.1",
           kubeconfig_key: str = "kubeconfig", delegates: list[dict[str, Any]] | None = None,
           extra: dict[str, Any] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """One CNI command (ADD, DEL, CHECK) of the real thin plugin `version`, as the runtime would run it; `extra`
    keys go into its config as well (e.g. a clusterNetwork)."""
    conf = {"cniVersion": version_key, "name": "multus-cni-network", "type": "multus",
            kubeconfig_key: str(kubeconfig), "cniDir": str(tmp / "cache"), "binDir": CNI_BIN,
            "delegates": delegates if delegates is not None else [dict(LOOPBACK_DELEGATE, cniVersion=delegate_version)],
            **(extra or {})}
    env = {"PATH": os.environ.get("PATH", ""), "CNI_COMMAND": command, "CNI_CONTAINERID": "c0ffee" + pod["uid"][:6],
           "CNI_NETNS": netns, "CNI_IFNAME": "eth0", "CNI_PATH": CNI_BIN,
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod['namespace']};K8S_POD_NAME={pod['name']};"
                       f"K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID={pod['uid']}"}
    return subprocess.run([f"{PEERS}/{version}/multus"], input=json.dumps(conf), capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


def host_local_reservations(data_dir: Path) -> list[str]:
    """The addresses host-local holds under its dataDir (one file per IP in a dir per network), sorted."""
    return sorted(p.name for p in data_dir.glob("*/*") if p.name[0].isdigit()) if data_dir.is_dir() else []


def error_message(proc: subprocess.CompletedProcess[str]) -> str:
    """What the plugin printed on failure: the CNI error's `msg` (and `details`), then stderr."""
    parts: list[str] = []
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "msg" in doc:
        parts.append(str(doc["msg"]))
        if doc.get("details"):
            parts.append(str(doc["details"]))
    elif proc.stdout.strip():
        parts.append(proc.stdout.strip())
    if proc.stderr.strip():
        parts.append(proc.stderr.strip())
    return "\n".join(parts)


def network_status(cluster: TestCluster, name: str = "web", namespace: str = "default") -> list[dict[str, Any]]:
    """The pod's `k8s.v1.cni.cncf.io/network-status` annotation, parsed ([] when absent)."""
    got = cluster.store.get("", "pods", namespace, name)
    return list(json.loads(((got or {}).get("metadata") or {}).get("annotations", {}).get(STATUS, "[]")))
