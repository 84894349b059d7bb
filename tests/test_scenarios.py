"""Realistic whole nodes, as an operator finds them: node root -> ids that must (and must not) appear.

Each scenario is a full node of tests/distro_roots.py plus what a real Multus install (or mistake) leaves
on it; the file contents follow the upstream sources:
- thin entrypoint (multus-cni cmd/thin_entrypoint): `00-multus.conf` (0600) with `cniConf`, `capabilities`,
  `kubeconfig` and the primary embedded in `delegates`; `multus.d/multus.kubeconfig` (0600, cluster `local`,
  user `multus`, server `https://[<KUBERNETES_SERVICE_HOST>]:<port>`, the pod's projected token).
- rke2-multus chart (rancher/rke2-charts packages/rke2-multus): the thin entrypoint with `/etc/cni/net.d`
  and `/opt/cni/bin`, i.e. `/etc/cni/net.d/00-multus.conf` next to `10-canal.conflist`.
- OpenShift (cluster-network-operator bindata/network/multus/multus.yaml): thick; the daemon writes
  `/etc/kubernetes/cni/net.d/00-multus.conf` (`type: multus-shim`, `binDir: /var/lib/cni/bin`,
  `clusterNetwork: /host/run/multus/cni/net.d/10-ovn-kubernetes.conf`, `daemonSocketDir: /run/multus/socket`);
  daemon-config.json is a ConfigMap inside the pod only; CRI-O reads `/etc/crio/crio.conf.d/00-default`
  (no extension: CRI-O walks every file of the drop-in dir).
- microk8s multus addon (canonical/microk8s-community-addons addons/multus): multus v3.9 thin entrypoint with
  `--multus-kubeconfig-file-host=/var/snap/microk8s/current/args/cni-network/multus.d/multus.kubeconfig`.

Run `python -m tests.test_scenarios DIR` to write every scenario under DIR for `multusctl check --root`.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import certs
from tests import distro_roots as roots
from tests.checkrun import GridCase, assert_grid, findings
from tests.noderoot import Dir, File, Link, make_root

D = timedelta(days=1)
K3S = roots.K3S
K3S_CONF = roots.K3S_CONF_DIR
K3S_BIN = roots.K3S_BIN_DIR
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
STD_KC = "/etc/cni/net.d/multus.d/multus.kubeconfig"
EXE = "#!/bin/sh\n# placeholder binary\n"


def sa_kubeconfig(server: str = "https://10.43.0.1:443", token: str | None = None) -> str:
    return certs.kubeconfig(server, token=token or certs.legacy_token())


def entrypoint_kubeconfig(service_host: str, port: int = 443) -> str:
    """What the thin entrypoint writes: brackets around the host even for IPv4, the pod's projected token."""
    return "# Kubeconfig file for Multus CNI plugin.\n" + certs.kubeconfig(
        f"https://[{service_host}]:{port}", token=certs.kubelet_token("kube-multus-ds-7xk2p"))


def entrypoint_conf(primary: dict[str, Any], kubeconfig: str, **extra: Any) -> dict[str, Any]:
    caps: dict[str, bool] = {}
    for p in primary.get("plugins", [primary]):
        caps.update({k: bool(v) for k, v in (p.get("capabilities") or {}).items()})
    conf: dict[str, Any] = {"cniVersion": primary["cniVersion"], "name": "multus-cni-network", "type": "multus"}
    if caps:
        conf["capabilities"] = caps
    conf.update(extra)
    conf["cniConf"] = "/host/etc/cni/multus/net.d"
    conf["kubeconfig"] = kubeconfig
    conf["delegates"] = [copy.deepcopy(primary)]
    return conf


# --- k3s ------------------------------------------------------------------------------------------


def k3s_thin_conf(**extra: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
        "capabilities": {"portMappings": True, "bandwidth": True},
        "kubeconfig": K3S_KC, "binDir": K3S_BIN, "readinessindicatorfile": "/run/flannel/subnet.env",
        "clusterNetwork": f"{K3S_CONF}/10-flannel.conflist",
    }
    conf.update(extra)
    return conf


def k3s_agent_thin(**over: Any) -> dict[str, Any]:
    """The seed's node done right: thin multus with k3s host paths and a ServiceAccount kubeconfig."""
    files = roots.k3s_agent()
    files.update({
        f"{K3S_CONF}/00-multus.conf": k3s_thin_conf(),
        f"{K3S_CONF}/multus.d": Dir(),
        K3S_KC: File(sa_kubeconfig(), mode=0o600, uid=0),
        f"{K3S}/data/{roots.K3S_HASH}/bin/multus": File(EXE, mode=0o755),
        f"{K3S_BIN}/multus": Link(f"../{roots.K3S_HASH}/bin/multus"),
    })
    files.update(over)
    return files


SEED_STRAY = {  # the upstream docs' config dropped into /etc/cni/net.d, which k3s with flannel never reads
    "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
    "kubeconfig": STD_KC,
    "delegates": [{"cniVersion": "0.3.1", "name": "default-cni-network", "type": "flannel",
                   "delegate": {"isDefaultGateway": True}}],
}
SEED_DAEMON_CONFIG = {  # the seed's daemon-config.json next to a thin setup
    "chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose", "logToStderr": True,
    "cniConfigDir": K3S_CONF, "multusAutoconfigDir": "/host/etc/cni/net.d", "multusConfigFile": "auto",
    "socketDir": "/host/run/multus/", "readinessindicatorfile": "/run/flannel/subnet.env",
    "kubeconfig": "/host/etc/cni/net.d/multus.d/multus.kubeconfig",
}


def seed_admin_copy() -> dict[str, Any]:
    """k3s.yaml copied as multus.kubeconfig, server fixed to the server's address, mode 0600."""
    kc = certs.kubeconfig("https://10.0.0.10:6443", cert=certs.admin(), names=("default",) * 3)
    return k3s_agent_thin(**{K3S_KC: File(kc, mode=0o600, uid=0)})


def seed_loopback() -> dict[str, Any]:
    return k3s_agent_thin(**{K3S_KC: File(sa_kubeconfig("https://127.0.0.1:6443"), mode=0o600, uid=0)})


def seed_mode_0644() -> dict[str, Any]:
    return k3s_agent_thin(**{K3S_KC: File(sa_kubeconfig(), mode=0o644, uid=0)})


def seed_stray_conf() -> dict[str, Any]:
    return k3s_agent_thin(**{"/etc/cni/net.d/00-multus.conf": SEED_STRAY})


def seed_daemon_config() -> dict[str, Any]:
    return k3s_agent_thin(**{f"{K3S_CONF}/multus.d/daemon-config.json": SEED_DAEMON_CONFIG})


def seed_all() -> dict[str, Any]:
    return k3s_agent_thin(**{
        K3S_KC: File(certs.k3s_yaml(), mode=0o644, uid=0),
        "/etc/cni/net.d/00-multus.conf": SEED_STRAY,
        f"{K3S_CONF}/multus.d/daemon-config.json": SEED_DAEMON_CONFIG,
    })


def k3s_upstream_thick() -> dict[str, Any]:
    """`kubectl apply -f multus-daemonset-thick.yml` on k3s: the init container put multus-shim into
    /opt/cni/bin, the hostPath created an empty /etc/cni/net.d, and the daemon crash-loops waiting for a
    primary config there (MC#685); the runtime never sees Multus."""
    files = roots.k3s_agent()
    files.update({"/etc/cni/net.d": Dir(), "/opt/cni/bin/multus-shim": File(EXE, mode=0o755),
                  "/var/lib/cni/multus": Dir()})
    return files


def k3s_upstream_thick_copied_primary() -> dict[str, Any]:
    """The same, after someone copied flannel's conflist into /etc/cni/net.d: the daemon now wrote its
    thick 00-multus.conf there, and the runtime still does not read it."""
    files = k3s_upstream_thick()
    files.update({
        "/etc/cni/net.d/10-flannel.conflist": roots.flannel_conflist(),
        "/etc/cni/net.d/00-multus.conf": File(THICK_SHIM_FLANNEL, mode=0o600),
        "/run/multus/multus.sock": File("", mode=0o600),
    })
    return files


THICK_SHIM_FLANNEL = {
    "capabilities": {"bandwidth": True, "portMappings": True}, "cniVersion": "0.3.1", "logLevel": "verbose",
    "logToStderr": True, "name": "multus-cni-network",
    "clusterNetwork": "/host/etc/cni/net.d/10-flannel.conflist", "type": "multus-shim",
}
K3S_THICK_DAEMON_CONFIG = {
    "chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose", "logToStderr": True,
    "binDir": K3S_BIN, "cniConfigDir": "/host/etc/cni/net.d", "multusAutoconfigDir": "/host/etc/cni/net.d",
    "multusConfigFile": "auto", "socketDir": "/host/run/multus/",
    "readinessindicatorfile": "/host/run/flannel/subnet.env",
}


def k3s_thick_right() -> dict[str, Any]:
    """Thick multus with the DaemonSet's CNI volumes on k3s's dirs, binDir the host's data/cni (chroot)."""
    files = roots.k3s_server()
    files.update({
        f"{K3S_CONF}/00-multus.conf": File(THICK_SHIM_FLANNEL, mode=0o600),
        f"{K3S_CONF}/multus.d/daemon-config.json": K3S_THICK_DAEMON_CONFIG,
        f"{K3S}/data/{roots.K3S_HASH}/bin/multus-shim": File(EXE, mode=0o755),
        f"{K3S_BIN}/multus-shim": Link(f"../{roots.K3S_HASH}/bin/multus-shim"),
        "/run/multus/multus.sock": File("", mode=0o600),
        "/var/lib/cni/multus": Dir(),
    })
    return files


CALICO_CONFLIST = {
    "name": "k8s-pod-network", "cniVersion": "0.3.1",
    "plugins": [{"type": "calico", "log_level": "info", "datastore_type": "kubernetes", "mtu": 0,
                 "ipam": {"type": "calico-ipam"}, "policy": {"type": "k8s"},
                 "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
                {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
                {"type": "bandwidth", "capabilities": {"bandwidth": True}}],
}


def k3s_flannel_none_calico() -> dict[str, Any]:
    """k3s --flannel-backend=none with Calico (containerd defaults: /etc/cni/net.d, /opt/cni/bin)."""
    files = roots.k3s_server(flannel_backend="none")
    files.update({
        "/etc/cni/net.d/10-calico.conflist": CALICO_CONFLIST,
        "/etc/cni/net.d/calico-kubeconfig": File(sa_kubeconfig(), mode=0o600, uid=0),
        **roots.plugins("/opt/cni/bin", (*roots.STANDARD_PLUGINS, "calico", "calico-ipam", "multus")),
        "/etc/cni/net.d/00-multus.conf": File(entrypoint_conf(CALICO_CONFLIST, STD_KC), mode=0o600),
        STD_KC: File(sa_kubeconfig(), mode=0o600, uid=0),
    })
    return files


def k3s_legacy_old_hash() -> dict[str, Any]:
    """A k3s from before October 2024 (plugins only in data/<hash>/bin), whose multus config was written
    before the last upgrade and names the previous hash dir, which k3s has removed."""
    files = roots.k3s_agent(legacy_bin=True)
    old_bin = f"{K3S}/data/{roots.K3S_OLD_HASH}/bin"
    files.update({
        f"{K3S_CONF}/00-multus.conf": k3s_thin_conf(binDir=old_bin),
        K3S_KC: File(sa_kubeconfig(), mode=0o600, uid=0),
        f"{K3S}/data/{roots.K3S_HASH}/bin/multus": File(EXE, mode=0o755),
    })
    return files


# --- rke2 -----------------------------------------------------------------------------------------

CANAL = {
    "name": "k8s-pod-network", "cniVersion": "0.3.1",
    "plugins": [{"type": "calico", "log_level": "info", "datastore_type": "kubernetes", "nodename": "node1",
                 "mtu": 1450, "ipam": {"type": "host-local", "subnet": "usePodCidr"},
                 "policy": {"type": "k8s"}, "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
                {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
                {"type": "bandwidth", "capabilities": {"bandwidth": True}}],
}


def rke2_multus() -> dict[str, Any]:
    """RKE2 with `cni: [multus, canal]`: the rke2-multus chart's thin entrypoint output."""
    files = roots.rke2_agent()
    files.update({
        "/etc/cni/net.d/10-canal.conflist": CANAL,
        "/etc/cni/net.d/calico-kubeconfig": File(sa_kubeconfig(), mode=0o600, uid=0),
        "/etc/cni/net.d/00-multus.conf": File(entrypoint_conf(CANAL, STD_KC), mode=0o600),
        STD_KC: File(entrypoint_kubeconfig("10.43.0.1"), mode=0o600, uid=0),
        "/etc/cni/multus/net.d": Dir(),
        **roots.plugins("/opt/cni/bin", ("calico", "calico-ipam", "flannel", "multus")),
    })
    return files


# --- kubeadm --------------------------------------------------------------------------------------


def kubeadm_thin_expired() -> dict[str, Any]:
    calico = roots.kubeadm_worker()["/etc/cni/net.d/10-calico.conflist"]
    token = certs.bound_token(issued=certs.NOW - 400 * D, lifetime=365 * D, pod="kube-multus-ds-abcde",
                              warn_after=timedelta(seconds=3607))
    files = roots.kubeadm_worker()
    files.update({
        "/etc/cni/net.d/00-multus.conf": File(entrypoint_conf(calico, STD_KC), mode=0o600),
        STD_KC: File(certs.kubeconfig("https://[10.96.0.1]:443", token=token), mode=0o600, uid=0),
        "/opt/cni/bin/multus": File(EXE, mode=0o755),
    })
    return files


def kubeadm_thick_down() -> dict[str, Any]:
    files = roots.kubeadm_control_plane()
    files.update({
        "/etc/cni/net.d/00-multus.conf": File({
            "capabilities": {"portMappings": True}, "cniVersion": "0.3.1", "logLevel": "verbose",
            "logToStderr": True, "name": "multus-cni-network",
            "clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist", "type": "multus-shim"}, mode=0o600),
        "/opt/cni/bin/multus-shim": File(EXE, mode=0o755),
        "/run/multus": Dir(),
    })
    return files


# --- OpenShift ------------------------------------------------------------------------------------

OVN = {"cniVersion": "0.4.0", "name": "ovn-kubernetes", "type": "ovn-k8s-cni-overlay", "ipam": {}, "dns": {},
       "logFile": "/var/log/ovn-kubernetes/ovn-k8s-cni-overlay.log", "logLevel": "4",
       "logfile-maxsize": 100, "logfile-maxbackups": 5, "logfile-maxage": 5}
OPENSHIFT_SHIM = {
    "binDir": "/var/lib/cni/bin", "cniVersion": "0.3.1", "logLevel": "verbose", "logToStderr": True,
    "name": "multus-cni-network", "clusterNetwork": "/host/run/multus/cni/net.d/10-ovn-kubernetes.conf",
    "namespaceIsolation": True,
    "globalNamespaces": "default,openshift-multus,openshift-sriov-network-operator,openshift-cnv",
    "type": "multus-shim", "daemonSocketDir": "/run/multus/socket",
}


def openshift_worker() -> dict[str, Any]:
    files = roots.openshift_worker()
    files.pop("/etc/crio/crio.conf.d/00-default.conf")
    files.update({
        # What the MCO writes: no extension, and CRI-O reads it.
        "/etc/crio/crio.conf.d/00-default": roots.OPENSHIFT_CRIO,
        "/var/run": Link("/run"),
        "/etc/kubernetes/cni/net.d/00-multus.conf": File(OPENSHIFT_SHIM, mode=0o600),
        "/etc/kubernetes/cni/net.d/multus.d/multus.kubeconfig": File(
            sa_kubeconfig("https://api-int.ocp.example.com:6443"), mode=0o600, uid=0),
        "/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.kubeconfig": File(
            sa_kubeconfig("https://api-int.ocp.example.com:6443"), mode=0o600, uid=0),
        "/run/multus/cni/net.d/10-ovn-kubernetes.conf": OVN,
        "/run/multus/socket/multus.sock": File("", mode=0o600),
        "/etc/cni/multus/net.d": Dir(),
        "/etc/cni/multus/certs": Dir(),
        "/var/lib/kubelet/kubeconfig": File(sa_kubeconfig("https://api-int.ocp.example.com:6443"), mode=0o600),
        **roots.plugins("/var/lib/cni/bin", ("multus", "multus-shim", "ovn-k8s-cni-overlay", "bandwidth",
                                             "bridge", "host-local", "ipvlan", "macvlan", "portmap",
                                             "tuning", "whereabouts", "egress-router")),
    })
    return files


# --- microk8s -------------------------------------------------------------------------------------

MK8S = roots.MICROK8S
MK8S_CONF = f"{MK8S}/args/cni-network"
MK8S_KC = f"{MK8S_CONF}/multus.d/multus.kubeconfig"


def microk8s_multus() -> dict[str, Any]:
    files = roots.microk8s_node()
    calico = files[f"{MK8S_CONF}/10-calico.conflist"]
    files.update({
        f"{MK8S_CONF}/00-multus.conf": entrypoint_conf(calico, MK8S_KC),
        MK8S_KC: File(entrypoint_kubeconfig("10.152.183.1"), mode=0o600, uid=0),
        f"{MK8S}/opt/cni/bin/multus": File(EXE, mode=0o755),
    })
    return files


# --- the grid ------------------------------------------------------------------------------------

CLEAN: dict[str, str] = {}  # no error and no warning
# The upstream thin entrypoint's own kubeconfig (rke2-multus, microk8s addon): `https://[<ip>]:443`, which
# multus built with Go >= 1.24.8 rejects (warning, not error: older builds accept it), and a pod-bound
# projected token that nothing refreshes (rke2#9313). Warnings, never errors.
ENTRYPOINT_KC = {"kubeconfig-invalid": "warning", "kubeconfig-token-expiring": "warning"}
SEED_IDS = {"kubeconfig-admin-credentials": "warning", "kubeconfig-server-loopback": "error",
            "kubeconfig-permissions": "error", "multus-conf-wrong-dir": "warning"}


def scenario(name: str, node: Callable[[], dict[str, Any]], loud: dict[str, str],
             absent: tuple[str, ...] = ()) -> GridCase:
    """A scenario row: `loud` is the {id: severity} of every error/warning expected, `absent` ids appear not at all."""
    return GridCase(name, node, loud=frozenset(loud.items()), absent=absent)


CASES: list[GridCase] = [
    scenario("k3s-agent-thin-right", k3s_agent_thin, CLEAN),
    scenario("seed-admin-copy", seed_admin_copy, {"kubeconfig-admin-credentials": "warning"}),
    scenario("seed-loopback-6443", seed_loopback, {"kubeconfig-server-loopback": "error"}),
    scenario("seed-mode-0644", seed_mode_0644, {"kubeconfig-permissions": "error"}),
    scenario("seed-stray-conf", seed_stray_conf, {"multus-conf-wrong-dir": "warning"}),
    # A thin node's daemon-config.json is read by nothing: thick-unmounted-path is only info (issue 8 #12).
    scenario("seed-daemon-config", seed_daemon_config, CLEAN, ("kubeconfig-missing",)),
    scenario("seed-all", seed_all, SEED_IDS),
    scenario("k3s-upstream-thick", k3s_upstream_thick, {"multus-config-missing": "error"}),
    scenario("k3s-upstream-thick-copied-primary", k3s_upstream_thick_copied_primary,
             {"multus-conf-wrong-dir": "error"}, ("multus-config-missing",)),
    # binDir data/cni is right for multus v4.0.x; v4.1+ looks plugins up in the pod (PR #1161), where the
    # upstream mounts do not show k3s's data/ dir: a warning, rule v4.1+ (fact change).
    scenario("k3s-thick-right", k3s_thick_right, {"thick-unmounted-path": "warning"}),
    scenario("k3s-flannel-none-calico", k3s_flannel_none_calico, CLEAN),
    # binDir names a removed hash dir, but multus also searches the runtime's bin dir: a warning.
    scenario("k3s-legacy-old-hash", k3s_legacy_old_hash, {"bin-dir-k3s-hash": "warning"}, ("plugin-missing",)),
    scenario("rke2-multus", rke2_multus, ENTRYPOINT_KC),
    scenario("kubeadm-thin-expired", kubeadm_thin_expired,
             {"kubeconfig-token-expired": "error", "kubeconfig-invalid": "warning"}, ("kubeconfig-token-expiring",)),
    scenario("kubeadm-thick-down", kubeadm_thick_down, {"thick-socket-missing": "error"}),
    scenario("openshift-worker", openshift_worker, CLEAN),
    scenario("microk8s-multus", microk8s_multus, ENTRYPOINT_KC),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scenario(tmp_path: Path, case: GridCase) -> None:
    assert_grid(tmp_path, case)


def test_agent_fix_says_how_to_get_admin_credentials(tmp_path: Path) -> None:
    """A k3s agent has no k3s.yaml: a bare `multusctl kubeconfig create` stops with "no admin kubeconfig
    found", so the fix must say to pass one."""
    got = {f.id: f for f in findings(tmp_path, seed_all())}
    for fid in ("kubeconfig-admin-credentials", "kubeconfig-server-loopback"):
        assert "--kubeconfig ADMIN" in got[fid].fix
    server = findings(tmp_path / "server", {**roots.k3s_server(), **{
        f"{K3S_CONF}/00-multus.conf": k3s_thin_conf(), f"{K3S_BIN}/multus": File(EXE, mode=0o755),
        K3S_KC: File(certs.k3s_yaml(), mode=0o600, uid=0)}})
    assert "kubeconfig-admin-credentials" in {f.id for f in server}
    assert all("--kubeconfig ADMIN" not in f.fix for f in server)


def test_bracketed_server_fix_drops_the_brackets(tmp_path: Path) -> None:
    got = [f for f in findings(tmp_path, rke2_multus()) if f.id == "kubeconfig-invalid"]
    assert [(f.severity, f.field) for f in got] == [("warning", "clusters[local].cluster.server")]
    assert "Set server: https://10.43.0.1:443 in /etc/cni/net.d/multus.d/multus.kubeconfig" in got[0].fix
    assert "CVE-2025-47912" in got[0].message


def test_bracketed_loopback_is_still_loopback(tmp_path: Path) -> None:
    files = k3s_agent_thin(**{K3S_KC: File(sa_kubeconfig("https://[127.0.0.1]:6443"), mode=0o600, uid=0)})
    got = {(f.id, f.severity) for f in findings(tmp_path, files)}
    assert {("kubeconfig-server-loopback", "error"), ("kubeconfig-invalid", "warning")} <= got


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/scenarios")
    for case in CASES:
        make_root(out / case.name, case.files())
    print(json.dumps([c.name for c in CASES]))


def test_openshift_daemon_down_fix_names_openshift_multus(tmp_path: Path) -> None:
    """OpenShift runs the daemon in openshift-multus and dials /run/multus/socket: the fix must say so, not
    kube-system and upstream's /host/run/multus/ (which would make the daemon listen where the shim never dials)."""
    files = openshift_worker()
    files.pop("/run/multus/socket/multus.sock")
    (hit,) = [f for f in findings(tmp_path, files) if f.severity != "info"]
    assert (hit.id, hit.path) == ("thick-socket-missing", "/run/multus/socket/multus.sock")
    assert "kubectl -n openshift-multus get pods" in hit.fix and "kube-system" not in hit.fix
    assert '"socketDir": "/host/run/multus/socket/"' in hit.fix


def test_k3s_restart_command_matches_the_rke2_multus_chart(tmp_path: Path) -> None:
    """k3s's documented install is the rke2-multus chart, whose pods are labelled app=rke2-multus."""
    files = k3s_agent_thin(**{f"{K3S_CONF}/00-multus.conf": ""})
    (hit,) = [f for f in findings(tmp_path, files) if f.id == "conf-invalid"]
    assert "-l 'app in (multus,rke2-multus)'" in hit.fix


def test_detect_names_the_primary_openshift_keeps_outside_the_conf_dir(tmp_path: Path) -> None:
    # OpenShift's runtime conf dir holds only 00-multus.conf; the primary is the thick clusterNetwork.
    from multusctl.report.detect import detect_document
    from tests.checkrun import snapshot

    doc = detect_document(snapshot(tmp_path, openshift_worker()), "/")
    assert doc["mode"] == "thick"
    assert doc["primary_config"] == "/run/multus/cni/net.d/10-ovn-kubernetes.conf"
