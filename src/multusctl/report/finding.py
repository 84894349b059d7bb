"""The Finding model and the report contract of CHECKS.md (`multusctl.report/v1`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from multusctl import records
from multusctl.records import asdict, dataclass

if TYPE_CHECKING:
    from multusctl.catalog import Entry

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem found: the public report contract of CHECKS.md."""

    id: str
    severity: Severity
    title: str
    message: str
    fix: str
    path: str | None = None
    field: str | None = None
    evidence: dict[str, Any] = records.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Target:
    """What a report is about (a node, a cluster, manifests)."""

    kind: str = "node"  # node | cluster | manifest | nad
    root: str = "/"
    distro: str = "unknown"
    role: str = "unknown"
    mode: str = "unknown"  # thin | thick | none | unknown


@dataclass
class Report:
    """Findings plus what ran: the `multusctl.report/v1` document."""

    target: Target
    findings: list[Finding]
    checks_run: list[str]
    tool_version: str = ""
    # "id: one-line reason" for each check that raised (a bug of ours; not part of the JSON contract).
    crashed: list[str] = records.field(default_factory=list)
    # The catalog entries (title, default severity, when, references) of the checks that ran, for the
    # formats that describe rules (SARIF); the report itself never looks a check up. Not in to_dict().
    checks: dict[str, Entry] = records.field(default_factory=dict)
    # doctor: each step of the live chain (name, label, status ok|failed|skipped, duration_ms, detail).
    steps: list[dict[str, Any]] = records.field(default_factory=list)
    # nad test: each attachment tried (NAD, interface, result: interfaces, IPs, routes, DNS; what the sandbox showed).
    attachments: list[dict[str, Any]] = records.field(default_factory=list)

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def exit_code(self) -> int:
        return 1 if any(f.severity == "error" for f in self.findings) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "multusctl.report/v1",
            "tool": {"name": "multusctl", "version": self.tool_version},
            "target": asdict(self.target),
            "findings": [f.to_dict() for f in self.findings],
            "checks_run": list(self.checks_run),
            "summary": self.summary(),
            **({"steps": [dict(s) for s in self.steps]} if self.steps else {}),
            **({"attachments": [dict(a) for a in self.attachments]} if self.attachments else {}),
        }
