"""SARIF 2.1.0 (the format code-scanning UIs read): one run, a rule per check id, a result per finding."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from multusctl import catalog
from multusctl.catalog import Entry
from multusctl.report.finding import Finding, Report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

_LEVEL: dict[str, str] = {"error": "error", "warning": "warning", "info": "note"}


def _rule_entries(report: Report) -> dict[str, Entry | None]:
    """id -> catalog entry for every id the report mentions: the entries the report carries, else the
    catalog's (a report built without them, e.g. from a saved JSON), else None (an id the catalog lacks)."""
    ids = dict.fromkeys([*report.checks_run, *(f.id for f in report.findings)])
    return {cid: report.checks.get(cid) or catalog.get(cid) for cid in ids}


def _plain(markdown: str) -> str:
    return markdown.replace("**", "").replace("`", "")


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
    node = f.evidence.get("node") if isinstance(f.evidence, dict) else None
    if isinstance(node, str) and node:
        # check --all-nodes: the same file on two nodes is two results, which a code-scanning service would
        # otherwise fold into one alert by rule and location.
        res["partialFingerprints"] = {"multusctlNode/v1": node}
    if f.path:
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": node_uri(f.path)}}}
        if f.field:
            loc["logicalLocations"] = [{"fullyQualifiedName": f.field, "kind": "member"}]
        res["locations"] = [loc]
    return res


def _rule(cid: str, entry: Entry | None, report: Report) -> dict[str, Any]:
    if entry is None:  # not in the catalog: the title and severity of its findings, else SARIF's default
        title = next((f.title for f in report.findings if f.id == cid and f.title), cid)
        sev = next((f.severity for f in report.findings if f.id == cid), "warning")
        return {"id": cid, "name": cid, "shortDescription": {"text": title},
                "help": {"text": f"See docs/CHECKS.md, id {cid}."}, "defaultConfiguration": {"level": _LEVEL[sev]}}
    return {
        "id": cid,
        "name": cid,
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": _plain(entry.when), "markdown": entry.when},
        "helpUri": entry.doc_url,
        "help": {"text": f"See docs/CHECKS.md, id {cid}: {entry.doc_url}"},
        "defaultConfiguration": {"level": _LEVEL[entry.severity]},
        "properties": {"area": entry.area, "references": list(entry.references),
                       "defersTo": list(entry.defers_to)},
    }


def sarif_document(report: Report) -> dict[str, Any]:
    entries = _rule_entries(report)
    ids = list(entries)
    rules = [_rule(cid, entries[cid], report) for cid in ids]
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
