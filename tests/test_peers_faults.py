"""Every fault of tests/faultkit.py met by the real upstream Multus thin plugin (v4.0.2, v4.3.0): ADD works where
it should, fails elsewhere with the upstream text the explain catalog matches (`Fault.says`), and that text maps
to the fault's explain entry. Then the test cluster's pods/status fidelity, proven with the plugin: the
network-status annotation it writes lands, with the default network and a NAD's `net1`.

Wall time (measured): every case takes under 0.1 s but v4.3.0's refused port (~2.5 s: it retries until its
budget), v4.0.2's stalled TLS handshake (10 s: client-go's TLS handshake timeout) and slow API (~1.7 s), and
v4.0.2's black hole (30 s: Go's dial timeout), which runs only with MULTUS_PEERS_SLOW=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from multusctl.explain import explain
from multusctl.testing import TestCluster
from multusctl.testing.faults import NetnsBlackhole
from tests.faultkit import FAULTS, Fault
from tests.peerkit import (
    CNI_BIN,
    LOOPBACK_DELEGATE,
    NETWORKS,
    PEER_MARKS,
    VERSIONS,
    error_message,
    multus,
    network_status,
    seed_pod,
    throwaway_netns,
)

pytestmark = PEER_MARKS
SLOW = os.environ.get("MULTUS_PEERS_SLOW", "") not in ("", "0")
# (fault, version) -> why it does not run by default
SLOW_CASES = {("blackhole", "v4.0.2"): "v4.0.2 waits 30 s for Go's dial timeout (set MULTUS_PEERS_SLOW=1); "
                                       "v4.3.0 covers the black hole in 0.5 s"}


def assert_explained(message: str, explain_id: str) -> None:
    ids = [m.id for m in explain(message)]
    assert ids and ids[0] == explain_id, (ids, message)


def _cases() -> list[object]:
    out: list[object] = []
    for name in FAULTS:
        for version in VERSIONS:
            marks = []
            if (name, version) in SLOW_CASES and not SLOW:
                marks.append(pytest.mark.skip(reason=SLOW_CASES[(name, version)]))
            out.append(pytest.param(name, version, id=f"{name}-{version}", marks=marks))
    return out


def _add(fault: Fault, version: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    with throwaway_netns() as netns:
        started = time.monotonic()
        add = multus(version, "ADD", fault.kubeconfig, netns, fault.pod, tmp_path)
        took = time.monotonic() - started
        if add.returncode == 0:
            delete = multus(version, "DEL", fault.kubeconfig, netns, fault.pod, tmp_path)
            assert delete.returncode == 0, delete.stdout + delete.stderr
    return add, took


@pytest.mark.parametrize(("name", "version"), _cases())
def test_the_real_thin_plugin_meets_the_fault(name: str, version: str, cluster: TestCluster, admin: Path,
                                              tmp_path: Path) -> None:
    if name == "blackhole" and (reason := NetnsBlackhole.unavailable_reason()) is not None:
        pytest.skip(reason)
    with FAULTS[name](cluster, admin, tmp_path) as fault:
        add, took = _add(fault, version, tmp_path)
        message = error_message(add)
        print(f"{name} {version} rc={add.returncode} {took:.2f}s: {message if add.returncode else 'ok'}")
        expected = fault.explain_for(version)
        if expected is None:
            assert add.returncode == 0, message
            assert [s["name"] for s in network_status(cluster, fault.pod["name"])] == ["lo-net"]
            return
        assert add.returncode != 0 and json.loads(add.stdout)["code"] == 999, add.stdout + add.stderr
        for text in fault.says_for(version):
            assert text in message, (text, message)
        # A failed ADD never leaves a network-status behind (the pod, if reachable, is untouched).
        assert not network_status(cluster, fault.pod["name"])
        assert_explained(message, expected)


def _netns() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _in_netns(netns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", Path(netns).name, "ip", *args], capture_output=True, text=True,
                          check=False)


def _host_peer(netns: str, ifname: str) -> str:
    """The host-side name of the veth whose pod end is `ifname` (`net1@if<index>` in the pod's netns)."""
    shown = _in_netns(netns, "-o", "link", "show", ifname)
    assert shown.returncode == 0, shown.stderr
    index = shown.stdout.split(":")[1].strip().split("@if")[1]
    host = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    (line,) = [ln for ln in host.splitlines() if ln.split(":")[0] == index]
    return line.split(":")[1].strip().split("@")[0]


def _host_link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_the_network_status_multus_writes_through_pods_status_lands_with_both_networks(
        version: str, cluster: TestCluster, admin: Path, tmp_path: Path) -> None:
    for plugin in ("ptp", "host-local"):
        if not Path(CNI_BIN, plugin).exists():
            pytest.skip(f"no {CNI_BIN}/{plugin} (Debian package containernetworking-plugins)")
    ipam_dir = tmp_path / "host-local"
    nad_conf = {"cniVersion": "0.3.1", "name": "ptp-net", "type": "ptp", "ipMasq": False, "mtu": 1400,
                "ipam": {"type": "host-local", "dataDir": str(ipam_dir),
                         "ranges": [[{"subnet": "198.51.100.0/24"}]]}}
    with FAULTS["healthy"](cluster, admin, tmp_path) as fault:
        cluster.seed([{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                       "metadata": {"name": "ptp-net", "namespace": "default"},
                       "spec": {"config": json.dumps(nad_conf)}}])
        pod = seed_pod(cluster, "multi", annotations={NETWORKS: "ptp-net"})
        with throwaway_netns() as netns:
            add = multus(version, "ADD", fault.kubeconfig, netns, pod, tmp_path, delegates=[LOOPBACK_DELEGATE])
            assert add.returncode == 0, add.stdout + add.stderr
            host_veth = _host_peer(netns, "net1")
            status = network_status(cluster, "multi")
            assert [s["name"] for s in status] == ["lo-net", "default/ptp-net"], status
            assert status[0]["default"] is True
            second = status[1]
            assert second["interface"] == "net1" and not second.get("default"), second
            (ip,) = second["ips"]
            assert ip.startswith("198.51.100.")
            assert f"inet {ip}/24" in _in_netns(netns, "-4", "addr", "show", "net1").stdout
            # The rest of the pod is the test cluster's status strategy: spec and annotations kept.
            stored = cluster.store.get("", "pods", "default", "multi") or {}
            assert stored["spec"]["nodeName"] == "node1"
            assert stored["metadata"]["annotations"][NETWORKS] == "ptp-net"
            assert (ipam_dir / "ptp-net" / ip).exists()
            delete = multus(version, "DEL", fault.kubeconfig, netns, pod, tmp_path, delegates=[LOOPBACK_DELEGATE])
            assert delete.returncode == 0, delete.stdout + delete.stderr
            assert "net1" not in _in_netns(netns, "-o", "link", "show").stdout
            assert not _host_link_exists(host_veth), f"DEL left the host-side veth {host_veth}"
            assert not (ipam_dir / "ptp-net" / ip).exists(), "DEL left the IP reserved"
        assert Path(netns).name not in _netns()
        cluster.store.delete("k8s.cni.cncf.io", "network-attachment-definitions", "default", "ptp-net")
        cluster.store.delete("", "pods", "default", "multi")


@pytest.mark.parametrize("version", ["v4.0.2", "v4.3.0"])
def test_without_events_permission_the_real_plugin_still_adds_so_doctor_only_warns(
        version: str, cluster: TestCluster, admin: Path, tmp_path: Path) -> None:
    """What rbac-missing's severities rest on: a denied `create events` costs the AddedInterface events, not the
    ADD; the other permissions do cost it (the missing-rbac fault above)."""
    from click.testing import CliRunner

    from multusctl.cli.group import cli

    with FAULTS["healthy"](cluster, admin, tmp_path) as fault:
        role = cluster.store.get("rbac.authorization.k8s.io", "clusterroles", None, "multus")
        assert role is not None
        role["rules"] = [r for r in role["rules"] if "events" not in r.get("resources", [])]
        cluster.store.update("rbac.authorization.k8s.io", "clusterroles", role, check_rv=False)
        add, _ = _add(fault, version, tmp_path)
        assert add.returncode == 0, error_message(add)
        empty = tmp_path / "noroot"
        empty.mkdir()
        res = CliRunner().invoke(cli, ["doctor", "--root", str(empty), "--multus-kubeconfig", str(fault.kubeconfig),
                                       "-o", "json"])
    denied = [(f["evidence"]["resource"], f["severity"]) for f in json.loads(res.stdout)["findings"]
              if f["id"] == "rbac-missing"]
    assert denied == [("events", "warning")] and res.exit_code == 0, res.stdout
