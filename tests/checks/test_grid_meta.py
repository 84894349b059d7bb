"""The grids, read together (istio-style meta-test): every node check fires somewhere, none on a healthy node.

(a) Every registered node check id (`multusctl.checks.node_checks()`) fires in at least one row of the grids
    (`present`, an `expect` with a count other than 0, or `loud`), so no check goes untested by a grid.
(b) No registered check fires on a healthy node: every healthy root below (each distro's bare node, healthy
    Multus installs on them, and the healthy examples/ prepared by examples/prepare.sh) gives no error and no
    warning at all. The rule for info:
    - a bare distro root (no Multus installed) gives no finding at all, not even info;
    - a healthy Multus install may give only the info findings listed in INFO_OK, keyed by (id, field): each is
      a case the catalog's `when` for that id names as info on a working node (the thin entrypoint's `cniConf`,
      read by nothing; a thick `binDir` on OpenShift, which mounts it at the same path), and the catalog must
      list info among that id's severities.
    As a non-root user the roots' files are ours, not root's: kubeconfig-permissions' owner warning is the test
    run's (checkrun.owner_only) and is left out.

Roots that look healthy but are not are kept out by name, in NOT_HEALTHY, with the true finding they have
(asserted, so the list stays honest) and the healthy variant that stands in for each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from multusctl import catalog
from multusctl.checks import node_checks
from multusctl.report.finding import Finding
from tests import certs, test_examples, test_scenarios
from tests import distro_roots as R
from tests.checkrun import GridCase, findings, owner_only
from tests.checks import (
    test_binaries_checks,
    test_confdir_checks,
    test_conflist_del_lossy,
    test_keys_checks,
    test_kubeconfig_checks,
    test_multus_config_missing,
    test_paths_checks,
)
from tests.noderoot import File

GRIDS = (test_binaries_checks, test_confdir_checks, test_conflist_del_lossy, test_keys_checks, test_kubeconfig_checks,
         test_multus_config_missing, test_paths_checks, test_scenarios)
ROWS: list[tuple[str, GridCase]] = [(m.__name__.rsplit(".", 1)[1], c) for m in GRIDS for c in m.CASES]

# (id, field) -> why it is info on a healthy node (the catalog's `when` says so)
INFO_OK: dict[tuple[str, str], str] = {
    ("config-key-unknown", "cniConf"): "written by the thin entrypoint, read by nothing",
    ("thick-unmounted-path", "binDir"): "OpenShift mounts its binDir at the same path in the daemon pod",
}

# Canal's install-cni copies its plugins into /opt/cni/bin; the bare rke2 roots of distro_roots.py lack them.
CANAL_PLUGINS = R.plugins("/opt/cni/bin", ("calico", "calico-ipam", "flannel"))


def openshift_master_multus() -> dict[str, Any]:
    """test_scenarios.openshift_worker (the CNO's thick multus, daemon up) on a master."""
    extra = {k: v for k, v in R.openshift_master().items() if k not in R.openshift_worker()}
    return {**test_scenarios.openshift_worker(), **extra}


def fixed_entrypoint_kubeconfig(node: Callable[[], dict[str, Any]], path: str, server: str) -> Callable[[], dict]:
    """The stock thin-entrypoint node with the kubeconfig `multusctl kubeconfig create` writes instead."""
    return lambda: {**node(), path: File(test_scenarios.sa_kubeconfig(server), mode=0o600, uid=0)}


BARE: dict[str, Callable[[], dict[str, Any]]] = {
    **{name: fn for name, fn in R.ALL.items() if not name.startswith(("rke2_", "openshift_"))},
    "k3s_server_containerd_v3": lambda: R.k3s_server(containerd_version=3),
    "k3s_agent_containerd_v3": lambda: R.k3s_agent(containerd_version=3),
    "k3s_server_legacy_bin": lambda: R.k3s_server(legacy_bin=True),
    "k3s_agent_legacy_bin": lambda: R.k3s_agent(legacy_bin=True),
    "k3s_server_legacy_bin_containerd_v3": lambda: R.k3s_server(legacy_bin=True, containerd_version=3),
    "k3s_server_flannel_none": lambda: R.k3s_server(flannel_backend="none"),
    "rke2_server_canal": lambda: {**R.rke2_server(), **CANAL_PLUGINS},
    "rke2_agent_canal": lambda: {**R.rke2_agent(), **CANAL_PLUGINS},
}
MULTUS: dict[str, Callable[[], dict[str, Any]]] = {
    "k3s-agent-thin": test_scenarios.k3s_agent_thin,
    "k3s-server-thin": lambda: test_kubeconfig_checks.k3s("server", test_kubeconfig_checks.good_kc()),
    "k3s-agent-thin-year-token": lambda: test_kubeconfig_checks.k3s(
        "agent", test_kubeconfig_checks.good_kc(token=certs.bound_token(lifetime=365 * timedelta(days=1)))),
    "k3s-server-thick": test_paths_checks.k3s_thick,
    "k3s-flannel-none-calico-thin": test_scenarios.k3s_flannel_none_calico,
    "kubeadm-control-plane-thick": test_keys_checks.kubeadm_thick,
    "kubeadm-control-plane-thin": lambda: test_kubeconfig_checks.kubeadm_thin(
        test_kubeconfig_checks.good_kc(server="https://10.96.0.1:443")),
    "kubeadm-worker-thin": lambda: test_kubeconfig_checks.kubeadm_thin(
        test_kubeconfig_checks.good_kc(server="https://10.96.0.1:443"), role="worker"),
    "kubeadm-worker-thick-sa-tokenfile": lambda: test_kubeconfig_checks.kubeadm_thick(
        test_kubeconfig_checks.good_kc(token=None, server="https://10.96.0.1:443", user_extra={
            "tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}), role="worker"),
    "openshift-worker-thick": test_scenarios.openshift_worker,
    "openshift-master-thick": openshift_master_multus,
    "rke2-agent-thin": fixed_entrypoint_kubeconfig(test_scenarios.rke2_multus, test_scenarios.STD_KC,
                                                   "https://10.43.0.1:443"),
    "microk8s-thin": fixed_entrypoint_kubeconfig(test_scenarios.microk8s_multus, test_scenarios.MK8S_KC,
                                                 "https://10.152.183.1:443"),
}
EXAMPLES = sorted(test_examples.HEALTHY)

# Look healthy, are not: the true error/warning each has (asserted below), and the variant that stands in for it.
# Not listed: the k3s_thin/kubeadm_thin bases of the binaries/keys/paths/confdir grids, whose multus.kubeconfig
# is distro_roots.kubeconfig with a placeholder CA (kubeconfig-ca-invalid, true); those grids assert only their
# own family of ids on them.
NOT_HEALTHY: dict[str, tuple[Callable[[], dict[str, Any]], set[str], str]] = {
    # no canal binaries in the bare root: 10-canal.conflist's calico is not in /opt/cni/bin
    "rke2_server": (R.rke2_server, {"plugin-missing"}, "rke2_server_canal"),
    "rke2_agent": (R.rke2_agent, {"plugin-missing"}, "rke2_agent_canal"),
    # the bare root's shim conf has no clusterNetwork and no daemon socket: the daemon is not running
    "openshift_master": (R.openshift_master, {"conf-invalid", "thick-socket-missing"}, "openshift-master-thick"),
    "openshift_worker": (R.openshift_worker, {"conf-invalid", "thick-socket-missing"}, "openshift-worker-thick"),
    # the stock thin entrypoint's kubeconfig: bracketed IPv4 server (rejected by Go >= 1.24.8 builds) and a
    # pod-bound projected token nothing refreshes (rke2#9313)
    "rke2-multus": (test_scenarios.rke2_multus, {"kubeconfig-invalid", "kubeconfig-token-expiring"},
                    "rke2-agent-thin"),
    "microk8s-multus": (test_scenarios.microk8s_multus, {"kubeconfig-invalid", "kubeconfig-token-expiring"},
                        "microk8s-thin"),
    # binDir data/cni: right for multus v4.0, not seen in the pod by v4.1+ (PR #1161)
    "k3s-thick-right": (test_scenarios.k3s_thick_right, {"thick-unmounted-path"}, "k3s-server-thick"),
}


def test_every_node_check_fires_in_some_grid_row() -> None:
    fired = set().union(*(case.fires() for _grid, case in ROWS))
    registered = {c.id for c in node_checks()}
    assert registered - fired == set(), "node checks no grid row makes fire"
    assert fired - registered == set(), "grid rows name ids that are not registered node checks"


def test_grid_row_names_are_unique_per_grid() -> None:
    seen: set[tuple[str, str]] = set()
    for grid, case in ROWS:
        assert (grid, case.name) not in seen, (grid, case.name)
        seen.add((grid, case.name))


def test_info_allow_list_matches_the_catalog() -> None:
    for check_id, _field in INFO_OK:
        entry = catalog.get(check_id)
        assert entry is not None and "info" in (entry.severity, *entry.also_severities), check_id


def _loud(found: list[Finding]) -> list[str]:
    return [f"{f.severity} {f.id} {f.path} {f.field}: {f.message}" for f in found
            if f.severity != "info" and not owner_only(f)]


@pytest.mark.parametrize("name", sorted(BARE))
def test_no_check_fires_on_a_bare_distro_root(tmp_path: Path, name: str) -> None:
    found = findings(tmp_path, BARE[name](), now=certs.NOW)
    assert [f"{f.severity} {f.id} {f.path} {f.field}: {f.message}" for f in found if not owner_only(f)] == []


@pytest.mark.parametrize("name", sorted(MULTUS))
def test_no_check_fires_on_a_healthy_multus_install(tmp_path: Path, name: str) -> None:
    found = findings(tmp_path, MULTUS[name](), now=certs.NOW)
    assert _loud(found) == []
    assert [(f.id, f.field) for f in found if f.severity == "info" and (f.id, f.field) not in INFO_OK] == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_check_fires_on_a_healthy_example(tmp_path: Path, name: str) -> None:
    _snap, found = test_examples.check(test_examples.prepared(tmp_path, name))
    conditional = test_examples.VERSION_CONDITIONAL.get(name, set())  # asserted there, one warning each
    assert _loud([f for f in found if f.id not in conditional]) == []
    assert [(f.id, f.field) for f in found if f.severity == "info" and (f.id, f.field) not in INFO_OK] == []


@pytest.mark.parametrize("name", sorted(NOT_HEALTHY))
def test_not_healthy_roots_have_their_true_finding(tmp_path: Path, name: str) -> None:
    node, ids, variant = NOT_HEALTHY[name]
    assert variant in BARE or variant in MULTUS, variant
    loud = {f.id for f in findings(tmp_path, node(), now=certs.NOW) if f.severity != "info" and not owner_only(f)}
    assert loud == ids
