"""Output formats, a small registry (like krr's formatters): name -> function(report) -> str."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from multusctl import records
from multusctl.config.secrets import redact
from multusctl.report.finding import Finding, Report

Formatter = Callable[[Report, bool], str]


def render_json(report: Report, color: bool = False) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _lazy(module: str, name: str) -> Formatter:
    def call(report: Report, color: bool = False) -> str:
        import importlib

        fn: Formatter = getattr(importlib.import_module(module), name)
        return fn(report, color)

    return call


FORMATTERS: dict[str, Formatter] = {
    "json": render_json,
    "text": _lazy("multusctl.report.text", "render_text"),
    "sarif": _lazy("multusctl.report.sarif", "render_sarif"),
    "junit": _lazy("multusctl.report.junit", "render_junit"),
}


def _redact_value(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {_redact_value(k, secrets): _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v, secrets) for v in value]
    return value


def redact_report(report: Report, secrets: set[str]) -> Report:
    """The report with every known secret replaced in every string (before any format escapes it:
    a PEM key's newlines become `\\n` in JSON and would no longer match the raw secret)."""
    findings = [
        Finding(**{k: _redact_value(v, secrets) for k, v in records.asdict(f).items()})
        for f in report.findings
    ]
    target = records.replace(
        report.target, **{k: redact(v, secrets) for k, v in records.asdict(report.target).items()}
    )
    return records.replace(report, findings=findings, target=target)


def render(report: Report, fmt: str, *, color: bool = False, secrets: set[str] | None = None,
           verbose: bool = False) -> str:
    """`report` as `fmt`; `verbose` adds the why of each finding to the text report (the other formats always
    carry everything)."""
    fn = FORMATTERS[fmt]
    if verbose and fmt == "text":
        from multusctl.report.text import render_text

        def fn(report: Report, color: bool = False) -> str:
            return render_text(report, color, verbose=True)

    if not secrets:
        return fn(report, color)
    out = fn(redact_report(report, secrets), color)
    return redact(out, secrets)  # last line of defence, e.g. a secret that only a format's wording joins
