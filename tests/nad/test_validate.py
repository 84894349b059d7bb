"""nad validate: a grid of (NADs, node facts) -> ids, the CLI over files, stdin and the test cluster, and the NAD
file reader fuzzed (a finding or a one-line error, never a traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.cli.main import cli
from multusctl.config.errors import ParseError
from multusctl.config.nadfile import nads_from_text
from multusctl.gather.nads import Plugin, gather, parse_cidrs
from multusctl.nad.validate import report
from multusctl.testing import TestCluster
from tests.fuzzkit import examples
from tests.test_doctor import NAD_CRD

BIN = "/usr/lib/cni"


def nad(name: str, config: Any, namespace: str = "default") -> dict[str, Any]:
    text = config if isinstance(config, str) else json.dumps(config)
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"config": text}}


def bridge(subnet: str = "10.77.0.0/24", **extra: Any) -> dict[str, Any]:
    return {"cniVersion": "1.0.0", "type": "bridge", "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet}]]},
            **extra}


def run(nads: list[dict[str, Any]], *, plugins: tuple[str, ...] = ("bridge", "host-local", "macvlan", "static"),
        versions: tuple[str, ...] | None = None, interfaces: set[str] | None = None,
        cluster: str | None = None, service: str | None = None) -> list[tuple[str, str | None, str | None]]:
    snap = gather(nads, ["t"] * len(nads), root="/nonexistent", bin_dirs=["/opt/cni/bin"], on_node=False,
                  cluster_cidrs=parse_cidrs([cluster], "--cluster-cidr") if cluster else [],
                  service_cidrs=parse_cidrs([service], "--service-cidr") if service else [])
    snap.plugins = {p: Plugin(f"/opt/cni/bin/{p}", versions) for p in plugins}
    snap.interfaces = interfaces
    rep = report(snap)
    assert not rep.crashed, rep.crashed
    return [(f.id, f.path, f.field) for f in rep.findings]


GRID: list[tuple[str, list[dict[str, Any]], dict[str, Any], set[tuple[str, str | None, str | None]]]] = [
    ("healthy bridge", [nad("a", bridge())], {}, set()),
    ("empty config, no confDir to read", [nad("a", "")], {}, set()),
    ("not JSON", [nad("a", "{nope")], {}, {("nad-config-invalid", "default/a", "spec.config")}),
    ("name with a space", [nad("a", bridge(name="my net"))], {},
     {("nad-config-invalid", "default/a", "spec.config.name")}),
    ("metadata.name not a label", [nad("A.b", bridge())], {},
     {("nad-config-invalid", "default/A.b", "metadata.name")}),
    ("host-local without ranges", [nad("a", {"cniVersion": "1.0.0", "type": "bridge", "ipam": {"type": "host-local"}})],
     {}, {("nad-config-invalid", "default/a", "spec.config.ipam.ranges")}),
    ("host-local gateway outside", [nad("a", {"type": "bridge", "ipam": {"type": "host-local", "subnet": "10.1.0.0/24",
                                                                         "gateway": "10.2.0.1"}})],
     {}, {("nad-config-invalid", "default/a", "spec.config.ipam.gateway")}),
    ("static bad address", [nad("a", {"type": "macvlan", "ipam": {"type": "static", "addresses": [{"address": "x"}]}})],
     {}, {("nad-config-invalid", "default/a", "spec.config.ipam.addresses[0].address")}),
    ("whereabouts without range", [nad("a", {"type": "macvlan", "ipam": {"type": "whereabouts"}})],
     {"plugins": ("macvlan", "whereabouts")}, {("nad-config-invalid", "default/a", "spec.config.ipam.range")}),
    ("version the binary lacks", [nad("a", bridge(cniVersion="1.1.0"))], {"versions": ("0.4.0", "1.0.0")},
     {("nad-config-invalid", "default/a", "spec.config.type")}),
    ("plugin missing", [nad("a", {"cniVersion": "1.0.0", "type": "sriov", "ipam": {"type": "dhcp"}})], {},
     {("nad-plugin-missing", "default/a", "spec.config.type"), ("nad-plugin-missing", "default/a",
                                                                 "spec.config.ipam.type")}),
    ("conflist plugin missing",
     [nad("a", {"cniVersion": "1.0.0", "name": "a", "plugins": [bridge(), {"type": "tuning"}]})],
     {}, {("nad-plugin-missing", "default/a", "spec.config.plugins[1].type")}),
    ("master missing", [nad("a", {"type": "macvlan", "master": "ens9"})], {"interfaces": {"lo", "eth0"}},
     {("nad-master-missing", "default/a", "spec.config.master")}),
    ("master present", [nad("a", {"type": "macvlan", "master": "eth0"})], {"interfaces": {"lo", "eth0"}}, set()),
    ("master unknown off the node", [nad("a", {"type": "macvlan", "master": "ens9"})], {}, set()),
    ("overlaps cluster CIDR", [nad("a", bridge("10.42.3.0/24"))], {"cluster": "10.42.0.0/16"},
     {("nad-ipam-overlap", "default/a", "spec.config.ipam.ranges[0][0].subnet")}),
    ("overlaps service CIDR", [nad("a", bridge("10.43.0.0/24"))], {"service": "10.43.0.0/16"},
     {("nad-ipam-overlap", "default/a", "spec.config.ipam.ranges[0][0].subnet")}),
    ("two NADs overlap", [nad("a", bridge("10.9.0.0/16")), nad("b", bridge("10.9.8.0/24"))], {},
     {("nad-ipam-overlap", "default/b", "spec.config.ipam.ranges[0][0].subnet")}),
    ("two NADs apart", [nad("a", bridge("10.9.0.0/24")), nad("b", bridge("10.9.1.0/24"))], {}, set()),
    ("whereabouts shared pool", [nad(n, {"type": "macvlan", "ipam": {"type": "whereabouts", "range": "10.5.0.0/24"}})
                                 for n in ("a", "b")], {"plugins": ("macvlan", "whereabouts")}, set()),
]


@pytest.mark.parametrize(("name", "nads", "kw", "want"), GRID, ids=[g[0] for g in GRID])
def test_grid(name: str, nads: list[dict[str, Any]], kw: dict[str, Any], want: set[Any]) -> None:
    assert set(run(nads, **kw)) == want


def test_every_static_id_fires_in_some_row() -> None:
    fired = {i for *_x, want in GRID for i, _p, _f in want}
    assert fired == {"nad-config-invalid", "nad-plugin-missing", "nad-ipam-overlap", "nad-master-missing"}


def test_empty_config_reads_multus_confdir(tmp_path: Path) -> None:
    conf = tmp_path / "etc/cni/multus/net.d"
    conf.mkdir(parents=True)
    (conf / "10-b.conf").write_text(json.dumps({"name": "b", "type": "bridge"}))
    snap = gather([nad("a", ""), nad("b", "")], ["t", "t"], root=str(tmp_path), bin_dirs=None, on_node=False)
    assert [(f.id, f.path) for f in report(snap).findings] == [("nad-config-invalid", "default/a")]


def write(tmp_path: Path, docs: list[dict[str, Any]], name: str = "nads.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump_all(docs))
    return p


def cli_run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multusctl", "nad", "validate", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_cli_files_list_and_stdin(tmp_path: Path) -> None:
    good = write(tmp_path, [nad("a", bridge()), {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}}])
    assert cli_run([str(good), "--bin-dir", BIN]).returncode == 0
    lst = json.dumps({"apiVersion": "v1", "kind": "List", "items": [nad("a", bridge()), nad("b", "{")]})
    out = cli_run(["-", "--bin-dir", BIN, "-o", "json"], stdin=lst)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert [(f["id"], f["path"], f["field"]) for f in doc["findings"]] == [("nad-config-invalid", "default/b",
                                                                            "spec.config")]
    for fmt in ("sarif", "junit", "text"):
        assert cli_run(["-", "--bin-dir", BIN, "-o", fmt], stdin=lst).returncode == 1


@pytest.mark.parametrize("content", ["{a: [", "- 1\n- 2\n", "\x00\x01binary", "kind: Service\n", "",
                                     "a: &x [*x]\n"])
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, content: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(content)
    out = cli_run([str(p)])
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert cli_run([]).returncode == 2
    assert cli_run(["x.yaml", "-A"]).returncode == 2
    assert cli_run([str(tmp_path / "missing.yaml")]).returncode == 2
    assert cli_run(["-", "--cluster-cidr", "junk"], stdin=json.dumps(nad("a", bridge()))).returncode == 2


def test_cli_reads_the_cluster_in_one_list_call(tmp_path: Path) -> None:
    with TestCluster() as c:
        c.seed([NAD_CRD, nad("a", bridge()), nad("b", "{", "other"), nad("c", bridge("10.42.0.0/24"), "other")])
        admin = c.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        c.requests.clear()
        res = CliRunner().invoke(cli, ["nad", "validate", "-A", "--kubeconfig", str(admin), "--bin-dir", BIN,
                                       "--cluster-cidr", "10.42.0.0/16", "-o", "json"])
        assert res.exit_code == 1, res.output
        doc = json.loads(res.output)
        assert {(f["id"], f["path"]) for f in doc["findings"]} == {("nad-config-invalid", "other/b"),
                                                                  ("nad-ipam-overlap", "other/c")}
        nad_calls = [r for r in c.requests if "network-attachment-definitions" in r[1]]
        assert len(nad_calls) == 1, nad_calls
        res = CliRunner().invoke(cli, ["nad", "validate", "-n", "default", "--kubeconfig", str(admin),
                                       "--bin-dir", BIN])
        assert res.exit_code == 0, res.output


documents = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                             st.sampled_from(["kind", "apiVersion", "items", "metadata", "spec", "config", "name"]),
                             inner, max_size=4), max_leaves=15)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(documents, max_size=3))
def test_reader_any_document_shape(docs: list[Any]) -> None:
    text = yaml.safe_dump_all(docs)
    try:
        found = nads_from_text(text, "f")
    except ParseError as exc:
        assert "\n" not in str(exc)
        return
    snap = gather(found, ["f"] * len(found), root="/nonexistent", bin_dirs=[], on_node=False)
    assert not report(snap).crashed


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=200))
def test_reader_any_text(text: str) -> None:
    try:
        nads_from_text(text, "f")
    except ParseError as exc:
        assert str(exc).startswith("f: ") and "\n" not in str(exc)
