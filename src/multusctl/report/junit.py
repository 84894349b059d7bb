"""JUnit XML, for CI systems that only read test results: one testcase per check that ran (with --all-nodes,
a testsuite per node).

A check with error/warning findings fails with one <failure> per finding (type = severity); info
findings do not fail, they go to the testcase's <system-out>. `failures` counts failing testcases.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from multusctl.report.escape import escape_chars
from multusctl.report.finding import Finding, Report

# XML 1.0 cannot carry most control characters nor lone surrogates (undecodable file-name bytes);
# ElementTree would write them and produce a file no parser accepts.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # not XML 1.0 Char


def _x(text: str | None) -> str:
    return escape_chars(_NOT_XML, text or "")


def _finding_text(f: Finding) -> str:
    lines = [f.message.rstrip(), f"Fix: {f.fix}"]
    if f.path:
        lines.append(f"Path: {f.path}" + (f" ({f.field})" if f.field else ""))
    elif f.field:
        lines.append(f"Field: {f.field}")
    return _x("\n".join(lines))


def _suite(parent: ET.Element, report: Report, name: str, classname: str) -> tuple[int, int]:
    """One <testsuite> of `report` under `parent`; (tests, failures)."""
    ids = list(dict.fromkeys([*report.checks_run, *(f.id for f in report.findings)]))
    by_id: dict[str, list[Finding]] = {cid: [] for cid in ids}
    for f in report.findings:
        by_id[f.id].append(f)
    failing = sum(1 for fs in by_id.values() if any(f.severity != "info" for f in fs))
    t = report.target
    suite = ET.SubElement(parent, "testsuite", {"name": _x(name), "tests": str(len(ids)), "failures": str(failing),
                                                "errors": "0", "skipped": "0"})
    props = ET.SubElement(suite, "properties")
    for key in ("kind", "root", "distro", "role", "mode"):
        ET.SubElement(props, "property", {"name": key, "value": _x(str(getattr(t, key)))})
    ET.SubElement(props, "property", {"name": "tool_version", "value": _x(report.tool_version)})

    for cid in ids:
        case = ET.SubElement(suite, "testcase", {"classname": _x(classname), "name": _x(cid)})
        infos = []
        for f in by_id[cid]:
            if f.severity == "info":
                infos.append(f"[info] {f.title}\n{_finding_text(f)}")
                continue
            fail = ET.SubElement(case, "failure", {"type": f.severity, "message": _x(f.title)})
            fail.text = _finding_text(f)
        if infos:
            ET.SubElement(case, "system-out").text = _x("\n\n".join(infos))
    return len(ids), failing


def _totals(root: ET.Element, tests: int, failures: int) -> ET.Element:
    root.attrib.update({"tests": str(tests), "failures": str(failures), "errors": "0", "skipped": "0"})
    return root


def junit_tree(report: Report) -> ET.Element:
    root = ET.Element("testsuites", {"name": "multusctl"})
    tests, failures = _suite(root, report, f"multusctl check {report.target.root}", f"multusctl.{report.target.kind}")
    return _totals(root, tests, failures)


def junit_nodes_tree(reports: list[tuple[str, Report]]) -> ET.Element:
    """`check --all-nodes`: one <testsuite> per node, its testcases named by check id under the classname
    `multusctl.node.<node>`, so a CI system shows each node's result on its own instead of folding the nodes
    of one id into one testcase."""
    root = ET.Element("testsuites", {"name": "multusctl check --all-nodes"})
    tests = failures = 0
    for node, report in reports:
        t, f = _suite(root, report, f"multusctl check {node}", f"multusctl.node.{node}")
        tests, failures = tests + t, failures + f
    return _totals(root, tests, failures)


def render_junit(report: Report, color: bool = False) -> str:
    return _xml(junit_tree(report))


def render_junit_nodes(reports: list[tuple[str, Report]]) -> str:
    return _xml(junit_nodes_tree(reports))


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
