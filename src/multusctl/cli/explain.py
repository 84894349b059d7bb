"""`multusctl explain`: a pasted error message -> its likely causes, the check that confirms each, the fix."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

FORMATS = ("text", "json")
HINT = ("paste the whole kubelet event (`kubectl describe pod`, Events) or the multus log line; "
        "`multusctl check` reads the node, `multusctl doctor` tests the live chain")


def _confirm(check_id: str) -> str:
    from multusctl import catalog

    entry = catalog.get(check_id)
    if entry is None or not check_id:
        return ""
    return f"multusctl {'check' if entry.area == 'node' else 'doctor'} ({check_id})"


def _document(matches: list[Any], truncated: bool) -> dict[str, Any]:
    return {"schema": "multusctl.explain/v1", "truncated": truncated, "matches": [
        {"id": m.id, "title": m.title, "severity": m.severity, "excerpt": m.excerpt,
         "references": list(m.references),
         "causes": [{"text": c.text, "check": c.check, "confirm": _confirm(c.check), "fix": c.fix}
                    for c in m.causes]} for m in matches]}


def _text(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    for n, m in enumerate(doc["matches"], 1):
        if n > 1:
            lines.append("")
        lines.append(f"{n}. {m['id']}: {m['title']}")
        lines.append(f"   seen: {m['excerpt']}")
        for i, c in enumerate(m["causes"], 1):
            lines.append(f"   cause {i}: {c['text']}")
            if c["confirm"]:
                lines.append(f"      confirm: {c['confirm']}")
            lines.append(f"      fix:     {c['fix']}")
    return "\n".join(lines) + "\n"


def _list() -> str:
    from multusctl.explain.catalog import load

    return "".join(f"{e.id:<28} {e.title}\n" for e in load().values())


@click.command("explain", short_help="Turn a pasted error message into its likely causes and fixes.")
@click.argument("text", nargs=-1)
@click.option("--output", "-o", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--list", "list_ids", is_flag=True, help="List the catalog's entries and read nothing.")
def explain_cmd(text: tuple[str, ...], output: str, list_ids: bool) -> None:
    """Name the likely causes of a Multus error message (a kubelet event, a multus log line, `kubectl describe
    pod` output), most likely first, each with the check that confirms it and the fix. TEXT may be several
    arguments, or `-` to read standard input.

    Exit status: 0 something matched, 1 nothing did, 2 bad usage or unreadable input.
    """
    from multusctl.explain import MAX_INPUT, explain

    if list_ids:
        sys.stdout.write(_list())
        return
    if not text:
        raise click.UsageError("give the error text as an argument, or - to read it from standard input")
    if text == ("-",):
        try:
            raw = sys.stdin.buffer.read(MAX_INPUT + 1)
        except OSError as exc:
            raise click.UsageError(f"cannot read standard input: {(exc.strerror or str(exc)).lower()}") from None
        pasted = raw.decode("utf-8", "replace")
    else:
        pasted = " ".join(text)
    if not pasted.strip():
        raise click.UsageError("the text is empty")
    truncated = len(pasted) > MAX_INPUT
    if truncated:
        sys.stderr.write(f"multusctl explain: only the first {MAX_INPUT} bytes were read\n")
    doc = _document(explain(pasted), truncated)
    if output == "json":
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    elif doc["matches"]:
        sys.stdout.write(_text(doc))
    else:
        sys.stdout.write(f"No known Multus failure matches this text. Hint: {HINT}.\n")
    sys.exit(0 if doc["matches"] else 1)
