"""The text report a person reads at a glance (placeholder until the rich renderer lands)."""

from __future__ import annotations

from multusctl.report.finding import Report


def render_text(report: Report, color: bool = False) -> str:
    t = report.target
    lines = [f"multusctl check: {t.distro} {t.role} node, multus {t.mode}, root {t.root}", ""]
    for f in report.findings:
        lines.append(f"{f.severity.upper():7} {f.id}: {f.title}")
        if f.path:
            lines.append(f"        at {f.path}" + (f" ({f.field})" if f.field else ""))
        lines.append(f"        {f.message}")
        lines.append(f"        fix: {f.fix}")
        lines.append("")
    s = report.summary()
    lines.append(f"{s['error']} error(s), {s['warning']} warning(s), {s['info']} info, {len(report.checks_run)} checks run")
    return "\n".join(lines) + "\n"
