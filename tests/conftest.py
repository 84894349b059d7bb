"""Session-wide settings for the whole suite, and the fixtures the `kubeconfig` command tests share."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from multusctl.testing import TestCluster

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "k3s-agent-seed"
_PYCACHE: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Let the xdist workers and the `python -m multusctl` subprocesses (hundreds of them) keep their bytecode.

    Under PYTHONDONTWRITEBYTECODE every subprocess recompiles every multusctl module (tens of ms each run),
    and pytest cannot keep the assertion-rewritten test modules (~10 s of each worker's collection). The
    bytecode goes to pytest's cache dir (`.pytest_cache/d/pycache`, PYTHONPYCACHEPREFIX), never into the
    source tree, and stays for the next run (a warm collection takes ~4 s, a cold one ~9-13 s); without the
    cache plugin, to a temp dir of this session. The workers start after this and inherit it."""
    global _PYCACHE
    if "PYTHONDONTWRITEBYTECODE" in os.environ and "PYTHONPYCACHEPREFIX" not in os.environ:
        cache = getattr(config, "cache", None)
        if cache is not None:
            prefix = str(cache.mkdir("pycache"))
        else:
            prefix = _PYCACHE = tempfile.mkdtemp(prefix="multusctl-tests-pycache-")
        os.environ.pop("PYTHONDONTWRITEBYTECODE")
        os.environ["PYTHONPYCACHEPREFIX"] = prefix
        sys.dont_write_bytecode = False
        sys.pycache_prefix = prefix


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PYCACHE is not None:
        shutil.rmtree(_PYCACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _secrets_of_this_test_only() -> Iterator[None]:
    """Each command is one process, whose redaction registry starts empty; in-process tests get the same,
    so a secret remembered by one test (a random hypothesis string) cannot redact words in another."""
    from multusctl.config import secrets

    known, forms = dict(secrets._KNOWN), list(secrets._FORMS)
    yield
    secrets._KNOWN.clear()
    secrets._KNOWN.update(known)
    secrets._FORMS[:] = forms


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
