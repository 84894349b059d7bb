"""Where NADs come from: files (`-` for stdin) or the cluster (one list call for a namespace or all)."""

from __future__ import annotations

import sys
from typing import Any

from multusctl.config.errors import ParseError
from multusctl.config.nadfile import MAX_NAD_FILE, decode, nads_from_text

API_VERSION = "k8s.cni.cncf.io/v1"
KIND = "NetworkAttachmentDefinition"


class NadInputError(Exception):
    """NADs could not be read: one line, exit 2."""


def read_files(paths: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """(NADs, the file each came from) of every file in order; `-` reads stdin (once)."""
    from multusctl.gather.nodefs import NodeFSError, read_regular_file

    nads: list[dict[str, Any]] = []
    sources: list[str] = []
    for path in paths:
        shown = "stdin" if path == "-" else path
        try:
            if path == "-":
                data = sys.stdin.buffer.read(MAX_NAD_FILE + 1)
                if len(data) > MAX_NAD_FILE:
                    raise NadInputError(f"stdin: more than {MAX_NAD_FILE} bytes")
            else:
                data = read_regular_file(path, path, MAX_NAD_FILE)
            found = nads_from_text(decode(data, shown), shown)
        except NodeFSError as exc:
            raise NadInputError(f"cannot read {exc}") from None
        except ParseError as exc:
            raise NadInputError(str(exc)) from None
        except OSError as exc:
            raise NadInputError(f"{shown}: {exc.strerror or exc}") from None
        if not found:
            raise NadInputError(f"{shown}: no NetworkAttachmentDefinition (apiVersion {API_VERSION}) in it")
        nads.extend(found)
        sources.extend([shown] * len(found))
    return nads, sources


def read_cluster(api: Any, namespace: str | None) -> list[dict[str, Any]]:
    """Every NAD of `namespace` (None: all namespaces) in one list call; raises ApiFailure."""
    items, _rv = api.list_objects(API_VERSION, KIND, namespace)
    for item in items:  # a list's items carry no kind; the checks and reports expect whole objects
        item.setdefault("apiVersion", API_VERSION)
        item.setdefault("kind", KIND)
    return items


def find(nads: list[dict[str, Any]], namespace: str, name: str) -> dict[str, Any] | None:
    for nad in nads:
        given = nad.get("metadata")
        meta: dict[str, Any] = given if isinstance(given, dict) else {}
        if meta.get("name") == name and (meta.get("namespace") or "default") == namespace:
            return nad
    return None
