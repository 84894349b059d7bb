"""`multusctl check --list`: the check catalog as an aligned table (text) or a list of objects (json)."""

from __future__ import annotations

import json
import shutil
import textwrap

from multusctl import catalog

_INDENT = "    "


def _width() -> int:
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def render_list_json() -> str:
    return json.dumps([e.to_dict() for e in catalog.entries()], indent=2) + "\n"


def render_list_text() -> str:
    """One aligned row per id (id, severities, area, title), then when it fires and its references,
    indented below the row; ids not built yet say so in the area column."""
    entries = catalog.entries()
    rows = [("ID", "SEVERITY", "AREA", "TITLE")]
    rows += [(e.id, "/".join(e.severities), e.area if e.implemented else f"{e.area} (not built)", e.title)
             for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    width = _width()

    def line(row: tuple[str, str, str, str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3]

    out = [line(rows[0])]
    for e, row in zip(entries, rows[1:], strict=True):
        out.append(line(row))
        when = " ".join(e.when.split())
        out += textwrap.wrap(when, width=width, initial_indent=_INDENT + "when  ",
                             subsequent_indent=_INDENT + "      ", break_long_words=False, break_on_hyphens=False)
        out += [f"{_INDENT}see   {ref}" for ref in e.references]
    per_area = ", ".join(f"{a} {n}" for a in catalog.AREAS if (n := len(catalog.entries(a))))
    built = sum(e.implemented for e in entries)
    out += ["", f"{len(entries)} ids ({per_area}), {built} built; documented in {catalog.DOCS_URL}"]
    return "\n".join(out) + "\n"


def render_list(fmt: str) -> str:
    return render_list_json() if fmt == "json" else render_list_text()
