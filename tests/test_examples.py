"""The example node roots say what examples/README.md says they say.

Each example is copied and prepared with examples/prepare.sh (git keeps no file modes), then checked the
way `multusctl check --root` does; the seed case also through the real command line for its exit code.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from multusctl.analyze import analyze_snapshot, node_snapshot
from multusctl.gather.snapshot import NodeSnapshot
from multusctl.report.finding import Finding

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HEALTHY = {
    "k3s-server-healthy": ("k3s", "server", "thin"),
    "kubeadm-thick": ("kubeadm", "server", "thick"),
}
# The warnings a healthy example rightly has because the node cannot tell the multus version: upstream thick
# on Calico loses Calico's datastore keys at every DEL on multus v4.2.1-v4.3.0 (MC#1449).
VERSION_CONDITIONAL = {"kubeadm-thick": {"conflist-del-lossy"}}
SEED = "k3s-agent-seed"
SEED_IDS = {
    "kubeconfig-admin-credentials",
    "kubeconfig-server-loopback",
    "kubeconfig-permissions",
    "multus-conf-wrong-dir",
    "thick-unmounted-path",
}
SEED_KUBECONFIG = "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig"
K3S_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"


def prepared(tmp_path: Path, name: str) -> Path:
    """A copy of examples/<name> with the modes of a real node (examples/prepare.sh on the copy)."""
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES / name, dest / name, symlinks=True)
    subprocess.run(["sh", str(EXAMPLES / "prepare.sh"), str(dest)], check=True, timeout=30)
    return dest / name


def check(root: Path) -> tuple[NodeSnapshot, list[Finding]]:
    snap = node_snapshot(str(root))
    report = analyze_snapshot(snap, root=str(root))
    assert not report.crashed, report.crashed
    return snap, report.findings


def owner_only(f: Finding) -> bool:
    """As a non-root user the copy belongs to us, not root: that one warning is the clone's, not the node's."""
    return os.geteuid() != 0 and f.id == "kubeconfig-permissions" and f.severity == "warning"


@pytest.mark.parametrize("name", sorted(HEALTHY))
def test_healthy_example_is_clean(tmp_path: Path, name: str) -> None:
    snap, got = check(prepared(tmp_path, name))
    assert (snap.layout.distro, snap.layout.role, snap.mode) == HEALTHY[name]
    conditional = VERSION_CONDITIONAL.get(name, set())
    assert {f.id for f in got if f.id in conditional and f.severity == "warning"} == conditional
    bad = [f"{f.severity} {f.id}: {f.message}" for f in got
           if f.severity != "info" and not owner_only(f) and f.id not in conditional]
    assert bad == []


def test_seed_example_names_every_cause(tmp_path: Path) -> None:
    snap, got = check(prepared(tmp_path, SEED))
    assert (snap.layout.distro, snap.layout.role, snap.mode) == ("k3s", "agent", "thin")
    assert {f.id for f in got} == SEED_IDS
    by_id = {f.id: f for f in got}
    assert by_id["kubeconfig-server-loopback"].severity == "error"
    assert by_id["kubeconfig-server-loopback"].path == SEED_KUBECONFIG
    assert by_id["kubeconfig-permissions"].severity == "error"
    assert "multusctl kubeconfig create" in by_id["kubeconfig-admin-credentials"].fix
    assert by_id["multus-conf-wrong-dir"].path == "/etc/cni/net.d/00-multus.conf"
    # A thin node: nothing reads daemon-config.json, so one info finding for the file (issue 8 #12).
    unmounted = [f for f in got if f.id == "thick-unmounted-path"]
    assert [(f.path, f.field, f.severity) for f in unmounted] == [(f"{K3S_CONF}/multus.d/daemon-config.json", None,
                                                                    "info")]
    assert unmounted[0].evidence["fields"] == ["cniConfigDir", "readinessindicatorfile"]
    assert "rm " in unmounted[0].fix
    # The thin config's kubeconfig is a host path: right, so no thin-pod-path.
    assert "thin-pod-path" not in by_id


def test_seed_example_exit_code_and_no_secret(tmp_path: Path) -> None:
    root = prepared(tmp_path, SEED)
    kc = yaml.safe_load((root / SEED_KUBECONFIG.lstrip("/")).read_text())
    key_b64 = kc["users"][0]["user"]["client-key-data"]
    key_pem = base64.b64decode(key_b64).decode()
    key_body = key_pem.splitlines()[1]
    outputs = {}
    for fmt in ("json", "text"):
        out = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(root), "--output", fmt],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr
        for secret in (key_b64, key_body):
            assert secret not in out.stdout and secret not in out.stderr
        outputs[fmt] = out.stdout
    doc = json.loads(outputs["json"])
    assert {f["id"] for f in doc["findings"]} == SEED_IDS
    assert doc["target"]["root"] == str(root)
    # Paths are the node's: the root prefix appears only as target.root.
    assert outputs["json"].count(str(root)) == 1


def test_kubeadm_thick_socket_is_a_plain_file(tmp_path: Path) -> None:
    """git cannot store a unix socket: the example's empty multus.sock must count as the daemon's socket."""
    root = prepared(tmp_path, "kubeadm-thick")
    assert (root / "run/multus/multus.sock").is_file()
    _, got = check(root)
    assert "thick-socket-missing" not in {f.id for f in got}


def test_thick_cluster_network_is_an_in_pod_path() -> None:
    conf = json.loads((EXAMPLES / "kubeadm-thick/etc/cni/net.d/00-multus.conf").read_text())
    assert conf["type"] == "multus-shim"
    assert conf["clusterNetwork"] == "/host/etc/cni/net.d/10-calico.conflist"


def test_healthy_k3s_token_is_far_from_expiry() -> None:
    from multusctl.config.jwt import decode_claims

    kc = yaml.safe_load((EXAMPLES / "k3s-server-healthy" / K3S_CONF.lstrip("/") /
                         "multus.d/multus.kubeconfig").read_text())
    claims = decode_claims(kc["users"][0]["user"]["token"])
    assert claims.expires is not None and claims.expires.year >= 2045
    assert claims.bound_pod is None


def test_readme_lists_the_seed_ids_and_modes_file_is_valid() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    for i in SEED_IDS:
        assert f"`{i}`" in readme
    for line in (EXAMPLES / "modes.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            mode, path = line.split()
            assert mode in ("0600", "0644"), line
            assert (EXAMPLES / path).is_file(), path


def test_unprepared_clone_is_still_an_error_free_check_for_healthy_roots(tmp_path: Path) -> None:
    """Without prepare.sh a clone shows only kubeconfig-permissions on the healthy roots (what README says)."""
    dest = tmp_path / "k3s-server-healthy"
    shutil.copytree(EXAMPLES / "k3s-server-healthy", dest, symlinks=True)
    kc = dest / K3S_CONF.lstrip("/") / "multus.d/multus.kubeconfig"
    os.chmod(kc, 0o644)
    _, got = check(dest)
    assert {f.id for f in got if f.severity != "info"} == {"kubeconfig-permissions"}
