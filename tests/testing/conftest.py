"""Shared fixtures for the test-cluster tests: a started TestCluster and a sandboxed kubectl."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from multusctl.testing import TestCluster
from tests.kubectlkit import SDK_BIN, default_kubectl, versioned

DATA = Path(__file__).parent / "data"
KUBECTL_TIMEOUT = 30  # seconds per kubectl run; every run also passes --request-timeout=10s


def kubectl_binaries() -> list[Any]:
    """The default kubectl plus the oldest and newest versioned ones when installed.

    The default is the client the dispatcher picks for the test cluster (tests/kubectlkit.py);
    1.33 is the one that sends protobuf bodies, 1.27 the oldest available."""
    default = default_kubectl()
    params: list[Any] = [pytest.param(default, id="kubectl-default",
                                      marks=[] if default else [pytest.mark.skip(reason="kubectl not installed")])]
    for version in ("1.27", "1.33"):
        path = versioned(version)
        params.append(pytest.param(path, id=f"kubectl-{version}", marks=[] if path else [pytest.mark.skip(
            reason=f"kubectl {version} not installed at {SDK_BIN}")]))
    return params


@dataclass
class Kubectl:
    """Runs one kubectl binary with its own HOME (no discovery cache shared between tests)."""

    binary: str
    home: Path
    kubeconfig: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, kubeconfig: Path | None = None, check: bool = True,
            stdin: str | None = None, request_timeout: str = "10s") -> subprocess.CompletedProcess[str]:
        env = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               **self.env}
        cmd = [self.binary, "--kubeconfig", str(kubeconfig or self.kubeconfig),
               f"--request-timeout={request_timeout}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin,
                              timeout=KUBECTL_TIMEOUT, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc


@pytest.fixture
def cluster() -> Iterator[TestCluster]:
    with TestCluster() as c:
        yield c


@pytest.fixture
def admin_kubeconfig(cluster: TestCluster, tmp_path: Path) -> Path:
    return cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")


@pytest.fixture(params=kubectl_binaries())
def kubectl(request: pytest.FixtureRequest, admin_kubeconfig: Path, tmp_path: Path) -> Kubectl:
    home = tmp_path / "home"
    home.mkdir()
    return Kubectl(request.param, home, admin_kubeconfig)


@dataclass
class Http:
    """A tiny HTTPS client for protocol-level tests (urllib with the cluster CA)."""

    url: str
    ctx: ssl.SSLContext
    token: str | None = None

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as resp:
                return resp.status, _decode(resp.read(), resp.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as err:
            return err.code, _decode(err.read(), err.headers.get("Content-Type", ""))


def _decode(raw: bytes, ctype: str) -> Any:
    text = raw.decode()
    if not ctype.startswith("application/json"):
        return text
    try:
        return json.loads(text)
    except ValueError:  # a watch stream: one JSON event per line
        return text


def admin_http(cluster: TestCluster, tmp_path: Path) -> Http:
    ctx = ssl.create_default_context(cadata=cluster.ca_pem.decode())
    cert, key = cluster.ca.issue_client_cert("test-admin", ["system:masters"])
    (tmp_path / "admin.crt").write_bytes(cert)
    (tmp_path / "admin.key").write_bytes(key)
    ctx.load_cert_chain(tmp_path / "admin.crt", tmp_path / "admin.key")
    return Http(cluster.url, ctx)


@pytest.fixture
def http(cluster: TestCluster, tmp_path: Path) -> Http:
    return admin_http(cluster, tmp_path)


@pytest.fixture
def anon_http(cluster: TestCluster) -> Http:
    return Http(cluster.url, ssl.create_default_context(cadata=cluster.ca_pem.decode()))


@pytest.fixture
def kubectl_default(admin_kubeconfig: Path, tmp_path: Path) -> Kubectl:
    """Only the default kubectl, for slower tests where the client version does not matter."""
    binary = default_kubectl()
    if binary is None:
        pytest.skip("kubectl not installed")
    home = tmp_path / "home-default"
    home.mkdir()
    return Kubectl(binary, home, admin_kubeconfig)
