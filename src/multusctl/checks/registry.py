"""The one registry of checks: id -> the function that runs it, with its catalog entry.

A check is a plain function of a snapshot that yields `Hit`s; it never does I/O of its own (the node is
read through the snapshot's read-only NodeFS). Registering is one decorator:

    @check("kubeconfig-insecure")
    def kubeconfig_insecure(snap: NodeSnapshot) -> Iterator[Hit]: ...

Area, default severity and title come from the catalog (src/multusctl/data/checks.toml, see
multusctl.catalog); an id without an implemented catalog entry is refused at import. The ids are the public
interface documented in docs/CHECKS.md, whose tables are generated from the same catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from multusctl import catalog, records
from multusctl.records import dataclass
from multusctl.report.finding import Finding, Severity


@dataclass(frozen=True)
class Hit:
    """One occurrence of a check's problem. `severity` overrides the default where the evidence says so."""

    message: str
    fix: str
    path: str | None = None
    field: str | None = None
    evidence: dict[str, Any] = records.field(default_factory=dict)
    severity: Severity | None = None


CheckFn = Callable[[Any], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    """A registered check: its id, catalog entry and function."""

    id: str
    severity: Severity
    title: str
    area: str  # catalog.AREAS
    fn: CheckFn
    entry: catalog.Entry


REGISTRY: dict[str, Check] = {}


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check `check_id`, described by its catalog entry."""
    entry = catalog.get(check_id)
    if entry is None:
        raise catalog.CatalogError(
            f"check id {check_id!r} has no entry in {catalog.CATALOG_PATH}: add one (area, severity, title, "
            "when), then regenerate docs/CHECKS.md"
        )
    if not entry.implemented:
        raise catalog.CatalogError(f"check id {check_id!r} is marked `implemented = false` in the catalog")

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check id {check_id!r} registered twice")
        severity = cast(Severity, entry.severity)  # tests/test_catalog.py checks the values
        REGISTRY[check_id] = Check(check_id, severity, entry.title, entry.area, fn, entry)
        return fn

    return register


def checks_for(area: str) -> list[Check]:
    return [c for c in REGISTRY.values() if c.area == area]


@dataclass
class CheckRun:
    """What running the checks produced: findings, the ids that ran, the ones that crashed."""

    findings: list[Finding]
    ran: list[str]
    # "id: one-line reason" for each check that raised; a bug in one check must not hide the others.
    crashed: list[str]


def run_checks(snapshot: Any, area: str, only: Iterable[str] | None = None) -> CheckRun:
    """Run every check of `area` (or only the named ones); findings in `impact_order()`."""
    wanted = set(only) if only is not None else None
    result = CheckRun([], [], [])
    for c in checks_for(area):
        if wanted is not None and c.id not in wanted:
            continue
        result.ran.append(c.id)
        try:
            hits = list(c.fn(snapshot))
        except Exception as exc:
            result.crashed.append(f"{c.id}: {type(exc).__name__}: {exc}")
            continue
        for h in hits:
            result.findings.append(
                Finding(
                    id=c.id,
                    severity=h.severity or c.severity,
                    title=c.title,
                    message=h.message,
                    fix=h.fix,
                    path=h.path,
                    field=h.field,
                    evidence=dict(h.evidence),
                )
            )
    result.findings.sort(key=impact_order())
    return result


def impact_order() -> Callable[[Finding], tuple[int, int, int, str, str]]:
    """The order of a report: most severe first; within a severity by the catalog's `impact` (what breaks
    every pod before what exposes credentials before leftovers), then in catalog order, then by path."""
    sev = {"error": 0, "warning": 1, "info": 2}
    entries = catalog.load()
    pos = {cid: i for i, cid in enumerate(entries)}

    def key(f: Finding) -> tuple[int, int, int, str, str]:
        e = entries.get(f.id)
        return (sev[f.severity], e.impact if e else catalog.DEFAULT_IMPACT, pos.get(f.id, len(pos)),
                f.path or "", f.field or "")

    return key
