"""JSON loading that survives the files Multus really produces.

A thin entrypoint before v4.1.0 can nest multus configs ~2,500 levels deep (FACTS.md §7 #20). Python's
json module raises RecursionError on such a file while Go's decoder (depth limit 10,000) reads it, so we
measure the depth first, without recursion, and lift the interpreter's limit just for that parse.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

from multusctl.config.errors import ParseError, config_text

GO_MAX_DEPTH = 10_000  # encoding/json's limit: deeper than this Multus itself fails too
_lock = threading.Lock()


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def json_depth(text: str) -> int:
    """Maximum nesting of [ and { outside strings (iterative, so it never recurses)."""
    depth = best = 0
    for m in _TOKENS.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > best:
                best = depth
        elif ch in "]}":
            depth -= 1
    return best


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity; Go's decoder (and so the runtime and Multus) does not.
    raise ParseError(f"invalid JSON: {name} is not a JSON value")


def loads(text: str | bytes) -> Any:
    text = config_text(text)
    # The depth can be no more than the number of opening brackets, and a file with fewer than 500 of
    # them goes to json.loads as it is: count (in C) before scanning (in Python, dearer than the parse).
    brackets = text.count("[") + text.count("{")
    depth = json_depth(text) if brackets >= 500 else brackets
    if depth > GO_MAX_DEPTH:
        raise ParseError(f"JSON nested {depth} levels deep (Go's decoder stops at {GO_MAX_DEPTH})")
    try:
        if depth < 500:
            return json.loads(text, parse_constant=_reject_constant)
        with _lock:
            old = sys.getrecursionlimit()
            sys.setrecursionlimit(max(old, depth * 2 + 1000))
            try:
                return json.loads(text, parse_constant=_reject_constant)
            finally:
                sys.setrecursionlimit(old)
    except ParseError:
        raise
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (RecursionError, ValueError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from None
