"""SARIF 2.1.0 (the format code-scanning UIs read): one run, a rule per check id, a result per finding."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from multusctl.report.finding import Finding, Report, Severity

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

_LEVEL: dict[str, str] = {"error": "error", "warning": "warning", "info": "note"}


def _rule_meta(report: Report) -> dict[str, tuple[str, Severity | None]]:
    """id -> (title, default severity) for every id the report mentions, from the registry if loaded."""
    meta: dict[str, tuple[str, Severity | None]] = {}
    try:
        from multusctl.checks import REGISTRY, node_checks

        node_checks()  # loads the node checks; other areas register themselves when imported
        registry = {c.id: (c.title, c.severity) for c in REGISTRY.values()}
    except Exception:  # a report rendered without the checks (e.g. from a saved JSON) still renders
        registry = {}
    for cid in dict.fromkeys([*report.checks_run, *(f.id for f in report.findings)]):
        if cid in registry:
            meta[cid] = registry[cid]
        else:
            meta[cid] = (next((f.title for f in report.findings if f.id == cid and f.title), cid), None)
    return meta


def node_uri(path: str) -> str:
    """A node path as a file:// URI (percent-encoded; undecodable bytes of a file name kept as bytes)."""
    try:
        encoded = quote(path, safe="/", errors="surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape, not from a file name's bytes
        encoded = quote(path, safe="/", errors="surrogatepass")
    return "file://" + encoded if path.startswith("/") else encoded


def _result(f: Finding, index: int) -> dict[str, Any]:
    text = f.message.rstrip()
    if f.fix:
        text += f"\nFix: {f.fix}"
    res: dict[str, Any] = {
        "ruleId": f.id,
        "ruleIndex": index,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "properties": {"severity": f.severity, "field": f.field, "fix": f.fix, "evidence": f.evidence},
    }
    if f.path:
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": node_uri(f.path)}}}
        if f.field:
            loc["logicalLocations"] = [{"fullyQualifiedName": f.field, "kind": "member"}]
        res["locations"] = [loc]
    return res


def sarif_document(report: Report) -> dict[str, Any]:
    meta = _rule_meta(report)
    ids = list(meta)
    rules = []
    for cid in ids:
        title, registered = meta[cid]
        # Not in the registry: the severity of its findings, else SARIF's default.
        sev: str = registered or next((f.severity for f in report.findings if f.id == cid), "warning")
        rules.append({
            "id": cid,
            "name": cid,
            "shortDescription": {"text": title},
            "help": {"text": f"See docs/CHECKS.md, id {cid}."},
            "defaultConfiguration": {"level": _LEVEL[sev]},
        })
    index = {cid: i for i, cid in enumerate(ids)}
    t = report.target
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "multusctl",
            "version": report.tool_version or "0",
            "rules": rules,
        }},
        "results": [_result(f, index[f.id]) for f in report.findings],
        "properties": {"target": {"kind": t.kind, "root": t.root, "distro": t.distro, "role": t.role,
                                  "mode": t.mode}, "summary": report.summary()},
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Report, color: bool = False) -> str:
    return json.dumps(sarif_document(report), indent=2) + "\n"
