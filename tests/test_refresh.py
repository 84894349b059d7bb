"""`multusctl kubeconfig refresh` against the test cluster, proven with the real kubectl (issue 8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from multusctl.cli.main import cli
from multusctl.testing import TestCluster
from tests.test_create_hardening import target_of
from tests.test_kubeconfig_create import KUBECTL, create, jwt_claims, kubectl


def refresh(home: Path, *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["kubeconfig", "refresh", *args], env={"HOME": str(home), "KUBECONFIG": ""},
                             catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _token(root: Path) -> str:
    return str(yaml.safe_load(target_of(root).read_text())["users"][0]["user"]["token"])


@pytest.fixture
def short_lived(cluster: TestCluster, admin: Path, root: Path, home: Path) -> str:
    """The seed root after `create --token-duration 1h`: a TokenRequest token that expires in an hour."""
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", cluster.url,
                            "--token-duration", "1h")
    assert code == 0, out + err
    return _token(root)


def test_a_token_due_is_renewed_verified_and_written_like_create(cluster: TestCluster, admin: Path, root: Path,
                                                                 home: Path, short_lived: str) -> None:
    before = yaml.safe_load(target_of(root).read_text())
    code, out, err = refresh(home, "--root", str(root), "--kubeconfig", str(admin), "--before", "2h")
    assert code == 0, out + err
    new = _token(root)
    assert new != short_lived and new not in out and short_lived not in out
    claims = jwt_claims(new)
    assert claims["exp"] - claims["iat"] == 3600  # the same lifetime as the token it replaces
    after = yaml.safe_load(target_of(root).read_text())
    assert after["clusters"] == before["clusters"]  # server and CA kept
    assert os.stat(target_of(root)).st_mode & 0o777 == 0o600
    assert any(".bak-" in p for p in os.listdir(target_of(root).parent))
    assert "Verified against" in out and "within --before 2 h" in out
    if KUBECTL:  # the real client-go accepts what was written
        res = kubectl(home, target_of(root), "get", "pods", "-A")
        assert res.returncode == 0, res.stderr


def test_a_token_not_due_needs_no_cluster_and_changes_nothing(cluster: TestCluster, admin: Path, root: Path,
                                                              home: Path, short_lived: str) -> None:
    data = target_of(root).read_bytes()
    cluster.requests.clear()
    code, out, err = refresh(home, "--root", str(root), "--before", "30m")  # no --kubeconfig: none needed
    assert code == 0, out + err
    assert "later than --before 30 min: nothing to do" in out
    assert target_of(root).read_bytes() == data and list(cluster.requests) == []


def test_dry_run_says_what_it_would_do_and_changes_nothing(cluster: TestCluster, admin: Path, root: Path,
                                                           home: Path, short_lived: str) -> None:
    data = target_of(root).read_bytes()
    cluster.requests.clear()
    code, out, err = refresh(home, "--root", str(root), "--kubeconfig", str(admin), "--force", "--dry-run")
    assert code == 0, out + err
    assert "would request a 60 min token" in out and "Dry run: nothing was changed" in out
    assert target_of(root).read_bytes() == data
    assert not [r for r in cluster.requests if r[0] != "GET" and "token" in r[1]]


def test_a_long_lived_secret_token_needs_nothing(cluster: TestCluster, admin: Path, root: Path, home: Path) -> None:
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 0, out + err
    code, out, err = refresh(home, "--root", str(root), "--force")
    assert code == 0 and "never expires, nothing to refresh" in out, out + err


def test_a_copied_admin_kubeconfig_is_not_something_refresh_renews(root: Path, home: Path) -> None:
    code, _out, err = refresh(home, "--root", str(root))  # the seed: a copy of k3s.yaml
    assert code == 2 and "authenticates with a client certificate" in err and "kubeconfig create" in err


def test_the_printed_timer_runs_this_refresh(tmp_path: Path, home: Path) -> None:
    code, out, _err = refresh(home, "--print-systemd-timer", "--root", "/", "--kubeconfig", "/etc/rancher/k3s/k3s.yaml",
                              "--before", "48h")
    assert code == 0
    exec_start = next(line for line in out.splitlines() if line.startswith("ExecStart="))
    argv = exec_start.removeprefix("ExecStart=").split()
    assert os.path.isabs(argv[0]) and argv[1:] == ["kubeconfig", "refresh", "--before", "48h", "--root", "/",
                                                   "--kubeconfig", "/etc/rancher/k3s/k3s.yaml"]
    assert "[Timer]" in out and "OnUnitActiveSec=1h" in out and "WantedBy=timers.target" in out


def test_the_printed_cronjob_is_least_privilege_and_runs_refresh_in_its_pod(
        cluster: TestCluster, admin: Path, root: Path, home: Path, short_lived: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from multusctl.config import yamlload

    code, out, err = refresh(home, "--root", str(root), "--print-cronjob", "--image", "registry.example/mctl:1",
                             "--node", "agent-1")
    assert code == 0, err
    docs = {d["kind"]: d for d in yamlload.load_all(out)}
    assert set(docs) == {"ServiceAccount", "Role", "RoleBinding", "CronJob"}
    assert docs["Role"]["rules"] == [{"apiGroups": [""], "resources": ["serviceaccounts/token"],
                                      "resourceNames": ["multus"], "verbs": ["create"]}]
    pod = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["nodeName"] == "agent-1" and pod["volumes"][0]["hostPath"]["path"] == os.path.dirname(
        "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig")
    command = pod["containers"][0]["command"]
    assert command[:4] == ["multusctl", "kubeconfig", "refresh", "--in-cluster"]
    # The real kubectl accepts the objects; then the job's pod does what the CronJob says, with only that
    # ServiceAccount's rights: its token dir, the Service env, and the node's multus.d at /host/multus.d.
    manifests = tmp_path / "cronjob.yaml"
    manifests.write_text(out)
    if KUBECTL:
        res = kubectl(home, admin, "apply", "-f", str(manifests))
        assert res.returncode == 0, res.stderr
        denied = kubectl(home, admin, "auth", "can-i", "get", "secrets", "-n", "kube-system",
                         "--as", "system:serviceaccount:kube-system:multus-token-refresher")
        assert denied.stdout.strip() == "no"
    else:
        cluster.seed([d for k, d in docs.items() if k != "CronJob"])
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(cluster.create_token("kube-system", "multus-token-refresher"))
    (sa_dir / "ca.crt").write_bytes(cluster.ca_pem)
    (sa_dir / "namespace").write_text("kube-system")
    host, port = cluster.url.removeprefix("https://").rsplit(":", 1)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    code, out, err = refresh(home, "--in-cluster", "--service-account-dir", str(sa_dir),
                             "--path", str(target_of(root)), "--force")
    assert code == 0, out + err
    assert _token(root) != short_lived and "Verified against" in out


def test_print_cronjob_needs_an_image(root: Path, home: Path) -> None:
    code, _out, err = refresh(home, "--root", str(root), "--print-cronjob")
    assert code == 2 and "--image" in err
