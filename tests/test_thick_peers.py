"""The rendered thick DaemonSet for k3s run with the real upstream v4.3.0 `multus-daemon` and `multus-shim`
(../shared/peers; how they are laid out: tests/thickkit.py): the daemon writes its config into the k3s conf
dir and listens where the shim dials, `multusctl check --root` judges that node clean, and the shim ADDs and
DELs a pod with a NetworkAttachmentDefinition through the daemon. Then the facts the thick checks rely on,
each against the real daemon: its start-up cniVersion refusal, the merge of the shim's config with
daemon-config.json (gather/effective.py), and the plugin lookup in the daemon's own mount namespace.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multusctl.gather import effective
from multusctl.testing import TestCluster
from tests import thickkit as T
from tests.manifestrun import findings
from tests.peerkit import NETWORKS, host_local_reservations, network_status, seed_pod

pytestmark = T.PEER_MARKS


@pytest.fixture
def sandbox() -> Iterator[str]:
    with T.netns() as name:
        yield name


def _nad(cluster: TestCluster) -> None:
    cluster.seed([{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                   "metadata": {"name": "extra", "namespace": "default"},
                   "spec": {"config": json.dumps(T.nad_config())}}])


def test_rendered_thick_daemon_and_shim_run_a_pod(cluster: TestCluster, tmp_path: Path) -> None:
    node = T.k3s_node(tmp_path)
    objs = T.render(node)  # auto: k3s from the root
    T.seed(cluster, objs)
    _nad(cluster)
    pod = seed_pod(cluster, annotations={NETWORKS: "extra"})
    T.install_shim(node)
    links_before = T.host_links()
    with T.netns() as sandbox, T.running_daemon(objs, node, tmp_path, cluster, sandbox) as d:
        conf = T.started(d, node)
        path = T.multus_conf(node)
        assert path is not None and path.name == "00-multus.conf", path
        # What the daemon generated from daemon-config.json: the primary by its in-pod path, no
        # daemonSocketDir (so the shim dials its default /run/multus/, the host side of socketDir).
        assert conf["type"] == "multus-shim" and "daemonSocketDir" not in conf, conf
        assert conf["clusterNetwork"] == "/host/etc/cni/net.d/10-ptp.conf", conf
        report = T.check(node, "--daemon-config", T.save_daemon_config(objs, node))
        assert T.errors(report) == [], report["findings"]
        assert report["target"]["mode"] == "thick"

        add = T.shim(node, "ADD", conf, sandbox, pod)
        assert add.returncode == 0, add.stdout + add.stderr + d.output
        result = json.loads(add.stdout)
        assert result["ips"][0]["address"] == "10.250.1.2/24", result
        status = network_status(cluster)
        assert [s["name"] for s in status] == ["cbr0", "default/extra"], status
        assert [s["interface"] for s in status] == ["eth0", "net1"], status
        assert T.netns_links(sandbox) == {"lo", "eth0", "net1"}
        added = T.host_links() - links_before  # the host ends of both ptp veths
        assert len([n for n in added if n.startswith("veth")]) >= 2, added
        assert len(host_local_reservations(node / T.IPAM_DIR.lstrip("/"))) == 2

        delete = T.shim(node, "DEL", conf, sandbox, pod)
        # The shim exits 0 even when the daemon's DEL fails; it then logs `CmdDel (shim): ...` to stderr.
        assert delete.returncode == 0 and "CmdDel (shim)" not in delete.stderr, delete.stderr + d.output
        assert T.netns_links(sandbox) == {"lo"}, d.output
        assert not (added & T.host_links()), added & T.host_links()
        assert host_local_reservations(node / T.IPAM_DIR.lstrip("/")) == []
        cache = [p for p in (node / "var/lib/cni/multus").rglob("*") if p.is_file()]
        assert cache == [], "multus's delegate cache outlived the DEL"
    # Daemon stopped (its mount namespace with it) and sandbox deleted: no netns, no link of ours is left.
    # (Only ours: the other xdist workers make and delete namespaces of their own meanwhile.)
    assert sandbox not in T.netns_names()
    assert not (T.host_links() - links_before) & added


def test_v4_3_0_conflist_primary_del_is_lossy(cluster: TestCluster, tmp_path: Path, sandbox: str) -> None:
    """MC#1449 (fixed after v4.3.0 by PR #1521): a conflist delegate is cached with only the keys of
    libcni's PluginConf, so its DEL runs without plugin fields (here host-local's ranges) and the IP leaks."""
    node = T.k3s_node(tmp_path, conflist=True)
    objs = T.render(node)
    T.seed(cluster, objs)
    pod = seed_pod(cluster)
    T.install_shim(node)
    with T.running_daemon(objs, node, tmp_path, cluster, sandbox) as d:
        conf = T.started(d, node)
        add = T.shim(node, "ADD", conf, sandbox, pod)
        assert add.returncode == 0, add.stdout + add.stderr + d.output
        delete = T.shim(node, "DEL", conf, sandbox, pod)
        # The shim logs a failed DEL and exits 0 ("No error in DEL", pkg/server/api/shim.go CmdDel): the
        # runtime never learns of it, so the leak is silent.
        assert delete.returncode == 0
        assert ("CmdDel (shim): CNI request failed with status 400" in delete.stderr
                and 'plugin type="ptp" failed (delete): no IP ranges specified' in delete.stderr), delete.stderr
        assert '"plugins":[{"ipam":{"type":"host-local"},"type":"ptp"}]' in d.output  # what DEL was given
        assert host_local_reservations(node / T.IPAM_DIR.lstrip("/")) == ["10.250.1.2"]
        # The node check names this: the daemon's clusterNetwork (an in-pod path) is the primary conflist.
        report = T.check(node, "--daemon-config", T.save_daemon_config(objs, node))
        (hit,) = [f for f in report["findings"] if f["id"] == "conflist-del-lossy"]
        assert "The thick shim logs the failed DEL and exits 0" in hit["message"], hit
        assert hit["evidence"]["conflist"].endswith("/10-ptp.conflist"), hit


def test_daemon_refuses_a_newer_cni_version_over_the_primary(cluster: TestCluster, tmp_path: Path) -> None:
    node = T.k3s_node(tmp_path, primary_version="0.3.1")
    objs = T.render(node)
    T.seed(cluster, objs)
    T.set_daemon_config(objs, {**T.daemon_config(objs), "cniVersion": "1.0.0"})
    T.install_shim(node)  # the init container ran: Multus is installed, only its config never appears
    with T.running_daemon(objs, node, tmp_path, cluster, None) as d:
        rc = d.proc.wait(timeout=15)
    assert rc == 2, d.output
    assert ("failed to create the configuration manager for the primary CNI plugin: failed to load the primary "
            "CNI configuration as a multus delegate with error 'delegate cni version is 0.3.1 while top level cni "
            "version is 1.0.0'") in d.output, d.output
    assert T.multus_conf(node) is None
    assert not (node / "run/multus/multus.sock").exists()
    report = T.check(node, "--daemon-config", T.save_daemon_config(objs, node))
    by_id = {f["id"]: f for f in report["findings"]}
    assert by_id["cni-version-mismatch"]["severity"] == "error", report["findings"]
    assert "delegate cni version is 0.3.1 while top level cni version is 1.0.0" in by_id["cni-version-mismatch"][
        "message"]
    assert by_id["cni-version-mismatch"]["path"] == T.DAEMON_CONFIG_NODE_PATH
    missing = by_id["multus-config-missing"]
    assert missing["severity"] == "error" and "the thick daemon refuses to start" in missing["message"], missing


def test_daemon_merges_the_shim_config_as_effective_config_says(cluster: TestCluster, tmp_path: Path,
                                                                 sandbox: str) -> None:
    node = T.k3s_node(tmp_path)
    objs = T.render(node)
    T.seed(cluster, objs)
    pod = seed_pod(cluster)
    T.install_shim(node)
    daemon = T.daemon_config(objs)
    daemon_path = T.save_daemon_config(objs, node)

    def effective_of(shim_conf: dict[str, Any]) -> effective.EffectiveConfig:
        return effective.thick(shim_conf, "/shim.conf", "", daemon, daemon_path)

    with T.running_daemon(objs, node, tmp_path, cluster, sandbox) as d:
        conf = T.started(d, node)

        def run(shim_conf: dict[str, Any]) -> tuple[subprocess.CompletedProcess[str], str]:
            mark = len(d.output)
            add = T.shim(node, "ADD", shim_conf, sandbox, pod)
            out = d.output[mark:]
            delete = T.shim(node, "DEL", conf, sandbox, pod)  # the runtime's conf: a clean slate for the next
            assert delete.returncode == 0 and "CmdDel (shim)" not in delete.stderr, delete.stderr + d.output
            return add, out

        # binDir in both: daemon-config.json's is copied over the shim's, so the bad one is never used.
        shim_conf = {**conf, "binDir": "/nonexistent/shim"}
        said = effective_of(shim_conf).get("binDir")
        assert said is not None and (said.value, said.source) == (daemon["binDir"], daemon_path)
        add, _ = run(shim_conf)
        assert add.returncode == 0, add.stdout + add.stderr + d.output

        # A case-only collision: the shim's `bindir` and daemon-config's `binDir` are two map keys; the
        # re-encoded map is sorted, so `bindir` comes last and wins, although daemon-config is the override.
        shim_conf = {k: v for k, v in conf.items() if k != "binDir"} | {"bindir": "/nonexistent/lower"}
        said = effective_of(shim_conf).get("binDir")
        assert said is not None
        assert (said.key, said.value, said.source) == ("bindir", "/nonexistent/lower", "/shim.conf")
        add, _ = run(shim_conf)
        assert add.returncode != 0
        assert 'failed to find plugin "ptp" in path [/nonexistent/lower]' in add.stdout + add.stderr, add.stdout

        # logLevel in both: daemon-config's verbose wins, so the request logs no debug lines ...
        shim_conf = {**conf, "logLevel": "debug"}
        assert effective_of(shim_conf).text("logLevel") == "verbose"
        add, out = run(shim_conf)
        assert add.returncode == 0 and "[debug]" not in out, out
        # ... and the shim's lowercase `loglevel` wins over it: the daemon switches to debug for the request.
        shim_conf = {**conf, "loglevel": "debug"}
        assert effective_of(shim_conf).text("logLevel") == "debug"
        add, out = run(shim_conf)
        assert add.returncode == 0 and "[debug] confAdd:" in out, out


def test_v4_3_0_looks_plugins_up_in_the_daemon_pod(cluster: TestCluster, tmp_path: Path, sandbox: str) -> None:
    """binDir is a host path (the exec is chrooted into /hostroot), and the lookup runs in the pod: mounted
    only under /host (like the conf dir), the k3s data dir is invisible at binDir in the pod."""
    node = T.k3s_node(tmp_path)
    objs = T.render(node)
    spec = T.daemonset(objs)["spec"]["template"]["spec"]
    (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == "/var/lib/rancher/k3s/data"]
    mount["mountPath"] = "/host/var/lib/rancher/k3s/data"
    T.seed(cluster, objs)
    pod = seed_pod(cluster)
    T.install_shim(node)
    with T.running_daemon(objs, node, tmp_path, cluster, sandbox) as d:
        conf = T.started(d, node)  # the daemon starts: its own paths are all mounted
        add = T.shim(node, "ADD", conf, sandbox, pod)
        assert add.returncode != 0
        assert ('failed to find plugin "ptp" in path [/var/lib/rancher/k3s/data/cni]' in add.stdout + add.stderr
                ), add.stdout + add.stderr
        T.shim(node, "DEL", conf, sandbox, pod)
    # The node check cannot see a DaemonSet's mounts (thick-unmounted-path assumes the render's); the
    # manifest check reads them, and names exactly what the real daemon failed on.
    found = [f.message for f in findings(objs, "k3s", node) if f.id == "manifest-thick-path-unmounted"]
    assert any("/var/lib/rancher/k3s/data/cni is not mounted at the same path in the daemon's pod" in m
               for m in found), found
