"""What `explain` hands out (Cause, Match) and what its catalog holds (Entry)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    """One likely cause of a failure message: what it is, the check id that confirms it ('' when no check
    does) and the fix."""

    text: str
    check: str
    fix: str


@dataclass(frozen=True)
class Match:
    """A catalog entry the text matched: `excerpt` is the matched part of the input, one line, redacted and
    escaped; `causes` are ordered, most likely first."""

    id: str
    title: str
    severity: str
    causes: tuple[Cause, ...]
    excerpt: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One entry of data/explain.toml, its patterns compiled (macros expanded, case-insensitive)."""

    id: str
    title: str
    severity: str
    patterns: tuple[str, ...]  # as written in the catalog
    compiled: tuple[re.Pattern[str], ...]
    needles: tuple[str, ...]  # per pattern, a lowercase literal each match contains ('' when none)
    causes: tuple[Cause, ...]
    facts: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
