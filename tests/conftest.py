"""Fixtures shared by the `kubeconfig create` tests: a test cluster, an isolated HOME, the seed example root."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from multusctl.testing import TestCluster

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "k3s-agent-seed"


@pytest.fixture
def cluster() -> Iterator[TestCluster]:
    with TestCluster() as c:
        yield c


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dest = tmp_path / "examples"
    shutil.copytree(SEED, dest / SEED.name, symlinks=True)
    shutil.copy(REPO / "examples" / "modes.txt", dest / "modes.txt")
    subprocess.run(["sh", str(REPO / "examples" / "prepare.sh"), str(dest)], check=True, timeout=30)
    return dest / SEED.name


@pytest.fixture
def admin(cluster: TestCluster, tmp_path: Path) -> Path:
    return cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
