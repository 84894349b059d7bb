"""The per-node results of a run, grouped across nodes: the json document, the text report, one Report.

A failed node gets a report of its own holding its `node-gather-failed` finding, so every selected node
has a row and every consumer (json, text, SARIF, JUnit) sees it like any other finding.
"""

from __future__ import annotations

from typing import Any

from multusctl import __version__, catalog, records
from multusctl.fleet.model import FleetResult, NodeResult
from multusctl.report.escape import safe_text
from multusctl.report.finding import SEVERITIES, Finding, Report, Target

Obj = dict[str, Any]
SCHEMA = "multusctl.fleet/v1"
SHOWN_NODES = 8


def node_report(res: NodeResult) -> Obj:
    """The node's multusctl.report/v1 document: its own, or one with its node-gather-failed finding."""
    if res.report is not None:
        return res.report
    if res.failure_report is not None:
        return res.failure_report
    import multusctl.checks.fleet  # noqa: F401  (registers node-gather-failed)
    from multusctl.checks.registry import run_checks

    run = run_checks(res, "fleet")
    doc = Report(Target(kind="node", distro=res.distro), run.findings, run.ran, tool_version=__version__).to_dict()
    doc["node"] = res.node
    res.failure_report = doc
    return doc


def _findings(doc: Obj) -> list[Obj]:
    return [f for f in doc.get("findings") or [] if isinstance(f, dict)]


def groups(result: FleetResult) -> list[Obj]:
    """One group per (id, severity) (node-gather-failed: per reason, whose fixes differ): the nodes it is on,
    how many findings in all, and the first node's message and fix; most severe first."""
    out: dict[tuple[str, str, str], Obj] = {}
    for res in result.nodes:
        for f in _findings(node_report(res)):
            raw = f.get("evidence")
            evidence: Obj = raw if isinstance(raw, dict) else {}
            reason = str(evidence.get("reason") or "") if f.get("id") == "node-gather-failed" else ""
            key = (str(f.get("id")), str(f.get("severity")), reason)
            g = out.setdefault(key, {"id": key[0], "severity": key[1], "title": f.get("title", ""), "nodes": [],
                                     "message": f.get("message", ""), "fix": f.get("fix", ""),
                                     "example_node": res.node, "findings": 0})
            g["findings"] += 1
            if res.node not in g["nodes"]:
                g["nodes"].append(res.node)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    listed = sorted(out.values(), key=lambda g: (rank.get(g["severity"], 9), -len(g["nodes"]), g["id"]))
    for g in listed:
        g["count"], g["of"] = len(g["nodes"]), len(result.nodes)
    return listed


def summary(result: FleetResult) -> Obj:
    counts: dict[str, int] = {s: 0 for s in SEVERITIES}
    for res in result.nodes:
        for f in _findings(node_report(res)):
            if f.get("severity") in counts:
                counts[str(f["severity"])] += 1
    checked = sum(1 for r in result.nodes if r.gathered)
    return {"nodes": len(result.nodes), "checked": checked, "not_checked": len(result.nodes) - checked, **counts}


def document(result: FleetResult) -> Obj:
    return {
        "schema": SCHEMA, "tool": {"name": "multusctl", "version": __version__},
        "run": result.run, "mode": result.mode, "namespace": result.namespace, "selector": result.selector,
        "duration_ms": result.duration_ms, "interrupted": result.interrupted,
        **({"leftover": result.leftover} if result.leftover else {}),
        "summary": summary(result), "groups": groups(result),
        "nodes": [{"node": r.node, "checked": r.gathered, "distro": r.distro, "pod": r.pod,
                   "duration_ms": r.duration_ms, "report": node_report(r)} for r in result.nodes],
    }


def exit_code(result: FleetResult) -> int:
    return 1 if summary(result)["error"] else 0


def _nodes_text(nodes: list[str]) -> str:
    shown = ", ".join(nodes[:SHOWN_NODES])
    return shown + (f", ... (+{len(nodes) - SHOWN_NODES})" if len(nodes) > SHOWN_NODES else "")


def render_text(result: FleetResult, color: bool = False) -> str:
    s = summary(result)
    lines = [f"multusctl check --all-nodes: {s['nodes']} node(s), {s['checked']} checked, {s['not_checked']} "
             f"not checked (run {result.run}, {result.mode}, {result.duration_ms / 1000:.1f} s)"]
    marks = {"error": "x", "warning": "!", "info": "i"}
    by_sev: dict[str, list[Obj]] = {}
    for g in groups(result):
        by_sev.setdefault(g["severity"], []).append(g)
    for sev in SEVERITIES:
        if sev not in by_sev:
            continue
        lines += ["", f"{sev.upper()}S ({len(by_sev[sev])})"]
        for g in by_sev[sev]:
            lines.append(f"{marks[sev]} {g['id']} on {g['count']} of {g['of']} nodes: {g['title']}")
            lines.append(f"    e.g. {g['example_node']}: {g['message']}")
            if (extra := g["findings"] - len(g["nodes"])) > 0:  # beyond one a node: say so, or it looks fixed
                lines.append(f"    and  {extra} more finding(s) of this id on these nodes (-o json has them all)")
            if g["fix"]:
                lines.append(f"    fix  {g['fix']}")
            lines.append(f"    on   {_nodes_text(g['nodes'])}")
    lines += ["", f"{'NODE':<24} {'DISTRO':<9} {'MODE':<6} {'ERR':>4} {'WARN':>5} {'INFO':>5}  RESULT"]
    for res in result.nodes:
        doc = node_report(res)
        target = doc.get("target") or {}
        n = {sev: sum(1 for f in _findings(doc) if f.get("severity") == sev) for sev in SEVERITIES}
        what = "checked" if res.gathered else f"not checked: {res.failure}"
        distro = str(target.get("distro") or "-") if res.gathered else "-"
        mode = str(target.get("mode") or "-") if res.gathered else "-"
        lines.append(f"{res.node:<24} {distro:<9} {mode:<6} {n['error']:>4} "
                     f"{n['warning']:>5} {n['info']:>5}  {what}")
    unverified: dict[str, list[str]] = {}
    for res in result.nodes:
        for u in (res.report or {}).get("unverified") or []:
            unverified.setdefault(f"{u.get('id')} ({u.get('path')})", []).append(res.node)
    if unverified:
        lines += ["", "Not verifiable from the check pods (they do not mount /run); `multusctl check` on the node "
                      "judges these:"]
        lines += [f"  {what} on {_nodes_text(nodes)}" for what, nodes in sorted(unverified.items())]
    if result.leftover:
        lines += ["", f"warning: {result.leftover}"]
    return "\n".join(safe_text(line) for line in lines) + "\n"


def node_reports(result: FleetResult) -> list[tuple[str, Report]]:
    """(node, its Report) for every node, a failed one with its node-gather-failed finding; each finding's
    evidence names its node."""
    out: list[tuple[str, Report]] = []
    names = [fl.name for fl in records.fields(Finding)]
    for res in result.nodes:
        doc = node_report(res)
        findings = []
        for f in _findings(doc):
            fields: dict[str, Any] = {k: f.get(k) for k in names}
            fields["evidence"] = {**dict(fields.get("evidence") or {}), "node": res.node}
            findings.append(Finding(**fields))
        ran = list(doc.get("checks_run") or [])
        target = doc.get("target") or {}
        entries = {cid: e for cid in ran if (e := catalog.get(cid)) is not None}
        about = Target("node", res.node, *(str(target.get(k) or "unknown") for k in ("distro", "role", "mode")))
        out.append((res.node, Report(about, findings, ran, tool_version=__version__, checks=entries)))
    return out


def merged_report(result: FleetResult) -> Report:
    """Every node's findings in one Report (for SARIF): each message names its node."""
    findings: list[Finding] = []
    ran: list[str] = []
    for node, report in node_reports(result):
        ran += [c for c in report.checks_run if c not in ran]
        for f in report.findings:
            prefix = f"node {node}:"
            findings.append(f if f.message.startswith(prefix) else records.replace(f, message=f"{prefix} {f.message}"))
    entries = {cid: e for cid in ran if (e := catalog.get(cid)) is not None}
    return Report(Target(kind="cluster", root="/"), findings, ran, tool_version=__version__, checks=entries)


def render_junit(result: FleetResult, secrets: set[str] | None = None) -> str:
    """JUnit with a testsuite per node (report/junit.py), redacted as every format is."""
    from multusctl.config.secrets import redact
    from multusctl.report.formats import redact_report
    from multusctl.report.junit import render_junit_nodes

    reports = node_reports(result)
    if not secrets:
        return render_junit_nodes(reports)
    return redact(render_junit_nodes([(n, redact_report(r, secrets)) for n, r in reports]), secrets)
