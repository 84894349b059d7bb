"""Grid for the key/value checks (checks/keys.py): thin k3s, thick kubeadm with daemon-config.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from multusctl.config import multus as multus_mod
from tests import distro_roots as R
from tests.checkrun import Expect as E
from tests.checkrun import GridCase as Case
from tests.checkrun import assert_grid, findings
from tests.noderoot import File

K3S_CONF = R.K3S_CONF_DIR
K3S_BIN = R.K3S_BIN_DIR
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
STD = "/etc/cni/net.d"
DAEMON = f"{STD}/multus.d/daemon-config.json"
MINE = ("config-key-unknown", "log-level-invalid", "global-namespaces-no-default", "cni-version-mismatch")

UPSTREAM_DAEMON_CONFIG: dict[str, Any] = {
    "chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose", "logToStderr": True,
    "cniConfigDir": "/host/etc/cni/net.d", "multusAutoconfigDir": "/host/etc/cni/net.d",
    "multusConfigFile": "auto", "socketDir": "/host/run/multus/",
}


def thin(**keys: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
                            "kubeconfig": K3S_KC, "delegates": [R.flannel_conflist()]}
    conf.update(keys)
    return {k: v for k, v in conf.items() if v is not None}


def k3s_thin(conf: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        **R.k3s_agent(),
        f"{K3S_BIN}/multus": File("#!/bin/sh\n", mode=0o755),
        f"{K3S_CONF}/00-multus.conf": conf if conf is not None else thin(),
        K3S_KC: File(R.kubeconfig("https://10.43.0.1:443", "multus", "local"), mode=0o600),
        **extra,
    }


def shim(**keys: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim",
                            "logLevel": "verbose", "logToStderr": True,
                            "clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist"}
    conf.update(keys)
    return {k: v for k, v in conf.items() if v is not None}


def kubeadm_thick(conf: dict[str, Any] | None = None, daemon: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **R.kubeadm_control_plane(),
        "/opt/cni/bin/multus-shim": File("#!/bin/sh\n", mode=0o755),
        f"{STD}/00-multus.conf": conf if conf is not None else shim(),
        DAEMON: daemon if daemon is not None else dict(UPSTREAM_DAEMON_CONFIG),
        "/run/multus/multus.sock": "",
    }




C00 = f"{K3S_CONF}/00-multus.conf"
CASES: list[Case] = [
    Case("k3s-thin-ok", k3s_thin, absent=MINE),
    Case("kubeadm-thick-upstream", kubeadm_thick, absent=MINE),
    Case("k3s-server-no-multus", R.k3s_server, absent=MINE),
    # --- config-key-unknown
    Case("allowTryDeleteOnErr", lambda: k3s_thin(thin(allowTryDeleteOnErr=True)), present=("config-key-unknown",),
         expect=(E("config-key-unknown", C00, "allowTryDeleteOnErr", "warning", ('"retryDeleteOnError"', "ignored")),)),
    Case("camel-readiness-is-read-by-go", lambda: k3s_thin(thin(readinessIndicatorFile="/run/flannel/subnet.env")),
         present=("config-key-unknown",),
         expect=(E("config-key-unknown", C00, "readinessIndicatorFile", "info",
                  ("still reads it", '"readinessindicatorfile"')),)),
    Case("two-spellings-conflict", lambda: k3s_thin({**thin(kubeconfig=None), "kubeconfig": K3S_KC,
                                                     "kubeConfig": "/etc/other.kubeconfig"}),
         present=("config-key-unknown",),
         expect=(E("config-key-unknown", C00, "kubeConfig", "warning", ("last one in the file wins",
                                                                       "/etc/other.kubeconfig")),)),
    Case("confdir-lowercase", lambda: k3s_thin(thin(confdir="/etc/cni/multus/net.d")),
         expect=(E("config-key-unknown", C00, "confdir", "info", ('"confDir"',)),)),
    Case("cniConf-from-entrypoint", lambda: k3s_thin(thin(cniConf="/host/etc/cni/multus/net.d")),
         expect=(E("config-key-unknown", C00, "cniConf", "info", ("thin entrypoint", "confDir")),)),
    Case("foreign-key", lambda: k3s_thin(thin(bananas=1)),
         expect=(E("config-key-unknown", C00, "bananas", "warning", ("ignored",)),)),
    Case("daemon-config-key", lambda: kubeadm_thick(daemon={**UPSTREAM_DAEMON_CONFIG, "chrootdir": "/hostroot",
                                                           "socketDirectory": "/x"}),
         expect=(E("config-key-unknown", DAEMON, "chrootdir", "info", ('"chrootDir"',)),
                 E("config-key-unknown", DAEMON, "socketDirectory", "warning", ()))),
    Case("daemon-keys-known", lambda: kubeadm_thick(daemon={**UPSTREAM_DAEMON_CONFIG, "perNodeCertificate": {},
                                                           "metricsPort": 9091, "overrideNetworkName": True,
                                                           "namespaceIsolation": True,
                                                           "globalNamespaces": "default,x"}),
         absent=MINE),
    Case("conflist-top-level-kubeconfig", lambda: k3s_thin(None, **{C00: None, f"{K3S_CONF}/00-multus.conflist": {
        "cniVersion": "1.0.0", "name": "multus-cni-network", "kubeconfig": K3S_KC,
        "plugins": [thin(kubeconfig=None, name=None, cniVersion=None)]}}),
         expect=(E("config-key-unknown", f"{K3S_CONF}/00-multus.conflist", "kubeconfig", "warning",
                  ("plugins[0]", "NetworkAttachmentDefinition")),)),
    # --- log-level-invalid
    Case("loglevel-info", lambda: k3s_thin(thin(logLevel="info")), present=("log-level-invalid",),
         expect=(E("log-level-invalid", C00, "logLevel", "warning", ('"logLevel": "verbose"', "panic")),)),
    Case("loglevel-upper-case-ok", lambda: k3s_thin(thin(logLevel="DEBUG")), absent=("log-level-invalid",)),
    Case("loglevel-empty-ok", lambda: k3s_thin(thin(logLevel="")), absent=("log-level-invalid",)),
    Case("loglevel-daemon-config", lambda: kubeadm_thick(daemon={**UPSTREAM_DAEMON_CONFIG, "logLevel": "warning"}),
         expect=(E("log-level-invalid", DAEMON, "logLevel", "warning", ('"logLevel": "error"',)),)),
    Case("loglevel-daemon-number", lambda: kubeadm_thick(daemon={**UPSTREAM_DAEMON_CONFIG, "logLevel": 5}),
         expect=(E("log-level-invalid", DAEMON, "logLevel", "error", ("exits",)),)),
    Case("loglevel-thin-number-is-conf-invalid", lambda: k3s_thin(thin(logLevel=5)),
         present=("conf-invalid",), absent=("log-level-invalid",)),
    # --- global-namespaces-no-default
    Case("isolation-globals-without-default", lambda: k3s_thin(thin(namespaceIsolation=True,
                                                                    globalNamespaces="kube-system,shared")),
         expect=(E("global-namespaces-no-default", C00, "globalNamespaces", "info",
                  ('"kube-system,shared,default"',)),)),
    Case("isolation-globals-with-default", lambda: k3s_thin(thin(namespaceIsolation=True,
                                                                 globalNamespaces="shared, default")),
         absent=("global-namespaces-no-default",)),
    Case("globals-without-isolation", lambda: k3s_thin(thin(globalNamespaces="shared")),
         absent=("global-namespaces-no-default",)),
    Case("thick-isolation-in-daemon-config", lambda: kubeadm_thick(daemon={
        **UPSTREAM_DAEMON_CONFIG, "namespaceIsolation": True, "globalNamespaces": "team-a"}),
         expect=(E("global-namespaces-no-default", DAEMON, "globalNamespaces", "info", ()),)),
    # --- cni-version-mismatch
    Case("mc875-thin-031-over-flannel-100", lambda: k3s_thin(thin(cniVersion="0.3.1")),
         present=("cni-version-mismatch",),
         expect=(E("cni-version-mismatch", C00, "cniVersion", "warning",
                  ("MC#875", "not an error with Multus v4", '"cniVersion": "1.0.0"')),)),
    # Fact change: the thin plugin never refuses >= 0.4.0 over < 0.4.0 (only the thick generator does); only
    # CHECK fails (libcni CheckNetwork), so this is a warning now, no longer an error.
    Case("mc737-thin-top-040-over-031", lambda: k3s_thin(thin(cniVersion="0.4.0", delegates=[
        {**R.flannel_conflist(), "cniVersion": "0.3.1"}])),
         expect=(E("cni-version-mismatch", C00, "cniVersion", "warning",
                  ("does not support the CHECK command", "MC#737", "ADD and DEL work")),)),
    # MC#737 thick: the daemon refuses at start-up and never writes 00-multus.conf.
    Case("mc737-thick-daemon-100-over-031-no-multus-conf", lambda: {
        **{k: v for k, v in kubeadm_thick().items() if k != f"{STD}/00-multus.conf"},
        DAEMON: {**UPSTREAM_DAEMON_CONFIG, "cniVersion": "1.0.0"}},
         present=("cni-version-mismatch",),
         expect=(E("cni-version-mismatch", DAEMON, "cniVersion", "error",
                  ("delegate cni version is 0.3.1 while top level cni version is 1.0.0", "never writes",
                   '"cniVersion": "0.3.1"')),)),
    Case("thick-daemon-100-over-100-no-multus-conf-ok", lambda: {
        **{k: v for k, v in kubeadm_thick().items() if k != f"{STD}/00-multus.conf"},
        DAEMON: {**UPSTREAM_DAEMON_CONFIG, "cniVersion": "1.0.0"},
        f"{STD}/10-calico.conflist": {**R.kubeadm_control_plane()[f"{STD}/10-calico.conflist"],
                                      "cniVersion": "1.0.0"}},
         absent=("cni-version-mismatch",)),
    Case("thick-daemon-user-provided-config-not-judged", lambda: {
        **kubeadm_thick(), DAEMON: {**UPSTREAM_DAEMON_CONFIG, "cniVersion": "1.0.0",
                                    "multusConfigFile": "/tmp/multus.conf"}},
         absent=("cni-version-mismatch",)),
    Case("same-version-ok", lambda: k3s_thin(thin(cniVersion="1.0.0")), absent=("cni-version-mismatch",)),
    Case("thick-031-over-100-ok", lambda: {
        **kubeadm_thick(),
        f"{STD}/10-calico.conflist": {**R.kubeadm_control_plane()[f"{STD}/10-calico.conflist"],
                                      "cniVersion": "1.0.0"}},
         absent=("cni-version-mismatch",)),
    Case("thick-daemon-version-wins", lambda: kubeadm_thick(shim(cniVersion="0.3.1"),
                                                            {**UPSTREAM_DAEMON_CONFIG, "cniVersion": "1.0.0"}),
         expect=(E("cni-version-mismatch", DAEMON, "cniVersion", "error", ("0.3.1",)),)),
    Case("thin-cluster-network-file", lambda: k3s_thin(thin(cniVersion="0.4.0", delegates=None,
                                                            clusterNetwork=f"{K3S_CONF}/05-old.conf"),
                                                       **{f"{K3S_CONF}/05-old.conf": {
                                                           "cniVersion": "0.3.0", "name": "old", "type": "bridge"}}),
         expect=(E("cni-version-mismatch", C00, None, "warning", ("05-old.conf",)),)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_keys_grid(tmp_path: Path, case: Case) -> None:
    assert_grid(tmp_path, case)


def test_go_case_fold_lookup() -> None:
    assert multus_mod.lookup({"kubeConfig": "/a"}, "kubeconfig") == "/a"
    assert multus_mod.lookup({"kubeconfig": "/a", "KUBECONFIG": "/b"}, "kubeconfig") == "/b"
    assert multus_mod.lookup({"kubeconfig": "/a"}, "kubeconfig") == "/a"
    assert multus_mod.lookup({}, "kubeconfig") is None


def test_camel_kubeconfig_counts_as_set(tmp_path: Path) -> None:
    """Multus reads `kubeConfig` (Go folds case), so the kubeconfig checks must see it too."""
    found = findings(tmp_path, k3s_thin(thin(kubeconfig=None, kubeConfig=K3S_KC)))
    assert "kubeconfig-unset" not in {f.id for f in found}


def test_no_secret_values_in_key_findings(tmp_path: Path) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2VjcmV0"
    found = findings(tmp_path, k3s_thin(thin(tokne=token, bearerToken=token)))
    for f in found:
        assert token not in f.message + f.fix + repr(f.evidence)
