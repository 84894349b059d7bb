"""The registry and the public catalog (CHECKS.md) must name exactly the same node check ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from multusctl.checks import node_checks

REPO = Path(__file__).resolve().parents[1]
CATALOGS = [REPO / "docs" / "CHECKS.md", REPO.parent / "shared" / "docs" / "CHECKS.md"]


def catalog_ids(path: Path, section: str) -> list[str]:
    text = path.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else None]
    return [i for i in re.findall(r"^\| ([a-z0-9-]+) \|", body, flags=re.M) if i != "id"]


def test_registry_matches_the_repo_catalog() -> None:
    documented = catalog_ids(CATALOGS[0], "Node checks")
    assert len(documented) == len(set(documented)), "an id is documented twice"
    assert sorted(c.id for c in node_checks()) == sorted(documented)


def test_every_id_of_the_shared_catalog_is_implemented() -> None:
    # Ids are public and never removed; the project may add ids the steering copy has not caught up with.
    shared = CATALOGS[1]
    if not shared.exists():
        pytest.skip(f"{shared} is not here (shared/ sits beside the clone only in CI and sessions)")
    implemented = {c.id for c in node_checks()}
    assert set(catalog_ids(shared, "Node checks")) <= implemented


def test_every_check_has_title_and_valid_severity() -> None:
    for c in node_checks():
        assert c.title and not c.title.endswith("."), c.id
        assert c.severity in ("error", "warning", "info"), c.id
