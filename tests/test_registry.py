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


@pytest.mark.parametrize("catalog", CATALOGS, ids=["docs", "shared"])
def test_registry_matches_catalog(catalog: Path) -> None:
    if not catalog.exists():
        pytest.skip(f"{catalog} is not here (shared/ sits beside the clone only in CI and sessions)")
    documented = catalog_ids(catalog, "Node checks")
    assert len(documented) == len(set(documented)), "an id is documented twice"
    implemented = [c.id for c in node_checks()]
    assert sorted(implemented) == sorted(documented)


def test_every_check_has_title_and_valid_severity() -> None:
    for c in node_checks():
        assert c.title and not c.title.endswith("."), c.id
        assert c.severity in ("error", "warning", "info"), c.id
