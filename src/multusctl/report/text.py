"""The text report a person reads at a glance (at 3 a.m., on a node, over ssh).

Plain ANSI escapes, not rich: `import rich.console` costs ~25 ms here, a third of the whole
`kubectl version --client` reference the start-up budget is measured against, and the stdlib
(`textwrap`) does the little layout this report needs.

Layout, most severe first:

    multusctl check: k3s server node, multus thin, root /

    ERRORS (1)
    x kubeconfig-missing  The kubeconfig named by the thin config does not exist
        at   /var/lib/rancher/k3s/agent/etc/cni/net.d/00-multus.conf  (kubeconfig)
        why  The thin config names ... wrapped to the terminal width ...
        fix  multusctl kubeconfig create

    1 error, 0 warnings, 0 info — 27 checks run

The fix is never hyphen-split and `quoted` commands are never broken across lines, so it can be
copied; a fix line that is itself a command is printed verbatim, however long.
"""

from __future__ import annotations

import re
import shutil
import textwrap

from multusctl.report.escape import safe_text
from multusctl.report.finding import SEVERITIES, Finding, Report

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_SEV_STYLE = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_FIX_STYLE = "\033[1;32m"
_OK_STYLE = "\033[1;32m"

_HEADING = {"error": "ERRORS", "warning": "WARNINGS", "info": "INFO"}
_MARK = {"error": "x", "warning": "!", "info": "i"}
_INDENT = "    "
_LABEL_W = 5  # "why  " / "fix  " / "at   "

_COMMAND_START = re.compile(
    r"^(sudo |multusctl |kubectl |chmod |chown |mv |cp |rm |ln |mkdir |systemctl |k3s |rke2 |crictl |"
    r"cat |echo |install |sed |curl )"
)
_CODE = re.compile(r"`[^`\n]*`")


def _safe(text: str) -> str:
    return safe_text(text)


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def _width() -> int:
    # COLUMNS / the terminal when there is one, 100 otherwise; clamped so the text stays readable.
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def _tokens(text: str) -> list[str]:
    """Words, keeping each `quoted command` one unbreakable token (spaces made non-breaking)."""
    return _CODE.sub(lambda m: m.group().replace(" ", "\x00"), text).split()


def _wrap(text: str, width: int) -> list[str]:
    words = _tokens(text)
    if not words:
        return [""]
    lines = textwrap.wrap(" ".join(words), width=max(20, width), break_long_words=False,
                          break_on_hyphens=False)
    return [line.replace("\x00", " ") for line in lines]


def _is_command(line: str) -> bool:
    return bool(_COMMAND_START.match(line.strip()))


def _field_lines(label: str, text: str, width: int, style: _Style, body_style: str | None,
                 verbatim_commands: bool = False) -> list[str]:
    lead = _INDENT + style(_DIM, label.ljust(_LABEL_W))
    cont = _INDENT + " " * _LABEL_W
    avail = width - len(_INDENT) - _LABEL_W
    out: list[str] = []
    for para in _safe(text).split("\n") or [""]:
        para = para.strip()
        if not para:
            continue
        chunks = [para] if verbatim_commands and _is_command(para) else _wrap(para, avail)
        out.extend(style(body_style, c) if body_style else c for c in chunks)
    if not out:
        out = [""]
    return [(lead if i == 0 else cont) + line for i, line in enumerate(out)]


def _finding(f: Finding, width: int, style: _Style) -> list[str]:
    sev = _SEV_STYLE[f.severity]
    head = f"{style(sev, _MARK[f.severity])} {style(_BOLD, _safe(f.id))}  {_safe(f.title)}"
    lines = [head]
    key = f.field
    if f.path:
        # A path is one token, never wrapped, so it can be copied whole; the key goes on a line of its
        # own when both do not fit.
        where = _safe(f.path)
        if key and len(_INDENT) + _LABEL_W + len(where) + len(key) + 4 <= width:
            where += f"  ({_safe(key)})"
            key = None
        lines.append(_INDENT + style(_DIM, "at".ljust(_LABEL_W)) + where)
    if key:
        lines.append(_INDENT + style(_DIM, "key".ljust(_LABEL_W)) + _safe(key))
    lines += _field_lines("why", f.message, width, style, None)
    lines += _field_lines("fix", f.fix, width, style, _FIX_STYLE, verbatim_commands=True)
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "info" else f"{n} {word}s"


def _checks_run(report: Report) -> str:
    return _plural(len(report.checks_run), "check") + " run"


def summary_line(report: Report) -> str:
    s = report.summary()
    return (f"{_plural(s['error'], 'error')}, {_plural(s['warning'], 'warning')}, {_plural(s['info'], 'info')}"
            f" — {_checks_run(report)}")


def _describe(distro: str, role: str, mode: str, root: str) -> str:
    node = f"{role} node" if role != "unknown" else "node of unknown role"
    what = {"thin": "multus thin", "thick": "multus thick", "none": "no multus config"}.get(mode, "multus mode unknown")
    return f"{distro if distro != 'unknown' else 'unknown distro'} {node}, {what}, root {root}"


def render_text(report: Report, color: bool = False) -> str:
    style = _Style(color)
    width = _width()
    t = report.target
    header = style(_BOLD, "multusctl check:") + " " + _safe(_describe(t.distro, t.role, t.mode, t.root))
    if not report.findings:
        return header + "\n" + style(_OK_STYLE, "ok") + f": no problems found — {_checks_run(report)}\n"
    lines = [header]
    for sev in SEVERITIES:
        group = [f for f in report.findings if f.severity == sev]
        if not group:
            continue
        lines += ["", style(_SEV_STYLE[sev], f"{_HEADING[sev]} ({len(group)})")]
        for i, f in enumerate(group):
            if i:
                lines.append("")
            lines += _finding(f, width, style)
    counts = report.summary()
    worst = next(s for s in SEVERITIES if counts[s])
    lines += ["", style(_SEV_STYLE[worst], summary_line(report))]
    return "\n".join(lines) + "\n"
