"""JUnit XML, for CI systems that only read test results: one testcase per check that ran.

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


def junit_tree(report: Report) -> ET.Element:
    ids = list(dict.fromkeys([*report.checks_run, *(f.id for f in report.findings)]))
    by_id: dict[str, list[Finding]] = {cid: [] for cid in ids}
    for f in report.findings:
        by_id[f.id].append(f)
    failing = sum(1 for fs in by_id.values() if any(f.severity != "info" for f in fs))

    t = report.target
    classname = f"multusctl.{t.kind}"
    counts = {"tests": str(len(ids)), "failures": str(failing), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": "multusctl", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": f"multusctl check {_x(t.root)}", **counts})
    props = ET.SubElement(suite, "properties")
    for key in ("kind", "root", "distro", "role", "mode"):
        ET.SubElement(props, "property", {"name": key, "value": _x(str(getattr(t, key)))})
    ET.SubElement(props, "property", {"name": "tool_version", "value": _x(report.tool_version)})

    for cid in ids:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": _x(cid)})
        infos = []
        for f in by_id[cid]:
            if f.severity == "info":
                infos.append(f"[info] {f.title}\n{_finding_text(f)}")
                continue
            fail = ET.SubElement(case, "failure", {"type": f.severity, "message": _x(f.title)})
            fail.text = _finding_text(f)
        if infos:
            ET.SubElement(case, "system-out").text = _x("\n\n".join(infos))
    return root


def render_junit(report: Report, color: bool = False) -> str:
    root = junit_tree(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
