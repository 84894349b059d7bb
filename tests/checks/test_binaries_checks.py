"""Grid for the plugin-binary checks (checks/binaries.py) on k3s (new and legacy bin layouts) and kubeadm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import distro_roots as R
from tests.checkrun import Expect as E
from tests.checkrun import GridCase as Case
from tests.checkrun import assert_grid, findings
from tests.noderoot import File

K3S = R.K3S
K3S_CONF = R.K3S_CONF_DIR
K3S_BIN = R.K3S_BIN_DIR
K3S_HASH_BIN = f"{K3S}/data/{R.K3S_HASH}/bin"
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
STD = "/etc/cni/net.d"
MINE = ("multus-binary-missing", "plugin-missing", "bin-dir-k3s-hash")
EXE = File("#!/bin/sh\n", mode=0o755)

MACVLAN_NAD_AS_DELEGATE = {"cniVersion": "1.0.0", "name": "macvlan-net", "type": "macvlan", "master": "eth1",
                           "ipam": {"type": "whereabouts", "range": "192.168.10.0/24"}}


def thin(**keys: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
                            "kubeconfig": K3S_KC, "delegates": [R.flannel_conflist()]}
    conf.update(keys)
    return {k: v for k, v in conf.items() if v is not None}


def k3s_thin(conf: dict[str, Any] | None = None, *, multus: bool = True, legacy: bool = False,
             **extra: Any) -> dict[str, Any]:
    files = {
        **R.k3s_agent(legacy_bin=legacy),
        f"{K3S_CONF}/00-multus.conf": conf if conf is not None else thin(),
        K3S_KC: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600),
        **extra,
    }
    if multus:
        files[f"{K3S_HASH_BIN if legacy else K3S_BIN}/multus"] = EXE
    return files


def kubeadm_thick(*, shim: bool = True, **extra: Any) -> dict[str, Any]:
    files = {
        **R.kubeadm_control_plane(),
        f"{STD}/00-multus.conf": {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim",
                                  "clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist"},
        f"{STD}/multus.d/daemon-config.json": {"chrootDir": "/hostroot", "cniVersion": "0.3.1",
                                               "socketDir": "/host/run/multus/"},
        "/run/multus/multus.sock": "",
        **extra,
    }
    if shim:
        files["/opt/cni/bin/multus-shim"] = EXE
    return files




C00 = f"{K3S_CONF}/00-multus.conf"
CASES: list[Case] = [
    Case("k3s-server-clean", R.k3s_server, absent=MINE),
    Case("k3s-legacy-clean", lambda: R.k3s_server(legacy_bin=True), absent=MINE),
    Case("k3s-v3-clean", lambda: R.k3s_agent(containerd_version=3), absent=MINE),
    Case("kubeadm-clean", R.kubeadm_control_plane, absent=MINE),
    Case("crio-clean", R.kubeadm_crio_worker, absent=MINE),
    Case("k3s-thin-ok", k3s_thin, absent=MINE),
    Case("kubeadm-thick-ok", kubeadm_thick, absent=MINE),
    # --- multus-binary-missing
    Case("thin-no-multus-binary", lambda: k3s_thin(multus=False), present=("multus-binary-missing",),
         expect=(E("multus-binary-missing", f"{K3S_BIN}/multus", None, "error",
                  ("'multus'", K3S_BIN, "config.cni_conf.binDir")),)),
    Case("thin-multus-in-opt-only", lambda: k3s_thin(multus=False, **{"/opt/cni/bin/multus": EXE}),
         expect=(E("multus-binary-missing", None, None, "error", (f"cp /opt/cni/bin/multus {K3S_BIN}/multus",)),)),
    Case("thin-multus-not-executable", lambda: k3s_thin(multus=False, **{f"{K3S_BIN}/multus": File("x", mode=0o644)}),
         expect=(E("multus-binary-missing", f"{K3S_BIN}/multus", None, None, ("chmod 0755",)),)),
    Case("thick-no-shim", lambda: kubeadm_thick(shim=False), present=("multus-binary-missing",),
         expect=(E("multus-binary-missing", "/opt/cni/bin/multus-shim", None, "error", ("'multus-shim'",)),)),
    Case("no-multus-config-no-binary-needed", R.k3s_agent, absent=("multus-binary-missing",)),
    # CRI-O (ocicni) skips a config whose plugin binary is missing: pods start with only the primary network.
    Case("crio-thin-no-multus-binary", lambda: {**R.kubeadm_crio_worker(), f"{STD}/00-multus.conf": {
        "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
        "kubeconfig": f"{STD}/multus.d/multus.kubeconfig", "delegates": [{"cniVersion": "0.3.1", "name": "c",
                                                                          "type": "bridge"}]}},
         present=("multus-binary-missing",),
         expect=(E("multus-binary-missing", "/opt/cni/bin/multus", None, "error",
                  ("CRI-O", "skips 00-multus.conf", "only the primary network")),)),
    # --- plugin-missing
    Case("k3s-macvlan-delegate-k3s9224", lambda: k3s_thin(thin(delegates=[R.flannel_conflist(),
                                                                         MACVLAN_NAD_AS_DELEGATE])),
         present=("plugin-missing",),
         expect=(E("plugin-missing", C00, "delegates[1].type", "error", ("'macvlan'", "k3s#9224", K3S_BIN)),
                 E("plugin-missing", C00, "delegates[1].ipam.type", "error", ("'whereabouts'",)))),
    Case("macvlan-in-binDir-ok", lambda: k3s_thin(thin(binDir="/opt/cni/bin", delegates=[
        R.flannel_conflist(), MACVLAN_NAD_AS_DELEGATE]), **{"/opt/cni/bin/macvlan": EXE,
                                                           "/opt/cni/bin/whereabouts": EXE}),
         absent=("plugin-missing",)),
    Case("macvlan-elsewhere-suggests-copy", lambda: k3s_thin(thin(delegates=[R.flannel_conflist(),
                                                                             MACVLAN_NAD_AS_DELEGATE]),
                                                             **{"/usr/lib/cni/macvlan": EXE}),
         expect=(E("plugin-missing", C00, "delegates[1].type", None,
                   (f"cp /usr/lib/cni/macvlan {K3S_BIN}/macvlan",)),)),
    Case("macvlan-in-default-binDir-is-found", lambda: k3s_thin(thin(delegates=[
        R.flannel_conflist(), {**MACVLAN_NAD_AS_DELEGATE, "ipam": {"type": "host-local"}}]),
        **{"/opt/cni/bin/macvlan": EXE}), absent=("plugin-missing",)),
    Case("flannel-needs-bridge", lambda: {**R.k3s_agent(), f"{K3S_BIN}/bridge": None},
         expect=(E("plugin-missing", f"{K3S_CONF}/10-flannel.conflist", "plugins[0].delegate.type", "error",
                  ("'bridge'",)),)),
    Case("cluster-network-file-plugin", lambda: k3s_thin(thin(delegates=None,
                                                              clusterNetwork=f"{K3S_CONF}/20-x.conflist"),
                                                         **{f"{K3S_CONF}/20-x.conflist": {
                                                             "cniVersion": "1.0.0", "name": "x",
                                                             "plugins": [{"type": "ipvlan", "master": "eth0"}]}}),
         expect=(E("plugin-missing", f"{K3S_CONF}/20-x.conflist", "plugins[0].type", "error", ("'ipvlan'",)),)),
    Case("thick-chroot-plugins-on-host", lambda: kubeadm_thick(**{"/opt/cni/bin/calico": None}),
         expect=(E("plugin-missing", f"{STD}/10-calico.conflist", "plugins[0].type", "error", ("'calico'",)),)),
    Case("plugin-not-executable", lambda: {**R.kubeadm_control_plane(), "/opt/cni/bin/portmap": File("x", mode=0o600)},
         expect=(E("plugin-missing", f"{STD}/10-calico.conflist", "plugins[1].type", None, ("chmod 0755",)),)),
    # --- ipam-config-missing (whereabouts looks for its flat file at fixed paths, not in the conf dir)
    Case("whereabouts-flat-file-in-k3s-conf-dir-k3s10545", lambda: k3s_thin(
        thin(delegates=[R.flannel_conflist(), MACVLAN_NAD_AS_DELEGATE]),
        **{f"{K3S_CONF}/whereabouts.d/whereabouts.conf": {"kubernetes": {"kubeconfig": "/x"}}}),
         present=("ipam-config-missing",),
         expect=(E("ipam-config-missing", C00, "delegates[1].ipam", "warning",
                  ("k3s#10545", f'"configuration_path": "{K3S_CONF}/whereabouts.d/whereabouts.conf"',
                   "storage engine")),)),
    Case("whereabouts-flat-file-where-it-looks", lambda: k3s_thin(
        thin(delegates=[R.flannel_conflist(), MACVLAN_NAD_AS_DELEGATE]),
        **{"/etc/cni/net.d/whereabouts.d/whereabouts.conf": {"kubernetes": {"kubeconfig": "/x"}}}),
         absent=("ipam-config-missing",)),
    Case("whereabouts-configuration-path-set", lambda: k3s_thin(
        thin(delegates=[R.flannel_conflist(), {**MACVLAN_NAD_AS_DELEGATE, "ipam": {
            **MACVLAN_NAD_AS_DELEGATE["ipam"],
            "configuration_path": f"{K3S_CONF}/whereabouts.d/whereabouts.conf"}}]),
        **{f"{K3S_CONF}/whereabouts.d/whereabouts.conf": {"kubernetes": {"kubeconfig": "/x"}}}),
         absent=("ipam-config-missing",)),
    Case("whereabouts-inline-kubeconfig", lambda: k3s_thin(
        thin(delegates=[R.flannel_conflist(), {**MACVLAN_NAD_AS_DELEGATE, "ipam": {
            **MACVLAN_NAD_AS_DELEGATE["ipam"], "kubernetes": {"kubeconfig": "/etc/whereabouts.kubeconfig"}}}])),
         absent=("ipam-config-missing",)),
    Case("no-whereabouts-no-ipam-check", k3s_thin, absent=("ipam-config-missing",)),
    # --- bin-dir-k3s-hash
    Case("multus-binDir-hash-with-data-cni", lambda: k3s_thin(thin(binDir=K3S_HASH_BIN)),
         present=("bin-dir-k3s-hash",),
         expect=(E("bin-dir-k3s-hash", C00, "binDir", "warning", (f'"binDir": "{K3S_BIN}"', "upgrade")),)),
    Case("multus-binDir-current-with-data-cni", lambda: k3s_thin(thin(binDir=f"{K3S}/data/current/bin")),
         expect=(E("bin-dir-k3s-hash", C00, "binDir", "warning", (K3S_BIN,)),)),
    # multus searches binDir, then CNI_PATH (the runtime's bin dirs): only plugins kept there alone are lost.
    Case("multus-binDir-gone-hash", lambda: k3s_thin(thin(binDir=f"{K3S}/data/{R.K3S_OLD_HASH}/bin")),
         expect=(E("bin-dir-k3s-hash", C00, "binDir", "warning", ("no longer exists", K3S_BIN)),)),
    Case("legacy-multus-binDir-gone-hash", lambda: k3s_thin(thin(binDir=f"{K3S}/data/{R.K3S_OLD_HASH}/bin"),
                                                            legacy=True),
         absent=("plugin-missing", "multus-binary-missing"),
         expect=(E("bin-dir-k3s-hash", C00, "binDir", "warning", ("no longer exists", "data/current/bin")),)),
    # The runtime's own bin dir gone: nothing at all is found, multus included.
    Case("containerd-config-names-gone-hash", lambda: {
        **R.k3s_agent(), f"{K3S}/agent/etc/containerd/config.toml":
            R.k3s_containerd_v2(bin_dir=f"{K3S}/data/{R.K3S_OLD_HASH}/bin")},
         expect=(E("bin-dir-k3s-hash", f"{K3S}/agent/etc/containerd/config.toml", None, "error",
                  ("no longer exists",)),)),
    Case("legacy-k3s-hash-is-fine", lambda: k3s_thin(thin(binDir=K3S_HASH_BIN), legacy=True),
         absent=("bin-dir-k3s-hash",)),
    Case("containerd-config-names-hash", lambda: {**R.k3s_agent(legacy_bin=True),
                                                  **{f"{K3S_BIN}/{p}": EXE for p in R.K3S_PLUGINS}},
         present=("bin-dir-k3s-hash",),
         expect=(E("bin-dir-k3s-hash", f"{K3S}/agent/etc/containerd/config.toml", None, "warning",
                  ("CNIBinDir",)),)),
    Case("not-k3s-no-hash-check", lambda: {**R.kubeadm_control_plane(), f"{STD}/00-multus.conf": {
        "cniVersion": "0.3.1", "name": "m", "type": "multus", "binDir": f"{K3S}/data/{R.K3S_OLD_HASH}/bin",
        "kubeconfig": "/etc/cni/net.d/multus.d/multus.kubeconfig", "delegates": [{"name": "c", "type": "bridge"}]}},
         absent=("bin-dir-k3s-hash",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_binaries_grid(tmp_path: Path, case: Case) -> None:
    assert_grid(tmp_path, case)


def test_one_finding_per_missing_type_and_file(tmp_path: Path) -> None:
    two = {**MACVLAN_NAD_AS_DELEGATE, "name": "second"}
    found = findings(tmp_path, k3s_thin(thin(delegates=[R.flannel_conflist(), MACVLAN_NAD_AS_DELEGATE, two])))
    macvlan = [f for f in found if f.id == "plugin-missing" and f.evidence["type"] == "macvlan"]
    assert len(macvlan) == 1
    assert macvlan[0].evidence["searched"][0] == "/opt/cni/bin"  # multus's default binDir first
