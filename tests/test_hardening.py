"""Hostile node roots through the real console entry point (issue 6): NUL bytes and lone surrogates in path
values, control characters in file names, alias bombs, FIFOs (also swapped in mid-run), secrets in YAML
errors, and stdout that cannot be written. Each runs every read-only command in a subprocess with a hard
time limit: the answer is a finding or a one-line error, never a traceback, a hang or a secret."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.distro_roots import k3s_server
from tests.noderoot import File, make_root

CONF_DIR = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
KUBECONFIG = f"{CONF_DIR}/multus.d/multus.kubeconfig"
MULTUS_CONF = f"{CONF_DIR}/00-multus.conf"
K3S_CONFIG = "/etc/rancher/k3s/config.yaml"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.dGFnZ2VkLXRva2VuLXNlY3JldA.c2ln"
JOIN_TOKEN = "K10c0ffeec0ffeec0ffee::server:joinsecretjoinsecret"

BOMB = "\n".join([
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)),
    "cluster-cidr: *i",
]) + "\n"


def _multus(**over: Any) -> str:
    conf = {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus", "kubeconfig": KUBECONFIG,
            "delegates": [{"cniVersion": "0.3.1", "name": "cbr0", "type": "flannel"}], **over}
    return json.dumps(conf)


# JSON escapes give path values that no file name can hold: "\u0000" a NUL, "\ud800" a lone surrogate.
ROOTS: dict[str, dict[str, Any]] = {
    "nul-multus-kubeconfig": {MULTUS_CONF: _multus(kubeconfig=KUBECONFIG + "\u0000x")},
    "nul-multus-paths": {MULTUS_CONF: _multus(confDir="/etc/cni/\u0000", binDir="/opt/\u0000bin",
                                              readinessindicatorfile="/run/\u0000ready",
                                              clusterNetwork="/etc/cni/net.d/\u0000x.conf")},
    "surrogate-multus-paths": {MULTUS_CONF: _multus(kubeconfig="/etc/\ud800/k", confDir="/etc/\udfff",
                                                    binDir="/opt/\ud800", clusterNetwork="/x/\ud800.conf",
                                                    readinessindicatorfile="/run/\udc80")},
    "nul-k3s-config": {K3S_CONFIG: 'data-dir: "/var/lib/\\0x"\nwrite-kubeconfig: "/a\\0b"\n'},
    "nul-containerd-conf-dir": {"/var/lib/rancher/k3s/agent/etc/containerd/config.toml":
                                'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n'
                                '  conf_dir = "/var/lib/\\u0000x/net.d"\n'
                                '  bin_dir = "/var/lib/rancher/k3s/data/cni"\n'},
    "control-chars-in-names": {f"{CONF_DIR}/05-\x1b]0;PWNED\x07.conflist": "{}",
                               f"{CONF_DIR}/00-\x1b[2J\x9b.conf": _multus()},
    "alias-bomb-k3s-config": {K3S_CONFIG: BOMB},
    "alias-bomb-kubeconfig": {MULTUS_CONF: _multus(), KUBECONFIG: File(BOMB, mode=0o600)},
    "tagged-token-kubeconfig": {MULTUS_CONF: _multus(), KUBECONFIG: File(
        f"apiVersion: v1\nusers:\n- name: u\n  user:\n    token: !{TOKEN}\n", mode=0o600)},
    "token-in-broken-k3s-config": {K3S_CONFIG: f"token: {JOIN_TOKEN}\n  node-ip: [\n"},
    "token-line-broken-k3s-config": {K3S_CONFIG: f"node-ip: 10.0.0.1\ntoken: '{JOIN_TOKEN}\n"},
}
SECRETS = (TOKEN, JOIN_TOKEN, "joinsecretjoinsecret")

COMMANDS = {
    "check-text": ["check"], "check-json": ["check", "-o", "json"], "check-sarif": ["check", "-o", "sarif"],
    "check-junit": ["check", "-o", "junit"], "detect-text": ["detect"], "detect-json": ["detect", "-o", "json"],
    "inspect": ["kubeconfig", "inspect"],
}


def _build(tmp: Path, case: str) -> Path:
    return make_root(tmp / "node", {**k3s_server(), **ROOTS[case]})


def run(args: list[str], *, timeout: float = 30, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    def cap() -> None:  # an alias bomb must fail here, not eat the machine
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}
    return subprocess.run([sys.executable, "-m", "multusctl", *args], stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout, env=env, preexec_fn=cap, check=False)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(ROOTS))
def test_every_read_only_command_survives_hostile_roots(case: str, command: str, tmp_path: Path) -> None:
    root = _build(tmp_path, case)
    proc = run([*COMMANDS[command], "--root", str(root)])
    out = proc.stdout.decode("utf-8")  # valid UTF-8 whatever the node holds
    err = proc.stderr.decode("utf-8")
    both = out + err
    assert "Traceback" not in both and "internal error" not in both, both[-3000:]
    expected = (0, 2) if command in ("detect-text", "detect-json", "inspect") else (0, 1)
    assert proc.returncode in expected, (proc.returncode, both[-3000:])
    if proc.returncode == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("multusctl: "), err
    for s in SECRETS:
        assert s not in both, both
    # No control character reaches the terminal: text is escaped, JSON/SARIF/JUnit encode them.
    assert not any(c in both for c in "\x07\x9b\x00") and "\x1b]" not in both and "\x1b[2J" not in both


def test_a_path_that_cannot_exist_is_a_finding_on_its_field(tmp_path: Path) -> None:
    root = _build(tmp_path, "nul-multus-kubeconfig")
    doc = json.loads(run(["check", "--root", str(root), "-o", "json"]).stdout)
    hit = next(f for f in doc["findings"] if f["id"] == "kubeconfig-missing")
    assert hit["field"] == "kubeconfig" and "NUL byte, which no file name can hold" in hit["message"]


def test_detect_names_a_k3s_setting_that_cannot_be_a_path(tmp_path: Path) -> None:
    root = _build(tmp_path, "nul-k3s-config")
    doc = json.loads(run(["detect", "--root", str(root), "-o", "json"]).stdout)
    notes = " ".join(doc["evidence"]["runtime"])
    assert "data-dir '/var/lib/\\x00x' ignored: it contains a NUL byte" in notes
    assert doc["conf_dir"] == "/var/lib/rancher/k3s/agent/etc/cni/net.d"  # the default, not the bad value


def test_detect_escapes_control_characters_of_file_names(tmp_path: Path) -> None:
    root = make_root(tmp_path / "node", {**k3s_server(), f"{CONF_DIR}/10-\x1b]0;PWNED\x07.conflist": json.dumps(
        {"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "bridge"}]})})
    out = run(["detect", "--root", str(root)]).stdout.decode()
    assert "10-\\x1b]0;PWNED\\x07.conflist" in out and "\x1b" not in out


def test_an_alias_bomb_is_named_not_expanded(tmp_path: Path) -> None:
    root = _build(tmp_path, "alias-bomb-k3s-config")
    doc = json.loads(run(["detect", "--root", str(root), "-o", "json"]).stdout)
    assert any("excessive aliasing" in n for n in doc["evidence"]["runtime"])


def test_a_fifo_as_the_kubeconfig_is_refused_not_waited_on(tmp_path: Path) -> None:
    root = _build(tmp_path, "nul-k3s-config")
    fifo = root / KUBECONFIG.lstrip("/")
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    for args in (["kubeconfig", "inspect", "--root", str(root)], ["kubeconfig", "inspect", "--path", str(fifo)]):
        proc = run(args, timeout=20)
        assert proc.returncode == 2 and b"not a regular file" in proc.stderr, proc.stderr
    link = tmp_path / "loop"
    os.symlink(link, link)
    proc = run(["kubeconfig", "inspect", "--path", str(link)], timeout=20)
    assert proc.returncode == 2 and b"too many levels of symbolic links" in proc.stderr, proc.stderr


def test_a_file_swapped_for_a_fifo_during_check_never_hangs_it(tmp_path: Path) -> None:
    # Between the stat and the open of 10-flannel.conflist, it is sometimes a FIFO: the read must not block.
    root = make_root(tmp_path / "node", dict(k3s_server()))
    conf = root / CONF_DIR.lstrip("/") / "10-flannel.conflist"
    regular, fifo = conf.with_suffix(".regular"), conf.with_suffix(".fifo")
    os.link(conf, regular)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.mkfifo(fifo)
            os.replace(fifo, conf)
            time.sleep(0.0005)
            os.link(regular, fifo)
            os.replace(fifo, conf)
            time.sleep(0.0005)

    t = threading.Thread(target=swap, daemon=True)
    t.start()
    try:
        for _ in range(12):
            proc = run(["check", "--root", str(root), "-o", "json"], timeout=20)  # a hang fails here
            assert proc.returncode in (0, 1), proc.stderr.decode()[-2000:]
            json.loads(proc.stdout)
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("sink", ["/dev/full", "closed"])
def test_output_that_cannot_be_written_is_one_line_and_exit_2(sink: str, tmp_path: Path) -> None:
    root = make_root(tmp_path / "node", dict(k3s_server()))
    for args in (["check", "--root", str(root)], ["detect", "--root", str(root)]):
        if sink == "closed":  # `multusctl check >&-`
            cmd = ["sh", "-c", 'exec "$0" -m multusctl "$@" >&-', sys.executable, *args]
            proc = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        else:
            with open(sink, "w") as full:
                proc = run(args, stdout=full)
        err = proc.stderr.decode()
        assert proc.returncode == 2, err
        assert err.count("\n") == 1 and err.startswith("multusctl: cannot write to stdout: "), err


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    # `multusctl check -o sarif | true`: the pipe is closed before the report is written.
    root = make_root(tmp_path / "node", dict(k3s_server()))
    r, w = os.pipe()
    os.close(r)
    with os.fdopen(w, "w") as wf:
        proc = run(["check", "--root", str(root), "-o", "sarif"], stdout=wf)
    assert proc.returncode == 141 and proc.stderr == b"", proc.stderr


def test_the_read_itself_refuses_a_fifo_that_a_stat_called_a_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The race above made deterministic: the stat saw a regular file, the open meets a FIFO.
    from multusctl.gather import nodefs

    root = make_root(tmp_path / "node", {"/etc/cni/net.d/10-x.conf": "{}"})
    fs = nodefs.NodeFS(str(root))
    assert fs.stat("/etc/cni/net.d/10-x.conf") is not None  # cached as a regular file
    host = root / "etc/cni/net.d/10-x.conf"
    host.unlink()
    os.mkfifo(host)
    result: list[BaseException | bytes] = []
    t = threading.Thread(target=lambda: result.append(_try(fs.read_bytes, "/etc/cni/net.d/10-x.conf")), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "read_bytes blocked on a FIFO"
    assert isinstance(result[0], nodefs.NodeFSError) and "not a regular file" in str(result[0])


def _try(fn: Any, *args: Any) -> BaseException | bytes:
    try:
        return fn(*args)  # type: ignore[no-any-return]
    except Exception as exc:
        return exc


def test_create_refuses_an_admin_kubeconfig_that_is_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "admin.fifo"
    os.mkfifo(fifo)
    root = make_root(tmp_path / "node", dict(k3s_server()))
    proc = run(["kubeconfig", "create", "--root", str(root), "--kubeconfig", str(fifo), "--dry-run"], timeout=20)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.decode() == f"multusctl: kubeconfig create: cannot read {fifo}: not a regular file\n"


def test_create_names_a_looping_node_admin_kubeconfig_in_one_line(tmp_path: Path) -> None:
    root = make_root(tmp_path / "node", {**k3s_server()})
    admin = root / "etc/rancher/k3s/k3s.yaml"
    admin.unlink()
    admin.symlink_to("k3s.yaml")  # a loop onto itself
    env_home = tmp_path / "home"
    env_home.mkdir()
    proc = subprocess.run([sys.executable, "-m", "multusctl", "kubeconfig", "create", "--root", str(root),
                           "--dry-run", "--no-verify"], capture_output=True, text=True, timeout=30, check=False,
                          env={**os.environ, "HOME": str(env_home), "KUBECONFIG": ""})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "too many levels of symbolic links" in proc.stderr, proc.stderr


def test_nodefs_lookups_answer_instead_of_raising(tmp_path: Path) -> None:
    # What the checks stand on: no lookup of a node path raises, whatever the path value holds.
    from multusctl.gather.nodefs import NodeFS

    root = make_root(tmp_path / "node", {"/etc/cni/net.d/10-x.conf": "{}"})
    link = root / "etc/cni/net.d/loop"
    link.symlink_to("loop")
    fs = NodeFS(str(root))
    for bad in ("/etc/\x00x", "/etc/\ud800", "/etc/cni/net.d/loop", "/nope", "/" + "x" * 5000):
        assert fs.stat(bad) is None and not fs.exists(bad) and not fs.is_file(bad) and not fs.is_dir(bad)
        assert fs.read_or_none(bad) is None and fs.text_or_none(bad) is None and fs.names(bad) == []
    assert fs.resolve_or_none("/etc/cni/net.d/loop") is None
    assert fs.names("/etc/cni/net.d") == ["10-x.conf", "loop"] and fs.read_or_none("/etc/cni/net.d/10-x.conf") == b"{}"
