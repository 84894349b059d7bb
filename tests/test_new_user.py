"""What a new user hits (issue 8): honest errors and small things people expect, one test per item."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from tests import certs
from tests.test_create_hardening import target_of
from tests.test_kubeconfig_create import REPO, create


@pytest.mark.parametrize("url, why", [
    ("http://10.43.0.1:443", "is not https://HOST:PORT"),
    ("10.43.0.1:443", "is not https://HOST:PORT"),
    ("https://10.43.0.1", "is not https://HOST:PORT"),
    ("https://[10.43.0.1]:443", "is not an IPv6 address (only IPv6 literals go in brackets)"),
    ("https://fd00::1:6443", "must be in brackets: https://[fd00::1]:6443"),
    ("https://admin:pw@10.43.0.1:443", "holds user info"),
])
def test_create_refuses_a_server_url_multus_cannot_use(url: str, why: str, cluster: TestCluster,
                                                       admin: Path, root: Path, home: Path) -> None:
    code, _out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", url)
    assert code == 2 and why in err, err
    assert list(cluster.requests) == [] and "pw" not in err.replace("https://", "")


@pytest.mark.parametrize("url", ["https://10.43.0.1:443", "https://[fd00::1]:6443", "https://api.example.com:6443"])
def test_create_takes_every_good_server_url(url: str, cluster: TestCluster, admin: Path, root: Path,
                                            home: Path) -> None:
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--server", url, "--dry-run")
    assert code == 0, out + err


def test_the_backup_of_a_copied_admin_kubeconfig_is_named_as_admin_credentials(
        cluster: TestCluster, admin: Path, root: Path, home: Path) -> None:
    # The seed example's multus.kubeconfig is a copy of k3s.yaml (system:masters client certificate).
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 0, out + err
    backup = next(p for p in os.listdir(target_of(root).parent) if ".bak-" in p)
    warn = [line for line in out.splitlines() if "cluster-admin credentials" in line]
    assert len(warn) == 1 and backup in warn[0] and "group system:masters" in warn[0] and "rm " in warn[0], out


def test_inspect_takes_the_file_as_an_argument_and_speaks_json_and_words(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from multusctl.cli.main import cli

    kc = tmp_path / "kc"
    token = certs.bound_token(lifetime=certs.timedelta(days=7300))
    kc.write_text(certs.kubeconfig("https://10.43.0.1:443", token=token))
    kc.chmod(0o600)
    text = CliRunner().invoke(cli, ["kubeconfig", "inspect", str(kc)])
    assert text.exit_code == 0, text.output
    assert "lifetime 20 years" in text.output and "h" not in text.output.split("lifetime")[1].split(")")[0]
    doc = CliRunner().invoke(cli, ["kubeconfig", "inspect", "-o", "json", "--path", str(kc)])
    parsed = json.loads(doc.output)
    assert parsed["schema"] == "multusctl.inspect/v1" and parsed["server"] == "https://10.43.0.1:443"
    assert token not in doc.output and token not in text.output


# ---- check on what it cannot judge: one line, exit 2, no finding that blames the node -----------------------

K3S_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"


def _run(*args: str, unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "multusctl", *args]
    if unprivileged:
        # Root without the capabilities that let it read any file: what a non-root user meets on a node
        # (/root/.pyenv, where Python lives here, stays readable to uid 0).
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "LC_ALL": "C.UTF-8"})


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs root and setpriv")
def test_a_file_the_tool_may_not_read_is_the_tool_s_problem_not_the_node_s(tmp_path: Path) -> None:
    from tests.distro_roots import k3s_server
    from tests.noderoot import File, make_root

    kc = f"{K3S_CONF}/multus.d/multus.kubeconfig"
    root = make_root(tmp_path / "node", {
        **k3s_server(), kc: File(certs.kubeconfig("https://10.43.0.1:443", token=certs.legacy_token()), mode=0o000),
        f"{K3S_CONF}/00-multus.conf": json.dumps({"cniVersion": "1.0.0", "name": "m", "type": "multus",
                                                   "kubeconfig": kc, "clusterNetwork": "cbr0"})})
    proc = _run("check", "--root", str(root), "-o", "json", unprivileged=True)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr == (f"multusctl: cannot read {kc}: permission denied (run as root, or copy the node's "
                           "files and pass --root)\n")


def test_a_daemon_config_the_user_names_must_exist(tmp_path: Path) -> None:
    proc = _run("check", "--root", str(REPO / "examples" / "k3s-server-healthy"), "--daemon-config", "/nope")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("multusctl: --daemon-config /nope: no such file"), proc.stderr


def test_an_empty_root_is_no_node_not_a_missing_conf_dir(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _run("check", "--root", str(empty))
    assert proc.returncode == 2 and "conf-dir-missing" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"multusctl: no Kubernetes node found under {empty}: ") and "--root" in proc.stderr
    assert proc.stderr.count("\n") == 1
    det = _run("detect", "--root", str(empty), "-o", "json")
    assert det.returncode == 0 and "no Kubernetes node found" in " ".join(json.loads(det.stdout)["evidence"]["node"])
    # Naming the distribution says "this is a node": then the missing conf dir is a finding again.
    named = _run("check", "--root", str(empty), "--distro", "k3s", "-o", "json")
    assert named.returncode == 1 and "conf-dir-missing" in named.stdout


def test_skip_takes_a_comma_list_and_points_at_the_catalog() -> None:
    healthy = str(REPO / "examples" / "k3s-server-healthy")
    ok = _run("check", "--root", healthy, "-o", "json", "--skip", "kubeconfig-insecure,plugin-missing")
    ran = json.loads(ok.stdout)["checks_run"]
    assert "kubeconfig-insecure" not in ran and "plugin-missing" not in ran and len(ran) > 20
    bad = _run("check", "--root", healthy, "--skip", "kubeconfig-insecure,no-such-id")
    assert bad.returncode == 2 and "no-such-id" in bad.stderr and "multusctl check --list" in bad.stderr


@pytest.mark.parametrize("argv0, prog", [("multusctl", "multusctl"), ("kubectl-multus", "kubectl multus")])
def test_help_is_never_cut_off_and_names_the_program_as_called(argv0: str, prog: str) -> None:
    code = f"import sys; sys.argv = [{argv0!r}, *sys.argv[1:]]; from multusctl.cli.main import main; main()"
    for args in (["--help"], ["kubeconfig", "--help"]):
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False,
                             env={**os.environ, "COLUMNS": "100"}).stdout
        listed = out.split("Commands:")[1]
        assert "..." not in listed, out  # click's cut-off of a long first docstring line
        if args == ["--help"]:
            assert f"  {prog} check --list" in out and f"Usage: {prog} [OPTIONS]" in out
            assert "_MULTUSCTL_COMPLETE=bash_source" in out


def test_detect_prints_the_values_it_gives_evidence_for(tmp_path: Path) -> None:
    from tests.distro_roots import k3s_server
    from tests.noderoot import make_root

    root = make_root(tmp_path / "node", dict(k3s_server()))
    text = _run("detect", "--root", str(root)).stdout
    rows = dict(line.split(None, 1) if "  " not in line else (line[:19].strip(), line[19:].strip())
                for line in text.split("\n\n")[0].splitlines())
    assert rows["runtime"] == "containerd" and rows["local API ports"] == "6443"
    assert rows["cluster CIDR"] == "10.42.0.0/16" and rows["service CIDR"] == "10.43.0.0/16"
    assert rows["multus kubeconfig"].endswith("multus.kubeconfig (missing)")
    doc = json.loads(_run("detect", "--root", str(root), "-o", "json").stdout)
    assert (doc["runtime"], doc["local_api_ports"], doc["multus_kubeconfig_exists"]) == ("containerd", [6443], False)


def test_create_on_a_machine_that_is_no_node_says_so(cluster: TestCluster, admin: Path, tmp_path: Path,
                                                      home: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = create(home, "--root", str(empty), "--kubeconfig", str(admin), "--dry-run")
    assert out.startswith(f"! No Kubernetes node detected under {empty}"), out + err
    assert code == 2 and "/etc does not exist" in err  # and the plan says why the write could not happen
    code, out, err = create(home, "--root", str(empty), "--kubeconfig", str(admin))
    assert code == 2 and "no Kubernetes node found" in err and "--path FILE" in err
    assert not [r for r in cluster.requests if r[0] != "GET"], "the cluster was changed for a write that cannot be"
    assert list(empty.iterdir()) == []


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs root and setpriv")
def test_an_unreadable_directory_is_the_tool_s_problem_too(tmp_path: Path) -> None:
    from tests.distro_roots import k3s_server
    from tests.noderoot import File, make_root

    kc = f"{K3S_CONF}/multus.d/multus.kubeconfig"
    root = make_root(tmp_path / "node", {
        **k3s_server(), kc: File(certs.kubeconfig("https://10.43.0.1:443", token=certs.legacy_token()), mode=0o600),
        f"{K3S_CONF}/00-multus.conf": json.dumps({"cniVersion": "1.0.0", "name": "m", "type": "multus",
                                                   "kubeconfig": kc, "clusterNetwork": "cbr0"})})
    (root / kc.lstrip("/")).parent.chmod(0o000)
    try:
        proc = _run("check", "--root", str(root), unprivileged=True)
    finally:
        (root / kc.lstrip("/")).parent.chmod(0o700)
    assert proc.returncode == 2 and "kubeconfig-missing" not in proc.stdout
    assert proc.stderr.startswith(f"multusctl: cannot read {K3S_CONF}/multus.d: permission denied"), proc.stderr
