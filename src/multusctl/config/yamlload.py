"""The one YAML reader of multusctl: bounded, safe, and silent about the file's content.

Every YAML document the tool reads (k3s/rke2 `config.yaml` and drop-ins, kubeconfigs, manifests) goes
through `load`/`load_all`, which differ from `yaml.safe_load` in three ways:

- **Aliases are bounded.** An alias is a reference, so PyYAML builds a 323-byte "billion laughs" document
  cheaply, but anything that walks or prints the result (detect joins a list setting with `,`) expands
  it to 9^9 items. The composed node graph is measured before anything is constructed: a document whose
  aliases would add more than `MAX_ALIAS_NODES` nodes, or that refers to itself, is refused, as
  go-yaml (kubectl's reader) refuses "excessive aliasing".
- **Depth is bounded.** libyaml's C composer recurses without a limit and overflows the C stack (a
  segfault) on a document nested ~50,000 levels deep; documents that may nest deeper than
  `C_LOADER_MAX_DEPTH` go to the pure-Python loader, which stops with RecursionError instead.
- **Errors quote nothing.** PyYAML's messages include the offending line and, for an unknown tag, the
  tag itself: for `token: !eyJ...` that is the token. A ParseError here says line, column and the kind
  of problem, never the file's text.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from multusctl.config.errors import ParseError

C_LOADER_MAX_DEPTH = 200
FLOW_BRACKETS_MAX = 5000  # deeper than C_LOADER_MAX_DEPTH *and* this many brackets: refused unparsed
MAX_ALIAS_NODES = 10_000  # nodes that aliases may add in all; real configs and kubeconfigs use none

# A quoted fragment of PyYAML's problem text is file content (a tag, an alias name, a character), except
# its token names such as '<block end>'.
_QUOTED = re.compile(r"'(?!<[a-z ]+>')[^']*'|\"[^\"]*\"")

# PyYAML's Reader compiles NON_PRINTABLE when yaml is imported: 10-30 ms of start-up, since sre's charset
# optimizer walks its huge ranges one code point at a time. The second class is its complement written out,
# the very same characters (tests/test_yamlload.py compares the two over every code point), and compiles in
# well under a millisecond; `_yaml()` hands it to PyYAML while PyYAML is being imported.
_PYYAML_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
_NON_PRINTABLE_SAME = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"


def _has_lone_surrogate(text: str) -> bool:
    # What re "[\ud800-\udfff]" finds, without compiling that class (~0.5-1 ms): strict UTF-8 refuses
    # exactly the lone surrogates.
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_REAL_COMPILE = re.compile


class _LazyPattern:
    """re.compile(pattern, flags), compiled when first used.

    PyYAML compiles ~20 expressions when it is imported (its implicit resolvers, the timestamp, the
    Reader's NON_PRINTABLE): ~3-4 ms of every start-up, though a kubeconfig's plain scalars reach only a
    few of them (a resolver is tried only for a scalar starting with one of its first characters)."""

    def __init__(self, pattern: Any, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = _REAL_COMPILE(*self._args)  # not the hook, should it be used during the import
        return getattr(self._compiled, name)


def _yaml() -> Any:
    """The yaml module, imported without compiling its regular expressions up front (_LazyPattern), and
    with a NON_PRINTABLE that is cheaper to compile."""
    mod = sys.modules.get("yaml")
    if mod is not None:
        return mod
    real_compile = re.compile

    def compile_(pattern: Any, flags: int = 0) -> Any:
        if flags == 0 and isinstance(pattern, str) and pattern == _PYYAML_NON_PRINTABLE:
            pattern = _NON_PRINTABLE_SAME
        return _LazyPattern(pattern, flags)

    re.compile = compile_
    try:
        import yaml
    finally:
        re.compile = real_compile
    return yaml


def nesting_bound(text: str) -> int:
    """An upper bound of a YAML document's nesting depth (cheap; over-counts, never under-counts much).

    Flow collections count their brackets; block collections need a deeper column (or a compact `- `/`? `
    indicator) per level, so the longest run of leading spaces and indicators bounds them."""
    flow = peak = 0
    brackets = text.count("[") + text.count("{")
    for ch in text if brackets > C_LOADER_MAX_DEPTH else "":
        if ch in "[{":
            flow += 1
            peak = max(peak, flow)
        elif ch in "]}" and flow:
            flow -= 1
    block = 0
    for line in text.splitlines():
        lead = len(line) - len(line.lstrip(" \t-?:"))
        block = max(block, lead)
    return (peak if brackets > C_LOADER_MAX_DEPTH else brackets) + block


def _loader_class(text: str) -> Any:
    yaml = _yaml()

    bound = nesting_bound(text)
    if bound <= C_LOADER_MAX_DEPTH:
        return getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if text.count("[") + text.count("{") > FLOW_BRACKETS_MAX:
        # The pure loader would take seconds to find out; no config looks like this.
        raise ParseError(f"invalid YAML: nested about {bound} levels deep")
    return yaml.SafeLoader


def _check_aliases(root: Any, line0: int = 0) -> None:
    """Refuse a node graph whose aliases expand it by more than MAX_ALIAS_NODES, or that contains itself.

    Sizes are memoised per node, so the walk costs the number of distinct nodes, not the expansion."""
    from yaml.nodes import CollectionNode, MappingNode

    size: dict[int, int] = {}
    on_path: set[int] = set()
    distinct = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            kids = _children(node, MappingNode)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            continue
        if key in size:
            continue
        if key in on_path:
            raise ParseError(_at(node, "an alias refers to the collection that contains it", line0))
        distinct += 1
        if not isinstance(node, CollectionNode):
            size[key] = 1
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node, MappingNode))
    if size[id(root)] - distinct > MAX_ALIAS_NODES:
        raise ParseError(f"invalid YAML: its aliases expand it by {size[id(root)] - distinct} nodes "
                         f"(limit {MAX_ALIAS_NODES}); refusing excessive aliasing")


def _children(node: Any, mapping_type: Any) -> list[Any]:
    if isinstance(node, mapping_type):
        return [part for pair in node.value for part in pair]
    return list(node.value)


def _at(node: Any, problem: str, line0: int = 0) -> str:
    mark = getattr(node, "start_mark", None)
    return f"invalid YAML at {_where(mark, line0)}: {problem}" if mark is not None else f"invalid YAML: {problem}"


def _where(mark: Any, line0: int = 0) -> str:
    return f"line {line0 + mark.line + 1}, column {mark.column + 1}"


def describe_error(exc: Exception, line0: int = 0, offset0: int = 0) -> str:
    """A one-line reason for a YAML error that quotes none of the document (line and column only).

    `line0`/`offset0`: where the text handed to the loader starts in the file (one document of a stream)."""
    yaml = _yaml()

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = _QUOTED.sub("(not shown)", " ".join((exc.problem or exc.context or "syntax error").split()))
        return f"invalid YAML at {_where(mark, line0)}: {problem}" if mark is not None else f"invalid YAML: {problem}"
    if isinstance(exc, yaml.reader.ReaderError):
        return f"invalid YAML: unacceptable character #x{exc.character:04x} at offset {offset0 + exc.position}"
    return f"invalid YAML: {type(exc).__name__}"


def _documents(text: str, single: bool, line0: int = 0, offset0: int = 0) -> list[Any]:
    yaml = _yaml()

    if _has_lone_surrogate(text):  # libyaml cannot even be handed such a string (UnicodeEncodeError)
        raise ParseError("invalid YAML: contains an unpaired UTF-16 surrogate")
    loader = _loader_class(text)(text)
    try:
        nodes: list[Any] = []
        if single:
            nodes.append(loader.get_single_node())
        else:
            while loader.check_node():
                nodes.append(loader.get_node())
        out: list[Any] = []
        for node in nodes:
            if node is None:
                out.append(None)
                continue
            _check_aliases(node, line0)
            out.append(loader.construct_document(node))
        return out
    except yaml.YAMLError as exc:
        raise ParseError(describe_error(exc, line0, offset0)) from None
    except (RecursionError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"invalid YAML: {type(exc).__name__}") from None
    finally:
        loader.dispose()


def load(text: str) -> Any:
    """The single document of `text` (None when empty), or ParseError with a one-line, content-free reason.

    A document in the plain shape of a kubeconfig or a k3s config.yaml is read by the recogniser, as in
    `load_all`: then `multusctl check` on a healthy node never imports PyYAML (~10 ms of its start-up).
    Anything else, and every error, is the loader's."""
    docs = _read(text, single=True)
    return docs[0] if docs else None


def load_all(text: str) -> list[Any]:
    """Every document of a `---` separated stream, each bounded like `load`.

    Documents in the plain shape most Kubernetes objects have are read by the strict recogniser of
    config/yamlblock.py (the same values, ~20x cheaper: 10,000 NADs in ~0.15 s instead of ~3 s); every other
    document goes, alone, to the loader with the bounds above, so one odd document neither slows the rest nor
    escapes the alias and depth guards. Errors name lines of the whole file."""
    return _read(text, single=False)


def _read(text: str, single: bool) -> list[Any]:
    from multusctl.config import yamlblock

    if _has_lone_surrogate(text):
        raise ParseError("invalid YAML: contains an unpaired UTF-16 surrogate")
    parts = yamlblock.split(text)
    if parts is None:
        return _documents(text, single)
    out: list[Any] = []
    for part in parts:
        try:
            doc = yamlblock.recognise(part)
        except yamlblock.Declined:
            if single:  # one document: the loader reads the whole text
                return _documents(text, True)
            out.extend(_documents(part.text, False, part.line, part.offset))
            continue
        if doc is not yamlblock.NO_DOCUMENT:
            out.append(doc)
    # More than one: the loader's own "expected a single document" error.
    return _documents(text, True) if single and len(out) > 1 else out
