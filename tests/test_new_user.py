"""What a new user hits (issue 8): honest errors and small things people expect, one test per item."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from tests import certs
from tests.test_create_hardening import target_of
from tests.test_kubeconfig_create import create


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
