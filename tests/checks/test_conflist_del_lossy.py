"""conflist-del-lossy: a conflist loaded by path whose plugins need their own keys at DEL, which multus v4.2.1 to
v4.3.0 drop from the delegate cache (MC#1449). The real binaries fail exactly these DELs:
tests/test_peers_lossy_del.py (thin), tests/test_thick_peers.py (thick)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import distro_roots as R
from tests.checkrun import Expect as E
from tests.checkrun import GridCase, assert_grid
from tests.noderoot import Dir, File

ID = "conflist-del-lossy"
CONF, BIN = R.K3S_CONF_DIR, R.K3S_BIN_DIR
KC = f"{CONF}/multus.d/multus.kubeconfig"
LIST = "/etc/cni/multus/net.d/10-bridge.conflist"
HOST_LOCAL = {"cniVersion": "0.3.1", "name": "pods", "plugins": [
    {"type": "bridge", "bridge": "cni1", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/24"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": True}}]}
CALICO = {"cniVersion": "0.3.1", "name": "k8s-pod-network", "plugins": [
    {"type": "calico", "datastore_type": "kubernetes", "nodename": "n1", "ipam": {"type": "calico-ipam"},
     "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}}]}


def thin(network: str | None, *, files: dict[str, Any] | None = None, key: str = "clusterNetwork") -> dict[str, Any]:
    conf: dict[str, Any] = {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
                            "kubeconfig": KC, "delegates": [R.flannel_conflist()]}
    if network is not None:
        conf[key] = [network] if key == "defaultNetworks" else network
    return {**R.k3s_agent(), f"{BIN}/multus": File("#!/bin/sh\n", mode=0o755), f"{CONF}/00-multus.conf": conf,
            KC: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600), **(files or {})}


FIRES = E(ID, severity="warning", path=f"{CONF}/00-multus.conf", field="clusterNetwork", count=1,
          message=("v4.2.1 to v4.3.0", "MC#1449", "without ranges", "no IP ranges specified",
                   "The thin plugin fails the DEL", "no IP addresses available"),
          fix=("PR #1521", "inline in `delegates`", "/var/lib/cni/networks/<network name>", "containers that are gone"))
CASES: list[GridCase] = [
    GridCase("host-local ranges in a conflist named by path", lambda: thin(LIST, files={LIST: HOST_LOCAL}),
             expect=(FIRES,)),
    GridCase("calico's datastore keys", lambda: thin(LIST, files={LIST: CALICO}), expect=(E(
        ID, field="clusterNetwork", message=("`calico` runs without datastore_type, kubernetes, nodename",),
        fix=("calicoctl ipam release --from-report report.json",)),)),
    GridCase("a defaultNetworks entry", lambda: thin(None, files={LIST: HOST_LOCAL}) | {
        f"{CONF}/00-multus.conf": {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
                                   "kubeconfig": KC, "clusterNetwork": "/etc/cni/multus/net.d/05-lo.conf",
                                   "defaultNetworks": [LIST]},
        "/etc/cni/multus/net.d/05-lo.conf": {"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}},
             expect=(E(ID, field="defaultNetworks[0]", count=1),)),
    # Safe: how the list is named or what it holds.
    GridCase("inline delegates (what the thin entrypoint writes)", lambda: thin(None), absent=(ID,)),
    GridCase("the same plugins as a single-plugin .conf", lambda: thin(
        "/etc/cni/multus/net.d/10-bridge.conf", files={"/etc/cni/multus/net.d/10-bridge.conf": {
            "cniVersion": "0.3.1", "name": "pods", **HOST_LOCAL["plugins"][0]}}), absent=(ID,)),
    GridCase("a directory (its first file's bytes are read whole)", lambda: thin(
        "/etc/cni/multus/net.d", files={LIST: HOST_LOCAL}), absent=(ID,)),
    GridCase("k3s's flannel list: flannel's DEL reads what it saved at ADD", lambda: thin(
        f"{CONF}/10-flannel.conflist"), absent=(ID,)),
    GridCase("a conflist whose IPAM has nothing but its type", lambda: thin(LIST, files={LIST: {
        "cniVersion": "0.3.1", "name": "d", "plugins": [{"type": "macvlan", "master": "eth0",
                                                         "ipam": {"type": "dhcp"}}]}}), absent=(ID,)),
    GridCase("a path ending .conflist that is a directory", lambda: thin(LIST + ".d/x.conflist", files={
        LIST + ".d/x.conflist": Dir()}), absent=(ID,)),
    GridCase("a conflist that does not parse: conf-invalid's business", lambda: thin(LIST, files={LIST: "{"}),
             absent=(ID,)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_grid(tmp_path: Path, case: GridCase) -> None:
    assert_grid(tmp_path, case)
