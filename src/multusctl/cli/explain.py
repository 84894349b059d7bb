"""`multusctl explain "<error text>"` (or `-` for stdin): a pasted failure message -> likely causes, the check
that confirms each, the fix."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from multusctl import __version__

FORMATS = ("text", "json")
SCHEMA = "multusctl.explain/v1"
NO_MATCH = "No known Multus failure matches this text."
HINT = ("Paste the whole kubelet event (`kubectl describe pod <pod>`, its Events) or the full multus log line "
        "(`kubectl -n kube-system logs <multus pod>`); `multusctl check` examines this node, `multusctl doctor` "
        "the cluster.")
# The verb that confirms a check id, by the area of data/checks.toml it lies in.
VERBS = {"node": "multusctl check", "manifest": "multusctl check --manifest <file>", "cluster": "multusctl doctor",
         "nad": "multusctl doctor"}


class InputProblem(Exception):
    """No text to explain, or text that cannot be read: one line on stderr, exit 2."""


def confirm_with(check_id: str) -> str | None:
    """The command whose findings include `check_id` ('multusctl check' / 'multusctl doctor'), or None."""
    if not check_id:
        return None
    from multusctl import catalog

    entry = catalog.get(check_id)
    return VERBS.get(entry.area) if entry is not None else None


def read_input(texts: tuple[str, ...]) -> str:
    """The text to explain: the arguments joined by spaces, or stdin for a lone `-`."""
    from multusctl.explain import MAX_INPUT

    if texts == ("-",):
        if sys.stdin is not None and sys.stdin.isatty():
            sys.stderr.write("multusctl explain: reading the error text from the terminal; end it with Ctrl-D\n")
        try:
            raw = sys.stdin.buffer.read(4 * MAX_INPUT + 4) if hasattr(sys.stdin, "buffer") else b""
        except (OSError, ValueError) as exc:
            raise InputProblem(f"cannot read stdin: {getattr(exc, 'strerror', None) or exc}") from None
        text = raw.decode("utf-8", "replace")
        if not text.strip():
            raise InputProblem("stdin is empty: pipe the error text in, or pass it as an argument")
        return text
    text = " ".join(texts)
    if not text.strip():
        raise InputProblem('no text to explain: multusctl explain "<error text>" (or - to read stdin)')
    return text


def _match_dict(m: Any) -> dict[str, Any]:
    return {"id": m.id, "title": m.title, "severity": m.severity, "excerpt": m.excerpt,
            "causes": [{"text": c.text, "check": c.check or None, "confirm_with": confirm_with(c.check),
                        "fix": c.fix} for c in m.causes],
            "references": list(m.references)}


def render_json(matches: list[Any], truncated: bool) -> str:
    doc = {"schema": SCHEMA, "tool": {"name": "multusctl", "version": __version__}, "truncated": truncated,
           "matches": [_match_dict(m) for m in matches]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _wrap(text: str, first: str, rest: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def render_text(matches: list[Any], width: int) -> str:
    """Each match: its id and title, the text it recognised, then the causes in order (confirming check,
    fix), then the references."""
    out: list[str] = []
    for n, m in enumerate(matches):
        if n:
            out.append("")
        out.append(f"{m.id} ({m.severity}): {m.title}")
        out.append(f"  matched: {m.excerpt}")
        out.append("  likely causes, most likely first:" if len(m.causes) > 1 else "  likely cause:")
        for i, c in enumerate(m.causes, 1):
            out += _wrap(c.text, f"  {i}. ", "     ", width)
            verb = confirm_with(c.check)
            if verb:
                out.append(f"     confirm with: {verb}   (finding {c.check})")
            out += _wrap(c.fix, "     fix: ", "          ", width)
        out += [f"  see: {ref}" for ref in m.references]
    if len(matches) > 1:
        out += ["", f"{len(matches)} entries matched; the first explains most of the text."]
    return "\n".join(out) + "\n"


def render_list(fmt: str) -> str:
    from multusctl.explain import load

    entries = list(load().values())
    if fmt == "json":
        return json.dumps([{"id": e.id, "title": e.title, "severity": e.severity, "facts": list(e.facts),
                            "references": list(e.references)} for e in entries], indent=2) + "\n"
    width = max(len(e.id) for e in entries)
    lines = [f"{e.id.ljust(width)}  {e.title}" for e in entries]
    return "\n".join(lines) + f"\n\n{len(entries)} entries (src/multusctl/data/explain.toml)\n"


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"multusctl explain: error: {message}\n")
    raise SystemExit(2)


@click.command("explain", short_help="What a pasted Multus error means: likely causes, how to confirm, the fix.")
@click.argument("text", nargs=-1)
@click.option("--output", "-o", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--list", "list_ids", is_flag=True, help="List the catalog's entry ids and titles; explain nothing.")
def explain_cmd(text: tuple[str, ...], output: str, list_ids: bool) -> None:
    """Explain a Multus failure message: a kubelet event, a multus log line, `kubectl describe pod` text.

    \b
    multusctl explain "error waiting for pod: Unauthorized"
    kubectl describe pod web | multusctl explain -

    Exit status: 0 something matched, 1 nothing did, 2 no text or unreadable input.
    """
    from multusctl.explain import CatalogError, explain
    from multusctl.explain.normalize import cap

    try:
        if list_ids:
            sys.stdout.write(render_list(output))
            return
        try:
            raw = read_input(text)
        except InputProblem as exc:
            _fail(str(exc))
        capped, truncated = cap(raw)
        if truncated:
            sys.stderr.write("multusctl explain: note: the input is longer than 1 MiB; only its first 1 MiB "
                             "was read\n")
        matches = explain(capped)
    except CatalogError as exc:
        _fail(str(exc))
    if output == "json":
        sys.stdout.write(render_json(matches, truncated))
    elif matches:
        import shutil

        sys.stdout.write(render_text(matches, max(60, min(120, shutil.get_terminal_size((100, 24)).columns))))
    else:
        sys.stdout.write(f"{NO_MATCH}\n{HINT}\n")
    raise SystemExit(0 if matches else 1)
