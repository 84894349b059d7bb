"""The text report a person reads at a glance (at 3 a.m., on a node, over ssh).

Plain ANSI escapes, not rich: `import rich.console` costs ~25 ms here, a third of the whole
`kubectl version --client` reference the start-up budget is measured against, and the stdlib
(`textwrap`) does the little layout this report needs.

Layout: what breaks pods first (severity, then the catalog's `impact`), each command said once, each piece of
shared advice said once:

    multusctl check: k3s agent node, multus thin, root /

    `multusctl kubeconfig create` fixes 2 of these: kubeconfig-missing, kubeconfig-permissions (see note 1)

    ERRORS (2)
    x kubeconfig-missing  The kubeconfig named by the thin config does not exist
        at   /var/lib/rancher/k3s/agent/etc/cni/net.d/00-multus.conf  (kubeconfig)
        fix  Run `multusctl kubeconfig create` to write ... See note 1.
    ...

    note 1  This node has no admin kubeconfig of its own ... (a sentence two fixes share, printed once)

    1 error, 0 warnings, 0 info — 27 checks run

`why` (the finding's message) is printed with -v/--verbose only: without it the report says what, where and
how to fix, and fits one screen. The fix is never hyphen-split and `quoted` commands are never broken across
lines, so it can be copied; a fix line that is itself a command is printed verbatim, however long.
"""

from __future__ import annotations

import os
import re
import sys

from multusctl.report.escape import safe_text
from multusctl.report.finding import SEVERITIES, Finding, Report
from multusctl.report.fixes import is_command, shared_fixes

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

_CODE = re.compile(r"`[^`\n]*`")
# A sentence ends at . ! or ? followed by a space and a capital, a backtick, a quote or a parenthesis.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"(])")
_NOTE_REF = re.compile(r"\b[Ss]ee note \d+\.?")  # never split across lines
_NOTE_MIN = 60  # a shorter sentence said twice is wording, not advice worth a note


def _safe(text: str) -> str:
    return safe_text(text)


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def _width() -> int:
    # COLUMNS / the terminal when there is one, 100 otherwise; clamped so the text stays readable.
    return max(60, min(120, _terminal_columns(100)))


def _terminal_columns(fallback: int) -> int:
    """shutil.get_terminal_size((fallback, ...)).columns, without importing shutil: it brings bz2, lzma and
    zlib (~4 ms of every `check`)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else fallback


def _tokens(text: str) -> list[str]:
    """Words, keeping each `quoted command` one unbreakable token (spaces made non-breaking)."""
    text = _NOTE_REF.sub(lambda m: m.group().replace(" ", "\x00"), text)
    return _CODE.sub(lambda m: m.group().replace(" ", "\x00"), text).split()


def _wrap(text: str, width: int) -> list[str]:
    words = _tokens(text)
    if not words:
        return [""]
    import textwrap  # only a report with findings wraps text

    lines = textwrap.wrap(" ".join(words), width=max(20, width), break_long_words=False,
                          break_on_hyphens=False)
    return [line.replace("\x00", " ") for line in lines]


def _is_command(line: str) -> bool:
    return is_command(line)


def _sentences(para: str) -> list[str]:
    """The sentences of one paragraph (a `quoted command` never splits one)."""
    codes: list[str] = []

    def mask(m: re.Match[str]) -> str:
        codes.append(m.group())
        return f"\x01{len(codes) - 1}\x01"

    masked = _CODE.sub(mask, " ".join(para.split()))
    parts = _SENTENCE_END.split(masked)
    return [re.sub(r"\x01(\d+)\x01", lambda m: codes[int(m.group(1))], p) for p in parts if p]


class _Notes:
    """Sentences that two or more findings' texts share, printed once after the findings as `note N`."""

    def __init__(self, texts: list[list[str]]) -> None:
        seen: dict[str, set[int]] = {}
        for i, group in enumerate(texts):
            for text in group:
                for para in text.split("\n"):
                    for sentence in _sentences(para):
                        if len(sentence) >= _NOTE_MIN:
                            seen.setdefault(sentence, set()).add(i)
        self.shared = [s for s, owners in seen.items() if len(owners) >= 2]

    def number(self, sentence: str) -> int:
        return self.shared.index(sentence) + 1

    def refs(self, text: str) -> list[int]:
        return sorted({self.number(s) for para in text.split("\n") for s in _sentences(para) if s in self.shared})

    def apply(self, text: str) -> str:
        if not self.shared:
            return text
        out = []
        for para in text.split("\n"):
            sentences = _sentences(para)
            if any(s in self.shared for s in sentences):
                para = " ".join(f"See note {self.number(s)}." if s in self.shared else s for s in sentences)
            out.append(para)
        return "\n".join(out)


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


def _finding(f: Finding, width: int, style: _Style, notes: _Notes, verbose: bool) -> list[str]:
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
    if verbose:
        lines += _field_lines("why", notes.apply(f.message), width, style, None)
    lines += _field_lines("fix", notes.apply(f.fix), width, style, _FIX_STYLE, verbatim_commands=True)
    return lines


def _hanging(first: str, text: str, width: int, indent: int) -> list[str]:
    """`first` + `text` wrapped at `width`, the following lines indented by `indent`."""
    lines = _wrap(first + text, width)
    if len(lines) > 1:
        rest = _wrap(" ".join(lines[1:]), width - indent)
        lines = [lines[0]] + [" " * indent + line for line in rest]
    return lines


def _shared_fix_lines(findings: list[Finding], width: int, style: _Style, notes: _Notes) -> list[str]:
    """One line per command that fixes several findings: said once, before the findings."""
    out = []
    for cmd, fs in shared_fixes(findings):
        ids = list(dict.fromkeys(f.id for f in fs))
        refs = sorted({n for f in fs for n in notes.refs(f.fix)})
        see = f" (see note {', '.join(map(str, refs))})" if refs else ""
        text = f"fixes {len(fs)} of these: {', '.join(ids)}{see}"
        code = "`" + _safe(cmd) + "`"
        lines = _hanging(code.replace(" ", "\x00") + " ", _safe(text), width, len(_INDENT))
        lines[0] = lines[0].replace(code, style(_FIX_STYLE, code), 1)
        out += lines
    return out


def _note_lines(notes: _Notes, width: int, style: _Style) -> list[str]:
    out = []
    for n, sentence in enumerate(notes.shared, 1):
        lead = len(_INDENT) + _LABEL_W  # the note's text starts in the column of the fixes'
        body = _wrap(_safe(sentence), width - lead)
        out += [style(_DIM, f"note {n}".ljust(lead)) + body[0]] + [" " * lead + b for b in body[1:]]
    return out


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


def render_text(report: Report, color: bool = False, verbose: bool = False) -> str:
    """The report as text; `verbose` adds each finding's why (its message)."""
    style = _Style(color)
    width = _width()
    t = report.target
    verb = "doctor" if t.kind == "cluster" else "check"
    described = _describe(t.distro, t.role, t.mode, t.root)
    if t.kind == "manifest":  # manifests judged against a layout, not a node's files
        what = {"thin": "multus thin", "thick": "multus thick", "none": "no multus DaemonSet"}.get(t.mode, "multus")
        described = f"manifests ({what}) against the {t.distro} layout of root {t.root}"
    if t.kind == "nad":  # NADs judged against this node's plugins, interfaces and address plan
        verb, described = "nad", f"NetworkAttachmentDefinitions against root {t.root}"
    header = style(_BOLD, f"multusctl {verb}:") + " " + _safe(described)
    if report.steps:
        from multusctl.report.steps import step_lines

        header += "\n" + "\n".join(step_lines(report.steps, color))
    if not report.findings:
        return header + "\n" + style(_OK_STYLE, "ok") + f": no problems found — {_checks_run(report)}\n"
    findings = report.findings
    notes = _Notes([[f.fix, f.message] if verbose else [f.fix] for f in findings])
    lines = [header]
    shared = _shared_fix_lines(findings, width, style, notes)
    if shared:
        lines += ["", *shared]
    for sev in SEVERITIES:
        group = [f for f in findings if f.severity == sev]
        if not group:
            continue
        lines += ["", style(_SEV_STYLE[sev], f"{_HEADING[sev]} ({len(group)})")]
        for i, f in enumerate(group):
            if i:
                lines.append("")
            lines += _finding(f, width, style, notes, verbose)
    if notes.shared:
        lines += ["", *_note_lines(notes, width, style)]
    counts = report.summary()
    worst = next(s for s in SEVERITIES if counts[s])
    hint = "" if verbose else " (-v: why each matters)"
    lines += ["", style(_SEV_STYLE[worst], summary_line(report)) + hint]
    return "\n".join(lines) + "\n"
