"""The registry, the catalog (src/multusctl/data/checks.toml) and the public docs (CHECKS.md) name the same ids.

The registry takes each check's severity and title from the catalog and refuses an id the catalog lacks; the
id tables of docs/CHECKS.md are generated from the catalog (tests/test_catalog.py keeps them in step).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from multusctl import catalog, records
from multusctl.checks import REGISTRY, node_checks
from multusctl.checks.registry import check

REPO = Path(__file__).resolve().parents[1]
# The shared folder: beside the checkout, or where .ci/run found it (MULTUS_SHARED) for a clone made elsewhere.
SHARED = Path(os.environ.get("MULTUS_SHARED") or REPO.parent / "shared")
CATALOGS = [REPO / "docs" / "CHECKS.md", SHARED / "docs" / "CHECKS.md"]


def catalog_ids(path: Path, section: str) -> list[str]:
    """The ids of one `## section` of a CHECKS.md (its subsections included), generated rows or hand-written."""
    text = path.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else None]
    rows = re.findall(r'^\| (?:<a id="[a-z0-9-]+"></a>)?([a-z0-9-]+) \|', body, flags=re.M)
    return [i for i in rows if i != "id"]


def all_doc_ids(path: Path) -> list[str]:
    return [i for s in ("Node checks", "Manifest checks", "Cluster checks") for i in catalog_ids(path, s)]


def test_registry_matches_the_repo_docs() -> None:
    documented = catalog_ids(CATALOGS[0], "Node checks")
    assert len(documented) == len(set(documented)), "an id is documented twice"
    assert sorted(c.id for c in node_checks()) == sorted(documented)


def test_every_implemented_node_entry_of_the_catalog_is_registered() -> None:
    registered = {c.id for c in node_checks()}
    implemented = {e.id for e in catalog.entries("node") if e.implemented}
    assert implemented == registered, "catalog says implemented but no @check registers it (or the reverse)"


def test_only_node_checks_are_registered_and_they_take_the_catalogs_metadata() -> None:
    for c in node_checks():
        entry = catalog.get(c.id)
        assert entry is not None and entry.implemented
        assert (c.area, c.severity, c.title) == (entry.area, entry.severity, entry.title)
        assert c.entry is entry


def test_registry_refuses_an_id_without_a_catalog_entry() -> None:
    with pytest.raises(catalog.CatalogError, match="no-such-check-id"):
        check("no-such-check-id")
    assert "no-such-check-id" not in REGISTRY


def test_registry_refuses_an_id_not_marked_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    # every catalog id is built now (issue 11): plan one for the test

    entries = dict(catalog.load())
    planned = records.replace(entries["nad-ping-failed"], id="nad-planned", implemented=False)
    entries[planned.id] = planned
    monkeypatch.setattr(catalog, "_CATALOG", entries)
    with pytest.raises(catalog.CatalogError, match="implemented"):
        check(planned.id)
    assert planned.id not in REGISTRY


def test_registry_refuses_an_id_registered_twice() -> None:
    node_checks()
    with pytest.raises(ValueError, match="twice"):
        check("kubeconfig-insecure")(lambda snap: [])


def test_every_id_of_the_docs_has_a_catalog_entry() -> None:
    ids = all_doc_ids(CATALOGS[0])
    assert len(ids) == len(set(ids)), "an id is documented twice"
    assert set(ids) == set(catalog.load())


def test_every_id_of_the_shared_catalog_is_kept() -> None:
    # Ids are public and never removed; the project may add ids the steering copy has not caught up with.
    shared = CATALOGS[1]
    if not shared.exists():
        # CI runs with shared/ beside the clone: there a missing copy is a broken set-up, not a skip.
        assert not os.environ.get("CI"), f"{shared} is missing in CI"
        pytest.skip(f"{shared} is not here (shared/ sits beside the clone only in CI and sessions)")
    implemented = {c.id for c in node_checks()}
    assert set(catalog_ids(shared, "Node checks")) <= implemented
    assert set(all_doc_ids(shared)) <= set(catalog.load())


def test_every_check_has_title_and_valid_severity() -> None:
    for c in node_checks():
        assert c.title and not c.title.endswith("."), c.id
        assert c.severity in ("error", "warning", "info"), c.id
