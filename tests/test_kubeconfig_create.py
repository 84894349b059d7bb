"""`multusctl kubeconfig create|inspect` against a real TestCluster, proven with the real kubectl.

The node root is the founding use case (examples/k3s-agent-seed: a k3s agent whose multus kubeconfig
is a 0644 copy of k3s.yaml, cluster-admin, server 127.0.0.1:6443).

The cluster serves on 127.0.0.1 only, and the sandbox intercepts every connection to a non-loopback
address: a run that keeps the default server (the `kubernetes` Service ClusterIP 10.43.0.1) always
passes --no-verify here, so nothing ever connects to 10.43.0.1; kubectl then reaches the cluster by
overriding only the server (`--server`), which still proves the written CA and token.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from multusctl.cli.main import cli
from multusctl.testing import TestCluster
from tests.kubectlkit import KUBECTL

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "k3s-agent-seed"
KC = "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig"
SA_USER = "system:serviceaccount:kube-system:multus"
FIXED_IDS = ("kubeconfig-admin-credentials", "kubeconfig-permissions", "kubeconfig-server-loopback")
NAD_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "network-attachment-definitions.k8s.cni.cncf.io"},
    "spec": {"group": "k8s.cni.cncf.io", "scope": "Namespaced",
             "names": {"plural": "network-attachment-definitions", "singular": "network-attachment-definition",
                       "kind": "NetworkAttachmentDefinition", "shortNames": ["net-attach-def"]},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object"}}}]},
}
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")


def create(home: Path, *args: str) -> tuple[int, str, str]:
    """Run `multusctl kubeconfig create` in-process (CliRunner), HOME and KUBECONFIG isolated."""
    runner = CliRunner()
    res = runner.invoke(cli, ["kubeconfig", "create", *args], env={"HOME": str(home), "KUBECONFIG": ""},
                        catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def kubectl(home: Path, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(kubeconfig)}
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--request-timeout=10s", *args],
                          capture_output=True, text=True, env=env, timeout=30)


def secret_token(cluster: TestCluster) -> str:
    secret = cluster.store.get("", "secrets", "kube-system", "multus-token")
    assert secret is not None
    return base64.b64decode(secret["data"]["token"]).decode()


def check_ids(root: Path) -> set[str]:
    res = CliRunner().invoke(cli, ["check", "--root", str(root), "-o", "json"])
    return {f["id"] for f in json.loads(res.stdout)["findings"]}


def writes(cluster: TestCluster) -> list[tuple[str, str, str]]:
    """Requests that could change the cluster (access reviews only answer a question)."""
    return [r for r in cluster.requests if r[0] != "GET" and "selfsubject" not in r[1]]


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def backups(root: Path) -> list[Path]:
    return sorted((root / KC.lstrip("/")).parent.glob("multus.kubeconfig.bak-*"))


# ---- the founding case ------------------------------------------------------------------------------------


@needs_kubectl
def test_fixes_the_seed_with_the_service_clusterip(cluster: TestCluster, admin: Path, root: Path, home: Path,
                                                   tmp_path: Path) -> None:
    assert set(FIXED_IDS) <= check_ids(root)
    target = root / KC.lstrip("/")
    old = target.read_bytes()

    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 0, out + err
    assert "Server: https://10.43.0.1:443" in out
    assert "Not contacting https://10.43.0.1:443 (--no-verify)" in out
    assert "Verified through the admin connection's server" in out

    assert target.stat().st_mode & 0o777 == 0o600
    [bak] = backups(root)
    assert bak.read_bytes() == old and bak.stat().st_mode & 0o777 == 0o600
    doc = yaml.safe_load(target.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.43.0.1:443"
    assert doc["current-context"] == "multus-context"

    # check: none of the seed's kubeconfig causes is left, and the new file raises no other kubeconfig finding.
    # Fixed; what is left is the backup of the copied k3s.yaml, which still holds cluster-admin credentials.
    assert {i for i in check_ids(root) if i.startswith("kubeconfig-")} == {"kubeconfig-backup-admin-credentials"}

    # kubectl with the written CA and token (server overridden: 10.43.0.1 is not reachable from here).
    via = ("--server", cluster.url)
    assert kubectl(home, target, *via, "auth", "can-i", "get", "pods", "-A").stdout.strip() == "yes"
    denied = kubectl(home, target, *via, "auth", "can-i", "create", "nodes")
    assert denied.stdout.strip() == "no" and denied.returncode == 1
    who = kubectl(home, target, *via, "auth", "whoami", "-o", "json")
    assert json.loads(who.stdout)["status"]["userInfo"]["username"] == SA_USER
    assert kubectl(home, target, *via, "get", "pods", "-A").returncode == 0


@needs_kubectl
def test_server_flag_is_verified_and_kubectl_uses_the_file_as_written(cluster: TestCluster, admin: Path,
                                                                       root: Path, home: Path) -> None:
    cluster.seed([NAD_CRD])  # so kubectl resolves the NAD resource to its group
    target = root / KC.lstrip("/")
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 0, out + err
    assert f"Verified against {cluster.url} with the new server, CA and token" in out
    assert "is a loopback address" in out  # asked for explicitly, so written, with a warning
    assert target.stat().st_mode & 0o777 == 0o600
    assert len(backups(root)) == 1

    assert kubectl(home, target, "auth", "can-i", "get", "pods", "-A").stdout.strip() == "yes"
    assert kubectl(home, target, "auth", "can-i", "create", "nodes").stdout.strip() == "no"
    assert kubectl(home, target, "auth", "can-i", "list", "network-attachment-definitions.k8s.cni.cncf.io",
                   "-A").stdout.strip() == "yes"
    assert kubectl(home, target, "auth", "can-i", "get", "secrets", "-A").stdout.strip() == "no"
    who = kubectl(home, target, "auth", "whoami", "-o", "json")
    assert json.loads(who.stdout)["status"]["userInfo"]["username"] == SA_USER

    ids = check_ids(root)
    assert "kubeconfig-admin-credentials" not in ids and "kubeconfig-permissions" not in ids
    # A loopback server on a k3s agent is still (rightly) an error: that is why the default is the ClusterIP.
    assert "kubeconfig-server-loopback" in ids


def test_second_run_changes_nothing(cluster: TestCluster, admin: Path, root: Path, home: Path) -> None:
    args = ("--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url)
    assert create(home, *args)[0] == 0
    target = root / KC.lstrip("/")
    before = (target.read_bytes(), target.stat().st_mtime_ns, backups(root), cluster.store.resource_version)
    cluster.requests.clear()

    code, out, err = create(home, *args)
    assert code == 0, out + err
    assert f"{KC}: unchanged (0600)" in out
    for line in ("ServiceAccount kube-system/multus: exists", "ClusterRole multus: exists",
                 "ClusterRoleBinding multus: exists", "Secret kube-system/multus-token: exists"):
        assert line in out
    assert (target.read_bytes(), target.stat().st_mtime_ns, backups(root), cluster.store.resource_version) == before
    assert writes(cluster) == []


def test_dry_run_changes_nothing_and_prints_no_secret(cluster: TestCluster, admin: Path, root: Path,
                                                      home: Path) -> None:
    target = root / KC.lstrip("/")
    old = target.read_bytes()
    old_key = yaml.safe_load(old)["users"][0]["user"]["client-key-data"]
    admin_key = yaml.safe_load(admin.read_text())["users"][0]["user"]["client-key-data"]
    rv = cluster.store.resource_version

    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--dry-run")
    assert code == 0, out + err
    assert cluster.store.resource_version == rv and writes(cluster) == []
    assert target.read_bytes() == old and backups(root) == []
    assert "ServiceAccount kube-system/multus: would create" in out
    assert "ClusterRole multus: would create" in out
    assert f"+++ {KC}" in out and "-    client-key-data: <redacted sha256:" in out
    assert old_key not in out and admin_key not in out
    assert base64.b64decode(old_key).decode() not in out

    # Once the objects exist, the dry run shows the real token's change by fingerprint only.
    assert create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url)[0] == 0
    token = secret_token(cluster)
    target.write_bytes(old)
    rv = cluster.store.resource_version
    cluster.requests.clear()
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--dry-run")
    assert code == 0, out + err
    assert cluster.store.resource_version == rv and writes(cluster) == []
    assert target.read_bytes() == old
    assert token not in out + err and token.split(".")[2] not in out
    assert "+    token: <redacted sha256:" in out


def test_short_token_duration_is_refused_up_front(cluster: TestCluster, admin: Path, root: Path,
                                                  home: Path) -> None:
    cluster.requests.clear()
    code, _out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--token-duration", "5m")
    assert code == 2
    assert "--token-duration" in err and "10m" in err
    assert list(cluster.requests) == []


def test_token_request_duration(cluster: TestCluster, admin: Path, root: Path, home: Path) -> None:
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url,
                            "--token-duration", "24h")
    assert code == 0, out + err
    assert cluster.store.get("", "secrets", "kube-system", "multus-token") is None
    token = yaml.safe_load((root / KC.lstrip("/")).read_text())["users"][0]["user"]["token"]
    claims = jwt_claims(token)
    assert claims["sub"] == SA_USER
    assert claims["exp"] - claims["iat"] == 86400
    expires = datetime.fromtimestamp(claims["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"expires {expires}" in out  # the server-granted status.expirationTimestamp
    assert "nothing refreshes this token" in out
    assert token not in out

    res = CliRunner().invoke(cli, ["kubeconfig", "inspect", "--root", str(root)])
    assert res.exit_code == 0
    assert f"{SA_USER} (ServiceAccount kube-system/multus)" in res.stdout and "lifetime 24 h" in res.stdout
    assert token not in res.stdout


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def test_api_down_is_one_line_naming_connection_refused(cluster: TestCluster, root: Path, home: Path,
                                                        tmp_path: Path) -> None:
    down = cluster.admin_kubeconfig(tmp_path / "down.kubeconfig", server=f"https://127.0.0.1:{_refused_port()}")
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": ""}
    res = subprocess.run([sys.executable, "-m", "multusctl", "kubeconfig", "create", "--root", str(root),
                          "--kubeconfig", str(down)], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert len(res.stderr.strip().splitlines()) == 1
    assert "connection refused" in res.stderr
    assert not backups(root)


def test_non_admin_gets_403_naming_the_missing_permission(cluster: TestCluster, root: Path, home: Path,
                                                          tmp_path: Path) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "viewer",
                                                                            "namespace": "default"}}])
    weak = cluster.kubeconfig_for_token(tmp_path / "weak.kubeconfig", cluster.create_token("default", "viewer"))
    code, _out, err = create(home, "--root", str(root), "--kubeconfig", str(weak))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "403 Forbidden" in err
    assert 'cannot get resource "serviceaccounts"' in err and "kube-system" in err
    assert not backups(root)


@needs_kubectl
def test_wrong_role_and_cluster_admin_binding_are_put_right(cluster: TestCluster, admin: Path, root: Path,
                                                            home: Path) -> None:
    cluster.seed([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "multus"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "multus"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "multus", "namespace": "kube-system"}]},
    ])
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 0, out + err
    assert "ClusterRole multus: patched its rules" in out and "also grants * pods" in out
    assert "ClusterRoleBinding multus: re-created (it bound ClusterRole 'cluster-admin'" in out
    binding = cluster.store.get("rbac.authorization.k8s.io", "clusterrolebindings", None, "multus")
    assert binding is not None and binding["roleRef"]["name"] == "multus"
    target = root / KC.lstrip("/")
    assert kubectl(home, target, "auth", "can-i", "delete", "pods", "-A").stdout.strip() == "no"
    assert kubectl(home, target, "auth", "can-i", "update", "pods/status", "-A").stdout.strip() == "yes"


def test_excess_rights_fail_verification_and_nothing_is_written(cluster: TestCluster, admin: Path, root: Path,
                                                                home: Path) -> None:
    cluster.seed([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "someone-elses"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                   "subjects": [{"kind": "ServiceAccount", "name": "multus", "namespace": "kube-system"}]}])
    target = root / KC.lstrip("/")
    old = target.read_bytes()
    code, _out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 1
    assert "may create nodes" in err
    assert target.read_bytes() == old and not backups(root)


def test_path_flag_writes_a_private_file(cluster: TestCluster, admin: Path, tmp_path: Path, home: Path) -> None:
    dest = tmp_path / "new" / "multus.kubeconfig"
    dest.parent.mkdir()  # only the layout's multus.d is ever created (tests/test_create_hardening.py)
    code, out, err = create(home, "--path", str(dest), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 0, out + err
    assert dest.stat().st_mode & 0o777 == 0o600
    assert not list(dest.parent.glob("*.bak-*")) and not list(dest.parent.glob(".*.tmp"))


def test_admin_kubeconfig_is_found_in_kubeconfig_env_then_home(cluster: TestCluster, admin: Path, root: Path,
                                                               home: Path) -> None:
    (home / ".kube").mkdir()
    shutil.copy(admin, home / ".kube" / "config")
    code, out, _ = create(home, "--root", str(root), "--server", cluster.url, "--dry-run")
    assert code == 0 and "(~/.kube/config)" in out
    res = CliRunner().invoke(cli, ["kubeconfig", "create", "--root", str(root), "--dry-run"],
                             env={"HOME": str(home), "KUBECONFIG": f"/nonexistent:{admin}"})
    assert res.exit_code == 0 and f"{admin} ($KUBECONFIG)" in res.stdout


def test_unknown_context_is_exit_2(admin: Path, root: Path, home: Path) -> None:
    code, _, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--context", "nope")
    assert code == 2 and "nope" in err and len(err.strip().splitlines()) == 1


def test_unreadable_admin_kubeconfig_is_exit_2(root: Path, home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text("clusters: [unclosed\n")
    code, _, err = create(home, "--root", str(root), "--kubeconfig", str(bad))
    assert code == 2 and "invalid YAML" in err and len(err.strip().splitlines()) == 1
    code, _, err = create(home, "--root", str(root), "--kubeconfig", str(tmp_path / "missing"))
    assert code == 2 and "cannot read" in err


def test_inspect_names_the_admin_copy_without_secrets(root: Path) -> None:
    res = CliRunner().invoke(cli, ["kubeconfig", "inspect", "--root", str(root)])
    assert res.exit_code == 0
    assert "mode 0644 (its group and every user can read it" in res.stdout
    assert "CN=system:admin, O=system:masters" in res.stdout and "cluster-admin" in res.stdout
    assert "https://127.0.0.1:6443" in res.stdout
    key = yaml.safe_load((root / KC.lstrip("/")).read_text())["users"][0]["user"]["client-key-data"]
    assert key not in res.stdout


def test_check_still_does_not_import_the_api_client() -> None:
    code = "import sys, multusctl.cli.main; sys.exit('lightkube' in sys.modules or 'httpx2' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 0


def test_foreign_secret_of_the_same_name_is_left_alone(cluster: TestCluster, admin: Path, root: Path,
                                                       home: Path) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": "multus-token", "namespace": "kube-system"}, "data": {"k": "dg=="}}])
    code, _out, err = create(home, "--root", str(root), "--kubeconfig", str(admin))
    assert code == 1 and "is of type Opaque" in err and "does not replace it" in err
    secret = cluster.store.get("", "secrets", "kube-system", "multus-token")
    assert secret is not None and secret["data"] == {"k": "dg=="}


def test_wrong_ca_for_the_server_is_named_tls_and_nothing_is_written(cluster: TestCluster, admin: Path,
                                                                     root: Path, home: Path) -> None:
    target = root / KC.lstrip("/")
    old = target.read_bytes()
    with TestCluster() as other:  # answers, but with a certificate from another CA
        code, _out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", other.url)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "TLS error" in err and "verify failed" in err
    assert target.read_bytes() == old and not backups(root)
