"""Read manifests for `check --manifest`: files or stdin, multi-document, `kind: List` flattened.

Reading is all I/O; the checks get a ManifestSnapshot of plain objects and the layout to judge them by.
Every file goes through the one safe reader and the one YAML reader (config/yamlload.py); anything that
is not a stream of mappings is a ManifestError: one line, exit 2.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from multusctl.config import yamlload
from multusctl.config.errors import ParseError, config_text
from multusctl.gather.nodefs import NodeFSError, read_regular_file
from multusctl.layout.model import Layout

STDIN = "-"
MAX_BYTES = 16 * 1024 * 1024  # a manifest set is kilobytes; this bounds a mistaken `--manifest /dev/zero`


class ManifestError(ValueError):
    """A manifest that cannot be read or parsed (one line, no content quoted)."""


@dataclass(frozen=True)
class Obj:
    """One API object and where it came from (`source` as given: a file name, or `<stdin>`)."""

    source: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        k = self.doc.get("kind")
        return k if isinstance(k, str) else ""

    @property
    def name(self) -> str:
        n = _dict(self.doc.get("metadata")).get("name")
        return n if isinstance(n, str) else ""

    @property
    def namespace(self) -> str | None:
        n = _dict(self.doc.get("metadata")).get("namespace")
        return n if isinstance(n, str) else None

    def where(self, path: str = "") -> str:
        """`Kind ns/name: path`, how a finding names a field of this object."""
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}" + (f": {path}" if path else "")


@dataclass
class ManifestSnapshot:
    objects: list[Obj]
    layout: Layout
    sources: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.kind == kind]


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _flatten(source: str, doc: Any, out: list[Obj], where: str) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise ManifestError(f"{source}: {where} is a {type(doc).__name__}, not an object (a mapping)")
    if doc.get("kind") == "List" or (isinstance(doc.get("kind"), str) and doc["kind"].endswith("List")
                                     and isinstance(doc.get("items"), list)):
        for i, item in enumerate(doc.get("items") or []):
            _flatten(source, item, out, f"{where} items[{i}]")
        return
    out.append(Obj(source, doc))


def parse(source: str, data: bytes | str) -> list[Obj]:
    try:
        docs = yamlload.load_all(config_text(data))
    except ParseError as exc:
        raise ManifestError(f"{source}: {exc}") from None
    out: list[Obj] = []
    for i, doc in enumerate(docs):
        _flatten(source, doc, out, f"document {i + 1}")
    return out


def read_sources(paths: list[str]) -> list[Obj]:
    """Every object of every file (`-` = stdin, read once), in order."""
    out: list[Obj] = []
    stdin_done = False
    for p in paths:
        if p == STDIN:
            if stdin_done:
                continue
            stdin_done = True
            data: bytes = sys.stdin.buffer.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise ManifestError(f"<stdin>: more than {MAX_BYTES // (1024 * 1024)} MiB")
            out += parse("<stdin>", data)
            continue
        try:
            data = read_regular_file(p, p, MAX_BYTES)
        except NodeFSError as exc:
            raise ManifestError(str(exc)) from None
        out += parse(p, data)
    return out
