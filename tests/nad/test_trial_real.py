"""nad test with the real plugins of containernetworking-plugins (/usr/lib/cni) in real network namespaces:
what works reports its interfaces, what fails gives a finding, and nothing is left behind either way (`ip netns`
and `ip link` compared before and after)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BIN = "/usr/lib/cni"
MARKS = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
    pytest.mark.skipif(not os.path.exists(f"{BIN}/bridge"), reason=f"no {BIN}/bridge (containernetworking-plugins)"),
]
pytestmark = MARKS
FAKE_VERSION = 'if [ "$CNI_COMMAND" = VERSION ]; then echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'; ' \
               'exit 0; fi\n[ "$CNI_COMMAND" = DEL ] && exit 0\n'


def nad_file(tmp_path: Path, config: dict[str, Any], name: str = "t1") -> Path:
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                             "metadata": {"name": name, "namespace": "default"},
                             "spec": {"config": json.dumps(config)}}))
    return p


def state() -> tuple[set[str], set[str]]:
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {ln.split()[0] for ln in ns.splitlines() if ln.strip()}, set(os.listdir("/sys/class/net"))


def nad_test(*args: str, timeout: float = 90) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run([sys.executable, "-m", "multusctl", "nad", "test", *args, "-o", "json"],
                          capture_output=True, text=True, timeout=timeout, check=False)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = {}
    return proc.returncode, doc, proc.stderr


def assert_nothing_left(before: tuple[set[str], set[str]], doc: dict[str, Any], netns: tuple[str, ...] = (),
                        links_named: tuple[str, ...] = ()) -> None:
    """Ours only: other tests (also this suite's other xdist workers) make namespaces and links of their own
    meanwhile. Ours are the namespaces the report names (or `netns`), else any new `mctl-nad-*`; the host-side
    interfaces the report names (a bridge) and `links_named`."""
    ns, links = state()
    mine = {a["netns"] for a in doc.get("attachments", []) if a.get("netns")} | set(netns)
    if mine:
        assert not mine & ns, mine & ns
    else:
        assert not {n for n in ns - before[0] if n.startswith("mctl-nad-")}, ns - before[0]
    host_side = {i["name"] for a in doc.get("attachments", []) for i in a.get("interfaces", []) if not i.get("sandbox")}
    assert not (links - before[1]) & (host_side | set(links_named)), links - before[1]


def ids(doc: dict[str, Any]) -> set[str]:
    return {f["id"] for f in doc.get("findings", [])}


def bridge(subnet: str, name: str = "mctlbr0") -> dict[str, Any]:
    return {"type": "bridge", "bridge": name, "isGateway": True,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet}]]}}


def test_bridge_host_local(tmp_path: Path) -> None:
    before = state()
    rc, doc, err = nad_test(str(nad_file(tmp_path, {"cniVersion": "1.0.0", "name": "t1", **bridge("10.77.1.0/24")})),
                            "--bin-dir", BIN)
    assert rc == 0, (err, doc.get("findings"))
    (att,) = doc["attachments"]
    assert att["ok"] and [p["plugin"] for p in att["phases"]["DEL"]] == ["bridge"]
    assert "net1" in {i["name"] for i in att["interfaces"] if i.get("sandbox")}
    assert att["ips"][0]["address"].startswith("10.77.1.")
    assert "net1" in {link["name"] for link in att["sandbox_links"]}
    assert_nothing_left(before, doc)


def test_ptp(tmp_path: Path) -> None:
    before = state()
    conf = {"cniVersion": "1.0.0", "name": "t1", "type": "ptp",
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.79.0.0/24"}]]}}
    rc, doc, err = nad_test(str(nad_file(tmp_path, conf)), "--bin-dir", BIN, "--ifname", "ptp0")
    assert rc == 0, (err, doc.get("findings"))
    assert "ptp0" in {i["name"] for i in doc["attachments"][0]["interfaces"] if i.get("sandbox")}
    assert_nothing_left(before, doc)


def test_conflist_tuning_portmap_with_annotation(tmp_path: Path) -> None:
    before = state()
    conf = {"cniVersion": "1.0.0", "name": "t1", "plugins": [
        bridge("10.77.2.0/24", "mctlbr1"), {"type": "tuning", "mtu": 1400},
        {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}]}
    ann = json.dumps([{"name": "t1", "interface": "eth7",
                       "portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]}])
    rc, doc, err = nad_test(str(nad_file(tmp_path, conf)), "--bin-dir", BIN, "--annotation", ann)
    assert rc == 0, (err, doc.get("findings"))
    # portmap's CHECK looks for an IPv6 chain its ADD never made for an IPv4-only result: a warning, as kubelet
    # never runs CHECK; where a portmap build checks only what it made, there is no finding at all.
    assert {(f["id"], f["severity"]) for f in doc["findings"]} <= {("nad-attach-failed", "warning")}
    att = doc["attachments"][0]
    assert att["interface"] == "eth7" and [c["plugin"] for c in att["phases"]["ADD"]] == ["bridge", "tuning", "portmap"]
    assert [c["plugin"] for c in att["phases"]["DEL"]] == ["portmap", "tuning", "bridge"]  # reverse order
    assert {link["name"]: link["mtu"] for link in att["sandbox_links"]}["eth7"] == 1400
    assert_nothing_left(before, doc)


@pytest.fixture
def veth_master() -> Iterator[tuple[str, str]]:
    """A veth pair: one end the macvlan master on the host, the other in a namespace of ours with 10.78.0.1."""
    tag = uuid.uuid4().hex[:4]
    master, peer, ns = f"mctlm{tag}", f"mctlp{tag}", f"mctl-nad-peer-{tag}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "link", "add", master, "type", "veth", "peer", "name", peer], check=True)
        subprocess.run(["ip", "link", "set", peer, "netns", ns], check=True)
        subprocess.run(["ip", "-n", ns, "addr", "add", "10.78.0.1/24", "dev", peer], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", peer, "up"], check=True)
        subprocess.run(["ip", "link", "set", master, "up"], check=True)
        yield master, ns
    finally:
        subprocess.run(["ip", "link", "del", master], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], check=False)


def test_macvlan_over_veth_master_and_ping(tmp_path: Path, veth_master: tuple[str, str]) -> None:
    master, _ns = veth_master
    before = state()
    conf = {"cniVersion": "1.0.0", "name": "t1", "type": "macvlan", "master": master, "mode": "bridge",
            "ipam": {"type": "static", "addresses": [{"address": "10.78.0.2/24"}]}}
    rc, doc, err = nad_test(str(nad_file(tmp_path, conf)), "--bin-dir", BIN, "--ping", "10.78.0.1")
    assert rc == 0, (err, doc.get("findings"))
    assert doc["attachments"][0]["pings"] == [{"address": "10.78.0.1", "ok": True}]
    rc, doc, _ = nad_test(str(nad_file(tmp_path, conf)), "--bin-dir", BIN, "--ping", "10.78.0.9", "--timeout", "2s")
    assert rc == 1 and ids(doc) == {"nad-ping-failed"}
    assert_nothing_left(before, doc)


@pytest.mark.parametrize("kind", ["vlan", "ipvlan"])
def test_kernel_modules_this_machine_lacks(tmp_path: Path, kind: str, veth_master: tuple[str, str]) -> None:
    probe = subprocess.run(["ip", "link", "add", "mctlprobe", "link", veth_master[0], "type", kind,
                            *(["id", "5"] if kind == "vlan" else [])], capture_output=True, text=True, check=False)
    if probe.returncode:
        pytest.skip(f"this kernel has no {kind} support ({probe.stderr.strip()})")
    subprocess.run(["ip", "link", "del", "mctlprobe"], check=False)
    before = state()
    conf = {"cniVersion": "1.0.0", "name": "t1", "type": kind, "master": veth_master[0],
            **({"vlanId": 5} if kind == "vlan" else {}),
            "ipam": {"type": "static", "addresses": [{"address": "10.78.5.2/24"}]}}
    rc, doc, err = nad_test(str(nad_file(tmp_path, conf)), "--bin-dir", BIN)
    assert rc == 0, (err, doc.get("findings"))
    assert_nothing_left(before, doc)


def fake(tmp_path: Path, name: str, body: str) -> Path:
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text("#!/bin/sh\n" + FAKE_VERSION + body)
    p.chmod(0o755)
    return d


FAILURES = [
    ("missing plugin", {"type": "sriov"}, "", "nad-plugin-missing"),
    ("missing master", {"type": "macvlan", "master": "mctlnone0"}, "", "nad-master-missing"),
    ("bad IPAM (static check)", {"type": "bridge", "ipam": {"type": "host-local", "subnet": "10.1.0.0/33"}}, "",
     "nad-config-invalid"),
    ("bad IPAM (the plugin refuses)", {"type": "bridge", "bridge": "mctlbr2", "ipam": {
        "type": "host-local", "ranges": [[{"subnet": "10.77.3.0/24", "rangeStart": "10.77.3.9",
                                           "rangeEnd": "10.77.3.8"}]]}}, "", "nad-attach-failed"),
    ("plugin crash", {"type": "crash"}, "kill -SEGV $$\n", "nad-attach-failed"),
    ("plugin error result", {"type": "crash"}, 'echo \'{"code":7,"msg":"bad vlan"}\'; exit 1\n', "nad-attach-failed"),
    ("plugin hang", {"type": "crash"}, "sleep 60\n", "nad-plugin-timeout"),
]


@pytest.mark.parametrize(("name", "conf", "body", "want"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failure_paths_give_a_finding_and_leave_nothing(tmp_path: Path, name: str, conf: dict[str, Any], body: str,
                                                        want: str) -> None:
    extra = ["--bin-dir", str(fake(tmp_path, "crash", body))] if body else []
    before = state()
    start = time.monotonic()
    rc, doc, err = nad_test(str(nad_file(tmp_path, {"cniVersion": "1.0.0", "name": "t1", **conf})), "--bin-dir", BIN,
                            *extra, "--timeout", "1s")
    assert rc == 1, err
    assert ids(doc) == {want}, doc.get("findings")
    assert time.monotonic() - start < 30  # not a timing assertion: a hung plugin must not hang the run
    if want == "nad-attach-failed" and body:
        msg = doc["findings"][0]["message"]
        assert ("SIGSEGV" in msg) or ("CNI error 7 (invalid network config): bad vlan" in msg), msg
    assert_nothing_left(before, doc)


def test_ctrl_c_during_a_hung_plugin_cleans_up(tmp_path: Path) -> None:
    started = tmp_path / "started"
    bindir = fake(tmp_path, "crash", f'echo "$CNI_NETNS" > {started}\nsleep 60\n')
    before = state()
    proc = subprocess.Popen([sys.executable, "-m", "multusctl", "nad", "test",
                             str(nad_file(tmp_path, {"cniVersion": "1.0.0", "name": "t1", "type": "crash"})),
                             "--bin-dir", str(bindir), "--timeout", "60s"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (started.exists() and started.read_text().strip()):
        time.sleep(0.05)  # the plugin runs (and named the sandbox)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "sandbox was removed" in err
    assert_nothing_left(before, {}, netns=(os.path.basename(started.read_text().strip()),))
    ps = subprocess.run(["pgrep", "-f", str(bindir)], capture_output=True, text=True, check=False)
    assert not ps.stdout.strip(), "the plugin's process outlived the run"


def test_keep_leaves_the_namespace_and_says_how_to_remove_it(tmp_path: Path) -> None:
    conf = {"cniVersion": "1.0.0", "name": "t1", "type": "ptp",
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.79.1.0/24"}]]}}
    proc = subprocess.run([sys.executable, "-m", "multusctl", "nad", "test", str(nad_file(tmp_path, conf)),
                           "--bin-dir", BIN, "--keep"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("kept the sandbox"))
    cmd = line.split("remove it with: ", 1)[1]
    netns = cmd.split()[3]
    assert netns in state()[0]
    subprocess.run(cmd, shell=True, check=True)
    assert netns not in state()[0]


def ipam_dirs(network: str) -> list[str]:
    """host-local state of `network` in any private dataDir of nad test (other runs' dirs hold other names)."""
    import glob
    import tempfile

    return glob.glob(os.path.join(tempfile.gettempdir(), "multusctl-ipam-*", network))


def test_sigterm_during_a_hung_plugin_cleans_up(tmp_path: Path) -> None:
    """A conflist whose real bridge + host-local ADD has run (a bridge, a veth, an address taken in the private
    dataDir) when its second plugin hangs; SIGTERM then ends the run with 143 and none of that is left."""
    started = tmp_path / "started"
    bindir = fake(tmp_path, "hang", f'echo "$CNI_NETNS" > {started}\nsleep 60\n')
    network = f"sigterm{uuid.uuid4().hex[:6]}"
    conf = {"cniVersion": "1.0.0", "name": network, "plugins": [bridge("10.77.4.0/24", "mctlbr4"), {"type": "hang"}]}
    before = state()
    proc = subprocess.Popen([sys.executable, "-m", "multusctl", "nad", "test", str(nad_file(tmp_path, conf)),
                             "--bin-dir", BIN, "--bin-dir", str(bindir), "--timeout", "60s"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (started.exists() and started.read_text().strip()):
        time.sleep(0.05)  # bridge's ADD is done, `hang` runs (and named the sandbox)
    assert started.exists(), "the hanging plugin never ran"
    assert ipam_dirs(network), "host-local kept no state: the test would prove nothing"
    assert "mctlbr4" in os.listdir("/sys/class/net")
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 20  # not a timing assertion: the run must not wait for the plugin's sleep
    assert proc.returncode == 143, err
    assert "sandbox was removed" in err and err.count("\n") == 1, err
    assert_nothing_left(before, {}, netns=(os.path.basename(started.read_text().strip()),), links_named=("mctlbr4",))
    assert not ipam_dirs(network)
    ps = subprocess.run(["pgrep", "-f", str(bindir)], capture_output=True, text=True, check=False)
    assert not ps.stdout.strip(), "the plugin's process outlived the run"
