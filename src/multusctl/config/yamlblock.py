"""A strict recogniser for the YAML most Kubernetes objects are written in, so a stream of 10,000 NADs does not pay
for PyYAML's composer and constructor (~2 s of pure Python per node; the recogniser is ~20x cheaper).

It reads one document of a `---` separated stream when every line is in this shape, and declines
(`Declined`) anything else, which then goes to the one safe loader (yamlload.py) unchanged:

- block mappings whose keys are plain words (`k8s.v1.cni.cncf.io/networks`, `namespace`), block sequences of
  scalars or compact mappings (`- name: x`), blank and comment lines;
- values: plain scalars of letters, digits, `_.-/` and spaces (resolved as YAML 1.1 does: str, int, bool, null;
  anything that could be a float, a timestamp, an octal or sexagesimal int is declined), single-quoted scalars
  (also folded over lines), one-line double-quoted scalars with the common escapes, literal block scalars
  (`|`, `|-`, `|+`) and the empty `{}` / `[]`.

No anchors, aliases, tags, flow collections or directives are ever accepted, so the alias bound, the depth bound
and the content-free errors of yamlload keep guarding every input they matter for: this module only builds
str/int/bool/None/dict/list values, bounded by the text's size. tests/test_yamlblock.py holds it equal to the
YAML loader on generated documents and their mutations (it either returns what yaml.safe_load returns, or
declines).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from multusctl.records import dataclass

MAX_DEPTH = 64  # nesting the recogniser follows; deeper documents go to the loader, which bounds them itself


class Declined(Exception):
    """Not in the recognised shape: hand the document to the YAML loader."""


@dataclass(frozen=True)
class Part:
    """One document's text as it stands in the stream: its first line (0-based) and character offset there."""

    text: str
    line: int
    offset: int
    last: bool  # the stream's last part (it may lack a final newline)
    odd: bool = False  # holds a character the recogniser does not read (a tab, a control character, ...)


# Characters the recogniser reads; a tab, a control character or a non-character declines the document.
_ODD_ASCII = re.compile("[\x00-\x09\x0b-\x1f\x7f]")
# What the recogniser reads is "[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]";
# its complement is written out because the negated class costs ~10 ms to compile (sre's charset optimizer
# walks the huge ranges), this one well under 1 ms; tests/test_yamlblock.py compares the two on every code point.
_ODD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# Every line, cut once by the C regex engine: indent, a sequence dash, a plain key with the spaces after its
# colon, the rest. The parser below then works on these tuples, never on characters.
_LINE = re.compile(r"^( *)(-(?: +|$))?(?:([A-Za-z_][A-Za-z0-9_.\-/]*):( +|$))?(.*)", re.M)
_TAIL = re.compile(r"(?: +#.*| *)$")  # what may follow a value on its line
# A plain scalar: it starts with a letter or digit (no indicator, and no '=' which PyYAML resolves as a tag); a
# ':' only before a non-space (": " would make it a mapping); no '#' (" #" starts a comment); no trailing space.
# URLs (https://10.43.0.1:443), base64 (+/=) and JWTs are all of this shape.
_PLAIN = re.compile(r"([A-Za-z0-9](?:(?:[A-Za-z0-9_.\-/ +=]|:(?=[^ ]))*[A-Za-z0-9_.\-/+=])?)(?: +#.*| *)$")
_EMPTY_FLOW = re.compile(r"(\{\}|\[\])(?: +#.*| *)$")
_LITERAL = re.compile(r"\|([-+]?)(?: +#.*| *)$")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\["\\/ntrbf0 ]|\\u[0-9a-fA-F]{4})*)"')
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0",
            " ": " "}
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)$")
# PyYAML's implicit resolvers (resolver.py) for values that start with a digit: any match other than a plain
# decimal is declined rather than re-implemented (octal, hex, sexagesimal, floats, timestamps).
_NUMERIC_TEXT = r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?0b[0-1_]+ |[-+]?0[0-7_]+ |[-+]?(?:0|[1-9][0-9_]*) |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]
     (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"""
_numeric: re.Pattern[str] | None = None  # compiled on first use (~1.5 ms): most documents hold no such value


def _is_numeric(value: str) -> bool:
    global _numeric
    if _numeric is None:
        _numeric = re.compile(_NUMERIC_TEXT, re.X)
    return _numeric.match(value) is not None
_WORDS: dict[str, Any] = {**dict.fromkeys(("yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"), True),
                          **dict.fromkeys(("no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"), False),
                          **dict.fromkeys(("null", "Null", "NULL"), None)}
NO_DOCUMENT = object()  # a part holding only comments before the first `---`: the loader yields no document


def split(text: str) -> list[Part] | None:
    """The stream cut at its `---` lines (each part keeps its marker line), or None when only the loader can
    tell where documents start: a directive or `...` line, a CR or a Unicode line break, a BOM (any of them
    changes how lines or documents are cut, so cutting at `---` would not be what the loader does)."""
    if any(c in text for c in "\r\x85\u2028\u2029\ufeff") or text.startswith(("%", "...")) \
            or "\n%" in text or "\n..." in text:
        return None
    starts = [0]
    pos = 0
    while (pos := text.find("\n---", pos)) != -1:
        pos += 1  # PyYAML's check_document_start: `---` at column 0, then a blank or the end
        if text[pos + 3:pos + 4] in ("", " ", "\t", "\n"):
            starts.append(pos)
    odd = _ODD_ASCII if text.isascii() else _ODD
    bad = {bisect.bisect_right(starts, m.start()) - 1 for m in odd.finditer(text)}
    parts: list[Part] = []
    line = 0
    for k, begin in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(text)
        chunk = text[begin:end]
        parts.append(Part(chunk, line, begin, k + 1 == len(starts), k in bad))
        line += chunk.count("\n")
    return parts


def recognise(part: Part) -> Any:
    """The document of `part` as yaml.safe_load builds it (NO_DOCUMENT for none), or raises Declined."""
    text = part.text
    if part.odd or (part.last and text and not text.endswith("\n")):
        raise Declined  # the last line's break decides a block scalar's end: not worth the special case
    lines = text.split("\n")
    toks = _LINE.findall(text)
    if lines[-1] == "":
        lines.pop()
        toks.pop()
    if len(toks) != len(lines):
        raise Declined  # never expected: _LINE matches once per line
    explicit = bool(lines) and lines[0].startswith("---")
    if explicit:
        if not _TAIL.match(lines[0], 3):
            raise Declined  # content on the marker line (`--- !tag`, `--- |`)
        lines[0] = ""
        toks[0] = ("", "", "", "", "")
    reader = _Reader(lines, toks)
    reader.skip()
    if reader.i == len(lines):
        return None if explicit else NO_DOCUMENT
    if toks[reader.i][0]:
        raise Declined  # a root node not at column 0
    doc = reader.node(-1, False, 0)
    reader.skip()
    if reader.i != len(lines):
        raise Declined
    return doc


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _plain(value: str) -> Any:
    if value[0].isdigit():
        if _DECIMAL.match(value):
            return int(value)
        if _is_numeric(value):
            raise Declined
        return value
    return _WORDS.get(value, value)


def _unescape(m: re.Match[str]) -> str:
    code = m.group(1)
    if code[0] == "u" and len(code) == 5:
        point = int(code[1:], 16)
        if 0xD800 <= point <= 0xDFFF:
            raise Declined  # a lone surrogate: the loader's business
        return chr(point)
    return _ESCAPES[code]


class _Reader:
    """A recursive descent over `_LINE`'s tuples (indent, dash, key, spaces, rest); `i` is the next line."""

    def __init__(self, lines: list[str], toks: list[tuple[str, str, str, str, str]]) -> None:
        self.lines = lines
        self.toks = toks
        self.i = 0

    def skip(self) -> None:
        """Past blank and comment lines."""
        toks, i, n = self.toks, self.i, len(self.toks)
        while i < n:
            _ind, dash, key, _sp, rest = toks[i]
            if dash or key or (rest and rest[0] != "#"):
                break
            i += 1
        self.i = i

    def node(self, parent: int, mapping_value: bool, depth: int) -> Any:
        """The block node after a key (or at the root); None when there is none (an empty value)."""
        if depth > MAX_DEPTH:
            raise Declined
        self.skip()
        if self.i == len(self.toks):
            return None
        ind, dash, _key, _sp, _rest = self.toks[self.i]
        col = len(ind)
        if dash:
            # A sequence may sit at its key's own column (kubectl writes `items:` so).
            if col < parent or (col == parent and not mapping_value):
                return None
            return self.sequence(col, depth + 1)
        if col <= parent:
            return None
        return self.mapping(col, depth + 1)

    def mapping(self, col: int, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        toks = self.toks
        n = len(toks)
        while True:
            if self.i == n:
                return out
            ind, dash, key, sp, rest = toks[self.i]
            if not key and not dash and (not rest or rest[0] == "#"):
                self.i += 1  # a blank or comment line (skip() inlined: this loop is the hot one)
                continue
            if len(ind) < col:
                return out
            if len(ind) > col or dash or not key:
                raise Declined  # deeper than a key (a continuation), or not a key we read
            if key in _WORDS:
                raise Declined  # `on:`, `null:`: keys YAML 1.1 reads as bools and nulls
            if not rest or rest[0] == "#":
                self.i += 1
                out[key] = self.node(col, True, depth)
            else:
                out[key] = self.scalar(rest, col + len(key) + 1 + len(sp), col)
        return out

    def sequence(self, col: int, depth: int) -> list[Any]:
        out: list[Any] = []
        toks = self.toks
        n = len(toks)
        while True:
            self.skip()
            if self.i == n:
                return out
            ind, dash, key, sp, rest = toks[self.i]
            if len(ind) < col or (len(ind) == col and not dash):
                return out
            if len(ind) > col or not dash:
                raise Declined
            start = col + len(dash)
            if key:
                # A compact mapping: its keys align with the first one, as if the dash were a space.
                toks[self.i] = (" " * start, "", key, sp, rest)
                out.append(self.mapping(start, depth + 1))
            elif not rest or rest[0] == "#" or rest[0] == "-":
                raise Declined  # the item's node on the next lines, or a nested sequence: not read here
            else:
                out.append(self.scalar(rest, start, col))
        return out

    def scalar(self, rest: str, start: int, col: int) -> Any:
        """The inline value `rest` (at `start` of the current line; its node's parent indent `col`); moves
        past it."""
        first = rest[0]
        if first == "'":
            j = rest.find("'", 1)
            if j > 0 and not rest.startswith("'", j + 1) and _TAIL.match(rest, j + 1):
                self.i += 1  # the common case: one line, no '' inside
                return rest[1:j]
            return self.single_quoted(start, col)
        if first == '"':
            m = _DOUBLE.match(rest)
            if m is None or not _TAIL.match(rest, m.end()):
                raise Declined  # multi-line or an escape not read here
            self.i += 1
            body = m.group(1)
            return _ESCAPE.sub(_unescape, body) if "\\" in body else body
        if first == "|":
            m = _LITERAL.match(rest)
            if m is None:
                raise Declined  # an indentation indicator
            self.i += 1
            return self.literal(m.group(1), col)
        if first == "{" or first == "[":
            m = _EMPTY_FLOW.match(rest)
            if m is None:
                raise Declined
            self.i += 1
            return {} if m.group(1) == "{}" else []
        m = _PLAIN.match(rest)
        if m is None:
            raise Declined
        self.i += 1
        return _plain(m.group(1))

    def single_quoted(self, start: int, col: int) -> str:
        """YAML's single-quoted scalar: `''` is a quote; a line break folds to a space, blank lines to
        newlines, and the spaces around a break are dropped (PyYAML scan_flow_scalar)."""
        lines = self.lines
        line = lines[self.i]
        pos = seg = start + 1
        out: list[str] = []
        while True:
            j = line.find("'", pos)
            if j == -1:  # folds onto the next line
                out.append(line[seg:].rstrip(" "))
                breaks = 0
                self.i += 1
                while self.i < len(lines) and not lines[self.i].strip(" "):
                    breaks += 1
                    self.i += 1
                if self.i == len(lines):
                    raise Declined  # unterminated here: the loader says where
                line = lines[self.i]
                pos = seg = _indent(line)
                if pos <= col:
                    raise Declined  # a continuation not deeper than its key: leave it to the loader's rules
                out.append("\n" * breaks if breaks else " ")
                continue
            if line.startswith("''", j):
                out.append(line[seg:j + 1])
                pos = seg = j + 2
                continue
            out.append(line[seg:j])
            if not _TAIL.match(line, j + 1):
                raise Declined
            self.i += 1
            return "".join(out)

    def literal(self, chomp: str, col: int) -> str:
        """A literal block scalar (PyYAML scan_block_scalar, no folding): its indent is its first line's."""
        lines = self.lines
        if self.i == len(lines) or not lines[self.i].strip(" "):
            raise Declined  # leading blank lines decide the indent in ways not worth copying
        indent = _indent(lines[self.i])
        if indent <= col:
            raise Declined  # an empty block scalar
        text: list[str] = []
        breaks = 0
        while self.i < len(lines):
            line = lines[self.i]
            if not line.strip(" ") and len(line) <= indent:
                breaks += 1
            elif _indent(line) < indent and line.strip(" "):
                break
            else:
                if text:
                    text.append("\n" * (breaks + 1))
                text.append(line[indent:])
                breaks = 0
            self.i += 1
        if chomp != "-":
            text.append("\n")
        if chomp == "+":
            text.append("\n" * breaks)
        return "".join(text)
