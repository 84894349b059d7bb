"""`multusctl bundle` as an operator runs it: against the test cluster and a node root full of planted secrets,
every section is in the tarball and in the index, and no member holds any planted secret in any view (raw,
JSON-unescaped, base64-decoded) while the tokens' fingerprints are there to match against; without a cluster
the node part is still written and the index says why the rest is missing."""

from __future__ import annotations

import io
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from multusctl.config.secrets import fingerprint
from multusctl.testing import TestCluster
from tests import distro_roots as roots
from tests.bundle.conftest import CM_JOIN_PASSWORD, Planted, members, run_bundle
from tests.bundle.scan import leaks
from tests.fleet.fleetkit import needs_kubelet
from tests.noderoot import File

SECTIONS = ["node", "doctor", "daemonsets", "pods", "configmaps", "nads", "stuck-pods", "logs", "versions"]


def index(files: dict[str, bytes]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(files["index.json"])
    return doc


def sections(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["sections"]}


def test_a_full_bundle_has_every_section_and_no_planted_secret(
        cluster: TestCluster, admin: Path, node_root: Path, populated: dict[str, Any], planted: Planted,
        workdir: Path) -> None:
    out = workdir / "b.tar.gz"
    res = run_bundle("--root", str(node_root), "--kubeconfig", str(admin), "-o", str(out), cwd=workdir)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().strip() == str(out)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    files = members(out)
    doc = index(files)
    got = sections(doc)
    assert list(got) == SECTIONS
    for name in SECTIONS:
        assert got[name]["status"] == "ok", got[name]
        for path in got[name]["files"]:
            assert path in files and path in doc["files"], path
    assert set(files) == set(doc["files"]) | {"index.json", "INDEX.md"}
    assert "INDEX.md" in files and "| stuck-pods | ok |" in files["INDEX.md"].decode()

    check = json.loads(files["node/check.json"])
    assert check["schema"] == "multusctl.report/v1" and check["target"]["distro"] == "k3s"
    assert json.loads(files["node/detect.json"])["schema"] == "multusctl.detect/v1"
    steps = {s["name"]: s for s in json.loads(files["doctor/doctor.json"])["steps"]}
    assert steps["admin"]["status"] == "ok" and steps["daemonset"]["status"] == "ok"

    ds = json.loads(files["cluster/daemonsets.json"])
    assert [d["metadata"]["name"] for d in ds] == ["kube-multus-ds"]
    assert all("managedFields" not in d["metadata"] for d in ds)
    pods = json.loads(files["cluster/multus-pods.json"])
    assert sorted(p["metadata"]["name"] for p in pods) == ["kube-multus-ds-aaaaa", "kube-multus-ds-bbbbb"]
    cms = {c["metadata"]["name"] for c in json.loads(files["cluster/configmaps.json"])}
    assert cms == {"multus-kubeconfig", "daemon-cfg"}  # daemon-cfg: mounted by the DaemonSet
    nads = json.loads(files["cluster/network-attachment-definitions.json"])
    assert sorted(n["metadata"]["name"] for n in nads) == ["macvlan-conf", "odd"]
    stuck = json.loads(files["cluster/stuck-pods.json"])
    assert [p["metadata"]["name"] for p in stuck] == ["web"]
    events = json.loads(files["cluster/stuck-pod-events.json"])
    assert sorted(e["metadata"]["name"] for e in events["default/web"]) == ["web.1", "web.2"]
    assert "kube-system/kube-multus-ds-aaaaa/kube-multus.log".join(["logs/", ""]) in files
    assert "Readiness Indicator file check" in files["logs/kube-system/kube-multus-ds-aaaaa/kube-multus.log"].decode()
    assert "logs/kube-system/kube-multus-ds-bbbbb/kube-multus.previous.log" in files  # it restarted
    assert "logs/kube-system/kube-multus-ds-aaaaa/kube-multus.previous.log" not in files
    versions = json.loads(files["versions.json"])
    assert versions["server"]["gitVersion"]
    assert {n["kubeletVersion"] for n in versions["nodes"]} == {"v1.31.4+k3s1"}
    assert versions["multus_images"][0]["tag"] == "v4.3.0-thick"

    # Never a Secret object, and no planted secret in any view of any member.
    everything = b"\n".join(files.values()).decode("utf-8", "replace")
    assert "multus-extra" not in everything
    for path, data in files.items():
        assert leaks(data.decode("utf-8", "replace"), planted.secrets) == [], path
    for name, token in planted.tokens.items():
        assert fingerprint(token) in everything, name
    nad_token = f"K10{'ab' * 32}::server:{CM_JOIN_PASSWORD}"  # unknown to multusctl: found by its shape
    assert fingerprint(nad_token) in files["cluster/network-attachment-definitions.json"].decode()
    assert "<private key removed>" in files["cluster/configmaps.json"].decode()
    assert "<private key removed>" in files["logs/kube-system/kube-multus-ds-bbbbb/kube-multus.log"].decode()


def test_without_a_reachable_cluster_the_node_part_is_written_and_the_index_says_why(
        cluster: TestCluster, node_root: Path, workdir: Path, planted: Planted) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kc = cluster.kubeconfig_for_token(workdir / "dead.kubeconfig", "x" * 40, server=f"https://127.0.0.1:{port}")
    res = run_bundle("--root", str(node_root), "--kubeconfig", str(kc), cwd=workdir)
    assert res.returncode == 0, res.stderr.decode()
    written = [p for p in workdir.iterdir() if p.name.startswith("multusctl-bundle-")]
    assert len(written) == 1 and written[0].name.endswith(".tar.gz")
    assert res.stdout.decode().strip() == written[0].name
    files = members(written[0])
    got = sections(index(files))
    assert got["node"]["status"] == "ok" and "node/check.json" in files and "node/detect.json" in files
    assert got["doctor"]["status"] == "ok"
    for name in SECTIONS[2:]:
        assert got[name]["status"] == "failed"
        assert "not reachable" in got[name]["errors"][0] and "connection refused" in got[name]["errors"][0]
    assert "connection refused" in files["INDEX.md"].decode()
    for path, data in files.items():
        assert leaks(data.decode("utf-8", "replace"), planted.secrets | {"dead token": "x" * 40}) == [], path


def test_without_any_admin_kubeconfig_the_index_says_so(tmp_path: Path, workdir: Path) -> None:
    from tests import distro_roots as roots
    from tests.noderoot import make_root

    root = make_root(tmp_path / "agent", roots.k3s_agent())
    res = run_bundle("--root", str(root), "-o", "-", cwd=workdir)
    assert res.returncode == 0, res.stderr.decode()
    path = workdir / "from-stdout.tar.gz"
    path.write_bytes(res.stdout)
    files = members(path)
    got = sections(index(files))
    assert got["node"]["status"] == "ok"
    assert "no admin kubeconfig found" in got["daemonsets"]["errors"][0]
    assert list(workdir.glob("multusctl-bundle-*")) == []


def test_an_output_path_that_is_a_symlink_is_refused_before_anything_is_collected(
        tmp_path: Path, workdir: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = workdir / "b.tar.gz"
    link.symlink_to(victim)
    res = run_bundle("--root", str(tmp_path), "-o", str(link), cwd=workdir)
    assert res.returncode == 2
    assert "symbolic link" in res.stderr.decode()
    assert victim.read_text() == "keep me" and link.is_symlink()
    assert [p.name for p in workdir.iterdir()] == ["b.tar.gz"]


def test_bad_usage_exits_2(tmp_path: Path, workdir: Path) -> None:
    res = run_bundle("--root", str(tmp_path), "--all-nodes", cwd=workdir)
    assert res.returncode == 2 and "not both" in res.stderr.decode()
    res = run_bundle("-o", str(tmp_path / "no" / "such" / "dir.tar.gz"), "--root", str(tmp_path), cwd=workdir)
    assert res.returncode == 2 and "no such directory" in res.stderr.decode()


def test_a_failed_write_leaves_no_file_at_the_target_nor_a_temp_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from multusctl.bundle import archive

    target = tmp_path / "b.tar.gz"
    target.write_bytes(b"the old bundle")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.os, "fsync", full_disk)
    with pytest.raises(archive.ArchiveError, match="no space left"):
        archive.write_atomic(str(target), b"x" * 100_000)
    assert target.read_bytes() == b"the old bundle"
    assert [p.name for p in tmp_path.iterdir()] == ["b.tar.gz"]
    monkeypatch.undo()
    archive.write_atomic(str(tmp_path / "new.tar.gz"), b"data")
    assert stat.S_IMODE(os.stat(tmp_path / "new.tar.gz").st_mode) == 0o600


def test_the_archive_is_deterministic_but_for_time() -> None:
    from multusctl.bundle.archive import tar_gz

    a = tar_gz("top", [("a/b.json", b"{}"), ("c.log", b"x")], 1_700_000_000)
    b = tar_gz("top", [("a/b.json", b"{}"), ("c.log", b"x")], 1_700_000_000)
    assert a == b
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(a)) as tar:
        assert tar.getnames() == ["top", "top/a", "top/a/b.json", "top/c.log"]


def test_on_a_terminal_each_section_is_one_line_on_stderr(tmp_path: Path, workdir: Path) -> None:
    import pty
    import subprocess
    import sys

    from tests.bundle.conftest import REPO

    main, sub = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"PYTHONPATH": str(REPO / "src"),
                                                                        "HOME": str(workdir)}
    proc = subprocess.run([sys.executable, "-m", "multusctl", "bundle", "--root", str(tmp_path), "-o", "b.tar.gz"],
                          cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=sub, timeout=120, check=False)
    os.close(sub)
    err = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(main)
    assert proc.returncode == 0, err
    lines = [line for line in err.decode().splitlines() if line.startswith("bundle: ")]
    assert [line.split(":")[1].strip() for line in lines] == SECTIONS, lines
    assert lines[0].startswith("bundle: node: partial (1 file): check: no Kubernetes node")  # detect.json only
    assert proc.stdout.decode().strip() == "b.tar.gz"


@pytest.mark.root
@needs_kubelet
def test_all_nodes_bundle_holds_every_nodes_report_and_leaves_nothing(tmp_path: Path, workdir: Path) -> None:
    """--all-nodes: the same run as `check --all-nodes` (real pods on simulated nodes), its document under
    nodes/, the planted token of a node's kubeconfig nowhere in the bundle."""
    from multusctl.testing import TestCluster
    from multusctl.testing.nodes import SimNode
    from tests.fleet.fleetkit import leftovers, node_root

    planted = "eyJhbGciOiJSUzI1NiJ9." + "c2VjcmV0LXBheWxvYWQtZm9yLWZsZWV0" + ".c2lnbmF0dXJlLWZsZWV0LXRlc3Q"
    files = roots.k3s_agent()
    files[f"{roots.K3S_CONF_DIR}/multus.d/multus.kubeconfig"] = File(
        roots.kubeconfig("https://10.43.0.1:443") + f"    token: {planted}\n", mode=0o600)
    k3s = node_root(tmp_path / "k3s", files)
    kadm = node_root(tmp_path / "kadm", roots.kubeadm_worker())
    with TestCluster(nodes=[SimNode("agent-1", k3s), SimNode("worker-1", kadm),
                            SimNode("gone-1", kadm, notready=True)]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        out = workdir / "fleet.tar.gz"
        res = run_bundle("--all-nodes", "--kubeconfig", str(kc), "-o", str(out), cwd=workdir, timeout=180)
        assert res.returncode == 0, res.stderr.decode()[-2000:]
        got = members(out)
        doc = json.loads(next(v for k, v in got.items() if k.endswith("nodes/all-nodes.json")))
        by_node = {n["node"]: n for n in doc["nodes"]}
        assert set(by_node) == {"agent-1", "worker-1", "gone-1"}
        assert by_node["agent-1"]["checked"] and by_node["agent-1"]["report"]["target"]["distro"] == "k3s"
        assert by_node["worker-1"]["report"]["target"]["distro"] == "kubeadm"
        assert [f["id"] for f in by_node["gone-1"]["report"]["findings"]] == ["node-gather-failed"]
        index = json.loads(next(v for k, v in got.items() if k.endswith("index.json")))
        assert "nodes/all-nodes.json" in json.dumps(index)
        for name, data in got.items():
            assert planted.encode() not in data, name
        deadline = time.monotonic() + 15
        while leftovers(cluster) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leftovers(cluster) == []


def test_stdout_takes_all_of_it_or_says_it_was_cut() -> None:
    """A raw pipe takes a part per write: every byte must go, and a reader gone half-way is an error."""
    from multusctl.cli.bundle import write_all

    class Pipe:
        def __init__(self, room: int) -> None:
            self.got, self.room = b"", room

        def write(self, chunk: memoryview) -> int:
            if len(self.got) >= self.room:
                raise BrokenPipeError(32, "Broken pipe")
            part = bytes(chunk[:65536])
            self.got += part
            return len(part)

        def flush(self) -> None:
            pass

    data = os.urandom(300_000)
    pipe, progress = Pipe(10**9), [0]
    write_all(pipe, data, progress)
    assert pipe.got == data and progress == [len(data)]
    cut, progress = Pipe(70_000), [0]
    with pytest.raises(BrokenPipeError):
        write_all(cut, data, progress)
    assert progress[0] == 131072 < len(data)


@pytest.mark.root
@needs_kubelet
@pytest.mark.parametrize("signame, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_all_nodes_bundle_interrupted_writes_nothing_and_leaves_nothing(tmp_path: Path, workdir: Path, signame: str,
                                                                        status: int) -> None:
    import signal
    import subprocess
    import sys

    from multusctl.testing import TestCluster
    from multusctl.testing.nodes import SimNode
    from tests.bundle.conftest import REPO
    from tests.fleet.fleetkit import leftovers, node_root

    root = node_root(tmp_path / "kadm", roots.kubeadm_worker())
    with TestCluster(nodes=[SimNode("slow-1", root, slow=600)]) as cluster:
        kc = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        out = workdir / "cut.tar.gz"
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"PYTHONPATH": str(REPO / "src"),
                                                                            "HOME": str(workdir)}
        proc = subprocess.Popen([sys.executable, "-m", "multusctl", "bundle", "--all-nodes", "--kubeconfig", str(kc),
                                 "-o", str(out)], cwd=workdir, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not any(x.startswith("pod/") for x in leftovers(cluster)) and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(getattr(signal, signame))
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == status, err.decode()
        assert "interrupted; nothing written" in err.decode()
        assert not out.exists() and list(workdir.iterdir()) == []
        deadline = time.monotonic() + 15
        while leftovers(cluster) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leftovers(cluster) == []
