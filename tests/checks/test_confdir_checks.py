"""Grid for the conf-dir checks (checks/confdir.py) on realistic k3s / kubeadm / CRI-O roots.

Each row: a node root (a distro root from tests/distro_roots.py plus the case's files) -> ids that must be
reported, ids that must not, and what a user reads (path, severity, fix).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from multusctl.checks.drift import structural_diff
from multusctl.config.jsonload import json_depth
from tests import distro_roots as R
from tests.checkrun import Expect as E
from tests.checkrun import GridCase as Case
from tests.checkrun import assert_grid, findings, snapshot
from tests.noderoot import Dir, File, Link

K3S_CONF = R.K3S_CONF_DIR
K3S_BIN = R.K3S_BIN_DIR
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
STD = "/etc/cni/net.d"
MINE = ("conf-invalid", "multus-not-first", "multus-conf-wrong-dir", "multus-duplicate", "delegate-drift")


def thin(conf_dir: str = K3S_CONF, **keys: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
        "kubeconfig": f"{conf_dir}/multus.d/multus.kubeconfig", "delegates": [R.flannel_conflist()],
    }
    conf.update(keys)
    return {k: v for k, v in conf.items() if v is not None}


def k3s_thin(**extra: Any) -> dict[str, Any]:
    """A k3s agent with thin multus installed the right way."""
    return {
        **R.k3s_agent(),
        f"{K3S_BIN}/multus": File("#!/bin/sh\n", mode=0o755),
        f"{K3S_CONF}/00-multus.conf": thin(),
        K3S_KC: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600),
        **extra,
    }


def kubeadm_thick(**extra: Any) -> dict[str, Any]:
    return {
        **R.kubeadm_control_plane(),
        "/opt/cni/bin/multus-shim": File("#!/bin/sh\n", mode=0o755),
        f"{STD}/00-multus.conf": {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim",
                                  "logLevel": "verbose", "logToStderr": True,
                                  "clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist"},
        "/run/multus/multus.sock": "",
        **extra,
    }


def nested_text(levels: int) -> str:
    """A 00-multus.conflist as the v4.0.x thin entrypoint leaves it after `levels` restarts (FACTS §7 #20):
    each restart wraps the previous file as the primary. Built as text: json.dumps would recurse."""
    head = ('{"cniVersion":"1.0.0","name":"multus-cni-network","plugins":[{"type":"multus",'
            '"capabilities":{"bandwidth":true,"portMappings":true},"cniConf":"/host/etc/cni/multus/net.d",'
            '"kubeconfig":"' + K3S_KC + '","delegates":[')
    tail = "]}]}"
    # the file itself plus `levels` multus configs nested inside it
    return head * (levels + 1) + json.dumps(R.flannel_conflist()) + tail * (levels + 1)


CASES: list[Case] = [
    # --- healthy roots: nothing of mine fires
    Case("k3s-server-clean", R.k3s_server, absent=MINE),
    Case("k3s-agent-clean", R.k3s_agent, absent=MINE),
    Case("k3s-legacy-bin-clean", lambda: R.k3s_server(legacy_bin=True, containerd_version=3), absent=MINE),
    Case("kubeadm-clean", R.kubeadm_control_plane, absent=MINE),
    Case("crio-clean", R.kubeadm_crio_worker, absent=MINE),
    Case("k3s-thin-ok", k3s_thin, absent=MINE),
    Case("kubeadm-thick-ok", kubeadm_thick, absent=MINE),
    # --- conf-dir-missing (no primary CNI has run yet: nothing creates the runtime's conf dir)
    Case("kubeadm-no-conf-dir", lambda: {k: v for k, v in R.kubeadm_worker().items()
                                         if not k.startswith(f"{STD}/")},
         expect=(E("conf-dir-missing", STD, None, "error", ("/etc/containerd/config.toml", "--conf-dir"),
                   count=1),)),
    Case("k3s-agent-no-conf-dir", lambda: {k: v for k, v in R.k3s_agent().items()
                                           if not k.startswith(f"{K3S_CONF}/")},
         expect=(E("conf-dir-missing", K3S_CONF, None, "error", (f"{R.K3S}/agent/etc/containerd/config.toml",),
                   count=1),)),
    Case("conf-dir-present-empty", lambda: {**{k: v for k, v in R.kubeadm_worker().items()
                                               if not k.startswith(f"{STD}/")}, STD: Dir()},
         absent=("conf-dir-missing",)),
    # --- conf-invalid
    Case("invalid-json-first", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": '{\n  "name": "x",\n  "type": \n}'}),
         present=("conf-invalid",), absent=("multus-not-first",),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", ("line 4", "no pod", "json.tool")),)),
    Case("empty-00-multus-mc1155", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": ""}),
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", ("empty", "MC#1155", "rm ")),)),
    Case("conflist-saved-as-conf", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": {
        "cniVersion": "1.0.0", "name": "multus-cni-network", "plugins": [thin(name=None, cniVersion=None)]}}),
         present=("conf-invalid",), absent=("multus-not-first",),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", (".conflist", "mv ")),)),
    Case("conf-saved-as-conflist", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": None,
                                                       f"{K3S_CONF}/00-multus.conflist": thin()}),
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conflist", None, "error", ("plugins", "00-multus.conf")),)),
    Case("conflist-without-name", lambda: {**R.k3s_server(), f"{K3S_CONF}/10-flannel.conflist": {
        "cniVersion": "1.0.0", "plugins": [{"type": "flannel"}]}},
         present=("conf-invalid",), expect=(E("conf-invalid", None, None, "error", ("no name",)),)),
    Case("invalid-later-file-is-warning", lambda: k3s_thin(**{f"{K3S_CONF}/99-junk.conf": "{not json"}),
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{K3S_CONF}/99-junk.conf", None, "warning", ("becomes live",)),)),
    Case("invalid-primary-candidate-is-error", lambda: k3s_thin(**{f"{K3S_CONF}/05-broken.conf": "{"}),
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{K3S_CONF}/05-broken.conf", None, "error", ("auto-config",)),)),
    Case("crio-invalid-first-skipped", lambda: {**R.kubeadm_crio_worker(), f"{STD}/00-broken.conf": "[1, 2"},
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{STD}/00-broken.conf", None, "error", ("CRI-O skips it",)),)),
    Case("dangling-symlink", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": Link("/nonexistent/00-multus.conf")}),
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", ("symlink",)),)),
    Case("netconf-wrong-type", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(namespaceIsolation="true")}),
         present=("conf-invalid",),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", ("namespaceIsolation", "boolean",
                                                                          "LoadNetConf")),)),
    Case("no-delegates-no-cluster-network", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(delegates=[])}),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", ("at least one delegate",)),)),
    Case("delegate-without-type", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(
        delegates=[{"name": "x", "cniVersion": "1.0.0"}])}),
         expect=(E("conf-invalid", f"{K3S_CONF}/00-multus.conf", None, "error", ("'type' or 'plugin'",)),)),
    # --- multus-not-first
    Case("multus-sorts-after-flannel", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": None,
                                                          f"{K3S_CONF}/99-multus.conf": thin()}),
         present=("multus-not-first",),
         expect=(E("multus-not-first", f"{K3S_CONF}/99-multus.conf", None, "error",
                  ("10-flannel.conflist", f"mv {K3S_CONF}/99-multus.conf {K3S_CONF}/00-multus.conf", "'cbr0'")),)),
    Case("multus-after-00-calico", lambda: {
        **R.kubeadm_control_plane(), "/opt/cni/bin/multus": File("", mode=0o755),
        f"{STD}/00-calico.conflist": R.kubeadm_control_plane()[f"{STD}/10-calico.conflist"],
        f"{STD}/00-multus.conf": thin(STD)},
         present=("multus-not-first",),
         expect=(E("multus-not-first", f"{STD}/00-multus.conf", None, None, (f"{STD}/0-multus.conf",)),)),
    Case("crio-multus-after-calico", lambda: {**R.kubeadm_crio_worker(), f"{STD}/99-multus.conf": thin(STD)},
         present=("multus-not-first",), expect=(E("multus-not-first", None, None, None, ("CRI-O",)),)),
    Case("crio-skips-multus-without-binary", lambda: {**R.kubeadm_crio_worker(), f"{STD}/00-multus.conf": thin(STD)},
         present=("multus-not-first", "multus-binary-missing"),
         expect=(E("multus-not-first", f"{STD}/00-multus.conf", None, "error", ("CRI-O skips", "'multus'")),)),
    Case("crio-multus-first-with-binary", lambda: {**R.kubeadm_crio_worker(), f"{STD}/00-multus.conf": thin(STD),
                                                   "/usr/libexec/cni/multus": File("", mode=0o755)},
         absent=("multus-not-first",)),
    Case("no-multus-no-not-first", R.k3s_server, absent=("multus-not-first",)),
    # --- multus-conf-wrong-dir
    Case("k3s-multus-in-etc-cni", lambda: {**R.k3s_server(), f"{STD}/00-multus.conf": thin(STD)},
         present=("multus-conf-wrong-dir",), absent=("multus-not-first",),
         expect=(E("multus-conf-wrong-dir", f"{STD}/00-multus.conf", None, "error",
                  (K3S_CONF, "config.cni_conf.confDir")),)),
    Case("k3s-leftover-copy", lambda: k3s_thin(**{f"{STD}/00-multus.conf": thin(STD)}),
         present=("multus-conf-wrong-dir",),
         expect=(E("multus-conf-wrong-dir", f"{STD}/00-multus.conf", None, "warning", ("leftover",)),)),
    Case("kubeadm-multus-in-etc-cni-is-right", lambda: {
        **R.kubeadm_control_plane(), f"{STD}/00-multus.conf": thin(STD)}, absent=("multus-conf-wrong-dir",)),
    # --- multus-duplicate
    Case("two-multus-configs", lambda: k3s_thin(**{f"{K3S_CONF}/01-multus.conf": thin()}),
         present=("multus-duplicate",),
         expect=(E("multus-duplicate", f"{K3S_CONF}/01-multus.conf", None, "error",
                  ("MC#549", f"rm {K3S_CONF}/01-multus.conf")),)),
    Case("nested-one-level", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(delegates=[thin()])}),
         present=("multus-duplicate",),
         expect=(E("multus-duplicate", f"{K3S_CONF}/00-multus.conf", None, "error", ("1 level",)),)),
    Case("cluster-network-points-at-itself", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(
        delegates=None, clusterNetwork=f"{K3S_CONF}/00-multus.conf")}),
         present=("multus-duplicate",), expect=(E("multus-duplicate", None, None, None, ("itself", "10-flannel")),)),
    Case("thick-cluster-network-to-multus", lambda: kubeadm_thick(**{
        f"{STD}/00-multus.conf": {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim",
                                  "clusterNetwork": "/host/etc/cni/net.d/multus.d/inner.conflist"},
        f"{STD}/multus.d/inner.conflist": {"cniVersion": "0.3.1", "name": "x",
                                           "plugins": [thin(STD, name=None, cniVersion=None)]}}),
         present=("multus-duplicate",), expect=(E("multus-duplicate", None, None, None, ("nesting depth 1",)),)),
    # --- delegate-drift
    Case("drift-after-k3s-upgrade", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(delegates=[{
        "name": "cbr0", "cniVersion": "0.3.1", "plugins": R.flannel_conflist()["plugins"][:2]}])}),
         present=("delegate-drift",),
         expect=(E("delegate-drift", f"{K3S_CONF}/00-multus.conf", None, "warning",
                  ("cniVersion: '0.3.1' -> '1.0.0'", "k3s rewrites", "clusterNetwork")),)),
    Case("drift-primary-replaced", lambda: {**R.kubeadm_control_plane(), "/opt/cni/bin/multus": File("", mode=0o755),
                                            f"{STD}/00-multus.conf": thin(STD)},
         expect=(E("delegate-drift", f"{STD}/00-multus.conf", None, "warning", ("'cbr0'", "'k8s-pod-network'")),)),
    Case("no-drift-when-only-formatting-differs", lambda: k3s_thin(**{
        f"{K3S_CONF}/00-multus.conf": json.dumps(thin(), sort_keys=True, separators=(",", ":"))}),
         absent=("delegate-drift",)),
    Case("no-drift-with-cluster-network", lambda: k3s_thin(**{f"{K3S_CONF}/00-multus.conf": thin(
        delegates=None, clusterNetwork=f"{K3S_CONF}/10-flannel.conflist")}), absent=("delegate-drift",)),
    Case("no-drift-for-thick", kubeadm_thick, absent=("delegate-drift",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_confdir_grid(tmp_path: Path, case: Case) -> None:
    assert_grid(tmp_path, case)


def test_invalid_json_reports_line_in_evidence(tmp_path: Path) -> None:
    found = findings(tmp_path, k3s_thin(**{f"{K3S_CONF}/00-multus.conf": '{\n "a": 1,\n "b": ]\n}'}))
    hit = next(f for f in found if f.id == "conf-invalid")
    assert hit.evidence["line"] == 3
    json.dumps(hit.evidence)  # JSON-able


def test_fix_name_sorts_before_first(tmp_path: Path) -> None:
    found = findings(tmp_path, {
        **R.kubeadm_control_plane(), "/opt/cni/bin/multus": File("", mode=0o755),
        f"{STD}/00-calico.conflist": R.kubeadm_control_plane()[f"{STD}/10-calico.conflist"],
        f"{STD}/00-multus.conf": thin(STD)})
    hit = next(f for f in found if f.id == "multus-not-first")
    new = hit.fix.split()[-1].rsplit("/", 1)[1]
    assert new < "00-calico.conflist"


def test_deep_nesting_623_levels(tmp_path: Path) -> None:
    """FACTS §7 #20: the real v4.0.2 thin entrypoint left 623 nested configs, JSON depth ~2,500, ~176 KB."""
    text = nested_text(623)
    assert 2400 <= json_depth(text) <= 2600
    assert 150_000 <= len(text) <= 260_000
    files = {**R.k3s_agent(), f"{K3S_BIN}/multus": File("", mode=0o755), f"{K3S_CONF}/00-multus.conflist": text,
             K3S_KC: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600)}
    start = time.monotonic()
    found = findings(tmp_path, files)  # asserts that no check crashed (RecursionError included)
    assert time.monotonic() - start < 10
    dup = [f for f in found if f.id == "multus-duplicate"]
    assert dup and dup[0].evidence["depth"] == 623
    assert dup[0].evidence["json_depth"] >= 2400
    assert "623 level" in dup[0].message
    assert "delegate-drift" not in {f.id for f in found}


def test_snapshot_of_deep_file_has_multus_model(tmp_path: Path) -> None:
    snap = snapshot(tmp_path, {**R.k3s_agent(), f"{K3S_CONF}/00-multus.conflist": nested_text(50)})
    assert snap.multus is not None and snap.multus.multus is not None
    assert snap.multus.multus.nesting_depth == 50


def test_structural_diff_ignores_order_and_number_form() -> None:
    a = {"b": [1, {"x": 2.0}], "a": True}
    b = {"a": True, "b": [1.0, {"x": 2}]}
    assert structural_diff(a, b) == []
    d = structural_diff({"a": True, "c": 1}, {"a": 1})
    assert d is not None and [p for p, _x, _y in d] == ["a", "c"]


def test_structural_diff_refuses_too_deep() -> None:
    deep: Any = 1
    for _ in range(300):
        deep = {"d": deep}
    assert structural_diff(deep, deep) is None


@pytest.mark.parametrize("junk", [
    b"\x00\xff\xfe binary", "[]", "null", '"string"', "1e999999", '{"type": 5}', '{"plugins": "x", "name": 1}',
    '{"type":"multus","delegates":"x"}', '{"type":"multus","delegates":[1,null,"x"]}',
    '{"type":"multus","clusterNetwork":"/\\u0000bad"}', '{"type":"multus","clusterNetwork":{"a":1}}',
    '{"type":"multus","defaultNetworks":[1,"/etc/cni/net.d",{}]}', "{" * 20000,
])
def test_odd_files_never_crash(tmp_path: Path, junk: str | bytes) -> None:
    findings(tmp_path, k3s_thin(**{f"{K3S_CONF}/00-multus.conf": junk}))
