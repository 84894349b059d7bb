"""kubeconfig-* checks: a grid of node roots (tests/distro_roots.py plus the case's files) -> ids present
and absent, then what a user reads (path, field, fix, severity), and that no credential ever reaches
the output of `multusctl check`."""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from multusctl.cli.main import cli
from multusctl.report.finding import Finding
from tests import certs
from tests import distro_roots as roots
from tests.checkrun import Expect as E
from tests.checkrun import GridCase, assert_grid, findings
from tests.noderoot import File, Link, make_root

K3S_KC = f"{roots.K3S_CONF_DIR}/multus.d/multus.kubeconfig"
STD_KC = "/etc/cni/net.d/multus.d/multus.kubeconfig"
KC_IDS = frozenset({
    "kubeconfig-unset", "kubeconfig-missing", "kubeconfig-invalid", "kubeconfig-permissions",
    "kubeconfig-admin-credentials", "kubeconfig-server-loopback", "kubeconfig-token-expired",
    "kubeconfig-token-expiring", "kubeconfig-file-ref-missing", "kubeconfig-ca-invalid", "kubeconfig-insecure",
    "kubeconfig-backup-admin-credentials",
})
IS_ROOT = os.geteuid() == 0
H = timedelta(hours=1)
D = timedelta(days=1)


def thin_conf(kubeconfig: str | None = K3S_KC, **extra: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus"}
    if kubeconfig is not None:
        conf["kubeconfig"] = kubeconfig
    conf.update(extra)
    conf["delegates"] = [roots.flannel_conflist()]
    return conf


def k3s(role: str = "server", kc: str | File | None = None, *, conf: dict[str, Any] | None = None,
        kc_path: str = K3S_KC, **more: Any) -> dict[str, Any]:
    """A k3s node with a thin 00-multus.conf naming `kc_path` and (unless None) that kubeconfig."""
    files = roots.k3s_server() if role == "server" else roots.k3s_agent()
    files[f"{roots.K3S_CONF_DIR}/00-multus.conf"] = conf if conf is not None else thin_conf(kc_path)
    files[f"{roots.K3S_BIN_DIR}/multus"] = File("#!/bin/sh\n", mode=0o755)
    if kc is not None:
        files[kc_path] = kc if isinstance(kc, File) else File(kc, mode=0o600)
    files.update(more)
    return files


def good_kc(**kw: Any) -> str:
    kw.setdefault("token", certs.legacy_token())
    return certs.kubeconfig(**kw)


def edited(text: str, fn: Callable[[dict[str, Any]], None]) -> str:
    doc = yaml.safe_load(text)
    fn(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def kubeadm_thick(kc: str | None, *, role: str = "control-plane", **more: Any) -> dict[str, Any]:
    """A kubeadm node with the upstream thick plugin: shim conf + daemon-config.json naming an in-pod kubeconfig."""
    files = roots.kubeadm_control_plane() if role == "control-plane" else roots.kubeadm_worker()
    files["/etc/cni/net.d/00-multus.conf"] = {
        "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim", "logLevel": "verbose",
        "logToStderr": True, "clusterNetwork": "/host/etc/cni/net.d/10-calico.conflist"}
    files["/etc/cni/net.d/multus.d/daemon-config.json"] = {
        "chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose", "logToStderr": True,
        "cniConfigDir": "/host/etc/cni/net.d", "multusAutoconfigDir": "/host/etc/cni/net.d",
        "multusConfigFile": "auto", "socketDir": "/host/run/multus/",
        "kubeconfig": "/host/etc/cni/net.d/multus.d/multus.kubeconfig"}
    files["/opt/cni/bin/multus-shim"] = File("#!/bin/sh\n", mode=0o755)
    files["/run/multus/multus.sock"] = ""
    if kc is not None:
        files[STD_KC] = File(kc, mode=0o600)
    files.update(more)
    return files


def kubeadm_thin(kc: str | None, *, role: str = "control-plane", **more: Any) -> dict[str, Any]:
    files = roots.kubeadm_control_plane() if role == "control-plane" else roots.kubeadm_worker()
    files["/etc/cni/net.d/00-multus.conf"] = {
        "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus", "kubeconfig": STD_KC,
        "delegates": [files["/etc/cni/net.d/10-calico.conflist"]]}
    files["/opt/cni/bin/multus"] = File("#!/bin/sh\n", mode=0o755)
    if kc is not None:
        files[STD_KC] = File(kc, mode=0o600)
    files.update(more)
    return files


# --------------------------------------------------------------------------------------------- the grid
# Every row runs at certs.NOW. `only=KC_IDS`: of the kubeconfig-* ids, exactly `present` fire.

Case = functools.partial(GridCase, now=certs.NOW)

CASES: list[GridCase] = [
    # healthy setups: nothing at all
    Case("healthy-k3s-server-legacy-token", lambda: k3s("server", good_kc()), only=KC_IDS),
    Case("healthy-k3s-agent-year-token", lambda: k3s("agent", good_kc(token=certs.bound_token(lifetime=365 * D))),
     only=KC_IDS),
    Case("healthy-kubeadm-thick-sa-tokenfile", lambda: kubeadm_thick(good_kc(
        token=None, server="https://10.96.0.1:443",
        user_extra={"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"})), only=KC_IDS),
    Case("no-multus-at-all", roots.k3s_server, only=KC_IDS),
    # kubeconfig-unset
    Case("unset-thin", lambda: k3s(conf=thin_conf(None)), present=("kubeconfig-unset",), only=KC_IDS),
    # Go's encoding/json matches keys case-insensitively: multus reads `kubeConfig`.
    Case("camel-case-key-is-read", lambda: k3s("server", good_kc(), conf=thin_conf(None, kubeConfig=K3S_KC)),
     only=KC_IDS),
    Case("unset-empty-string", lambda: k3s(conf=thin_conf("")), present=("kubeconfig-unset",), only=KC_IDS),
    Case("unset-not-for-thick", lambda: edited_thick_without_kubeconfig(), only=KC_IDS),
    # kubeconfig-missing
    Case("missing-k3s-path", lambda: k3s("agent", None), present=("kubeconfig-missing",), only=KC_IDS),
    Case("missing-upstream-path-on-k3s", lambda: k3s("agent", None, conf=thin_conf(STD_KC), **{K3S_KC: File(
        good_kc(), mode=0o600)}), present=("kubeconfig-missing",), only=KC_IDS),
    Case("missing-dangling-symlink", lambda: k3s("server", None, **{K3S_KC: Link("/nowhere/kc")}),
     present=("kubeconfig-missing",), only=KC_IDS),
    Case("missing-thick", lambda: kubeadm_thick(None), present=("kubeconfig-missing",), only=KC_IDS),
    Case("present-via-symlink", lambda: k3s("server", None, **{
        K3S_KC: Link("/etc/multus/kc"), "/etc/multus/kc": File(good_kc(), mode=0o600)}), only=KC_IDS),
    # kubeconfig-invalid
    Case("invalid-yaml", lambda: k3s("server", "clusters:\n- name: x\n  cluster: {server: [\n"),
     present=("kubeconfig-invalid",), only=KC_IDS),
    Case("invalid-binary", lambda: k3s("server", File(b"\x00\xff\xfe binary", mode=0o600)),
     present=("kubeconfig-invalid",), only=KC_IDS),
    Case("invalid-empty-file", lambda: k3s("server", File("", mode=0o600)),
     present=("kubeconfig-invalid",), only=KC_IDS),
    Case("invalid-no-current-context", lambda: k3s("server", good_kc(current_context=None)),
     present=("kubeconfig-invalid",), only=KC_IDS),
    Case("invalid-current-context-unknown", lambda: k3s("server", good_kc(current_context="nope")),
     present=("kubeconfig-invalid",), only=KC_IDS),
    Case("invalid-cluster-missing", lambda: k3s("server", edited(good_kc(), lambda d: d["clusters"].clear())),
     present=("kubeconfig-invalid",)),
    Case("invalid-user-missing", lambda: k3s("server", edited(good_kc(), lambda d: d["users"].clear())),
     present=("kubeconfig-invalid",)),
    Case("invalid-server-brackets-mc1283", lambda: k3s("server", good_kc(server="https://[]:")),
     present=("kubeconfig-invalid",), absent=("kubeconfig-server-loopback",)),
    Case("invalid-server-empty-port", lambda: k3s("server", good_kc(server="https://10.43.0.1:")),
     present=("kubeconfig-invalid",)),
    Case("invalid-server-empty", lambda: k3s("server", good_kc(server="")), present=("kubeconfig-invalid",)),
    Case("invalid-key-data-base64", lambda: k3s("server", certs.kubeconfig(
        cert=certs.plain_client(), user_extra={"client-key-data": "%%% not base64 %%%"})),
     present=("kubeconfig-invalid",)),
    Case("invalid-duplicate-cluster", lambda: k3s("server", edited(good_kc(), lambda d: d["clusters"].append(
        d["clusters"][0]))), present=("kubeconfig-invalid",)),
    Case("valid-schemeless-server", lambda: k3s("server", good_kc(server="10.43.0.1:443")), only=KC_IDS),
    # kubeconfig-permissions
    Case("perm-0644", lambda: k3s("server", File(good_kc(), mode=0o644)),
     present=("kubeconfig-permissions",), only=KC_IDS),
    Case("perm-0640", lambda: k3s("server", File(good_kc(), mode=0o640)),
     present=("kubeconfig-permissions",), only=KC_IDS),
    Case("perm-0700", lambda: k3s("server", File(good_kc(), mode=0o700)),
     present=("kubeconfig-permissions",), only=KC_IDS),
    Case("perm-0400-ok", lambda: k3s("server", File(good_kc(), mode=0o400)), only=KC_IDS),
    # kubeconfig-admin-credentials
    Case("admin-seed-k3s-yaml-on-agent", lambda: k3s("agent", certs.k3s_yaml()),
     present=("kubeconfig-admin-credentials", "kubeconfig-server-loopback"), only=KC_IDS),
    Case("admin-copy-of-k3s-yaml-on-server", lambda: k3s("server", certs.k3s_yaml(), **{
        "/etc/rancher/k3s/k3s.yaml": File(certs.k3s_yaml(), mode=0o600)}),
     present=("kubeconfig-admin-credentials", "kubeconfig-server-loopback"), only=KC_IDS),
    Case("admin-kubeadm-cluster-admins", lambda: k3s("server", certs.kubeconfig(cert=certs.kubeadm_admin())),
     present=("kubeconfig-admin-credentials",), only=KC_IDS),
    Case("admin-same-token-as-admin-kubeconfig", lambda: k3s("server", good_kc(token="static-admin-token-1234567"), **{
        "/etc/rancher/k3s/k3s.yaml": File(certs.kubeconfig(
            "https://127.0.0.1:6443", token="static-admin-token-1234567", names=("default",) * 3), mode=0o600)}),
     present=("kubeconfig-admin-credentials",), only=KC_IDS),
    Case("not-admin-plain-client-cert", lambda: k3s("server", certs.kubeconfig(cert=certs.plain_client())),
     only=KC_IDS),
    # kubeconfig-server-loopback
    Case("loopback-k3s-server-6443-info", lambda: k3s("server", good_kc(server="https://127.0.0.1:6443")),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-k3s-agent-6443-error", lambda: k3s("agent", good_kc(server="https://127.0.0.1:6443")),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-k3s-agent-localhost", lambda: k3s("agent", good_kc(server="https://localhost:6443")),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-k3s-agent-ipv6", lambda: k3s("agent", good_kc(server="https://[::1]:6443")),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-k3s-agent-lb-6444", lambda: k3s("agent", good_kc(server="https://127.0.0.1:6444")),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-thick-kubeadm-worker", lambda: kubeadm_thick(good_kc(server="https://127.0.0.1:6443"),
                                                            role="worker"),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-thin-kubeadm-worker", lambda: kubeadm_thin(good_kc(server="https://127.0.0.1:6443"), role="worker"),
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("loopback-unknown-distro-role", lambda: {
        "/etc/cni/net.d/00-multus.conf": {"cniVersion": "0.3.1", "name": "m", "type": "multus",
                                          "kubeconfig": STD_KC, "delegates": [roots.flannel_conflist()]},
        STD_KC: File(good_kc(server="https://127.0.0.1:6443"), mode=0o600)},
     present=("kubeconfig-server-loopback",), only=KC_IDS),
    Case("not-loopback-node-ip", lambda: k3s("agent", good_kc(server="https://10.0.0.10:6443")), only=KC_IDS),
    # kubeconfig-token-expired / -expiring
    Case("token-expired", lambda: k3s("server", good_kc(token=certs.bound_token(
        issued=certs.NOW - 3 * D, lifetime=2 * D))), present=("kubeconfig-token-expired",), only=KC_IDS),
    Case("token-expired-in-tokenfile", lambda: k3s("server", good_kc(token=None, user_extra={"tokenFile": "token"}), **{
        f"{roots.K3S_CONF_DIR}/multus.d/token": File(certs.bound_token(issued=certs.NOW - 3 * D, lifetime=2 * D),
                                                     mode=0o600)}), present=("kubeconfig-token-expired",), only=KC_IDS),
    Case("token-expiring-3-days", lambda: k3s("server", good_kc(token=certs.bound_token(
        issued=certs.NOW - 27 * D, lifetime=30 * D))), present=("kubeconfig-token-expiring",), only=KC_IDS),
    Case("token-expiring-short-lived", lambda: k3s("server", good_kc(token=certs.bound_token(
        issued=certs.NOW - 10 * timedelta(minutes=1), lifetime=H))),
     present=("kubeconfig-token-expiring",), only=KC_IDS),
    Case("token-expiring-kubelet-extended", lambda: k3s("server", good_kc(token=certs.kubelet_token())),
     present=("kubeconfig-token-expiring",), only=KC_IDS),
    Case("token-expiring-pod-bound", lambda: k3s("server", good_kc(token=certs.bound_token(
        lifetime=365 * D, pod="kube-multus-ds-abcde"))), present=("kubeconfig-token-expiring",), only=KC_IDS),
    Case("token-opaque", lambda: k3s("server", good_kc(token="abcdef.0123456789abcdef")), only=KC_IDS),
    # kubeconfig-file-ref-missing
    Case("ref-ca-missing", lambda: k3s("server", good_kc(cluster_extra={"certificate-authority": "/etc/nope/ca.crt"})),
     present=("kubeconfig-file-ref-missing",), only=KC_IDS),
    Case("ref-relative-cert-missing", lambda: k3s("server", good_kc(token=None, user_extra={
        "client-certificate": "certs/client.crt", "client-key": "certs/client.key"})),
     present=("kubeconfig-file-ref-missing",), only=KC_IDS),
    Case("ref-relative-present", lambda: k3s("server", good_kc(token=None, cluster_extra={
        "certificate-authority": "certs/ca.crt"}, user_extra={
        "client-certificate": "certs/client.crt", "client-key": "certs/client.key"}), **{
        f"{roots.K3S_CONF_DIR}/multus.d/certs/ca.crt": certs.server_ca().cert_pem.decode(),
        f"{roots.K3S_CONF_DIR}/multus.d/certs/client.crt": certs.plain_client().cert_pem.decode(),
        f"{roots.K3S_CONF_DIR}/multus.d/certs/client.key": File(certs.plain_client().key_pem, mode=0o600)}),
     only=KC_IDS),
    Case("ref-tokenfile-missing", lambda: k3s("server", good_kc(token=None, user_extra={
        "tokenFile": "/var/lib/multus/token"})), present=("kubeconfig-file-ref-missing",), only=KC_IDS),
    Case("ref-thick-hostpath-missing", lambda: kubeadm_thick(good_kc(user_extra={
        "tokenFile": "/host/etc/cni/net.d/multus.d/token"})), present=("kubeconfig-file-ref-missing",), only=KC_IDS),
    # kubeconfig-ca-invalid
    Case("ca-not-pem", lambda: k3s("server", good_kc(ca_pem=b"hello, not a certificate\n")),
     present=("kubeconfig-ca-invalid",), only=KC_IDS),
    Case("ca-truncated-pem", lambda: k3s("server", good_kc(ca_pem=certs.server_ca().cert_pem[:200])),
     present=("kubeconfig-ca-invalid",), only=KC_IDS),
    Case("ca-expired", lambda: k3s("server", good_kc(ca_pem=certs.expired_ca().cert_pem)),
     present=("kubeconfig-ca-invalid",), only=KC_IDS),
    Case("ca-bundle-one-current", lambda: k3s("server", good_kc(
        ca_pem=certs.expired_ca().cert_pem + certs.server_ca().cert_pem)), only=KC_IDS),
    Case("ca-file-not-pem", lambda: k3s("server", good_kc(cluster_extra={
        "certificate-authority": "/etc/multus/ca.crt"}), **{"/etc/multus/ca.crt": "PLACEHOLDER\n"}),
     present=("kubeconfig-ca-invalid",), only=KC_IDS),
    Case("ca-ignored-when-insecure", lambda: k3s("server", good_kc(ca_pem=b"junk", cluster_extra={
        "insecure-skip-tls-verify": True})), present=("kubeconfig-insecure",), only=KC_IDS),
]


def edited_thick_without_kubeconfig() -> dict[str, Any]:
    files = kubeadm_thick(None)
    del files["/etc/cni/net.d/multus.d/daemon-config.json"]["kubeconfig"]
    return files


PERM_FIX = f"chown root:root {K3S_KC} && chmod 600 {K3S_KC}"
CASES += [
    # what kubeconfig-invalid names: the field and why
    *(Case(f"invalid-names-field-{name}", lambda text=text: k3s("server", text()),
           expect=(E("kubeconfig-invalid", path=K3S_KC, field=field, message=(words,), count=1),))
      for name, text, field, words in [
          ("current-context", lambda: good_kc(current_context=None), "current-context", "not set"),
          ("brackets", lambda: good_kc(server="https://[]:"), "clusters[local].cluster.server", "malformed"),
          ("empty-port", lambda: good_kc(server="https://10.43.0.1:"), "clusters[local].cluster.server",
           "empty port"),
          ("no-users", lambda: edited(good_kc(), lambda d: d["users"].clear()), "users", "anonymously"),
      ]),
    # kubeconfig-permissions: group/other readable is an error, other bits a warning; one fix
    *(Case(f"perm-severity-{mode:04o}", lambda mode=mode: k3s("server", File(good_kc(), mode=mode)),
           expect=(E("kubeconfig-permissions", severity=severity, message=(f"{mode:04o}",), fix_is=PERM_FIX,
                     count=1),))
      for mode, severity in [(0o644, "error"), (0o604, "error"), (0o640, "error"), (0o660, "error"),
                             (0o700, "warning"), (0o620, "warning")]),
    # kubeconfig-token-expiring says why
    *(Case(f"token-expiring-says-{name}", lambda token=token: k3s("server", good_kc(token=token())),
           expect=(E("kubeconfig-token-expiring", severity="warning", message=(words,),
                     fix=("multusctl kubeconfig create",), count=1),))
      for name, token, words in [
          ("in-3-days", lambda: certs.bound_token(issued=certs.NOW - 27 * D, lifetime=30 * D), "in 3 days"),
          ("short-lived", lambda: certs.bound_token(issued=certs.NOW - 10 * timedelta(minutes=1), lifetime=H),
           "issued for only 60 min"),
          ("warnafter", lambda: certs.kubelet_token("kube-multus-ds-x7k2p"), "warnafter"),
          ("pod-bound", lambda: certs.bound_token(lifetime=365 * D, pod="kube-multus-ds-abcde"),
           "bound to pod kube-multus-ds-abcde"),
      ]),
]


# kubeconfig-backup-admin-credentials: an admin kubeconfig left beside the one Multus uses
BAK = f"{K3S_KC}.bak-20261201T000000"
CASES += [
    Case("backup-of-a-copied-k3s-yaml", lambda: k3s("agent", good_kc(), **{BAK: File(certs.k3s_yaml(), mode=0o600)}),
         present=("kubeconfig-backup-admin-credentials",), absent=("kubeconfig-admin-credentials",),
         expect=(E("kubeconfig-backup-admin-credentials", path=BAK, severity="warning", count=1,
                   words=("group system:masters", "the backup `multusctl kubeconfig create` kept", f"rm {BAK}")),)),
    Case("hand-made-orig-copy", lambda: k3s("agent", good_kc(), **{
        f"{K3S_KC}.orig": File(certs.k3s_yaml(), mode=0o600)}),
        expect=(E("kubeconfig-backup-admin-credentials", path=f"{K3S_KC}.orig", count=1),)),
    Case("backup-of-a-serviceaccount-kubeconfig-is-fine", lambda: k3s("agent", good_kc(), **{
        BAK: File(good_kc(), mode=0o600)}), absent=("kubeconfig-backup-admin-credentials",)),
    Case("the-admin-kubeconfig-in-use-is-the-other-check-s", lambda: k3s("agent", certs.k3s_yaml()),
         present=("kubeconfig-admin-credentials",), absent=("kubeconfig-backup-admin-credentials",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_grid(tmp_path: Path, case: GridCase) -> None:
    assert_grid(tmp_path, case)


# ------------------------------------------------------------------------------- what the user reads


def run(tmp_path: Path, files: dict[str, Any], **kw: Any) -> list[Finding]:
    return findings(tmp_path, files, now=certs.NOW, **kw)


def one(found: list[Finding], check_id: str) -> Finding:
    hits = [f for f in found if f.id == check_id]
    assert len(hits) == 1, f"{check_id}: {[f.message for f in hits]} in {[f.id for f in found]}"
    return hits[0]


def test_seed_case_k3s_agent_with_k3s_yaml(tmp_path: Path) -> None:
    """The founding case: k3s.yaml copied to the agent's multus.d: admin and a dead loopback server."""
    found = run(tmp_path, k3s("agent", certs.k3s_yaml()))
    admin = one(found, "kubeconfig-admin-credentials")
    assert admin.severity == "warning" and admin.path == K3S_KC
    assert "system:masters" in admin.message and "multusctl kubeconfig create" in admin.fix
    assert admin.field == "users[default].user.client-certificate-data"
    loop = one(found, "kubeconfig-server-loopback")
    assert loop.severity == "error" and loop.path == K3S_KC
    assert "k3s agent" in loop.message and "127.0.0.1:6443" in loop.message
    assert "https://10.43.0.1:443" in loop.fix
    assert loop.field == "clusters[default].cluster.server"


def test_loopback_on_server_is_info(tmp_path: Path) -> None:
    f = one(run(tmp_path, k3s("server", good_kc(server="https://127.0.0.1:6443"))), "kubeconfig-server-loopback")
    assert f.severity == "info" and "agents" in f.message


def test_loopback_kubeadm_thin_control_plane_is_info_worker_is_error(tmp_path: Path) -> None:
    cp = one(run(tmp_path / "cp", kubeadm_thin(good_kc(server="https://127.0.0.1:6443"))),
             "kubeconfig-server-loopback")
    assert cp.severity == "info"
    w = one(run(tmp_path / "w", kubeadm_thin(good_kc(server="https://127.0.0.1:6443"), role="worker")),
            "kubeconfig-server-loopback")
    assert w.severity == "error" and w.path == STD_KC
    assert "https://10.0.0.10:6443" in w.fix  # the worker's kubelet.conf server


def test_thick_mode_kubeconfig_problems_are_info(tmp_path: Path) -> None:
    """The thick daemon uses its in-cluster client and never loads daemon-config's kubeconfig."""
    kc = good_kc(server="https://127.0.0.1:6443", ca_pem=certs.expired_ca().cert_pem)
    found = run(tmp_path, kubeadm_thick(kc, role="worker"))
    for check_id in ("kubeconfig-server-loopback", "kubeconfig-ca-invalid"):
        f = one(found, check_id)
        assert f.severity == "info" and "never loads" in f.message and f.path == STD_KC
        assert "hostNetwork" in f.message or check_id != "kubeconfig-server-loopback"


def test_unset_names_layout_path(tmp_path: Path) -> None:
    f = one(run(tmp_path, k3s(conf=thin_conf(None))), "kubeconfig-unset")
    assert f.path == f"{roots.K3S_CONF_DIR}/00-multus.conf" and f.field == "kubeconfig"
    assert f'"kubeconfig": "{K3S_KC}"' in f.fix and "NADs" in f.message


def test_unset_with_cluster_network_says_every_add_fails(tmp_path: Path) -> None:
    """With clusterNetwork set, LoadNetConf ignores delegates and GetDefaultNetworks without an API client fails
    (multus-cni v4.3.0 pkg/types/conf.go:506, pkg/k8sclient/k8sclient.go:665): no fallback, every ADD fails."""
    for value in ("cbr0", f"{roots.K3S_CONF_DIR}/10-flannel.conflist"):
        conf = {k: v for k, v in thin_conf(None).items() if k != "delegates"}
        f = one(run(tmp_path / value.replace("/", "_"), k3s(conf={**conf, "clusterNetwork": value})),
                "kubeconfig-unset")
        assert f.severity == "error"
        assert "every pod ADD" in f.message and "must have either Kubernetes config or delegates" in f.message
        assert "do not fall back" in f.message and f.evidence["clusterNetwork"] == value
    plain = one(run(tmp_path / "plain", k3s(conf=thin_conf(None))), "kubeconfig-unset")
    assert "every pod ADD" not in plain.message and "only get the cluster network" in plain.message


def test_missing_points_at_existing_layout_kubeconfig(tmp_path: Path) -> None:
    files = k3s("agent", None, conf=thin_conf(STD_KC), **{K3S_KC: File(good_kc(), mode=0o600)})
    f = one(run(tmp_path, files), "kubeconfig-missing")
    assert f.path == STD_KC and f.severity == "error"
    assert f'"kubeconfig": "{K3S_KC}"' in f.fix and "MC#564" in f.message


def test_missing_thick_names_pod_and_host_path(tmp_path: Path) -> None:
    f = one(run(tmp_path, kubeadm_thick(None)), "kubeconfig-missing")
    assert f.path == STD_KC and "/host/etc/cni/net.d/multus.d/multus.kubeconfig" in f.message


def test_invalid_current_context_fix_names_the_only_context(tmp_path: Path) -> None:
    f = one(run(tmp_path, k3s("server", good_kc(current_context=None))), "kubeconfig-invalid")
    assert "current-context: multus-context" in f.fix


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    f = one(run(tmp_path, k3s("server", "clusters:\n- name: x\n  cluster: {server: [\n")), "kubeconfig-invalid")
    assert "YAML" in f.message and f.field is None


@pytest.mark.skipif(not IS_ROOT, reason="chown needs root")
def test_permissions_owner_not_root(tmp_path: Path) -> None:
    f = one(run(tmp_path, k3s("server", File(good_kc(), mode=0o600, uid=1000))), "kubeconfig-permissions")
    assert f.severity == "warning" and "uid 1000" in f.message


def test_token_expired_reports_fingerprint_not_token(tmp_path: Path) -> None:
    token = certs.bound_token(issued=certs.NOW - 3 * D, lifetime=2 * D, pod="kube-multus-ds-abcde")
    found = run(tmp_path, k3s("server", good_kc(token=token)))
    f = one(found, "kubeconfig-token-expired")
    assert f.field == "users[multus].user.token" and "MC#852" in f.message
    assert "sha256:" in f.message and token not in json.dumps([x.to_dict() for x in found])
    assert "kubeconfig-token-expiring" not in {x.id for x in found}


def test_token_file_path_is_reported(tmp_path: Path) -> None:
    token_path = f"{roots.K3S_CONF_DIR}/multus.d/token"
    files = k3s("server", good_kc(token=None, user_extra={"tokenFile": "token"}), **{
        token_path: File(certs.bound_token(issued=certs.NOW - 3 * D, lifetime=2 * D) + "\n", mode=0o600)})
    f = one(run(tmp_path, files), "kubeconfig-token-expired")
    assert f.path == token_path and f.field == "users[multus].user.tokenFile"


def test_file_ref_relative_resolved_against_kubeconfig_dir(tmp_path: Path) -> None:
    files = k3s("server", good_kc(token=None, user_extra={
        "client-certificate": "certs/client.crt", "client-key": "certs/client.key"}))
    found = [f for f in run(tmp_path, files) if f.id == "kubeconfig-file-ref-missing"]
    assert {f.field for f in found} == {"users[multus].user.client-certificate", "users[multus].user.client-key"}
    assert all(f"{roots.K3S_CONF_DIR}/multus.d/certs/" in f.message for f in found)


def test_admin_copy_by_fingerprint_names_admin_kubeconfig(tmp_path: Path) -> None:
    """Renamed names, same credentials: still a copy of the node's k3s.yaml."""
    copy = edited(certs.k3s_yaml(), lambda d: (d["users"][0].update(name="multus"),
                                                d["contexts"][0]["context"].update(user="multus")))
    files = k3s("server", copy, **{"/etc/rancher/k3s/k3s.yaml": File(certs.k3s_yaml(), mode=0o600)})
    f = one(run(tmp_path, files), "kubeconfig-admin-credentials")
    assert f.evidence["admin_kubeconfig"] == "/etc/rancher/k3s/k3s.yaml"
    assert f.evidence["client_certificate"]["subject"] == "CN=system:admin, O=system:masters"


def test_ca_expired_names_date(tmp_path: Path) -> None:
    f = one(run(tmp_path, k3s("server", good_kc(ca_pem=certs.expired_ca().cert_pem))), "kubeconfig-ca-invalid")
    assert f.field == "clusters[local].cluster.certificate-authority-data" and "expired" in f.message
    assert "/var/lib/rancher/k3s/server/tls/server-ca.crt" in f.fix


# ------------------------------------------------------------------------------ no secret in any output


def _secrets_of(kc_text: str) -> list[str]:
    doc = yaml.safe_load(kc_text)
    out = []
    for u in doc["users"]:
        for key in ("token", "client-key-data"):
            if key in u["user"]:
                out.append(u["user"][key])
                if key == "client-key-data":
                    pem = base64.b64decode(u["user"][key]).decode()
                    out += [line for line in pem.splitlines() if line and "-----" not in line]
    return out


@pytest.mark.parametrize("output", ["json", "text", "sarif", "junit"])
def test_no_secret_in_check_output(tmp_path: Path, output: str) -> None:
    token = certs.bound_token(issued=certs.NOW - 3 * D, lifetime=2 * D, pod="kube-multus-ds-abcde")
    admin_kc = certs.k3s_yaml()
    token_kc = good_kc(token=token, server="https://127.0.0.1:6443", ca_pem=b"junk")
    # The seed's agent with k3s.yaml (client key), plus a token kubeconfig named by a stray config.
    files = k3s("agent", File(admin_kc, mode=0o644))
    files["/etc/cni/net.d/00-multus.conf"] = thin_conf("/etc/cni/net.d/multus.d/multus.kubeconfig")
    files["/etc/cni/net.d/multus.d/multus.kubeconfig"] = File(token_kc, mode=0o644)
    root = make_root(tmp_path / "node", files)
    result = CliRunner().invoke(cli, ["check", "--root", str(root), "--output", output])
    assert result.exit_code == 1, result.output
    assert "kubeconfig-admin-credentials" in result.output
    for secret in _secrets_of(admin_kc) + _secrets_of(token_kc):
        assert secret not in result.output
        assert json.dumps(secret)[1:-1] not in result.output

    # And for the token kubeconfig as the one in use.
    files2 = k3s("agent", File(token_kc, mode=0o644))
    root2 = make_root(tmp_path / "node2", files2)
    result2 = CliRunner().invoke(cli, ["check", "--root", str(root2), "--output", output])
    assert "kubeconfig-token-expired" in result2.output
    assert token not in result2.output
    for part in token.split("."):
        assert part not in result2.output


def test_loopback_unknown_role_is_a_warning(tmp_path: Path) -> None:
    files = {"/etc/cni/net.d/00-multus.conf": {"cniVersion": "0.3.1", "name": "m", "type": "multus",
                                               "kubeconfig": STD_KC, "delegates": [roots.flannel_conflist()]},
             STD_KC: File(good_kc(server="https://127.0.0.1:6443"), mode=0o600)}
    f = one(run(tmp_path, files), "kubeconfig-server-loopback")
    assert f.severity == "warning" and "role is unknown" in f.message

