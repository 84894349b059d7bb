"""tests/faultkit.py removes what it makes: every fault, left by an exception, leaves the cluster's objects,
its armed faults, the host's network namespaces and the sockets it opened as they were."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from multusctl.testing import TestCluster
from multusctl.testing.faults import NetnsBlackhole
from tests.faultkit import FAULTS, SA_NAME, SA_NAMESPACE


class Boom(Exception):
    pass


def _objects(cluster: TestCluster) -> set[tuple[str, str, str, str]]:
    return set(cluster.store._objects)


def _connects(server: str) -> bool:
    url = urlsplit(server)
    with socket.socket() as s:
        s.settimeout(0.5)
        try:
            s.connect((url.hostname or "", url.port or 443))
        except OSError:
            return False
    return True


def _netns() -> set[str]:
    if subprocess.run(["sh", "-c", "command -v ip"], capture_output=True, check=False).returncode:
        return set()
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_removes_everything_it_made_also_when_the_body_raises(name: str, cluster: TestCluster,
                                                                      admin: Path, tmp_path: Path) -> None:
    if name == "blackhole" and (reason := NetnsBlackhole.unavailable_reason()) is not None:
        pytest.skip(reason)
    before = _objects(cluster)
    netns_before = {n for n in _netns() if n.startswith("mctl-bh-")}
    with pytest.raises(Boom), FAULTS[name](cluster, admin, tmp_path) as fault:
        assert fault.name == name and fault.kubeconfig.is_file()
        config = yaml.safe_load(fault.kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == fault.server
        host = urlsplit(fault.server).hostname or ""
        assert host == "127.0.0.1" or host.startswith(("198.18.", "198.19.")), fault.server  # loopback or ours
        assert fault.pod["name"] and fault.pod["uid"]
        made = {n for n in _netns() if n.startswith("mctl-bh-")} - netns_before
        assert len(made) == (1 if name == "blackhole" else 0)
        if name not in ("blackhole", "refused"):
            assert _connects(fault.server)
        raise Boom
    assert _objects(cluster) == before
    assert cluster.faults.armed == 0
    assert {n for n in _netns() if n.startswith("mctl-bh-")} - netns_before == set()
    if name in ("stalled-tls", "san-mismatch"):
        assert not _connects(fault.server), "the listener outlived the fault"


def test_faults_follow_one_another_in_one_cluster(cluster: TestCluster, admin: Path, tmp_path: Path) -> None:
    for name in ("healthy", "missing-rbac", "deleted-sa", "expired-token", "missing-crd", "invalid-nad"):
        with FAULTS[name](cluster, admin, tmp_path / name):
            assert cluster.store.get("", "serviceaccounts", SA_NAMESPACE, SA_NAME) is not None or name == "deleted-sa"
    assert cluster.store.get("", "serviceaccounts", SA_NAMESPACE, SA_NAME) is None
