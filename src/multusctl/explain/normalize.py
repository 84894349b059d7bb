"""Pasted error text -> one comparable string: what makes the same failure look different is undone.

Kubelet events quote the CNI error (Go %q), `kubectl describe` and JSON wrap it again, so quotes arrive as
`\"`, `\\\"`, ...; JSON results carry `\u0026`-style escapes; terminals wrap long lines with indentation.
Timestamps, pod names, IPs and ports need no special care: the patterns never depend on them.
"""

from __future__ import annotations

import re

MAX_INPUT = 1 << 20  # a pasted log is rarely more; beyond it the tail is cut (and the caller says so)

_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")
_WRAP = re.compile(r"[ \t]*\r?\n[ \t]*")


def _unescape_once(text: str) -> str:
    text = _UNICODE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.replace('\\"', '"').replace("\\n", " ").replace("\\t", " ").replace("\\\\", "\\")


def unescape(text: str) -> str:
    for _ in range(5):  # each layer of quoting is one round; five is more than any real paste has
        done = _unescape_once(text)
        if done == text:
            break
        text = done
    return text


def variants(text: str) -> list[str]:
    """The text with line breaks read as spaces, and with them removed (a terminal that wrapped a word)."""
    text = unescape(text[:MAX_INPUT])
    spaced = _SPACE.sub(" ", text).strip()
    joined = _SPACE.sub(" ", _WRAP.sub("", text)).strip()
    return [spaced] if joined == spaced else [spaced, joined]
