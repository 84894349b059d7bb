"""The simulated nodes of different distributions that the `check --all-nodes` tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import distro_roots as roots

from .fleetkit import node_root


@pytest.fixture(scope="module")
def distro_nodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three roots whose node checks find different things (tests assert they differ)."""
    base = tmp_path_factory.mktemp("fleet-roots")
    k3s = roots.k3s_server()
    k3s[f"{roots.K3S}/agent/etc/cni/net.d/00-multus.conf"] = {
        "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
        "kubeconfig": f"{roots.K3S}/agent/etc/cni/net.d/multus.d/multus.kubeconfig",
        "delegates": [roots.flannel_conflist()]}
    return {"k3s-server": node_root(base / "k3s", k3s), "rke2-agent": node_root(base / "rke2", roots.rke2_agent()),
            "kubeadm-worker": node_root(base / "kubeadm", roots.kubeadm_worker())}
