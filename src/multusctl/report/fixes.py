"""The commands a finding's fix names, and the ones that fix several findings at once (issue 8 #10).

A fix is prose for a person, but it names its commands the same way everywhere: a fix that *is* a command
line (`chown root:root F && chmod 600 F`), or prose that names one in backticks (`Run \\`multusctl kubeconfig
create\\` to ...`). The leading command is the first of those; a check that knows more commands fix its
finding says so explicitly in `evidence["fixed_by"]` (a list of command lines), which then wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from multusctl.report.finding import Finding

# The words a shell command of a fix starts with (the text report prints such a line verbatim).
COMMAND_START = re.compile(
    r"^(sudo |multusctl |kubectl |chmod |chown |mv |cp |rm |ln |mkdir |systemctl |k3s |rke2 |crictl |"
    r"cat |echo |install |sed |curl )"
)
CODE = re.compile(r"`([^`\n]*)`")


def is_command(text: str) -> bool:
    return bool(COMMAND_START.match(text.strip()))


def leading_command(fix: str) -> str | None:
    """The first command a fix names: its first line when that is a command, else its first backticked
    command (a backticked word that is not a command, e.g. the `kubernetes` Service, is skipped)."""
    first = fix.strip().split("\n", 1)[0].strip()
    if is_command(first):
        return first
    for m in CODE.finditer(fix):
        if is_command(m.group(1)):
            return m.group(1).strip()
    return None


def fixed_by(f: Finding) -> tuple[str, ...]:
    """The commands that fix `f`, each alone: evidence `fixed_by` when the check names them, else the fix's
    leading command (none when the fix names no command)."""
    explicit = f.evidence.get("fixed_by")
    if isinstance(explicit, str):
        return (explicit,)
    if isinstance(explicit, list | tuple) and all(isinstance(c, str) for c in explicit):
        return tuple(explicit)
    lead = leading_command(f.fix)
    return (lead,) if lead else ()


def shared_fixes(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """(command, the findings it fixes) for each command that fixes two or more findings, the command that
    fixes the most first (ties: the one whose first finding comes first)."""
    by_cmd: dict[str, list[Finding]] = {}
    for f in findings:
        for cmd in dict.fromkeys(fixed_by(f)):
            by_cmd.setdefault(cmd, []).append(f)
    groups = [(cmd, fs) for cmd, fs in by_cmd.items() if len(fs) >= 2]
    return sorted(groups, key=lambda g: -len(g[1]))  # stable: first-seen order among equals
