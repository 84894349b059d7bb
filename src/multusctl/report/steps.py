"""doctor's step lines, one per link of the chain, like `cilium status`: a mark, the link, what was seen,
how long it took. The same line serves the live progress (stderr, on a terminal) and the text report."""

from __future__ import annotations

from typing import Any

from multusctl.report.escape import one_line

_MARK = {"ok": "ok", "failed": "FAIL", "skipped": "skip"}
_STYLE = {"ok": "\033[32m", "failed": "\033[1;31m", "skipped": "\033[2m"}
LABEL_WIDTH = 22


def step_line(step: dict[str, Any], color: bool = False) -> str:
    status = str(step.get("status") or "skipped")
    mark = f"[{_MARK.get(status, status):^4}]"
    if color:
        mark = f"{_STYLE.get(status, '')}{mark}\033[0m"
    took = f"  {float(step.get('duration_ms') or 0):.0f} ms" if status != "skipped" else ""
    label = one_line(str(step.get("label") or step.get("name")))
    return f"  {mark} {label:<{LABEL_WIDTH}} {one_line(str(step.get('detail') or ''))}{took}"


def step_lines(steps: list[dict[str, Any]], color: bool = False) -> list[str]:
    return [step_line(s, color) for s in steps]
