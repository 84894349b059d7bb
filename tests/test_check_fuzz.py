"""Whole-command fuzzing of `multusctl check --root`: random subsets of a realistic k3s server root with
files swapped for garbage (binary, truncated, huge, deeply nested, symlink loops, dangling links,
directories where files belong, YAML bombs, undecodable names). Whatever the node holds, the command
exits 0, 1 or 2, never prints a traceback, no check crashes, and `--output json` always parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multusctl.cli.main import cli
from tests import certs
from tests.distro_roots import K3S_BIN_DIR, k3s_server
from tests.fuzzkit import examples
from tests.noderoot import Dir, Fifo, File, Link, make_root

CONF_DIR = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
KUBECONFIG = f"{CONF_DIR}/multus.d/multus.kubeconfig"
BIG = 5 * 1024 * 1024

YAML_BOMB = "\n".join([
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)),
    "current-context: *i",
    "clusters: *i",
    "users: *i",
    "contexts: *i",
]) + "\n"


def _base() -> dict[str, Any]:
    files = dict(k3s_server())
    files.setdefault("/etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: '0600'\ncluster-cidr: 10.42.0.0/16\n"
                     "token: K10fuzzjointokenfuzzjointoken::server:fuzz\n")
    # The founding case's files, so the multus parsers and kubeconfig checks get fuzzed too.
    files.setdefault(f"{CONF_DIR}/00-multus.conf", {
        "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
        "kubeconfig": KUBECONFIG, "delegates": [{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [
            {"type": "flannel", "delegate": {"hairpinMode": True, "forceAddress": True, "isDefaultGateway": True}},
            {"type": "portmap", "capabilities": {"portMappings": True}}]}],
    })
    files.setdefault(f"{CONF_DIR}/multus.d/daemon-config.json", {
        "chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose",
        "multusConfigFile": "auto", "socketDir": "/host/run/multus/",
        "kubeconfig": "/host/etc/cni/net.d/multus.d/multus.kubeconfig"})
    # The seed's kubeconfig: a copy of k3s.yaml (admin client certificate, CA, loopback server).
    files.setdefault(KUBECONFIG, File(certs.k3s_yaml(), mode=0o644))
    files.setdefault(f"{K3S_BIN_DIR}/multus", File("#!/bin/sh\n", mode=0o755))
    return files


BASE = _base()
BASE_PATHS = sorted(BASE)


def _content_bytes(entry: Any) -> bytes:
    if isinstance(entry, File):
        entry = entry.content
    if isinstance(entry, dict | list):
        return json.dumps(entry, indent=2).encode()
    if isinstance(entry, str):
        return entry.encode()
    return entry if isinstance(entry, bytes) else b""


def _garbage(path: str, original: Any) -> st.SearchStrategy[Any]:
    raw = _content_bytes(original)
    depth = st.integers(min_value=100, max_value=200_000)
    kinds: list[st.SearchStrategy[Any]] = [
        st.binary(max_size=512),
        st.integers(min_value=0, max_value=max(0, len(raw) - 1)).map(lambda n: raw[:n]),  # truncated
        st.just(b""),
        st.just(b"\xff\xfe\x00not utf-8 \x80\x81"),
        st.just(b"{" + b'"x": "' + b"A" * BIG + b'"}'),  # huge: over NodeFS's read limit
        st.just(b"[" * 3000 + b"{}" + b"]" * 3000),
        depth.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),  # deep nesting
        depth.map(lambda n: b"[" * n),  # deep and truncated
        st.just(Dir()),
        st.just(Link("/nonexistent/target")),  # dangling
        st.just(Link(path)),  # a loop onto itself
        st.just(Link(path + ".loop")),  # two-link loop, see _loop_partner
        st.just(File(raw, mode=0o000)),
        st.just(File(raw, mode=0o666)),
        st.text(max_size=200).map(str.encode),
        st.just(json.dumps({"type": ["multus"], "plugins": {"x": 1}, "cniVersion": 1.0, "delegates": "x",
                            "kubeconfig": ["a"], "clusterNetwork": {}}).encode()),
        st.just(Fifo()),
        _impossible_paths(raw),
    ]
    if path.endswith((".kubeconfig", ".yaml", "kubeconfig")):
        kinds += [st.just(YAML_BOMB.encode()), st.just(b"!!python/object/apply:os.system ['true']\n"),
                  st.just(b"apiVersion: v1\nclusters: [\nusers:\n  - &x\n"),
                  st.just(b"clusters: []\ncontexts: []\nusers: []\ncurrent-context: ''\n")]
    return st.one_of(kinds)


# Values that no file name can hold or that would drive a terminal: JSON escapes for NUL and lone
# surrogates, raw control characters (an OSC title sequence, a clear-screen, C1 CSI).
_BAD_PATH_PIECES = st.sampled_from(["\u0000", "\ud800", "\udfff", "\udc80", "\x1b]0;PWNED\x07", "\x1b[2J", "\x9b",
                                    "\r", "\x7f"])
_PATH_KEYS = ("kubeconfig", "confDir", "cniConfigDir", "binDir", "readinessindicatorfile", "socketDir",
              "clusterNetwork", "multusConfigFile", "chrootDir", "logFile", "data-dir", "write-kubeconfig")


def _impossible_paths(raw: bytes) -> st.SearchStrategy[bytes]:
    """The file with path-like values replaced by ones holding NUL, surrogates or control characters."""
    def spoil(pieces: list[str], keys: list[str]) -> bytes:
        try:
            doc = json.loads(raw)
        except ValueError:  # YAML (k3s config, kubeconfig): one setting per line
            return "".join(f"{k}: \"/x/{p}\"\n".encode("unicode_escape").decode() for k, p in zip(keys, pieces,
                           strict=False)).encode()
        if not isinstance(doc, dict):
            doc = {}
        for k, p in zip(keys, pieces, strict=False):
            doc[k] = f"/etc/cni/{p}/x"
        return json.dumps(doc).encode()  # ensure_ascii: the pieces arrive as \uXXXX escapes

    return st.builds(spoil, st.lists(_BAD_PATH_PIECES, min_size=1, max_size=4),
                     st.lists(st.sampled_from(_PATH_KEYS), min_size=1, max_size=4))


@st.composite
def node_roots(draw: st.DrawFn) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for path in BASE_PATHS:
        fate = draw(st.integers(0, 9))  # 0-1 drop it, 2-4 garbage, 5-9 keep it as the node had it
        if fate >= 5:
            files[path] = BASE[path]
        elif fate >= 2:
            files[path] = draw(_garbage(path, BASE[path]))
    # Extra files in the conf dir, sorting before and after multus's, some with undecodable names.
    for name in draw(st.lists(st.sampled_from(
            ["00-aaa.conf", "05-x.conflist", "99-z.json", "zz.conf", os.fsdecode(b"\xff\xfe.conf"),
             "multus.d/multus.kubeconfig", "01-multus.conf"]), max_size=3, unique=True)):
        files[f"{CONF_DIR}/{name}"] = draw(_garbage(f"{CONF_DIR}/{name}", BASE.get(f"{CONF_DIR}/{name}", b"{}")))
    return files


def _loop_partner(files: dict[str, Any]) -> dict[str, Any]:
    # A Link to "<path>.loop" closes the loop with a link back, unless that path is taken.
    for path, entry in list(files.items()):
        if isinstance(entry, Link) and entry.target == path + ".loop" and path + ".loop" not in files:
            files[path + ".loop"] = Link(path)
    return files


def _build(base: Path, files: dict[str, Any]) -> Path:
    # Parents first, so a Dir or a file replacing a parent directory cannot make make_root fail;
    # a path under a parent that became a file or a link is dropped (the node could not have it).
    root = base / "node"
    root.mkdir()
    safe: dict[str, Any] = {}
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        parents = [path.rsplit("/", n)[0] for n in range(1, path.count("/"))]
        if any(p in safe and not isinstance(safe[p], Dir) for p in parents):
            continue
        safe[path] = files[path]
    return make_root(root, _loop_partner(safe))


def _assert_sane(exit_code: int, stdout: str, stderr: str, fmt: str) -> None:
    assert exit_code in (0, 1, 2), (exit_code, stdout[-2000:], stderr[-2000:])
    both = stdout + stderr
    assert "Traceback" not in both, both[-4000:]
    assert "internal error in check" not in stderr, stderr  # a check that raises is a bug
    if exit_code in (0, 1):
        assert stdout.strip(), stderr
    assert not any(c in stdout for c in "\x00\x07\x9b") and "\x1b]" not in stdout and "\x1b[2J" not in stdout
    if fmt == "json" and stdout.strip():
        doc = json.loads(stdout)
        assert doc["schema"] == "multusctl.report/v1"
        assert (doc["summary"]["error"] > 0) == (exit_code == 1) or exit_code == 2
    if exit_code == 2 and not stdout.strip():
        assert stderr.strip() and len(stderr.strip().splitlines()) <= 3, stderr


def _invoke(root: Path, fmt: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", "--root", str(root), "--output", fmt])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        raise AssertionError("".join(traceback.format_exception(result.exception)))
    return result.exit_code, result.stdout, result.stderr


@settings(max_examples=examples(50), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=node_roots(), fmt=st.sampled_from(["json", "text"]))
def test_check_never_crashes_on_a_garbled_root(files: dict[str, Any], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _build(Path(tmp), files)
        _assert_sane(*_invoke(root, fmt), fmt)


def test_the_unmodified_base_root_is_clean() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _build(Path(tmp), dict(k3s_server()))
        code, out, err = _invoke(root, "json")
        _assert_sane(code, out, err, "json")
        doc = json.loads(out)
        assert code == 0 and doc["summary"]["error"] == 0 and doc["summary"]["warning"] == 0, out


# A few hostile roots through the real console entry point in a subprocess: real stdout encoding,
# real exit status, and a hard time limit (a YAML bomb must not hang or eat the machine).
HOSTILE = {
    "yaml-bomb-kubeconfig": {KUBECONFIG: YAML_BOMB},
    "huge-conf": {f"{CONF_DIR}/00-multus.conf": b'{"type": "multus", "x": "' + b"A" * BIG + b'"}'},
    "deep-conf": {f"{CONF_DIR}/00-multus.conf": b'{"delegates":[' * 50_000 + b"{}" + b"]}" * 50_000},
    "symlink-loop-conf-dir": {CONF_DIR: Link(CONF_DIR)},
    "symlink-loop-kubeconfig": {KUBECONFIG: Link(KUBECONFIG + ".2"), KUBECONFIG + ".2": Link(KUBECONFIG)},
    "dir-as-kubeconfig": {KUBECONFIG: Dir()},
    "undecodable-name": {f"{CONF_DIR}/" + os.fsdecode(b"\x1b[31m\xff.conf"): b"\x00\x01"},
    "fifo-conf-and-kubeconfig": {f"{CONF_DIR}/05-fifo.conf": Fifo(), KUBECONFIG: Fifo()},
    # The issue's variant: a list setting that detect joins with "," (9^9 items once expanded).
    "alias-bomb-k3s-config": {"/etc/rancher/k3s/config.yaml": YAML_BOMB.split("current-context")[0]
                              + "cluster-cidr: *i\n"},
}


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_check_subprocess_on_hostile_roots(case: str, fmt: str, tmp_path: Path) -> None:
    files = {**BASE, **HOSTILE[case]}
    if case == "symlink-loop-conf-dir":
        files = {p: e for p, e in files.items() if not p.startswith(CONF_DIR + "/")}
    root = _build(tmp_path, files)
    env = {**os.environ, "PYTHONIOENCODING": "", "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(root), "-o", fmt],
                          capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL, check=False)
    stdout = proc.stdout.decode("utf-8")  # must be valid UTF-8 whatever the file names hold
    _assert_sane(proc.returncode, stdout, proc.stderr.decode("utf-8", "replace"), fmt)
    if fmt == "text":
        assert "\x1b" not in stdout  # no colour on a pipe, and no escape smuggled in by a file name


def test_check_on_an_ascii_terminal_escapes_rather_than_crashes(tmp_path: Path) -> None:
    files = {**BASE, **HOSTILE["undecodable-name"], f"{CONF_DIR}/05-caf\u00e9.conf": b"{"}
    root = _build(tmp_path, files)
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(root)],
                          capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL, check=False)
    out = proc.stdout.decode("ascii")
    _assert_sane(proc.returncode, out, proc.stderr.decode("utf-8", "replace"), "text")
    assert "05-caf\\xe9.conf" in out and "\\u2014" in out.splitlines()[-1]
