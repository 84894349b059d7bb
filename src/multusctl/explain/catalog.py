"""The explain catalog (data/explain.toml): parsed, validated and compiled once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "explain.toml")
_KEYS = {"title", "severity", "priority", "facts", "references", "patterns", "supersedes", "causes"}


class CatalogError(ValueError):
    """The explain catalog is malformed: one line naming the entry."""


@dataclass(frozen=True)
class Cause:
    text: str
    check: str  # the check id that confirms it ('' when none does)
    fix: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    severity: str
    priority: int
    facts: str
    references: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    supersedes: tuple[str, ...]
    causes: tuple[Cause, ...]


def _cause(cid: str, raw: Any) -> Cause:
    if not isinstance(raw, dict) or set(raw) != {"text", "check", "fix"}:
        raise CatalogError(f"{PATH}: [{cid}] a cause needs exactly text, check and fix")
    if not all(isinstance(v, str) for v in raw.values()):
        raise CatalogError(f"{PATH}: [{cid}] a cause's text, check and fix are strings")
    return Cause(raw["text"], raw["check"], raw["fix"])


def _entry(cid: str, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{PATH}: [{cid}] is not a table")
    if unknown := set(raw) - _KEYS:
        raise CatalogError(f"{PATH}: [{cid}] has unknown key(s) {', '.join(sorted(unknown))}")
    try:
        patterns = tuple(re.compile(p, re.IGNORECASE) for p in raw["patterns"])
        entry = Entry(id=cid, title=raw["title"], severity=raw["severity"], priority=int(raw.get("priority", 50)),
                      facts=raw.get("facts", ""), references=tuple(raw.get("references", ())), patterns=patterns,
                      supersedes=tuple(raw.get("supersedes", ())),
                      causes=tuple(_cause(cid, c) for c in raw["causes"]))
    except KeyError as exc:
        raise CatalogError(f"{PATH}: [{cid}] lacks {exc.args[0]!r}") from None
    except re.error as exc:
        raise CatalogError(f"{PATH}: [{cid}] has a pattern that does not compile: {exc}") from None
    if entry.severity not in ("error", "warning") or not entry.patterns or not entry.causes:
        raise CatalogError(f"{PATH}: [{cid}] needs severity error|warning, patterns and causes")
    return entry


def parse(text: str) -> dict[str, Entry]:
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{PATH}: {exc}") from None
    return {cid: _entry(cid, raw) for cid, raw in doc.items()}


_LOADED: dict[str, Entry] | None = None


def load() -> dict[str, Entry]:
    global _LOADED
    if _LOADED is None:
        with open(PATH, encoding="utf-8") as f:
            _LOADED = parse(f.read())
    return _LOADED
