"""Output formats, a small registry (like krr's formatters): name -> function(report) -> str."""

from __future__ import annotations

import json
from collections.abc import Callable

from multusctl.config.secrets import redact
from multusctl.report.finding import Report

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


def render(report: Report, fmt: str, *, color: bool = False, secrets: set[str] | None = None) -> str:
    out = FORMATTERS[fmt](report, color)
    return redact(out, secrets) if secrets else out
