"""Faults from the shell: `python -m multusctl.testing serve --fault SPEC` and `/_testing/faults`,
exercised on the real subprocess with the real kubectl and a stdlib HTTPS client."""

from __future__ import annotations

import base64
import http.client
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from multusctl.testing.faults import Delay, FaultPlan, Reset, Respond
from multusctl.testing.faultspec import FaultSpecError, parse_fault_lines, parse_fault_spec
from tests.kubectlkit import default_kubectl

from .conftest import Http, Kubectl

SA_PATH = "/api/v1/namespaces/kube-system/serviceaccounts"


@contextmanager
def serve(tmp_path: Path, *args: str) -> Iterator[str]:
    """The real `serve` subprocess; yields its URL once it listens."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "multusctl.testing", "serve", "--dir", str(tmp_path), *args],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:"), url
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def admin_client(tmp_path: Path, url: str) -> Http:
    user = yaml.safe_load((tmp_path / "admin.kubeconfig").read_text())["users"][0]["user"]
    (tmp_path / "c.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
    (tmp_path / "c.key").write_bytes(base64.b64decode(user["client-key-data"]))
    ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    return Http(url, ctx)


def raw_get(client: Http, path: str) -> tuple[int, dict[str, str]]:
    """Status and headers of one GET on a fresh connection (urllib hides headers of errors otherwise)."""
    host, port = client.url.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=client.ctx, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


@pytest.fixture
def kubectl_bin(tmp_path: Path) -> Kubectl:
    binary = default_kubectl()
    if binary is None:
        pytest.skip("kubectl not installed")
    home = tmp_path / "home"
    home.mkdir()
    return Kubectl(binary, home, tmp_path / "admin.kubeconfig")


# --------------------------------------------------------------------------- the spec is the Python API


@pytest.mark.parametrize(("spec", "python", "requests", "expected"), [
    ("status=500,count=1", lambda p: p.burst(500, 1), [("GET", "/api")] * 2, [Respond(500), None]),
    ("count=2, retry-after=3, status=429", lambda p: p.burst(429, 2, retry_after=3),
     [("GET", "/api")] * 3, [Respond(429, 3), Respond(429, 3), None]),
    (f"status=500,count=1,path={SA_PATH}", lambda p: p.burst(500, 1, path_prefix=SA_PATH),
     [("GET", "/api/v1/namespaces"), ("GET", f"{SA_PATH}/default"), ("GET", SA_PATH)],
     [None, Respond(500), None]),
    ("reset,count=1,method=post,method=PUT", lambda p: p.reset(1, methods=("POST", "PUT")),
     [("GET", "/api"), ("PUT", "/api")], [None, Reset()]),
    ("latency=0.5", lambda p: p.latency(0.5), [("GET", "/a")] * 3, [Delay(0.5)] * 3),
    ("latency=2,count=1,path=/version", lambda p: p.latency(2, "/version", count=1),
     [("GET", "/api"), ("GET", "/version"), ("GET", "/version")], [None, Delay(2.0), None]),
])
def test_spec_arms_exactly_what_the_python_call_arms(spec: str, python: Callable[[FaultPlan], FaultPlan],
                                                     requests: list[tuple[str, str]], expected: list) -> None:
    from_spec, from_python = parse_fault_spec(spec).arm(FaultPlan()), python(FaultPlan())
    for plan in (from_spec, from_python):
        assert [plan.before_request(m, p) for m, p in requests] == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("status=500", "status needs count=N"),
    ("reset", "reset needs count=N"),
    ("status=200,count=1", "burst code must be an HTTP error status"),  # FaultPlan's own rule
    ("latency=-1", "latency must not be negative"),
    ("reset,count=0", "count must be at least 1"),
    ("status=500,reset,count=1", "needs exactly one of status=CODE, latency=SECONDS or reset"),
    ("count=1", "needs exactly one of status=CODE, latency=SECONDS or reset"),
    ("status=5xx,count=1", "status must be an integer, got '5xx'"),
    ("latency=0.1,retry-after=1", "retry-after only goes with status=CODE"),
    ("status=500,count=1,colour=red", "unknown item 'colour=red'"),
    ("reset=1,count=1", "reset takes no value"),
    ("status=500,count=1,count=2", "count given twice"),
])
def test_bad_specs_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_fault_spec(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_lines_name_the_bad_line() -> None:
    assert len(parse_fault_lines("# comment\n\nstatus=500,count=1\nreset,count=2\n")) == 2
    with pytest.raises(FaultSpecError, match=r"line 2: 'status=500': status needs count=N"):
        parse_fault_lines("reset,count=1\nstatus=500\n")


# --------------------------------------------------------------------------- the shell


def test_bad_fault_option_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "multusctl.testing", "serve", "--dir", str(tmp_path),
                           "--fault", "status=500"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "error: --fault 'status=500': status needs count=N\n"
    assert not (tmp_path / "admin.kubeconfig").exists()  # refused before serving anything


def test_help_lists_the_spec_grammar() -> None:
    out = subprocess.run([sys.executable, "-m", "multusctl.testing", "serve", "--help"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    for item in ("--fault SPEC", "status=CODE", "latency=SECONDS", "reset", "count=N", "path=PREFIX",
                 "method=VERB", "retry-after=SECS", "/_testing/faults", "--tls-blackhole", "--refused-port"):
        assert item in out, item


@pytest.mark.kubectl
def test_startup_faults_with_kubectl(tmp_path: Path, kubectl_bin: Kubectl) -> None:
    with serve(tmp_path, "--fault", f"status=500,count=1,path={SA_PATH}",
               "--fault", "status=429,retry-after=1,count=1,path=/api/v1/namespaces/default/configmaps",
               "--fault", "reset,count=1,path=/livez") as url:  # a path kubectl never asks for
        failed = kubectl_bin.run("get", "serviceaccounts", "-n", "kube-system", check=False)
        assert failed.returncode == 1
        assert failed.stderr.startswith("Error from server (InternalError): an error on the server "
                                        '("injected fault") has prevented the request from succeeding'), failed
        assert "default" in kubectl_bin.run("get", "serviceaccounts", "-n", "kube-system").stdout  # once only
        start = time.monotonic()
        out = kubectl_bin.run("get", "configmaps", "-n", "default", "-o", "name").stdout
        assert "configmap/kube-root-ca.crt" in out
        assert time.monotonic() - start >= 0.9  # kubectl waited out the Retry-After and retried
        admin = admin_client(tmp_path, url)
        with pytest.raises((ConnectionResetError, ssl.SSLError, OSError)):
            admin.request("GET", "/livez")
        assert admin.request("GET", "/livez")[0] == 200


def test_startup_429_sends_retry_after(tmp_path: Path) -> None:
    with serve(tmp_path, "--fault", "status=429,retry-after=7,count=1", "--fault", "latency=0.4,count=1") as url:
        admin = admin_client(tmp_path, url)
        code, headers = raw_get(admin, "/version")
        assert code == 429 and headers["retry-after"] == "7"
        start = time.monotonic()
        assert raw_get(admin, "/version")[0] == 200
        assert time.monotonic() - start >= 0.4
        assert raw_get(admin, "/version")[0] == 200


@pytest.mark.kubectl
def test_faults_armed_while_running_through_kubectl(tmp_path: Path, kubectl_bin: Kubectl) -> None:
    with serve(tmp_path) as url:
        assert "default" in kubectl_bin.run("get", "serviceaccounts", "-n", "kube-system").stdout
        (tmp_path / "faults.txt").write_text(f"# two at once\nstatus=503,count=1,path={SA_PATH}\n"
                                             "reset,count=5,path=/api/v1/nodes\n")
        armed = kubectl_bin.run("create", "--raw", "/_testing/faults", "-f", str(tmp_path / "faults.txt"))
        assert '"armed": 2' in armed.stdout
        assert '"armed": 2' in kubectl_bin.run("get", "--raw", "/_testing/faults").stdout
        failed = kubectl_bin.run("get", "serviceaccounts", "-n", "kube-system", check=False)
        assert failed.returncode == 1 and "ServiceUnavailable" in failed.stderr, failed
        # The reset fault must not swallow the control requests; clearing disarms it.
        kubectl_bin.run("delete", "--raw", "/_testing/faults")
        assert '"armed": 0' in kubectl_bin.run("get", "--raw", "/_testing/faults").stdout
        assert kubectl_bin.run("get", "nodes", "-o", "name").returncode == 0

        (tmp_path / "bad.txt").write_text("reset,count=1\nstatus=500\n")
        bad = kubectl_bin.run("create", "--raw", "/_testing/faults", "-f", str(tmp_path / "bad.txt"), check=False)
        assert bad.returncode == 1
        assert "invalid fault spec: line 2: 'status=500': status needs count=N" in bad.stderr, bad
        assert '"armed": 0' in kubectl_bin.run("get", "--raw", "/_testing/faults").stdout  # all or nothing

        anonymous = Http(url, ssl.create_default_context(cafile=str(tmp_path / "ca.crt")))
        code, body = anonymous.request("POST", "/_testing/faults", b"status=500,count=1", "text/plain")
        assert code == 403 and body["message"] == (
            'forbidden: User "system:anonymous" cannot post path "/_testing/faults"')
        assert '"armed": 0' in kubectl_bin.run("get", "--raw", "/_testing/faults").stdout


@pytest.mark.kubectl
def test_tls_blackhole_and_refused_port_from_the_shell(tmp_path: Path, kubectl_bin: Kubectl) -> None:
    with serve(tmp_path, "--tls-blackhole", "--refused-port"):
        start = time.monotonic()
        hung = kubectl_bin.run("get", "ns", kubeconfig=tmp_path / "tls-blackhole.kubeconfig", check=False,
                               request_timeout="1s")
        assert hung.returncode == 1 and time.monotonic() - start >= 0.9
        assert "Unable to connect to the server" in hung.stderr, hung
        refused = kubectl_bin.run("get", "ns", kubeconfig=tmp_path / "refused.kubeconfig", check=False)
        assert refused.returncode == 1 and "connection refused" in refused.stderr, refused
        assert "kube-system" in kubectl_bin.run("get", "ns").stdout
