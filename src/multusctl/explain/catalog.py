"""The explain catalog (src/multusctl/data/explain.toml): loading and shape validation.

Each pattern is a Python regex matched case-insensitively on normalized text (explain/normalize.py). A few
macros keep the patterns short and the same everywhere; they are expanded here, before compiling:

    {ip}        an IPv4 or IPv6 address          {host}   a host name, IPv4 address or [IPv6] address
    {hostport}  {host}:port                      {path}   a run of characters without space or quote
    {name}      a Kubernetes-like name           {q}      an optional quote (" ' or `)

A macro is `{word}`; a repeat such as `{0,200}` is left alone. An unknown macro, a pattern that does not
compile, an unknown key or a value of the wrong type is a CatalogError, one line naming the entry.
Whether the causes' check ids exist in data/checks.toml is `check_ids_problems()` (a test runs it).
"""

from __future__ import annotations

import os
import re
from typing import Any

from multusctl.explain.model import Cause, Entry

CATALOG_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "explain.toml")
SEVERITIES = ("error", "warning")
ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

_HOST = r"(?:\[[0-9a-f:.%\w]{0,64}\]|[\w.-]{1,253})"
MACROS: dict[str, str] = {
    "ip": r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})",
    "host": _HOST,
    "hostport": _HOST + r":\d{1,5}",
    "path": r"[^\s\"'`]{1,1024}",
    "name": r"[\w.-]{1,253}",
    "q": r"[\"'`]?",
}
_MACRO = re.compile(r"\{([a-z]+)\}")
_ENTRY_KEYS = frozenset({"title", "severity", "patterns", "facts", "references", "causes"})
_CAUSE_KEYS = frozenset({"text", "check", "fix"})


class CatalogError(ValueError):
    """data/explain.toml is malformed (the message is one line naming the entry and the problem)."""


def expand(pattern: str) -> str:
    """`pattern` with its macros replaced by their regexes (CatalogError for an unknown one)."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) not in MACROS:
            raise CatalogError(f"unknown macro {{{m.group(1)}}}")
        return MACROS[m.group(1)]

    return _MACRO.sub(one, pattern)


def _strings(where: str, key: str, value: Any, *, nonempty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogError(f"{where}: {key} must be a list of non-empty strings")
    if nonempty and not value:
        raise CatalogError(f"{where}: {key} must not be empty")
    return tuple(value)


def _text(where: str, key: str, value: Any, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise CatalogError(f"{where}: {key} must be a {'' if empty_ok else 'non-empty '}string")
    return value


def _cause(where: str, raw: Any) -> Cause:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: a cause must be a table (text, check, fix)")
    unknown = set(raw) - _CAUSE_KEYS
    if unknown:
        raise CatalogError(f"{where}: a cause has unknown key(s) {', '.join(sorted(unknown))}")
    missing = _CAUSE_KEYS - set(raw)
    if missing:
        raise CatalogError(f"{where}: a cause lacks {', '.join(sorted(missing))}")
    return Cause(text=_text(where, "text", raw["text"]), check=_text(where, "check", raw["check"], empty_ok=True),
                 fix=_text(where, "fix", raw["fix"]))


_META = frozenset("^$.|?*+()[]{}\\")
_QUANT = frozenset("?*+{")
_REPEAT = re.compile(r"\{\d*(?:,\d*)?\}")
_PLAIN_ESCAPES = frozenset("^$.|?*+()[]{}\\-/:@'\"# ")


def _class_end(pattern: str, i: int) -> int:
    """The index after the character class that begins at pattern[i] ('[')."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def needle(pattern: str) -> str:
    """A lowercase literal every match of `pattern` contains ('' when none is evident): the longest run of
    plain characters at the top level of the pattern (outside groups and classes), without the characters
    a quantifier applies to. A pattern with a top-level `|` has none. The matcher skips a pattern whose
    needle is not in the (lowercased) text, so a scan of 1 MiB of unrelated text costs a substring search."""
    runs: list[str] = []
    run: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        literal: str | None = None
        if c == "\\":
            nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
            literal = nxt if nxt in _PLAIN_ESCAPES else None
            i += 2
        elif c == "[":
            i = _class_end(pattern, i)
        elif c == "{" and (m := _MACRO.match(pattern, i) or _REPEAT.match(pattern, i)) is not None:
            i = m.end()
        elif c == "|" and depth == 0:
            return ""
        elif c in _META:
            depth += (c == "(") - (c == ")")
            i += 1
        else:
            literal = c
            i += 1
        quantified = i < len(pattern) and pattern[i] in _QUANT and not _MACRO.match(pattern, i)
        if literal is not None and depth == 0 and not quantified and literal.isascii():
            run.append(literal.lower())
        else:
            runs.append("".join(run))
            run = []
    runs.append("".join(run))
    return max(runs, key=len).strip()


def _compile(where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(expand(pattern), re.IGNORECASE)
    except CatalogError as exc:
        raise CatalogError(f"{where}: pattern {pattern!r}: {exc}") from None
    except re.error as exc:
        raise CatalogError(f"{where}: pattern {pattern!r} does not compile: {exc}") from None


def _entry(eid: str, raw: Any) -> Entry:
    where = f"{CATALOG_PATH}: [{eid}]"
    if not ID.match(eid):
        raise CatalogError(f"{where}: an entry id is kebab case")
    if not isinstance(raw, dict):
        raise CatalogError(f"{where} is not a table")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise CatalogError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("title", "severity", "patterns", "causes"):
        if key not in raw:
            raise CatalogError(f"{where} lacks {key!r}")
    severity = raw["severity"]
    if severity not in SEVERITIES:
        raise CatalogError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    patterns = _strings(where, "patterns", raw["patterns"], nonempty=True)
    causes = raw["causes"]
    if not isinstance(causes, list) or not causes:
        raise CatalogError(f"{where}: causes must be a non-empty list of tables")
    return Entry(
        id=eid, title=_text(where, "title", raw["title"]), severity=severity, patterns=patterns,
        compiled=tuple(_compile(where, p) for p in patterns), needles=tuple(needle(p) for p in patterns),
        causes=tuple(_cause(where, c) for c in causes),
        facts=_strings(where, "facts", raw.get("facts", [])),
        references=_strings(where, "references", raw.get("references", [])),
    )


def parse(text: str) -> dict[str, Entry]:
    """id -> Entry of a catalog's text, in file order."""
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{CATALOG_PATH}: {exc}") from None
    return {eid: _entry(eid, raw) for eid, raw in doc.items()}


_CATALOG: dict[str, Entry] | None = None


def load() -> dict[str, Entry]:
    """The catalog, parsed and compiled on first use."""
    global _CATALOG
    if _CATALOG is None:
        try:
            with open(CATALOG_PATH, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise CatalogError(f"{CATALOG_PATH}: {exc.strerror or exc}") from None
        _CATALOG = parse(text)
    return _CATALOG


def check_ids_problems(entries: dict[str, Entry] | None = None) -> list[str]:
    """'<entry>: <check>' for every cause whose check id is not in data/checks.toml."""
    from multusctl import catalog as checks

    return [f"{e.id}: {c.check}" for e in (entries or load()).values() for c in e.causes
            if c.check and checks.get(c.check) is None]
