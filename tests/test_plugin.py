"""The same entry point installs as `kubectl-multus`, so `kubectl multus ...` works."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def test_kubectl_plugin_dispatch(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    plugin = shutil.which("kubectl-multus")
    if not kubectl or not plugin:
        pytest.skip("needs kubectl and the installed kubectl-multus console script")
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{Path(plugin).parent}:{os.environ['PATH']}"}
    out = subprocess.run([kubectl, "multus", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "kubectl multus" in out.stdout
    assert "check" in out.stdout and "detect" in out.stdout
