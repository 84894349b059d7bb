"""The pod sees only the host trees it mounts: a finding about a path elsewhere is listed as unverified, never
reported as a missing file or "a symlink to nothing" (node_main.split_unseen over NodeFS.sees)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from multusctl.analyze import analyze_node
from multusctl.fleet.node_main import REPORT_PREFIX, UNSEEN, report_line
from multusctl.fleet.nodes import BASE_MOUNTS, mounts_for
from multusctl.gather.nodefs import NodeFS
from tests import distro_roots as roots
from tests.noderoot import Link, make_root

from .fleetkit import FHS, node_root

GENERATED = "/etc/cni/net.d/99-generated.conf"  # after the primary: only the link itself is at stake
GENERATED_TARGET = "/run/generated/99-generated.conf"


def pod_view(node: Path, view: Path, trees: tuple[str, ...]) -> Path:
    """What the pod's /host holds: the node's `trees` and nothing else, as its hostPath mounts give it."""
    view.mkdir()
    for tree in trees:
        if (node / tree.lstrip("/")).is_dir():
            shutil.copytree(node / tree.lstrip("/"), view / tree.lstrip("/"), symlinks=True)
    return view


def doc(line: str) -> dict:
    assert line.startswith(REPORT_PREFIX), line
    return dict(json.loads(line[len(REPORT_PREFIX):]))


def ids_and_paths(findings: list[dict]) -> list[tuple[str, str]]:
    return [(f["id"], f.get("path") or "") for f in findings]


def test_a_config_linked_into_run_is_unverified_in_the_pod_not_a_symlink_to_nothing(tmp_path: Path) -> None:
    node = node_root(tmp_path / "node", {**roots.kubeadm_worker(), GENERATED: Link(GENERATED_TARGET),
                                         GENERATED_TARGET: {"cniVersion": "0.3.1", "name": "generated",
                                                            "type": "bridge"}})
    on_node = [f.to_dict() for f in analyze_node(str(node), skip=tuple(UNSEEN)).findings]
    assert ("conf-invalid", GENERATED) not in ids_and_paths(on_node)
    view = pod_view(node, tmp_path / "host", BASE_MOUNTS)
    # A root read as the whole node: the link leads nowhere, and that would be reported on every such node.
    assert ("conf-invalid", GENERATED) in ids_and_paths(doc(report_line(str(view), "n1"))["findings"])

    report = doc(report_line(str(view), "n1", BASE_MOUNTS))
    assert ids_and_paths(report["findings"]) == ids_and_paths(on_node)
    assert report["unverified"] == [{"id": "conf-invalid", "path": GENERATED, "why": (
        f"it leads to {GENERATED_TARGET}, outside the host paths the pod mounts (/etc, /opt, /usr, /var/lib)")}]
    assert report["summary"] == {sev: sum(f["severity"] == sev for f in on_node) for sev in report["summary"]}


def test_a_tree_the_pod_mounts_under_run_is_judged_like_any_other(tmp_path: Path) -> None:
    """k0s keeps its CRI config in /run/k0s, which the k0s pod mounts: what is there is read, what is not is
    missing, as on the node."""
    node = make_root(tmp_path / "node", {**FHS, **roots.k0s_worker()})
    trees = mounts_for("k0s")
    report = doc(report_line(str(pod_view(node, tmp_path / "host", trees)), "k0s-1", trees))
    on_node = [f.to_dict() for f in analyze_node(str(node), skip=tuple(UNSEEN)).findings]
    assert ids_and_paths(report["findings"]) == ids_and_paths(on_node)
    assert "unverified" not in report


@pytest.mark.parametrize(("path", "trees", "seen"), [
    ("/etc/cni/net.d/a.conf", BASE_MOUNTS, True),
    ("/run/flannel/subnet.env", BASE_MOUNTS, False),
    ("/var/run/multus/x", BASE_MOUNTS, False),
    ("/var/lib/rancher/k3s/data/cni/bridge", BASE_MOUNTS, True),
    ("/etcetera/x", BASE_MOUNTS, False),  # a tree is a whole component, not a prefix of the name
    ("/run/k0s/containerd-cri.toml", mounts_for("k0s"), True),
    ("/run/k0s-other/x", mounts_for("k0s"), False),
    ("/etc/link-into-run", BASE_MOUNTS, False),  # followed to where it leads
    ("/anything", None, True),  # a node's "/" or a copy of one holds every tree
    ("/anything", ("/",), True),
])
def test_sees_follows_links_and_compares_whole_components(tmp_path: Path, path: str,
                                                           trees: tuple[str, ...] | None, seen: bool) -> None:
    root = make_root(tmp_path / "r", {"/etc/link-into-run": Link("/run/x"),
                                      "/etc/hosts": "127.0.0.1 localhost\n"})
    assert NodeFS(str(root), trees=trees).sees(path) is seen
