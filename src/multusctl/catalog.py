"""The check catalog (src/multusctl/data/checks.toml): per finding id, its area, default severity, title,
when it fires, references and the ids it defers to. The one source of truth for the registry
(`@check("id")` takes severity and title from here), `multusctl check --list`, the SARIF rules and the id
tables of docs/CHECKS.md.

It imports nothing of multusctl but `records`, so the checks, the reports and the CLI can all import it.
`multusctl check` parses it at start-up: once, lazily, with the stdlib's tomllib, and nothing heavier.

Regenerate the tables of docs/CHECKS.md after editing the catalog:

    python -m multusctl.catalog --write-markdown          # rewrites docs/CHECKS.md in place
    python -m multusctl.catalog --check-markdown          # exit 1 when docs/CHECKS.md is out of step
    python -m multusctl.catalog --markdown node           # print one area's table
"""

from __future__ import annotations

import os
from typing import Any

from multusctl.records import dataclass

AREAS: tuple[str, ...] = ("node", "manifest", "cluster", "nad", "fleet", "explain")
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "checks.toml")
# Where each id is documented: the table row of docs/CHECKS.md carries an anchor named after the id.
DOCS_URL = "https://github.com/multusctl/multusctl/blob/main/docs/CHECKS.md"

_KEYS = frozenset({"severity", "also_severities", "title", "when", "references", "defers_to", "implemented",
                   "impact"})
# The order of findings within a severity (lower = more urgent, see the bands in data/checks.toml): what
# breaks every pod leads, leftovers and hygiene come last. An id without `impact` gets this one.
DEFAULT_IMPACT = 50


class CatalogError(ValueError):
    """The catalog file is malformed, or code names an id it does not have."""


@dataclass(frozen=True)
class Entry:
    """One id of the check catalog (data/checks.toml)."""

    id: str
    area: str
    severity: str  # the default one
    title: str
    when: str  # Markdown
    references: tuple[str, ...] = ()
    defers_to: tuple[str, ...] = ()
    also_severities: tuple[str, ...] = ()
    implemented: bool = True
    impact: int = DEFAULT_IMPACT  # lower = more urgent; orders findings within a severity

    @property
    def severities(self) -> tuple[str, ...]:
        """Every severity a finding of this id may take, the default first."""
        return (self.severity, *self.also_severities)

    @property
    def doc_url(self) -> str:
        return doc_url(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "area": self.area, "severity": self.severity, "severities": list(self.severities),
            "title": self.title, "when": self.when, "references": list(self.references),
            "defers_to": list(self.defers_to), "implemented": self.implemented, "impact": self.impact,
            "doc_url": self.doc_url,
        }


def doc_url(check_id: str) -> str:
    return f"{DOCS_URL}#{check_id}"


_CATALOG: dict[str, Entry] | None = None


def _entry(area: str, cid: str, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{CATALOG_PATH}: [{area}.{cid}] is not a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise CatalogError(f"{CATALOG_PATH}: [{area}.{cid}] has unknown key(s) {', '.join(sorted(unknown))}")
    impact = raw.get("impact", DEFAULT_IMPACT)
    if type(impact) is not int or impact < 0:  # bool is an int subclass: refuse `impact = true` too
        raise CatalogError(f"{CATALOG_PATH}: [{area}.{cid}] impact must be a non-negative integer, not {impact!r}")
    try:
        return Entry(
            id=cid, area=area, severity=raw["severity"], title=raw["title"], when=raw["when"],
            references=tuple(raw.get("references", ())), defers_to=tuple(raw.get("defers_to", ())),
            also_severities=tuple(raw.get("also_severities", ())), implemented=raw.get("implemented", True),
            impact=impact,
        )
    except KeyError as exc:
        raise CatalogError(f"{CATALOG_PATH}: [{area}.{cid}] lacks {exc.args[0]!r}") from None


def parse(text: str) -> dict[str, Entry]:
    """id -> Entry of a catalog's text, in file order. Shape only; tests/test_catalog.py checks the values."""
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{CATALOG_PATH}: {exc}") from None
    out: dict[str, Entry] = {}
    for area, entries in doc.items():
        if area not in AREAS or not isinstance(entries, dict):
            raise CatalogError(f"{CATALOG_PATH}: [{area}] is not an area ({', '.join(AREAS)})")
        for cid, raw in entries.items():
            if cid in out:
                raise CatalogError(f"{CATALOG_PATH}: id {cid!r} is in [{out[cid].area}] and [{area}]")
            out[cid] = _entry(area, cid, raw)
    return out


def load() -> dict[str, Entry]:
    """The catalog, parsed on first use."""
    global _CATALOG
    if _CATALOG is None:
        # The loader reads the file whether the package is a directory or a zipapp (check --all-nodes runs
        # the node checker from one in each node's pod, where open() cannot reach into the archive).
        loader = __spec__.loader if __spec__ is not None else None
        if loader is not None and hasattr(loader, "get_data"):
            _CATALOG = parse(loader.get_data(CATALOG_PATH).decode("utf-8"))
        else:  # pragma: no cover - run as a plain script
            with open(CATALOG_PATH, encoding="utf-8") as f:
                _CATALOG = parse(f.read())
    return _CATALOG


def get(check_id: str) -> Entry | None:
    return load().get(check_id)


def entries(area: str | None = None) -> list[Entry]:
    return [e for e in load().values() if area is None or e.area == area]


# ---------------------------------------------------------------- docs/CHECKS.md

BEGIN = "<!-- BEGIN GENERATED: {area} -->"
END = "<!-- END GENERATED: {area} -->"
REGENERATE = "python -m multusctl.catalog --write-markdown"


def markdown_table(area: str) -> str:
    """The id table of one area, as docs/CHECKS.md shows it (each row an anchor named after its id)."""
    rows = ["| id | sev | fires when |", "|---|---|---|"]
    for e in entries(area):
        when = " ".join(e.when.split()).replace("|", "\\|")
        rows.append(f'| <a id="{e.id}"></a>{e.id} | {" / ".join(e.severities)} | {when} |')
    return "\n".join(rows)


def replace_region(text: str, begin: str, end: str, source: str, regenerate: str, body: str) -> str:
    """`text` with what lies between the markers `begin` and `end` replaced by `body` (generated from `source`
    by `regenerate`); CatalogError when the markers are not there."""
    start = text.find(begin)
    stop = text.find(end, start) if start != -1 else -1
    if stop == -1:
        raise CatalogError(f"docs/CHECKS.md has no {begin} ... {end} region")
    generated = f"{begin}\n<!-- from {source} by `{regenerate}`; do not edit -->\n"
    return text[:start] + generated + body + "\n" + text[stop:]


def update_markdown(text: str) -> str:
    """`text` (docs/CHECKS.md) with the region between each area's markers replaced by its table."""
    for area in AREAS:
        begin, end = BEGIN.format(area=area), END.format(area=area)
        if begin not in text and not entries(area):
            continue
        text = replace_region(text, begin, end, "src/multusctl/data/checks.toml", REGENERATE, markdown_table(area))
    return text


def sync_markdown(path: str, update: Any, what: str, regenerate: str, check: bool) -> int:
    """Rewrite `path` (docs/CHECKS.md) through `update`, or with `check` only say whether it is out of step
    with `what`: the `--write-markdown` / `--check-markdown` of both catalogs."""
    with open(path, encoding="utf-8") as f:
        old = f.read()
    new = update(old)
    if check:
        if new != old:
            print(f"{path} is out of step with {what}; regenerate it: {regenerate}")
            return 1
        return 0
    if new != old:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"{path}: {what} tables regenerated")
    return 0


def checks_md_path() -> str:
    """docs/CHECKS.md of the source tree this module lies in (src/multusctl/catalog.py)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "docs", "CHECKS.md")


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m multusctl.catalog",
                                 description="The check catalog and the id tables of docs/CHECKS.md.")
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--markdown", metavar="AREA", choices=AREAS, help="print the id table of AREA")
    what.add_argument("--write-markdown", action="store_true", help="rewrite the generated tables of CHECKS.md")
    what.add_argument("--check-markdown", action="store_true", help="exit 1 when CHECKS.md is out of step")
    ap.add_argument("--file", default=None, help="the CHECKS.md to read/write (default: docs/CHECKS.md)")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown_table(args.markdown))
        return 0
    return sync_markdown(args.file or checks_md_path(), update_markdown, "the check catalog", REGENERATE,
                         args.check_markdown)


if __name__ == "__main__":
    raise SystemExit(main())
