"""How the bundle tests look for a planted secret: in a text as written, and in every view a reader (or a
tool) could make of it: JSON escapes undone, and each base64-looking run decoded at each alignment."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator

_RUNS = (re.compile(r"[A-Za-z0-9+/]{8,}={0,2}"), re.compile(r"[A-Za-z0-9_-]{8,}={0,2}"))
_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def unescaped(text: str) -> str:
    """`text` with JSON string escapes undone (also where the text is no valid JSON: a log line)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u" else _SIMPLE[m.group(1)],
                       text)


def decoded_runs(text: str) -> Iterator[str]:
    joined = re.sub(r"\r?\n|\\n", "", text)  # a wrapped base64 value, raw or JSON-escaped
    for source in {text, joined}:
        for pattern in _RUNS:
            for m in pattern.finditer(source):
                run = m.group(0).rstrip("=")
                for skip in range(4):
                    body = run[skip:]
                    body = body[:-1] if len(body) % 4 == 1 else body
                    alt = b"+/" if pattern is _RUNS[0] else b"-_"
                    try:
                        data = base64.b64decode(body + "=" * (-len(body) % 4), altchars=alt, validate=True)
                    except (binascii.Error, ValueError):
                        continue
                    yield data.decode("utf-8", "replace")


def json_strings(text: str) -> Iterator[str]:
    try:
        doc = json.loads(text)
    except ValueError:
        return
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def views(text: str, depth: int = 2) -> Iterator[str]:
    """`text`, unescaped, its JSON strings, and (to `depth` levels) what its base64 runs decode to."""
    firsts = [text, unescaped(text), *json_strings(text)]
    for view in firsts:
        yield view
        if depth:
            for inner in decoded_runs(view):
                yield from views(inner, depth - 1)


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """The names of the `secrets` (name -> value) found in any view of `text`."""
    found = set()
    for view in views(text):
        found |= {name for name, value in secrets.items() if value in view}
    return sorted(found)
