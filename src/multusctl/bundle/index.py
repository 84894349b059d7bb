"""The bundle's index: `index.json` (for tools) and `INDEX.md` (for the person reading the ticket) say what
each file holds, which sections were collected, and what failed and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from multusctl import __version__
from multusctl.bundle.model import Section

SCHEMA = "multusctl.bundle/v1"


@dataclass
class Run:
    """How the bundle was asked for (what the index says about its own making)."""

    created: str  # UTC, RFC 3339
    root: str | None
    all_nodes: bool
    namespace: str
    admin_kubeconfig: str | None
    context: str | None
    top: str
    extra: dict[str, Any] = field(default_factory=dict)


def index_document(run: Run, sections: list[Section], files: dict[str, bytes]) -> dict[str, Any]:
    """`files` maps each member's path (inside the top directory) to its final, scrubbed bytes."""
    owner = {m.path: s.name for s in sections for m in s.members}
    return {
        "schema": SCHEMA,
        "tool": {"name": "multusctl", "version": __version__},
        "created": run.created,
        "top": run.top,
        "options": {"root": run.root, "all_nodes": run.all_nodes, "namespace": run.namespace,
                    "admin_kubeconfig": run.admin_kubeconfig, "context": run.context},
        "redaction": ("Secret objects are never collected; every file passed one scrub: known credentials, "
                      "JWTs and k3s join tokens are shown as <redacted sha256:xxxxxxxx> (the first 8 hex of "
                      "their SHA-256), private keys as <private key removed>."),
        "sections": [{"name": s.name, "title": s.title, "status": s.status, "files": [m.path for m in s.members],
                      "errors": list(s.errors), "notes": list(s.notes),
                      **({"skipped": s.skipped} if s.skipped is not None else {})} for s in sections],
        "files": {path: {"section": owner.get(path, "index"), "bytes": len(data),
                         "sha256": hashlib.sha256(data).hexdigest()} for path, data in sorted(files.items())},
        **run.extra,
    }


def index_markdown(doc: dict[str, Any]) -> str:
    opts = doc["options"]
    where = "every node (--all-nodes)" if opts["all_nodes"] else f"--root {opts['root']}"
    lines = [f"# multusctl support bundle ({doc['created']})", "",
             f"multusctl {doc['tool']['version']}; {where}; namespace {opts['namespace']}; admin kubeconfig "
             f"{opts['admin_kubeconfig'] or '(none found)'}" + (f", context {opts['context']}" if opts['context']
                                                                  else "") + ".", "",
             doc["redaction"], "", "| section | status | files | what |", "|---|---|---|---|"]
    for s in doc["sections"]:
        lines.append(f"| {s['name']} | {s['status']} | {len(s['files'])} | {s['title']} |")
    # One line per distinct reason: without a cluster, every cluster section fails for the same one.
    reasons: dict[str, list[str]] = {}
    for s in doc["sections"]:
        for why in ([f"skipped: {s['skipped']}"] if s.get("skipped") else []) + s["errors"]:
            reasons.setdefault(why, []).append(s["name"])
    notes = [(s["name"], note) for s in doc["sections"] for note in s["notes"]]
    if reasons or notes:
        lines += ["", "## What failed, and notes", ""]
        lines += [f"- **{', '.join(names)}**: {why}" for why, names in reasons.items()]
        lines += [f"- {name} (note): {note}" for name, note in notes]
    lines += ["", "## Files", ""]
    for s in doc["sections"]:
        for path in s["files"]:
            lines.append(f"- `{path}` ({s['name']}, {doc['files'].get(path, {}).get('bytes', 0)} bytes)")
    lines += ["- `index.json`: this index, for tools", ""]
    return "\n".join(lines)
