"""Unit tests of the pure provisioning builders and the file writer (no cluster)."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from multusctl.config.kubeconfig import parse
from multusctl.config.secrets import fingerprint
from multusctl.provision import duration, files, kubeconfig_text
from multusctl.provision.inspect import describe
from multusctl.provision.objects import (
    MULTUS_RULES,
    Names,
    binding_is_right,
    cluster_role,
    cluster_role_binding,
    role_differences,
    role_is_right,
    rule_triples,
    secret_problem,
    service_account,
    token_secret,
)
from multusctl.provision.target import find_admin_kubeconfig
from tests.certs import make_ca

N = Names()

# FACTS.md §3, written out: k8s.cni.cncf.io */*; pods + pods/status get,list,update,watch;
# core and events.k8s.io events create,patch,update.
FACTS_RULES = [
    {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "list", "update", "watch"]},
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
]


def jwt(claims: dict) -> str:
    def enc(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


# ---- objects ----------------------------------------------------------------------------------------------


def test_cluster_role_has_exactly_the_upstream_rules() -> None:
    role = cluster_role(N)
    assert role["rules"] == FACTS_RULES
    assert role["metadata"] == {"name": "multus"} and role["kind"] == "ClusterRole"
    assert list(MULTUS_RULES) == FACTS_RULES
    assert role_is_right(role)


def test_objects_name_the_service_account() -> None:
    assert service_account(N)["metadata"] == {"name": "multus", "namespace": "kube-system"}
    crb = cluster_role_binding(N)
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "multus"}
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "multus", "namespace": "kube-system"}]
    sec = token_secret(Names(namespace="cni", service_account="mx"))
    assert sec["type"] == "kubernetes.io/service-account-token"
    assert sec["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "mx"}
    assert sec["metadata"]["namespace"] == "cni"


def test_role_comparison_ignores_grouping_and_order_but_not_extra_rights() -> None:
    regrouped = {"rules": [
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["update", "patch", "create"]},
        {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["watch", "update", "list", "get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "update", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch", "update"]},
        {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
    ]}
    assert role_is_right(regrouped)
    with_dra = {"rules": [*FACTS_RULES, {"apiGroups": ["resource.k8s.io"], "verbs": ["get", "list"],
                                         "resources": ["resourceclaims", "resourceclaims/status", "resourceslices"]}]}
    assert role_is_right(with_dra)  # multus master's (post-v4.3.0) DRA role is right too: never stripped
    too_much = {"rules": [*FACTS_RULES, {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
    assert not role_is_right(too_much)
    assert role_differences(too_much) == "also grants get secrets"
    too_little = {"rules": FACTS_RULES[:2]}
    assert not role_is_right(too_little)
    assert role_differences(too_little).startswith("lacks create events")
    narrowed = {"rules": [*FACTS_RULES[:2], {**FACTS_RULES[2], "resourceNames": ["x"]}]}
    assert not role_is_right(narrowed)
    assert rule_triples("junk") == frozenset()


def test_binding_and_secret_judgement() -> None:
    assert binding_is_right(cluster_role_binding(N), N) == (True, True)
    admin = {**cluster_role_binding(N), "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}}
    assert binding_is_right(admin, N) == (False, True)
    extra = {**cluster_role_binding(N), "subjects": [*cluster_role_binding(N)["subjects"],
                                                      {"kind": "Group", "name": "system:authenticated"}]}
    assert binding_is_right(extra, N) == (True, False)
    assert secret_problem(token_secret(N), N) is None
    assert "Opaque" in str(secret_problem({"metadata": {"name": "multus-token"}}, N))
    other = token_secret(Names(service_account="default"))
    assert "belongs to ServiceAccount 'default'" in str(secret_problem(other, N))


# ---- kubeconfig text --------------------------------------------------------------------------------------


def test_kubeconfig_text_has_upstream_shape_and_loads_cleanly() -> None:
    ca = make_ca("test-ca").cert_pem
    token = jwt({"sub": "system:serviceaccount:kube-system:multus"})
    text = kubeconfig_text.build("https://10.43.0.1:443", ca, token, service_account="kube-system/multus")
    doc = yaml.safe_load(text)
    assert doc["clusters"] == [{"name": "local", "cluster": {
        "server": "https://10.43.0.1:443", "certificate-authority-data": base64.b64encode(ca).decode()}}]
    assert doc["users"] == [{"name": "multus", "user": {"token": token}}]
    assert doc["contexts"] == [{"name": "multus-context", "context": {"cluster": "local", "user": "multus"}}]
    assert doc["current-context"] == "multus-context" and doc["kind"] == "Config"
    kc = parse(text)
    assert kc.problems == [] and kc.token == token and kc.server == "https://10.43.0.1:443"
    # Deterministic: the same inputs are the same bytes, so a second run writes nothing.
    assert text == kubeconfig_text.build("https://10.43.0.1:443", ca, token, service_account="kube-system/multus")
    v6 = kubeconfig_text.build("https://[fd00:10:43::1]:443", ca, token, service_account="kube-system/multus")
    assert parse(v6).problems == []


def test_display_and_diff_show_fingerprints_never_secrets() -> None:
    ca = make_ca("test-ca").cert_pem
    token = jwt({"sub": "system:serviceaccount:kube-system:multus"})
    old = ("users:\n- name: default\n  user:\n    client-certificate-data: Q0VSVA==\n"
           "    client-key-data: S0VZLU1BVEVSSUFMLVNFQ1JFVA==\n    token: 's3cr3t-t0ken-value'\n")
    new = kubeconfig_text.build("https://10.43.0.1:443", ca, token, service_account="kube-system/multus")
    out = kubeconfig_text.diff(old, new, "/x/multus.kubeconfig", {token})
    assert token not in out and "S0VZLU1BVEVSSUFMLVNFQ1JFVA==" not in out and "s3cr3t-t0ken-value" not in out
    assert f"<redacted {fingerprint(token)}>" in out
    assert "-    client-key-data: <redacted sha256:" in out
    assert "<certificate sha256:" in out
    assert out.startswith("--- /x/multus.kubeconfig\n+++ /x/multus.kubeconfig\n")
    assert kubeconfig_text.diff(new, new, "/x", {token}) == ""
    assert kubeconfig_text.diff(None, new, "/x", set()).startswith("--- /dev/null\n")
    # Flow style the line pattern does not know still goes through the known-secret redaction.
    assert token not in kubeconfig_text.display(f"users: [{{user: {{token: {token}}}}}]\n", {token})


# ---- durations --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("24h", 86400), ("8760h", 31536000), ("1h30m", 5400),
                                                ("600s", 600), ("10m", 600), ("1.5h", 5400)])
def test_duration_parse(text: str, seconds: int) -> None:
    assert duration.parse(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "1d", "h", "5 m", "-5m", "1h 2m", "24hours"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        duration.parse(text)


def test_duration_human() -> None:
    assert duration.human(86400) == "1d"
    assert duration.human(31536000) == "365d"
    assert duration.human(5400) == "1h30m"
    assert duration.human(0) == "0s"


# ---- files ------------------------------------------------------------------------------------------------


def test_write_atomic_is_private_even_with_a_wide_umask(tmp_path: Path) -> None:
    target = tmp_path / "multus.kubeconfig"
    old = os.umask(0)
    try:
        files.write_atomic(str(target), b"first")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        target.chmod(0o644)
        files.write_atomic(str(target), b"second")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"second" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["multus.kubeconfig"]  # no temp file left


def test_backup_names_and_modes(tmp_path: Path) -> None:
    target = str(tmp_path / "f")
    now = datetime(2026, 11, 28, 13, 0, 5, tzinfo=UTC)
    assert files.backup_name(target, now) == f"{target}.bak-20261128T130005"
    first = files.backup(target, b"old", now)
    second = files.backup(target, b"older", now)  # same second: numbered, never overwritten
    assert first.endswith(".bak-20261128T130005") and second.endswith(".bak-20261128T130005.1")
    assert Path(first).read_bytes() == b"old" and stat.S_IMODE(os.stat(first).st_mode) == 0o600


def test_preflight_make_dirs_and_read_existing(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    target = tmp_path / "a" / "multus.d" / "f"
    mdir = str(target.parent)
    with pytest.raises(files.LocalError, match="does not exist"):
        files.preflight(str(target))  # multus.d is not the directory that may be made
    assert files.preflight(str(target), may_create=mdir) == [mdir]
    assert files.make_dirs([mdir]) == [mdir]
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert files.preflight(str(target), may_create=mdir) == []
    assert files.make_dirs([mdir]) == []
    assert not files.read_existing(str(target)).exists
    with pytest.raises(files.LocalError, match="is a directory"):
        files.read_existing(str(tmp_path / "a"))


# ---- admin kubeconfig lookup and inspect ------------------------------------------------------------------


def test_find_admin_kubeconfig_order(tmp_path: Path) -> None:
    env_file, node_file = tmp_path / "env.kc", tmp_path / "k3s.yaml"
    (tmp_path / ".kube").mkdir()
    home_file = tmp_path / ".kube" / "config"
    for f in (env_file, node_file, home_file):
        f.write_text("x")
    home = str(tmp_path)
    assert find_admin_kubeconfig("given", str(env_file), str(node_file), home) == ("given", "--kubeconfig")
    assert find_admin_kubeconfig(None, f"/nope:{env_file}", str(node_file), home) == (str(env_file), "$KUBECONFIG")
    assert find_admin_kubeconfig(None, "", str(node_file), home) == (str(node_file), "the node's admin kubeconfig")
    assert find_admin_kubeconfig(None, None, None, home) == (str(home_file), "~/.kube/config")
    assert find_admin_kubeconfig(None, None, None, str(tmp_path / "empty")) is None


def test_inspect_describes_a_token_kubeconfig_without_the_token() -> None:
    ca = make_ca("test-ca").cert_pem
    now = datetime(2026, 11, 28, tzinfo=UTC)
    iat = int(now.timestamp()) - 3600
    token = jwt({"sub": "system:serviceaccount:kube-system:multus", "iat": iat, "exp": iat + 86400,
                 "kubernetes.io": {"namespace": "kube-system", "serviceaccount": {"name": "multus", "uid": "u"}}})
    text = kubeconfig_text.build("https://10.43.0.1:443", ca, token, service_account="kube-system/multus")
    lines = describe(text.encode(), "/etc/cni/net.d/multus.d/multus.kubeconfig", 0o600, 0, now=now)
    out = "\n".join(lines)
    assert token not in out
    assert "system:serviceaccount:kube-system:multus (ServiceAccount kube-system/multus)" in out
    assert "in 23 h, lifetime 24 h" in out and "mode 0600, owner uid 0" in out
    assert "server    https://10.43.0.1:443" in out and "CN=test-ca" in out


@pytest.mark.parametrize(("text", "seconds"), [("500ms", 0.5), ("1.5s", 1.5), ("1m30s", 90.0), ("2s", 2.0)])
def test_duration_seconds_keeps_sub_second_parts(text: str, seconds: float) -> None:
    assert duration.seconds(text) == seconds
