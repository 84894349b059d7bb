"""As a peer: the real upstream multus thin plugin attaches the same NAD, named by the same annotation, in the same
kind of sandbox (tests/peerkit.py), and the pod gets the interfaces `nad test` reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from multusctl.cni.sandbox import links_in
from multusctl.testing import TestCluster
from tests.peerkit import CNI_BIN, NETWORKS, PEER_MARKS, multus, network_status, seed_pod, throwaway_netns
from tests.test_doctor import NAD_CRD

pytestmark = PEER_MARKS


def nad(name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": "default"}, "spec": {"config": json.dumps(config)}}


def shape(links: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(str(link["name"]), str(link["kind"])) for link in links}


@pytest.mark.parametrize("annotation", ["br1, p2p@pt0", '[{"name":"p2p"},{"name":"br1","interface":"eth9"}]'])
def test_multus_gets_the_interfaces_nad_test_reports(tmp_path: Path, annotation: str) -> None:
    def ipam(subnet: str) -> dict[str, Any]:  # multus' run keeps its IPAM state in the test's dir too
        return {"type": "host-local", "dataDir": str(tmp_path / "ipam"), "ranges": [[{"subnet": subnet}]]}

    nads = [nad("br1", {"cniVersion": "0.3.1", "name": "br1", "type": "bridge", "bridge": "mctlbr9",
                        "ipam": ipam("10.76.1.0/24")}),
            nad("p2p", {"cniVersion": "0.3.1", "name": "p2p", "type": "ptp", "ipam": ipam("10.76.2.0/24")})]
    with TestCluster() as cluster:
        cluster.seed([NAD_CRD, *nads])
        admin = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        proc = subprocess.run([sys.executable, "-m", "multusctl", "nad", "test", "--annotation", annotation,
                               "--kubeconfig", str(admin), "--bin-dir", CNI_BIN, "-o", "json"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, (proc.stderr, proc.stdout[-2000:])
        doc = json.loads(proc.stdout)
        ours = shape([link for link in doc["attachments"][-1]["sandbox_links"] if link["name"] != "lo"])

        pod = seed_pod(cluster, annotations={NETWORKS: annotation})
        with throwaway_netns() as netns:
            try:
                add = multus("v4.3.0", "ADD", admin, netns, pod, tmp_path, delegate_version="0.3.1")
                assert add.returncode == 0, add.stdout + add.stderr
                theirs = shape([link for link in links_in(os.path.basename(netns))
                                if link["name"] not in ("lo", "eth0")])
                status = [s["interface"] for s in network_status(cluster) if s.get("interface") not in (None, "lo")]
            finally:
                multus("v4.3.0", "DEL", admin, netns, pod, tmp_path, delegate_version="0.3.1")
                subprocess.run(["ip", "link", "del", "mctlbr9"], check=False, capture_output=True)
    assert ours == theirs, (ours, theirs)
    assert sorted(status) == sorted(name for name, _kind in ours)
