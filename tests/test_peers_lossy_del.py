"""MC#1449 with the real thin plugin (../shared/peers): a clusterNetwork that is a path to a .conflist is cached
without its plugins' own keys from v4.2.1 on, so v4.3.0's DEL of host-local's bridge fails with `no IP ranges
specified` and the address stays reserved; v4.0.2 (before PR #1419) DELs the same config cleanly. The node
check `conflist-del-lossy` names exactly this config."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from multusctl.analyze import analyze_node
from multusctl.testing import TestCluster
from tests import distro_roots as R
from tests.noderoot import File, make_root
from tests.peerkit import PEER_MARKS, error_message, host_local_reservations, multus, seed_pod, throwaway_netns

pytestmark = PEER_MARKS
BRIDGE = f"mctl{os.getpid() % 100000}lo"  # the host end the bridge plugin makes; one per worker


def conflist(data_dir: Path) -> dict[str, object]:
    # No isGateway: the bridge plugin then leaves the host's ip_forward alone.
    return {"cniVersion": "0.3.1", "name": "lossy", "plugins": [
        {"type": "bridge", "bridge": BRIDGE, "ipam": {"type": "host-local", "dataDir": str(data_dir),
                                                      "ranges": [[{"subnet": "10.251.7.0/24"}]]}}]}


@pytest.mark.parametrize(("version", "leaks"), [("v4.0.2", False), ("v4.3.0", True)])
def test_a_conflist_named_by_path_leaks_its_ip_at_del_from_v4_2_1(version: str, leaks: bool, cluster: TestCluster,
                                                                   admin: Path, tmp_path: Path) -> None:
    pod = seed_pod(cluster)
    data = tmp_path / "ipam"
    path = tmp_path / "10-lossy.conflist"
    path.write_text(json.dumps(conflist(data)))
    extra = {"clusterNetwork": str(path)}
    try:
        with throwaway_netns() as netns:
            add = multus(version, "ADD", admin, netns, pod, tmp_path, delegates=[], extra=extra)
            assert add.returncode == 0, error_message(add)
            assert host_local_reservations(data) == ["10.251.7.2"]
            delete = multus(version, "DEL", admin, netns, pod, tmp_path, delegates=[], extra=extra)
    finally:
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
    if not leaks:
        assert delete.returncode == 0 and host_local_reservations(data) == [], error_message(delete)
        return
    assert delete.returncode != 0
    assert 'plugin type="bridge" failed (delete): no IP ranges specified' in error_message(delete)
    assert host_local_reservations(data) == ["10.251.7.2"]


def test_the_node_check_names_that_config(tmp_path: Path) -> None:
    listed = "/etc/cni/multus/net.d/10-lossy.conflist"
    kc = f"{R.K3S_CONF_DIR}/multus.d/multus.kubeconfig"
    root = make_root(tmp_path / "node", {
        **R.k3s_agent(), f"{R.K3S_BIN_DIR}/multus": File("#!/bin/sh\n", mode=0o755),
        f"{R.K3S_CONF_DIR}/00-multus.conf": {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
                                             "kubeconfig": kc, "clusterNetwork": listed},
        kc: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600),
        listed: conflist(Path("/var/lib/cni/networks"))})
    (hit,) = [f for f in analyze_node(str(root)).findings if f.id == "conflist-del-lossy"]
    assert hit.field == "clusterNetwork" and "no IP ranges specified" in hit.message
