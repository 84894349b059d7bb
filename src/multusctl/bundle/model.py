"""What collectors hand back: members (a path inside the bundle and its content) grouped in sections, each
saying what it collected and what failed. Content stays data until the archive is written, so the one scrub
step sees every string before any serializer escapes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Member:
    """One file of the bundle: `path` relative to the bundle's top directory; `content` is text (written as
    is) or a JSON-like value (written as indented JSON)."""

    path: str
    content: str | dict[str, Any] | list[Any]


@dataclass
class Section:
    """One part of the bundle (node, doctor, daemonsets, logs, ...): its members, and the errors of what it
    could not collect, each one secret-free line. `skipped` says why nothing was even tried."""

    name: str
    title: str
    members: list[Member] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def status(self) -> str:
        if self.skipped is not None:
            return "skipped"
        if self.errors:
            return "partial" if self.members else "failed"
        return "ok"

    def add(self, path: str, content: str | dict[str, Any] | list[Any]) -> None:
        self.members.append(Member(path, content))
