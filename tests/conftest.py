"""Session-wide settings for the whole suite."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_PYCACHE: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Let the `python -m multusctl` subprocesses (hundreds of them) keep their bytecode.

    Under PYTHONDONTWRITEBYTECODE every subprocess recompiles every multusctl module (tens of ms each run);
    the bytecode goes to a temp dir of this session (PYTHONPYCACHEPREFIX), never into the source tree."""
    global _PYCACHE
    if "PYTHONDONTWRITEBYTECODE" in os.environ and "PYTHONPYCACHEPREFIX" not in os.environ:
        _PYCACHE = tempfile.mkdtemp(prefix="multusctl-tests-pycache-")
        os.environ.pop("PYTHONDONTWRITEBYTECODE")
        os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PYCACHE is not None:
        shutil.rmtree(_PYCACHE, ignore_errors=True)
