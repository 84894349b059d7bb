"""`multusctl explain`: a pasted error message -> its likely causes, each with the check that confirms it.

    from multusctl.explain import explain
    for m in explain(text):          # best first; [] when nothing matched
        m.id, m.title, m.causes[0].check, m.causes[0].fix, m.excerpt

The catalog is data (src/multusctl/data/explain.toml). Doctor's `multus-log-error` runs the same function
over multus pod logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from multusctl.explain.catalog import CatalogError, Cause, load
from multusctl.explain.normalize import MAX_INPUT, variants

__all__ = ["MAX_INPUT", "CatalogError", "Cause", "Match", "explain"]

EXCERPT = 200
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")


@dataclass(frozen=True)
class Match:
    id: str
    title: str
    severity: str
    causes: tuple[Cause, ...]
    excerpt: str  # the matched part of the input, one line, redacted
    references: tuple[str, ...]


def _excerpt(text: str, start: int, end: int) -> str:
    from multusctl.config.secrets import redact
    from multusctl.report.escape import one_line

    left = max(0, start - 40)
    right = min(len(text), max(end, left + EXCERPT))
    piece = text[left:right]
    if left:
        piece = "..." + piece.split(" ", 1)[-1] if " " in piece[:40] else "..." + piece
    if right < len(text):
        piece = piece.rsplit(" ", 1)[0] + "..." if " " in piece[-40:] else piece + "..."
    return one_line(_JWT.sub("<redacted>", redact(piece)))


def explain(text: str) -> list[Match]:
    """Every catalog entry whose pattern occurs in `text`: the most specific first (the entry's `priority`),
    then the one met earliest in the text; an entry another matched one `supersedes` is dropped."""
    found: dict[str, tuple[int, int, Match]] = {}
    entries = load()
    for candidate in variants(text):
        for entry in entries.values():
            if entry.id in found:
                continue
            for pattern in entry.patterns:
                m = pattern.search(candidate)
                if m is None:
                    continue
                found[entry.id] = (-entry.priority, m.start(), Match(
                    entry.id, entry.title, entry.severity, entry.causes,
                    _excerpt(candidate, m.start(), m.end()), entry.references))
                break
    dropped = {s for cid in found for s in entries[cid].supersedes}
    ranked = sorted((v for cid, v in found.items() if cid not in dropped), key=lambda v: (v[0], v[1]))
    return [m for _, _, m in ranked]
