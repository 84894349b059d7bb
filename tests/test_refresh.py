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


# ---- what an adversarial pass found (each failed before its fix) ------------------------------------------

@pytest.mark.parametrize("args, why", [
    (["--node", "n1\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: evil}"], "is not a node name"),
    (["--node", "UPPER_case"], "is not a node name"),
    (["--node", ""], "is not a node name"),
    (["--image", "img\n  privileged: true"], "is not an image reference"),
    (["--schedule", "garbage"], "is not a cron schedule"),
    (["--path", "/x\n---\nkind: Namespace\n#/m.kc"], "is not an absolute path a hostPath can name"),
])
def test_print_cronjob_refuses_values_that_would_change_the_yaml(args: list[str], why: str, root: Path,
                                                                 home: Path) -> None:
    base = ["--root", str(root), "--print-cronjob", "--image", "registry.example/mctl:1", "--node", "agent-1"]
    code, out, err = refresh(home, *base, *args)
    assert code == 2 and why in err and out == "", err


def test_print_cronjob_always_prints_four_documents_and_a_valid_job_name(root: Path, home: Path) -> None:
    from multusctl.config import yamlload

    long_node = "ip-10-0-0-1.eu-central-1.compute.internal.example.org"
    code, out, _err = refresh(home, "--root", str(root), "--print-cronjob", "--image", "r.example/m:1",
                              "--node", long_node)
    docs = yamlload.load_all(out)
    assert code == 0 and [d["kind"] for d in docs] == ["ServiceAccount", "Role", "RoleBinding", "CronJob"]
    name = docs[3]["metadata"]["name"]
    assert len(name) <= 52 and name.startswith("multus-token-refresh-ip-10-0-0-1")


def test_print_systemd_timer_refuses_control_characters_and_escapes_specifiers(home: Path) -> None:
    code, _out, err = refresh(home, "--print-systemd-timer", "--path", "/tmp/a\n ExecStartPost=/bin/evil")
    assert code == 2 and "control character" in err
    code, out, _err = refresh(home, "--print-systemd-timer", "--path", "/tmp/a%h$HOME/m.kc")
    exec_start = next(line for line in out.splitlines() if line.startswith("ExecStart="))
    assert "/tmp/a%%h$$HOME/m.kc" in exec_start


@pytest.mark.parametrize("before", ["999999999999h", "\u0661h", "1d"])
def test_before_takes_go_durations_only(before: str, root: Path, home: Path) -> None:
    code, _out, err = refresh(home, "--root", str(root), "--before", before)
    assert code == 2 and "--before" in err and "Traceback" not in err


@pytest.mark.parametrize("exp", ['"1796000000"', "true", "NaN", "1e999", "253402300800"])
def test_an_exp_claim_that_is_no_time_is_unreadable_not_never_expiring(exp: str, tmp_path: Path,
                                                                        home: Path) -> None:
    import base64

    def part(obj: str) -> str:
        return base64.urlsafe_b64encode(obj.encode()).decode().rstrip("=")

    token = ".".join([part('{"alg":"RS256"}'), part(
        '{"sub":"system:serviceaccount:kube-system:multus","iat":1700000000,"exp":' + exp + "}"), "c2ln"])
    kc = tmp_path / "kc"
    from tests import certs

    kc.write_text(certs.kubeconfig("https://10.43.0.1:443", token=token))
    code, out, err = refresh(home, "--path", str(kc))
    assert code == 2 and "is not a time" in err and "never expires" not in out + err
    res = CliRunner().invoke(cli, ["kubeconfig", "inspect", str(kc)])
    assert "expires" in res.output and "unreadable" in res.output and "never" not in res.output


def test_a_newline_in_a_claim_stays_on_its_line(tmp_path: Path) -> None:
    import base64

    from tests import certs

    payload = '{"sub":"system:serviceaccount:default:evil\\n\\u001b[31m","iat":1700000000,"exp":1700000600}'
    token = ".".join(base64.urlsafe_b64encode(p.encode()).decode().rstrip("=")
                     for p in ('{"alg":"RS256"}', payload, "sig"))
    kc = tmp_path / "kc"
    kc.write_text(certs.kubeconfig("https://10.43.0.1:443", token=token))
    res = CliRunner().invoke(cli, ["kubeconfig", "inspect", str(kc)])
    identity = next(line for line in res.output.splitlines() if line.startswith("identity"))
    assert "evil\\x0a\\x1b[31m" in identity


def test_in_cluster_files_that_are_fifos_or_a_bad_port_are_one_line(tmp_path: Path, home: Path, root: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    short_lived: str) -> None:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("abc")
    (sa / "namespace").write_text("kube-system")
    os.mkfifo(sa / "ca.crt")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    args = ("--in-cluster", "--service-account-dir", str(sa), "--path", str(target_of(root)), "--force")
    code, _out, err = refresh(home, *args)
    assert code == 2 and "ca.crt: not a regular file" in err
    (sa / "ca.crt").unlink()
    (sa / "ca.crt").write_text("x")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "notaport")
    code, _out, err = refresh(home, *args)
    assert code == 2 and "is not a port" in err
    (sa / "token").write_text("")
    code, _out, err = refresh(home, *args)
    assert code == 2 and "is empty" in err
    code, _out, err = refresh(home, "--in-cluster", "--kubeconfig", "x", "--path", str(target_of(root)))
    assert code == 2 and "exclude each other" in err
