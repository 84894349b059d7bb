"""NetworkAttachmentDefinition objects from files: YAML or JSON, multi-document, `kind: List` (what
`kubectl get -o yaml` prints), read through the one YAML reader (config/yamlload.py).

`nads_from_text` returns the NADs and skips other kinds (a manifest may hold a Deployment beside its NADs);
a document that cannot be read is a ParseError with a one-line reason (exit 2), never a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from multusctl.config.errors import ParseError

KIND = "NetworkAttachmentDefinition"
API_GROUP = "k8s.cni.cncf.io/"
# 10,000 NADs of a few hundred bytes each are ~4 MB; the node reader's 4 MiB limit would refuse them.
MAX_NAD_FILE = 256 * 1024 * 1024
_MAX_LIST_DEPTH = 8


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN/Infinity: not JSON; YAML then says where


def _fast_json(text: str) -> list[Any] | None:
    """JSON input without the YAML composer (10x faster on big `kubectl get -o json` lists); None to fall back
    to YAML, which reads the same JSON (YAML 1.2 is a superset) with line/column errors."""
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return [doc]


def _collect(doc: Any, where: str, out: list[dict[str, Any]], depth: int = 0) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        if isinstance(doc, list) and depth == 0:  # a bare JSON array of objects, as some tools write
            for i, item in enumerate(doc):
                _collect(item, f"{where} item {i}", out, depth + 1)
            return
        raise ParseError(f"{where} is a {type(doc).__name__}, not a Kubernetes object")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        if depth >= _MAX_LIST_DEPTH:
            raise ParseError(f"{where}: lists nested more than {_MAX_LIST_DEPTH} deep")
        for i, item in enumerate(doc["items"]):
            _collect(item, f"{where} items[{i}]", out, depth + 1)
        return
    if kind == KIND and str(doc.get("apiVersion", "")).startswith(API_GROUP):
        out.append(doc)


def nads_from_text(text: str, shown: str) -> list[dict[str, Any]]:
    """Every NAD of a file's text; ParseError (one line, naming `shown`) when a document is unreadable."""
    from multusctl.config import yamlload

    if "\x00" in text:
        raise ParseError(f"{shown}: binary data, not YAML or JSON")
    docs = _fast_json(text)
    if docs is None:
        try:
            docs = yamlload.load_all(text)
        except ParseError as exc:
            raise ParseError(f"{shown}: {exc}") from None
    out: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        try:
            _collect(doc, f"document {i + 1}" if len(docs) > 1 else "the document", out)
        except ParseError as exc:
            raise ParseError(f"{shown}: {exc}") from None
    return out


def decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
