"""explain(text): the catalog entries a pasted failure message matches, best first."""

from __future__ import annotations

from dataclasses import dataclass

from multusctl.explain.catalog import load
from multusctl.explain.model import Entry, Match
from multusctl.explain.normalize import cap, redact_text, variants
from multusctl.report.escape import one_line

CONTEXT = 60  # characters of the text shown on either side of a match in the excerpt
MAX_EXCERPT = 400


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    text: str  # the normalized variant the pattern matched in

    @property
    def length(self) -> int:
        return self.end - self.start


def _best_hit(entry: Entry, texts: tuple[str, ...], lowered: tuple[str, ...]) -> _Hit | None:
    """The longest first-match of any of the entry's patterns, in the first variant where it matches."""
    best: _Hit | None = None
    for text, low in zip(texts, lowered, strict=True):
        for pattern, needle in zip(entry.compiled, entry.needles, strict=True):
            if needle not in low:
                continue
            m = pattern.search(text)
            if m is not None and m.end() > m.start() and (best is None or m.end() - m.start() > best.length):
                best = _Hit(m.start(), m.end(), text)
        if best is not None:
            return best  # variant B (joined without spaces) is only a fallback
    return best


def excerpt(hit: _Hit) -> str:
    """The matched part of the text with a little context, one line, redacted and escaped."""
    text = hit.text
    start = max(0, hit.start - CONTEXT)
    end = min(len(text), hit.end + CONTEXT)
    if start > 0:  # begin and end at a word boundary where one is near
        space = text.find(" ", start, hit.start)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", hit.end, end)
        end = space if space != -1 else end
    shown = text[start:end]
    if len(shown) > MAX_EXCERPT:
        half = MAX_EXCERPT // 2
        shown = shown[:half] + " … " + shown[-half:]
    shown = ("…" if start > 0 else "") + shown + ("…" if end < len(text) else "")
    return one_line(redact_text(shown))


def explain(text: str) -> list[Match]:
    """The catalog entries `text` matches, best first; [] when nothing matched.

    Input beyond normalize.MAX_INPUT characters is ignored (`normalize.cap` tells the caller it cut).

    Order: an entry's specificity is the length of its longest match in the normalized text, so the entry
    that explains more of the message comes first: `client rate limiter Wait returned an error: context
    deadline exceeded` puts api-throttled before api-unreachable (which matched only `context deadline
    exceeded`), and a kubelet event that wraps `error waiting for pod: Unauthorized` puts unauthorized's
    long pattern before the shorter hits of other entries. Equal lengths keep the catalog's order
    (data/explain.toml). Each entry appears once.
    """
    capped, _cut = cap(text)
    texts = variants(capped)
    if not any(texts):
        return []
    lowered = tuple(t.lower() for t in texts)
    found: list[tuple[int, int, Entry, _Hit]] = []
    for index, entry in enumerate(load().values()):
        hit = _best_hit(entry, texts, lowered)
        if hit is not None:
            found.append((-hit.length, index, entry, hit))
    found.sort(key=lambda f: (f[0], f[1]))
    return [Match(id=e.id, title=e.title, severity=e.severity, causes=e.causes, excerpt=excerpt(h),
                  references=e.references) for _l, _i, e, h in found]
