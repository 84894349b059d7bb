"""Backups of what install replaces and uninstall deletes: one YAML file per object, private."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any

import yaml

Obj = dict[str, Any]


def default_dir(verb: str, now: datetime | None = None) -> str:
    """$XDG_STATE_HOME/multusctl/backups/<verb>-<UTC time> (~/.local/state when unset)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return os.path.join(state, "multusctl", "backups", f"{verb}-{stamp}")


def _file_name(index: int, obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    parts = [str(obj.get("kind", "object")), meta.get("namespace") or "", str(meta.get("name", ""))]
    name = "-".join(p for p in parts if p)
    return f"{index:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.yaml"


class Backup:
    """Created on the first write, so a run that replaces nothing leaves no empty directory behind."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.files: list[str] = []

    def save(self, obj: Obj) -> str:
        # 0700 directory, 0600 files created private before a byte is written: a Secret or a ConfigMap
        # may be in there, and the backup lives under the user's home.
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        path = os.path.join(self.directory, _file_name(len(self.files) + 1, obj))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            yaml.safe_dump(obj, out, sort_keys=False)
        self.files.append(path)
        return path
