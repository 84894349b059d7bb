"""Helpers of the `check --all-nodes` tests: node roots, the run as a subprocess, what a run left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from multusctl.analyze import analyze_node
from multusctl.fleet.node_main import UNSEEN, split_unseen
from multusctl.fleet.nodes import BASE_MOUNTS
from multusctl.gather.nodefs import NodeFS
from multusctl.testing import TestCluster
from tests.noderoot import Dir, make_root

needs_kubelet = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                   reason="the test kubelet needs root and unshare")
FHS = {"/etc": Dir(), "/opt": Dir(), "/usr": Dir(), "/var/lib": Dir()}  # on every real node


def node_root(path: Path, files: dict[str, Any]) -> Path:
    return make_root(path, {**FHS, **files})


def expected(root: Path, trees: tuple[str, ...] = BASE_MOUNTS) -> list[tuple[str, str, str]]:
    """What `multusctl check --root` finds, less what a pod mounting `trees` cannot see (node_main: UNSEEN,
    findings about paths outside the trees)."""
    found = [f.to_dict() for f in analyze_node(str(root), skip=tuple(UNSEEN)).findings]
    kept, _ = split_unseen(found, NodeFS(str(root), trees=trees))
    return [(f["id"], f["severity"], f["message"]) for f in kept]


def got(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["id"], f["severity"], f["message"]) for f in report["findings"]]


def run_all(cluster: TestCluster, kubeconfig: Path, *args: str,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multusctl", "check", "--all-nodes", "--kubeconfig", str(kubeconfig),
                           *args], capture_output=True, text=True, timeout=timeout, check=False)


def leftovers(cluster: TestCluster) -> list[str]:
    """What a run may have left: its pods, DaemonSets and ConfigMaps (kube-root-ca.crt is the cluster's own)."""
    out = [f"pod/{p['metadata']['name']}" for p in cluster.store.list("", "pods", "kube-system")]
    out += [f"daemonset/{d['metadata']['name']}" for d in cluster.store.list("apps", "daemonsets", "kube-system")]
    out += [f"configmap/{c['metadata']['name']}" for c in cluster.store.list("", "configmaps", "kube-system")
            if c["metadata"]["name"] != "kube-root-ca.crt"]
    return out


def doc_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        return dict(json.loads(proc.stdout))
    except ValueError:
        raise AssertionError(f"not json (rc {proc.returncode}): {proc.stdout[-500:]} {proc.stderr[-1500:]}") from None
