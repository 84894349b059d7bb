"""cni/sandbox.py's stand-ins for shutil.which, tempfile.mkdtemp and shutil.rmtree (no root needed)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from multusctl.cni import sandbox


def test_which_finds_what_shutil_finds() -> None:
    import shutil

    for cmd in ("sh", "ls", "no-such-command-here"):
        assert sandbox._which(cmd) == shutil.which(cmd)


def test_mkdtemp_is_private_and_under_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    made = sandbox._mkdtemp("multusctl-ipam-")
    assert Path(made).parent == tmp_path and Path(made).name.startswith("multusctl-ipam-")
    assert stat.S_IMODE(os.stat(made).st_mode) == 0o700
    assert sandbox._mkdtemp("multusctl-ipam-") != made


def test_rmtree_removes_a_tree_and_never_follows_a_link(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "f").write_text("x")
    top = tmp_path / "data"
    (top / "net" / "deep").mkdir(parents=True)
    (top / "net" / "10.0.0.2").write_text("id")
    (top / "lock").write_text("")
    (top / "net" / "link").symlink_to(keep)
    sandbox._rmtree(str(top))
    assert not top.exists() and (keep / "f").exists()
    sandbox._rmtree(str(top))  # gone already: no error, as rmtree(ignore_errors=True)
