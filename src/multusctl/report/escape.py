"""The one escaping of characters an output cannot carry (text report, detect, CLI lines, JUnit).

Control characters and lone surrogates come from the node's files (file names, config values): written
raw, an OSC or cursor sequence in a file name would drive the operator's terminal, and a lone surrogate
(an undecodable byte of a file name, a JSON "\\ud800" escape) cannot be encoded as UTF-8 at all.
"""

from __future__ import annotations

import re


class Unsafe:
    """A pattern of characters to escape, and the same pattern without the lone surrogates.

    Compiling a class that holds the surrogates costs ~0.5-1 ms (sre's charset optimizer walks every code
    point up to U+FFFF), and every line multusctl writes goes through one. Text with no lone surrogate,
    nearly all output, is matched by `plain` (the same characters apart from the surrogates, cheap to
    compile); the whole pattern is compiled on the first text that has one."""

    def __init__(self, full: str, without_surrogates: str) -> None:
        self.full = full
        self.plain = re.compile(without_surrogates)
        self._compiled: re.Pattern[str] | None = None

    def pattern_for(self, text: str) -> re.Pattern[str]:
        if not text.isascii():
            try:
                text.encode("utf-8")  # strict UTF-8 refuses exactly the lone surrogates
            except UnicodeEncodeError:
                if self._compiled is None:
                    self._compiled = re.compile(self.full)
                return self._compiled
        return self.plain


# C0 but tab/newline, DEL, C1, and lone surrogates.
UNSAFE = Unsafe(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The same on a stream multusctl itself colours: an ESC that starts an SGR colour sequence (ours) passes.
_UNSAFE_STREAM = Unsafe(r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff]",
                        r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if 0xDC80 <= c <= 0xDCFF:  # surrogateescape: the original byte of an undecodable file name
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def escape_chars(unsafe: re.Pattern[str] | Unsafe, text: str) -> str:
    """`text` with every character `unsafe` matches written as a `\\xNN` / `\\uNNNN` escape."""
    pattern = unsafe.pattern_for(text) if isinstance(unsafe, Unsafe) else unsafe
    return pattern.sub(_escape, text)


def safe_text(text: str) -> str:
    """`text` from a node's files, fit for a terminal: control characters and lone surrogates escaped."""
    return escape_chars(UNSAFE, text)


_UNSAFE_LINE = Unsafe(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]", r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """`safe_text` that also escapes newlines and tabs: a value from a file shown inside one line."""
    return escape_chars(_UNSAFE_LINE, text)


def safe_stream_text(text: str) -> str:
    """`safe_text` for a whole line multusctl writes, keeping the colour sequences it adds itself."""
    return escape_chars(_UNSAFE_STREAM, text)
