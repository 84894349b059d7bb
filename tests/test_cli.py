"""End to end through the real command line: `python -m multusctl ...` (and the console script).

These assert the public contracts of CHECKS.md: exit codes, the `multusctl.report/v1` and
`multusctl.detect/v1` documents, node paths in reports, and no traceback on any input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from multusctl import __version__
from multusctl.checks import node_checks
from tests import distro_roots as R
from tests.noderoot import File, Link, make_root

K3S_CONF = R.K3S_CONF_DIR
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
FINDING_KEYS = {"id", "severity", "title", "message", "fix", "path", "field", "evidence"}
REPORT_KEYS = {"schema", "tool", "target", "findings", "checks_run", "summary"}
TARGET_KEYS = {"kind", "root", "distro", "role", "mode"}
DETECT_KEYS = {"schema", "root", "distro", "role", "version", "conf_dir", "bin_dirs", "multus_kubeconfig",
               "admin_kubeconfig", "mode", "multus_config", "primary_config", "api_endpoints", "evidence",
               # added by issue 8 #16 (additive: the v1 contract keeps every earlier key)
               "multus_kubeconfig_exists", "local_api_ports", "cluster_cidr", "service_cidr", "runtime", "node_found"}


def run(*args: str, entry: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = (entry or [sys.executable, "-m", "multusctl"]) + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    return out


_CACHE: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = {}


def cached(*args: str) -> subprocess.CompletedProcess[str]:
    """The same invocation gives the same answer: run it once per module (each run costs ~0.4 s)."""
    if args not in _CACHE:
        _CACHE[args] = run(*args)
    return _CACHE[args]


def prefetch(*invocations: tuple[str, ...]) -> None:
    """Start independent invocations side by side; the tests then read them from the cache."""
    from concurrent.futures import ThreadPoolExecutor

    todo = [a for a in invocations if a not in _CACHE]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for args, res in zip(todo, pool.map(lambda a: run(*a), todo), strict=True):
            _CACHE[args] = res


def k3s_agent_thin(**over: Any) -> dict[str, Any]:
    conf = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "kubeconfig": K3S_KC,
            "binDir": R.K3S_BIN_DIR, "delegates": [R.flannel_conflist()], **over}
    return {
        **R.k3s_agent(),
        f"{R.K3S_BIN_DIR}/multus": File("#!/bin/sh\n", mode=0o755),
        f"{K3S_CONF}/00-multus.conf": conf,
        K3S_KC: File(R.kubeconfig("https://127.0.0.1:6443"), mode=0o644),
    }


@pytest.fixture(scope="module")
def broken_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A k3s agent with the seed's mistakes plus a pod path: several error findings."""
    return make_root(tmp_path_factory.mktemp("broken") / "node",
                     k3s_agent_thin(readinessindicatorfile="/host/run/flannel/subnet.env"))


@pytest.fixture(scope="module")
def clean_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubeadm with no multus at all: nothing to report as an error."""
    return make_root(tmp_path_factory.mktemp("clean") / "node", R.kubeadm_control_plane())


@pytest.fixture(scope="module", autouse=True)
def _warm(broken_root: Path, clean_root: Path) -> None:
    b, c = str(broken_root), str(clean_root)
    prefetch(("check", "--root", c), ("check", "--root", b), ("check", "--root", b, "--output", "json"),
             ("check", "--root", b, "--output", "text"), ("check", "--root", b, "--output", "sarif"),
             ("check", "--root", b, "--output", "junit"), ("detect", "--root", b, "--output", "json"),
             ("detect", "--root", b), ("--help",), ("check", "--help"), ("detect", "--help"), ("--version",))


# --- exit codes ------------------------------------------------------------------------------------


def test_exit_0_without_errors(clean_root: Path) -> None:
    out = cached("check", "--root", str(clean_root))
    assert out.returncode == 0, out.stdout + out.stderr


def test_exit_1_with_errors(broken_root: Path) -> None:
    out = cached("check", "--root", str(broken_root))
    assert out.returncode == 1, out.stdout + out.stderr


def test_exit_2_missing_root(tmp_path: Path) -> None:
    out = run("check", "--root", str(tmp_path / "nope"))
    assert out.returncode == 2
    assert "nope" in out.stderr and len(out.stderr.strip().splitlines()) <= 4


def test_exit_2_unknown_skip_id(clean_root: Path) -> None:
    out = run("check", "--root", str(clean_root), "--skip", "no-such-check")
    assert out.returncode == 2
    assert "no-such-check" in out.stderr


def test_exit_2_unknown_output_format(clean_root: Path) -> None:
    assert run("check", "--root", str(clean_root), "--output", "yaml").returncode == 2


# --- report contract -------------------------------------------------------------------------------


def test_json_report_contract(broken_root: Path) -> None:
    out = cached("check", "--root", str(broken_root), "--output", "json")
    doc = json.loads(out.stdout)
    assert set(doc) == REPORT_KEYS
    assert doc["schema"] == "multusctl.report/v1"
    assert doc["tool"] == {"name": "multusctl", "version": __version__}
    assert set(doc["target"]) == TARGET_KEYS
    assert doc["target"] == {"kind": "node", "root": str(broken_root), "distro": "k3s", "role": "agent",
                             "mode": "thin"}
    assert set(doc["checks_run"]) == {c.id for c in node_checks()}
    assert doc["findings"], "the broken root must have findings"
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in doc["findings"]:
        assert set(f) == FINDING_KEYS, f
        assert f["severity"] in counts
        counts[f["severity"]] += 1
        assert isinstance(f["title"], str) and f["title"]
        assert isinstance(f["message"], str) and f["message"]
        assert isinstance(f["fix"], str) and f["fix"]
        assert f["path"] is None or isinstance(f["path"], str)
        assert f["field"] is None or isinstance(f["field"], str)
        assert isinstance(f["evidence"], dict)
        assert f["id"] in doc["checks_run"]
    assert doc["summary"] == counts
    ids = {f["id"] for f in doc["findings"]}
    assert {"thin-pod-path", "kubeconfig-server-loopback", "kubeconfig-permissions"} <= ids


def test_report_paths_are_node_paths(broken_root: Path) -> None:
    out = cached("check", "--root", str(broken_root), "--output", "json")
    doc = json.loads(out.stdout)
    for f in doc["findings"]:
        assert f["path"] is None or (f["path"].startswith("/") and not f["path"].startswith(str(broken_root)))
    # The root appears once: as target.root. Never inside a message, fix, path or evidence.
    assert out.stdout.count(str(broken_root)) == 1
    text = cached("check", "--root", str(broken_root)).stdout
    assert f"{broken_root}/" not in text  # a root-prefixed path would read "<root>/var/lib/..."
    pod_path = next(f for f in doc["findings"] if f["id"] == "thin-pod-path")
    assert pod_path["path"] == f"{K3S_CONF}/00-multus.conf"
    assert '"readinessindicatorfile": "/run/flannel/subnet.env"' in pod_path["fix"]


@pytest.mark.parametrize("fmt", ["text", "sarif", "junit"])
def test_other_formats_keep_exit_code(broken_root: Path, fmt: str) -> None:
    out = cached("check", "--root", str(broken_root), "--output", fmt)
    assert out.returncode == 1
    assert out.stdout.strip()


def test_skip(broken_root: Path) -> None:
    out = run("check", "--root", str(broken_root), "--output", "json",
              "--skip", "thin-pod-path", "--skip", "kubeconfig-server-loopback")
    doc = json.loads(out.stdout)
    assert "thin-pod-path" not in doc["checks_run"]
    assert "kubeconfig-server-loopback" not in doc["checks_run"]
    ids = {f["id"] for f in doc["findings"]}
    assert "thin-pod-path" not in ids and "kubeconfig-server-loopback" not in ids
    assert "kubeconfig-permissions" in ids


def test_skipping_every_error_gives_exit_0(broken_root: Path) -> None:
    doc = json.loads(cached("check", "--root", str(broken_root), "--output", "json").stdout)
    errors = sorted({f["id"] for f in doc["findings"] if f["severity"] == "error"})
    args = [a for i in errors for a in ("--skip", i)]
    assert run("check", "--root", str(broken_root), *args).returncode == 0


# --- detect contract -------------------------------------------------------------------------------


def test_detect_json_contract_k3s_agent(broken_root: Path) -> None:
    out = cached("detect", "--root", str(broken_root), "--output", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == DETECT_KEYS
    assert doc["schema"] == "multusctl.detect/v1"
    assert doc["root"] == str(broken_root)
    assert (doc["distro"], doc["role"], doc["mode"]) == ("k3s", "agent", "thin")
    assert doc["version"] is None or isinstance(doc["version"], str)
    assert doc["conf_dir"] == K3S_CONF
    assert doc["bin_dirs"] == [R.K3S_BIN_DIR]
    assert doc["multus_kubeconfig"] == K3S_KC
    assert doc["admin_kubeconfig"] is None  # agents have no k3s.yaml
    assert doc["multus_config"] == f"{K3S_CONF}/00-multus.conf"
    assert doc["primary_config"] == f"{K3S_CONF}/10-flannel.conflist"
    assert doc["api_endpoints"] == ["https://127.0.0.1:6444"]
    assert isinstance(doc["evidence"], dict) and doc["evidence"].get("distro")
    assert all(isinstance(v, list) for v in doc["evidence"].values())
    assert str(broken_root) not in json.dumps({k: v for k, v in doc.items() if k != "root"})


def test_detect_text(broken_root: Path) -> None:
    out = cached("detect", "--root", str(broken_root))
    assert out.returncode == 0
    assert "k3s" in out.stdout and K3S_CONF in out.stdout


# --- help ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [[], ["check"], ["detect"]])
def test_help(verb: list[str]) -> None:
    out = cached(*verb, "--help")
    assert out.returncode == 0
    assert "Usage:" in out.stdout
    if verb == ["check"]:
        assert "--root" in out.stdout and "--skip" in out.stdout and "--output" in out.stdout
    if not verb:
        assert "check" in out.stdout and "detect" in out.stdout


def test_version() -> None:
    out = cached("--version")
    assert out.returncode == 0 and __version__ in out.stdout


def test_console_script(broken_root: Path) -> None:
    exe = shutil.which("multusctl")
    if exe is None:
        pytest.skip("the multusctl console script is not on PATH (package not installed)")
    out = run("check", "--root", str(broken_root), "--output", "json", entry=[exe])
    assert out.returncode == 1
    assert json.loads(out.stdout)["schema"] == "multusctl.report/v1"


# --- junk ------------------------------------------------------------------------------------------


def junk_files() -> dict[str, Any]:
    nested = "[" * 50_000 + "]" * 50_000
    return {
        **R.k3s_agent(),
        f"{K3S_CONF}/00-multus.conf": b"\x00\xff\xfe binary \x89PNG\r\n\x1a\n" * 50,
        f"{K3S_CONF}/01-nested.conflist": nested,
        f"{K3S_CONF}/02-truncated.conf": '{"type": "multus", "kubeconfig": "/host/etc/cni/net',
        f"{K3S_CONF}/03-loop.conf": Link(f"{K3S_CONF}/03-loop.conf"),
        f"{K3S_CONF}/04-a.conf": Link(f"{K3S_CONF}/04-b.conf"),
        f"{K3S_CONF}/04-b.conf": Link(f"{K3S_CONF}/04-a.conf"),
        f"{K3S_CONF}/05-huge.conf": b" " * (5 * 1024 * 1024),
        f"{K3S_CONF}/06-notutf8.json": b'{"type": "multus", "name": "\xff\xfe"}',
        f"{K3S_CONF}/multus.d/daemon-config.json": b"\xde\xad\xbe\xef" * 10,
        f"{K3S_CONF}/multus.d/multus.kubeconfig": b"\x00" * 100,
        "/etc/cni/net.d/00-multus.conf": Link("/etc/cni/net.d"),
        "/var/lib/rancher/k3s/agent/etc/containerd/config.toml": b"\x00[[[ not toml \xff",
        "/etc/rancher/k3s/config.yaml": "{{{: [",
        "/run/multus": Link("/run/multus"),
    }


def junk_thin_files() -> dict[str, Any]:
    """A multus config that parses, pointing at junk everywhere."""
    return {
        **R.k3s_agent(),
        f"{K3S_CONF}/00-multus.conf": {
            "cniVersion": "1.0.0", "name": "m", "type": "multus", "kubeconfig": K3S_KC,
            "clusterNetwork": "/run/loop/x.conflist", "defaultNetworks": ["/host/x", "name", 7],
            "readinessindicatorfile": "/run/loop/ready", "binDir": "/run/loop", "confDir": "/run/loop"},
        K3S_KC: File(b"\xff\xfe\x00junk", mode=0o600),
        "/run/loop": Link("/run/loop"),
    }


@pytest.mark.parametrize("files", [junk_files, junk_thin_files], ids=["junk-everywhere", "thin-into-junk"])
def test_junk_root_no_traceback(tmp_path: Path, files: Any) -> None:
    root = make_root(tmp_path / "node", files())
    for fmt in ("json", "text"):
        out = run("check", "--root", str(root), "--output", fmt)
        assert out.returncode in (0, 1), out.stderr
        assert "internal error" not in out.stderr, out.stderr
        if fmt == "json":
            json.loads(out.stdout)
    out = run("detect", "--root", str(root), "--output", "json")
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)


def test_root_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    out = run("check", "--root", str(f))
    assert out.returncode == 2


@pytest.mark.parametrize("low, high", [(0.0, None), (0.05, 300.0), (1.0, 3600.0), (0.05, None), (5.0, 60.0),
                                       (7200.0, 7300.0)])
def test_a_bad_duration_suggests_values_the_option_takes(low: float, high: float | None) -> None:
    import re

    import click

    from multusctl.cli.options import seconds
    from multusctl.provision import duration

    with pytest.raises(click.BadParameter) as info:
        seconds("soon", "--timeout", low=low, high=high)
    suggested = re.search(r"use e\.g\. (.+)\)$", info.value.message)
    assert suggested, info.value.message
    examples = suggested.group(1).split(", ")
    assert examples and all(low <= duration.seconds(e) <= (high or float("inf")) for e in examples), examples
    for e in examples:  # and the option does take them
        assert seconds(e, "--timeout", low=low, high=high) == duration.seconds(e)
