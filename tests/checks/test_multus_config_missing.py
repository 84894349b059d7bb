"""multus-config-missing: Multus was deployed on the node, but no multus config reaches the runtime.

The classic k3s case: the upstream DaemonSet installs into /etc/cni/net.d and /opt/cni/bin, which k3s
never reads, so pods silently get only flannel and `check` must not say "no problems".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import distro_roots as R
from tests.checkrun import Expect as E
from tests.checkrun import GridCase, assert_grid, findings
from tests.noderoot import File

ID = "multus-config-missing"
K3S_CONF, K3S_BIN = R.K3S_CONF_DIR, R.K3S_BIN_DIR
EXE = File("#!/bin/sh\n", mode=0o755)
THIN = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
        "kubeconfig": f"{K3S_CONF}/multus.d/multus.kubeconfig", "delegates": [R.flannel_conflist()]}

FIRES = (E(ID, severity="error", message=("only the primary network",), count=1),)
CASES: list[GridCase] = [
    GridCase("k3s: upstream thick DaemonSet wrote to /opt/cni/bin only",
             lambda: {**R.k3s_agent(), "/opt/cni/bin/multus-shim": EXE}, expect=FIRES),
    GridCase("k3s: upstream thin DaemonSet left multus.d in /etc/cni/net.d",
             lambda: {**R.k3s_agent(), "/etc/cni/net.d/multus.d/multus.kubeconfig": File("x", mode=0o600)},
             expect=FIRES),
    GridCase("k3s: thick daemon ran (socket) but its config is gone (MC#1527) or never came (RBAC)",
             lambda: {**R.k3s_server(), f"{K3S_BIN}/multus-shim": EXE, "/run/multus/multus.sock": ""},
             expect=(E(ID, severity="error", message=("MC#1527", "refused list/watch", "multusctl doctor"),
                       count=1),)),
    GridCase("kubeadm: multus binary present, no config",
             lambda: {**R.kubeadm_worker(), "/opt/cni/bin/multus": EXE}, expect=FIRES),
    GridCase("k3s without any multus trace: a node that simply does not use Multus", R.k3s_agent, absent=(ID,)),
    GridCase("kubeadm without any multus trace", R.kubeadm_worker, absent=(ID,)),
    GridCase("k3s with thin multus installed right",
             lambda: {**R.k3s_agent(), f"{K3S_BIN}/multus": EXE, f"{K3S_CONF}/00-multus.conf": THIN}, absent=(ID,)),
    GridCase("stray multus config: multus-conf-wrong-dir says it better",
             lambda: {**R.k3s_agent(), "/opt/cni/bin/multus": EXE, "/etc/cni/net.d/00-multus.conf": THIN},
             absent=(ID,)),
    GridCase("empty 00-multus.conf (MC#1155): it is there but broken, conf-invalid says it better",
             lambda: {**R.k3s_agent(), f"{K3S_BIN}/multus": EXE, f"{K3S_CONF}/00-multus.conf": ""}, absent=(ID,)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_grid(tmp_path: Path, case: GridCase) -> None:
    assert_grid(tmp_path, case)


def test_k3s_fix_names_the_k3s_paths(tmp_path: Path) -> None:
    (hit,) = [f for f in findings(tmp_path, {**R.k3s_agent(), "/opt/cni/bin/multus-shim": EXE}) if f.id == ID]
    assert hit.path == K3S_CONF
    assert f"config.cni_conf.confDir={K3S_CONF}" in hit.fix
    assert f"config.cni_conf.binDir={K3S_BIN}" in hit.fix
    assert "/opt/cni/bin/multus-shim" in hit.message and "MC#685" in hit.message
    assert hit.evidence["traces"] == ["/opt/cni/bin/multus-shim"]


def test_installed_right_fix_looks_at_the_pod_not_the_install(tmp_path: Path) -> None:
    """multus-shim and daemon-config.json already on k3s's own paths: reinstalling changes nothing; the pod on
    this node is what did not (re)write 00-multus.conf."""
    files = {**R.k3s_server(), f"{K3S_BIN}/multus-shim": EXE,
             f"{K3S_CONF}/multus.d/daemon-config.json": {"cniConfigDir": "/host/etc/cni/net.d"}}
    (hit,) = [f for f in findings(tmp_path, files) if f.id == ID]
    assert "Install Multus" not in hit.fix and "config.cni_conf" not in hit.fix
    assert "spec.nodeName=<this node>" in hit.fix and "MC#1527" in hit.fix


def test_cilium_exclusive_mode_is_named(tmp_path: Path) -> None:
    """Cilium's cni.exclusive (default true) renames other configs to *.cilium_bak: the fix is exclusive=false."""
    files = {**R.kubeadm_worker(), "/opt/cni/bin/multus-shim": EXE,
             "/etc/cni/net.d/00-multus.conf.cilium_bak": '{"type": "multus-shim"}'}
    (hit,) = [f for f in findings(tmp_path, files) if f.id == ID]
    assert "cni.exclusive=false" in hit.fix and hit.evidence["cause"] == "cilium-exclusive"
    assert "mv /etc/cni/net.d/00-multus.conf.cilium_bak /etc/cni/net.d/00-multus.conf" in hit.fix
    assert "only the primary network" in hit.message


def test_daemon_cni_version_refusal_is_named(tmp_path: Path) -> None:
    """daemon-config 1.0.0 over a 0.3.1 primary: the thick daemon exits at start-up (MC#737)."""
    files = {**R.kubeadm_worker(), "/opt/cni/bin/multus-shim": EXE,
             "/etc/cni/net.d/multus.d/daemon-config.json": {
                 "cniVersion": "1.0.0", "multusConfigFile": "auto", "chrootDir": "/hostroot",
                 "cniConfigDir": "/host/etc/cni/net.d", "multusAutoconfigDir": "/host/etc/cni/net.d"}}
    primary = next(f for f in files if f.startswith("/etc/cni/net.d/1"))
    files[primary] = {**files[primary], "cniVersion": "0.3.1"}
    found = findings(tmp_path, files)
    (hit,) = [f for f in found if f.id == ID]
    assert hit.evidence["cause"] == "daemon-cni-version" and '"cniVersion": "0.3.1"' in hit.fix
    assert "restart" not in hit.message and "MC#737" in hit.message
    assert any(f.id == "cni-version-mismatch" and f.severity == "error" for f in found)


def test_plain_cause_stays_generic(tmp_path: Path) -> None:
    (hit,) = [f for f in findings(tmp_path, {**R.kubeadm_worker(), "/opt/cni/bin/multus": EXE}) if f.id == ID]
    assert "cause" not in hit.evidence
