"""Build node roots (a folder laid out like a node's "/") for tests, from a dict of node paths."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Link:
    """A symlink whose target is written as-is (absolute targets point inside the node root)."""

    target: str


@dataclass(frozen=True)
class Dir:
    mode: int = 0o755


@dataclass(frozen=True)
class Fifo:
    """A named pipe: a read that opens it blocking would hang until a writer comes."""


@dataclass(frozen=True)
class File:
    content: str | bytes | dict | list
    mode: int = 0o644
    uid: int | None = None


Entry = str | bytes | dict | list | Link | Dir | File | Fifo


def make_root(base: Path, files: dict[str, Entry | Any]) -> Path:
    """Write `files` under `base` and return it. dict/list values are written as JSON."""
    base.mkdir(parents=True, exist_ok=True)
    for node_path, entry in files.items():
        host = base / node_path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(entry, Link):
            os.symlink(entry.target, host)
            continue
        if isinstance(entry, Fifo):
            os.mkfifo(host)
            continue
        if isinstance(entry, Dir):
            host.mkdir(parents=True, exist_ok=True)
            os.chmod(host, entry.mode)
            continue
        spec = entry if isinstance(entry, File) else File(entry)
        content = spec.content
        if isinstance(content, dict | list):
            content = json.dumps(content, indent=2)
        data = content.encode() if isinstance(content, str) else content
        host.write_bytes(data)
        os.chmod(host, spec.mode)
        if spec.uid is not None and os.geteuid() == 0:
            os.chown(host, spec.uid, spec.uid)
    return base
