"""Escaping of characters an output format cannot carry (shared by the text and JUnit reports)."""

from __future__ import annotations

import re


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if 0xDC80 <= c <= 0xDCFF:  # surrogateescape: the original byte of an undecodable file name
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def escape_chars(unsafe: re.Pattern[str], text: str) -> str:
    """`text` with every character `unsafe` matches written as a `\\xNN` / `\\uNNNN` escape."""
    return unsafe.sub(_escape, text)
