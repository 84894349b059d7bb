"""The real upstream Multus thin plugin (../shared/peers: v4.0.2 and v4.3.0) with the kubeconfigs multusctl
writes, through the test cluster, in a network namespace made here: what `create` and `refresh` promise
("Multus can use this file") proven by Multus itself, not by a reading of its sources.

A pod ADD with the plugin reads the kubeconfig (client-go), GETs the pod, runs the delegate (the real
loopback plugin from containernetworking-plugins) and writes the `k8s.v1.cni.cncf.io/network-status`
annotation through pods/status; DEL undoes it. `.ci/run` unpacks the binaries and sets MULTUS_PEERS; without
it (a user's clone) the tests skip with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from tests.peerkit import PEER_MARKS, multus, seed_pod, throwaway_netns
from tests.peerkit import network_status as _network_status
from tests.test_kubeconfig_create import create
from tests.test_refresh import refresh

pytestmark = PEER_MARKS


@pytest.fixture
def netns() -> Iterator[str]:
    with throwaway_netns() as path:
        yield path


@pytest.fixture
def pod(cluster: TestCluster) -> dict[str, str]:
    return seed_pod(cluster)


def _status(cluster: TestCluster) -> list[dict[str, object]]:
    return _network_status(cluster)


@pytest.mark.parametrize("version", ["v4.0.2", "v4.3.0"])
def test_the_real_thin_plugin_runs_a_pod_with_the_kubeconfig_create_wrote(
        version: str, cluster: TestCluster, admin: Path, home: Path, tmp_path: Path, netns: str,
        pod: dict[str, str]) -> None:
    kc = tmp_path / "multus.d" / "multus.kubeconfig"
    kc.parent.mkdir()
    code, out, err = create(home, "--path", str(kc), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 0, out + err
    add = multus(version, "ADD", kc, netns, pod, tmp_path)
    assert add.returncode == 0, add.stdout + add.stderr
    assert json.loads(add.stdout)["interfaces"][0]["name"] == "lo"
    status = _status(cluster)
    assert [s["name"] for s in status] == ["lo-net"] and status[0]["default"] is True
    delete = multus(version, "DEL", kc, netns, pod, tmp_path)
    assert delete.returncode == 0, delete.stdout + delete.stderr


def test_the_real_plugin_keeps_working_after_refresh_and_fails_loudly_without(
        cluster: TestCluster, admin: Path, home: Path, tmp_path: Path, netns: str, pod: dict[str, str]) -> None:
    kc = tmp_path / "multus.d" / "multus.kubeconfig"
    kc.parent.mkdir()
    code, out, err = create(home, "--path", str(kc), "--kubeconfig", str(admin), "--server", cluster.url,
                            "--token-duration", "1h")
    assert code == 0, out + err
    code, out, err = refresh(home, "--path", str(kc), "--kubeconfig", str(admin), "--force")
    assert code == 0 and "Wrote" in out, out + err
    assert multus("v4.3.0", "ADD", kc, netns, pod, tmp_path).returncode == 0
    # The founding case: the token is gone (here: its ServiceAccount deleted) -> Unauthorized, every pod.
    cluster.store.delete("", "serviceaccounts", "kube-system", "multus")
    failed = multus("v4.3.0", "ADD", kc, netns, pod, tmp_path)
    assert failed.returncode != 0 and "Unauthorized" in failed.stdout + failed.stderr, failed.stdout


@pytest.mark.parametrize("version", ["v4.0.2", "v4.3.0"])
def test_facts_the_checks_rely_on_hold_for_the_real_plugin(version: str, cluster: TestCluster, admin: Path,
                                                           home: Path, tmp_path: Path, netns: str,
                                                           pod: dict[str, str]) -> None:
    kc = tmp_path / "multus.d" / "multus.kubeconfig"
    kc.parent.mkdir()
    code, out, err = create(home, "--path", str(kc), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 0, out + err
    # FACTS: keys are matched case-insensitively (Go's encoding/json), so `kubeConfig` is read: the pod's
    # network-status annotation is written through the API, which needs the kubeconfig.
    add = multus(version, "ADD", kc, netns, pod, tmp_path, kubeconfig_key="kubeConfig")
    assert add.returncode == 0 and _status(cluster), add.stdout + add.stderr
    assert multus(version, "DEL", kc, netns, pod, tmp_path, kubeconfig_key="kubeConfig").returncode == 0
    # cni-version-mismatch: a thin multus 0.3.1 over a 1.0.0 delegate is no error on multus v4 (the result
    # of the delegate is passed through), which is why the check only warns about pre-v4 binaries.
    add = multus(version, "ADD", kc, netns, pod, tmp_path, version_key="0.3.1", delegate_version="1.0.0")
    assert add.returncode == 0, add.stdout + add.stderr
    assert json.loads(add.stdout)["cniVersion"] == "1.0.0"
    multus(version, "DEL", kc, netns, pod, tmp_path, version_key="0.3.1", delegate_version="1.0.0")
