"""The entry table of docs/CHECKS.md's explain section, generated from data/explain.toml.

    python -m multusctl.explain --write-markdown     # rewrites the table in docs/CHECKS.md
    python -m multusctl.explain --check-markdown     # exit 1 when it is out of step
"""

from __future__ import annotations

from multusctl.explain.catalog import load

BEGIN = "<!-- BEGIN GENERATED: explain-entries -->"
END = "<!-- END GENERATED: explain-entries -->"
REGENERATE = "python -m multusctl.explain --write-markdown"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table() -> str:
    """One row per entry: id, severity, title, the checks its causes name (in order), its FACTS.md items."""
    rows = ["| id | sev | title | confirmed by | facts |", "|---|---|---|---|---|"]
    for e in load().values():
        checks = list(dict.fromkeys(c.check for c in e.causes if c.check))
        rows.append(f"| {e.id} | {e.severity} | {_cell(e.title)} | {', '.join(checks) or '-'} | "
                    f"{_cell(', '.join(e.facts)) or '-'} |")
    return "\n".join(rows)


def update(text: str) -> str:
    """docs/CHECKS.md's `text` with the region between the markers replaced by the table."""
    from multusctl.catalog import replace_region

    return replace_region(text, BEGIN, END, "src/multusctl/data/explain.toml", REGENERATE, table())


def main(argv: list[str] | None = None) -> int:
    import argparse

    from multusctl.catalog import checks_md_path, sync_markdown

    ap = argparse.ArgumentParser(prog="python -m multusctl.explain",
                                 description="The explain catalog's entry table in docs/CHECKS.md.")
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--markdown", action="store_true", help="print the table")
    what.add_argument("--write-markdown", action="store_true", help="rewrite the table in CHECKS.md")
    what.add_argument("--check-markdown", action="store_true", help="exit 1 when CHECKS.md is out of step")
    ap.add_argument("--file", default=None, help="the CHECKS.md to read/write (default: docs/CHECKS.md)")
    args = ap.parse_args(argv)
    if args.markdown:
        print(table())
        return 0
    return sync_markdown(args.file or checks_md_path(), update, "data/explain.toml", REGENERATE, args.check_markdown)
