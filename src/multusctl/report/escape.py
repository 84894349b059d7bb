"""The one escaping of characters an output cannot carry (text report, detect, CLI lines, JUnit).

Control characters and lone surrogates come from the node's files (file names, config values): written
raw, an OSC or cursor sequence in a file name would drive the operator's terminal, and a lone surrogate
(an undecodable byte of a file name, a JSON "\\ud800" escape) cannot be encoded as UTF-8 at all.
"""

from __future__ import annotations

import re

# C0 but tab/newline, DEL, C1, and lone surrogates.
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# The same on a stream multusctl itself colours: an ESC that starts an SGR colour sequence (ours) passes.
_UNSAFE_STREAM = re.compile(r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if 0xDC80 <= c <= 0xDCFF:  # surrogateescape: the original byte of an undecodable file name
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def escape_chars(unsafe: re.Pattern[str], text: str) -> str:
    """`text` with every character `unsafe` matches written as a `\\xNN` / `\\uNNNN` escape."""
    return unsafe.sub(_escape, text)


def safe_text(text: str) -> str:
    """`text` from a node's files, fit for a terminal: control characters and lone surrogates escaped."""
    return escape_chars(UNSAFE, text)


_UNSAFE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def one_line(text: str) -> str:
    """`safe_text` that also escapes newlines and tabs: a value from a file shown inside one line."""
    return escape_chars(_UNSAFE_LINE, text)


def safe_stream_text(text: str) -> str:
    """`safe_text` for a whole line multusctl writes, keeping the colour sequences it adds itself."""
    return escape_chars(_UNSAFE_STREAM, text)
