"""Which kubectl binaries the tests run.

On this machine `kubectl` is the Cloud SDK's dispatcher (/usr/lib/google-cloud-sdk/bin/kubectl). Each run
starts it, asks the server for /version and execs the client of the server's minor version beside it: two Go
start-ups and an extra request, ~0.2 s of CPU per run against ~0.1 s for the client alone, over some 160
runs. The tests therefore run the client the dispatcher would pick for the test cluster (`kubectl.1.31` for
its v1.31.4+k3s1) directly; tests/testing/test_kubectl.py proves the dispatcher picks that same client.
Where `kubectl` is a plain client, it is used as it is.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from multusctl.testing.server import GIT_VERSION

SDK_BIN = Path("/usr/lib/google-cloud-sdk/bin")


def dispatcher() -> str | None:
    """The `kubectl` on PATH, as a user runs it."""
    return shutil.which("kubectl")


def versioned(minor: str) -> str | None:
    """The Cloud SDK's client of one minor version (e.g. "1.27"), when installed."""
    path = SDK_BIN / f"kubectl.{minor}"
    return str(path) if path.exists() else None


def default_kubectl() -> str | None:
    """The client `kubectl` runs against the test cluster."""
    on_path = dispatcher()
    if on_path is None:
        return None
    match = re.match(r"v(\d+\.\d+)\.", GIT_VERSION)
    beside = Path(on_path).resolve().parent / f"kubectl.{match.group(1)}" if match else None
    return str(beside) if beside is not None and beside.exists() else on_path


KUBECTL = default_kubectl()
