"""The check catalog (src/multusctl/data/checks.toml): well-formed, cheap to parse, listed by
`multusctl check --list`, and the source of the id tables of docs/CHECKS.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

from multusctl import catalog
from multusctl.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
CHECKS_MD = REPO / "docs" / "CHECKS.md"
ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")
# How the `when` texts name upstream issues, and the URL each names.
SHORT_REFS = {
    r"\bMC#(\d+)": "https://github.com/k8snetworkplumbingwg/multus-cni/issues/{}",
    r"\bmultus-cni#(\d+)": "https://github.com/k8snetworkplumbingwg/multus-cni/issues/{}",
    r"\bk3s#(\d+)": "https://github.com/k3s-io/k3s/issues/{}",
    r"\brke2#(\d+)": "https://github.com/rancher/rke2/issues/{}",
    r"\b(CVE-\d{4}-\d+)": "https://www.cve.org/CVERecord?id={}",
}


# ---------------------------------------------------------------- well-formed

def test_the_catalog_parses_and_has_every_area_it_documents() -> None:
    entries = catalog.load()
    assert len(entries) >= 50
    assert {e.area for e in entries.values()} <= set(catalog.AREAS)
    assert catalog.entries("node") and all(e.implemented for e in catalog.entries("node"))


@pytest.mark.parametrize("entry", list(catalog.load().values()), ids=lambda e: e.id)
def test_every_entry_is_well_formed(entry: catalog.Entry) -> None:
    assert ID.match(entry.id), "ids are kebab case"
    assert entry.area in catalog.AREAS
    assert entry.severity in catalog.SEVERITIES
    assert set(entry.also_severities) <= set(catalog.SEVERITIES)
    assert len(set(entry.severities)) == len(entry.severities), "a severity listed twice"
    assert isinstance(entry.title, str) and entry.title.strip() and "\n" not in entry.title
    assert not entry.title.endswith("."), "titles have no final full stop"
    assert isinstance(entry.when, str) and entry.when.strip()
    assert isinstance(entry.implemented, bool)
    for url in entry.references:
        u = urlparse(url)
        assert u.scheme == "https" and u.netloc and " " not in url, url
    assert len(set(entry.references)) == len(entry.references)
    for other in entry.defers_to:
        assert other != entry.id and catalog.get(other) is not None, other


@pytest.mark.parametrize("entry", list(catalog.load().values()), ids=lambda e: e.id)
def test_every_reference_the_when_text_names_is_a_reference(entry: catalog.Entry) -> None:
    for pattern, url in SHORT_REFS.items():
        for m in re.finditer(pattern, entry.when):
            assert url.format(m.group(1)) in entry.references, m.group(0)


def test_parse_refuses_malformed_entries() -> None:
    good = "[node.a-b]\nseverity = 'error'\ntitle = 't'\nwhen = 'w'\n"
    assert catalog.parse(good)["a-b"].area == "node"
    for bad, why in [
        (good.replace("[node.", "[nodes."), "not an area"),
        (good + "defer_to = ['x-y']\n", "unknown key"),
        (good.replace("title = 't'\n", ""), "lacks 'title'"),
        (good + "[cluster.a-b]\nseverity = 'error'\ntitle = 't'\nwhen = 'w'\n", "is in"),
        ("[node.a-b\n", "checks.toml"),
        (good + "impact = 'high'\n", "impact must be"),
        (good + "impact = true\n", "impact must be"),
        (good + "impact = -1\n", "impact must be"),
    ]:
        with pytest.raises(catalog.CatalogError, match=why):
            catalog.parse(bad)


def test_impact_is_optional_and_orders_what_breaks_pods_first() -> None:
    good = "[node.a-b]\nseverity = 'error'\ntitle = 't'\nwhen = 'w'\n"
    assert catalog.parse(good)["a-b"].impact == catalog.DEFAULT_IMPACT
    assert catalog.parse(good + "impact = 10\n")["a-b"].impact == 10
    get = catalog.load()
    # An unreachable API server and a missing binary or config break every pod; file modes do not.
    for urgent in ("kubeconfig-server-loopback", "multus-binary-missing", "multus-config-missing",
                   "kubeconfig-missing"):
        assert get[urgent].impact < get["kubeconfig-permissions"].impact, urgent
    assert get["kubeconfig-permissions"].impact < get["config-key-unknown"].impact


def test_the_catalog_ships_in_the_package() -> None:
    assert Path(catalog.CATALOG_PATH).parent.name == "data"
    assert "data/*" in (REPO / "pyproject.toml").read_text()


# ---------------------------------------------------------------- docs/CHECKS.md

def test_checks_md_is_in_step_with_the_catalog() -> None:
    text = CHECKS_MD.read_text()
    assert catalog.update_markdown(text) == text, (
        "docs/CHECKS.md is out of step with src/multusctl/data/checks.toml; regenerate its tables with "
        f"`PYTHONPATH=src {catalog.REGENERATE}`"
    )


def test_checks_md_rows_show_id_severities_and_when() -> None:
    text = CHECKS_MD.read_text()
    for e in catalog.load().values():
        row = f'| <a id="{e.id}"></a>{e.id} | {" / ".join(e.severities)} | '
        assert row in text, e.id


def test_update_markdown_rewrites_only_the_regions() -> None:
    areas = [a for a in catalog.AREAS if catalog.entries(a)]
    stale = "# Title\n\nprose before\n\n" + "\n\nbetween\n\n".join(
        f"<!-- BEGIN GENERATED: {a} -->\n| old | row |\n<!-- END GENERATED: {a} -->" for a in areas
    ) + "\n\nprose after\n"
    new = catalog.update_markdown(stale)
    assert new.startswith("# Title\n\nprose before\n\n") and new.endswith("\n\nprose after\n")
    assert new.count("\n\nbetween\n\n") == len(areas) - 1
    assert "| old | row |" not in new
    assert catalog.update_markdown(new) == new
    with pytest.raises(catalog.CatalogError, match="node"):
        catalog.update_markdown("no regions here\n")


def test_the_generator_command_checks_and_writes(tmp_path: Path) -> None:
    md = tmp_path / "CHECKS.md"
    stale = CHECKS_MD.read_text().replace('| <a id="conf-invalid"></a>conf-invalid | error / warning |',
                                          '| <a id="conf-invalid"></a>conf-invalid | info |')
    md.write_text(stale)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "multusctl.catalog"]
    out = subprocess.run([*cmd, "--check-markdown", "--file", str(md)], capture_output=True, text=True, env=env,
                         check=False)
    assert out.returncode == 1 and "--write-markdown" in out.stdout
    assert subprocess.run([*cmd, "--write-markdown", "--file", str(md)], env=env, capture_output=True,
                          check=False).returncode == 0
    assert md.read_text() == CHECKS_MD.read_text()
    table = subprocess.run([*cmd, "--markdown", "node"], capture_output=True, text=True, env=env, check=True)
    assert table.stdout.startswith("| id | sev | fires when |\n|---|---|---|\n")


# ---------------------------------------------------------------- multusctl check --list

def test_check_list_json_is_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_node(*_a: object, **_k: object) -> None:
        raise AssertionError("check --list read the node")

    monkeypatch.setattr("multusctl.analyze.node_snapshot", no_node)
    res = CliRunner().invoke(cli, ["check", "--list", "-o", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [d["id"] for d in doc] == list(catalog.load())
    insecure = next(d for d in doc if d["id"] == "kubeconfig-insecure")
    assert insecure["severity"] == "warning" and insecure["area"] == "node" and insecure["implemented"] is True
    assert insecure["title"] and insecure["when"] and isinstance(insecure["references"], list)
    assert insecure["doc_url"].endswith("CHECKS.md#kubeconfig-insecure")
    missing = next(d for d in doc if d["id"] == "kubeconfig-missing")
    assert "https://github.com/k8snetworkplumbingwg/multus-cni/issues/564" in missing["references"]
    # every id is built since issue 11; the flag stays in the contract for the next planned id
    assert all(isinstance(d["implemented"], bool) for d in doc)


def test_check_list_text_is_an_aligned_table() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-m", "multusctl", "check", "--list"], capture_output=True, text=True,
                         env=env, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0]
    assert header.split() == ["ID", "SEVERITY", "AREA", "TITLE"]
    cols = [header.index(h) for h in ("SEVERITY", "AREA", "TITLE")]
    rows = {line.split()[0]: line for line in lines[1:] if line and not line.startswith(" ")
            and catalog.get(line.split()[0])}
    assert set(rows) == set(catalog.load())
    for cid, line in rows.items():
        e = catalog.get(cid)
        assert e is not None
        assert line[cols[0]:].startswith("/".join(e.severities)), cid
        assert line[cols[1]:].startswith(e.area), cid
        assert line[cols[2]:] == e.title, cid
    assert "    see   https://github.com/k8snetworkplumbingwg/multus-cni/issues/564" in lines
    assert any(line.startswith("    when  ") for line in lines)
    assert ("(not built)" in out.stdout) == any(not e.implemented for e in catalog.load().values())


def test_check_list_refuses_a_report_format() -> None:
    res = CliRunner().invoke(cli, ["check", "--list", "-o", "sarif"])
    assert res.exit_code == 2 and "--list" in res.output
