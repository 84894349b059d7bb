"""The escaping's surrogate-free patterns (report/escape.py: Unsafe) match what the whole patterns match."""

from __future__ import annotations

import re

import pytest

from multusctl.report import escape

PATTERNS = [escape.UNSAFE, escape._UNSAFE_STREAM, escape._UNSAFE_LINE]


@pytest.mark.parametrize("unsafe", PATTERNS, ids=["unsafe", "stream", "line"])
def test_the_plain_pattern_is_the_full_one_without_surrogates(unsafe: escape.Unsafe) -> None:
    full = re.compile(unsafe.full)
    for cp in range(0x110000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            assert full.fullmatch(ch) and unsafe.pattern_for(ch) is not unsafe.plain
        else:
            assert bool(full.fullmatch(ch)) == bool(unsafe.plain.fullmatch(ch)), hex(cp)
    for text in ("a\x1b[1mb\x1b[0m", "x\x1b]0;t\x07", "— ok\x85\t\n", "bad \udcff name", "\ud800"):
        assert escape.escape_chars(unsafe, text) == full.sub(escape._escape, text)
