"""Every output format of a report built in memory: the JSON contract of CHECKS.md, SARIF 2.1.0 (validated
against the OASIS schema when a package ships it), JUnit XML, the text report, and redaction of secrets."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from multusctl import records
from multusctl.report.finding import Finding, Report, Target
from multusctl.report.formats import FORMATTERS, render
from multusctl.report.sarif import node_uri
from multusctl.report.text import render_text
from tests.sarifkit import sarif_validator

KUBECONFIG = "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig"
THIN_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d/00-multus.conf"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _finding(fid: str, sev: str, **kw: Any) -> Finding:
    base: dict[str, Any] = {
        "title": f"title of {fid}",
        "message": f"why {fid} breaks Multus",
        "fix": f"fix for {fid}",
        "path": None,
        "field": None,
        "evidence": {},
    }
    base.update(kw)
    return Finding(id=fid, severity=sev, **base)  # type: ignore[arg-type]


def seed_report() -> Report:
    """The founding case: a k3s agent whose thin config uses a copy of k3s.yaml on 127.0.0.1:6443."""
    findings = [
        _finding("kubeconfig-server-loopback", "error",
                 title="The kubeconfig's server is a loopback address with no apiserver behind it",
                 message="server https://127.0.0.1:6443: this k3s agent runs no apiserver on 6443 (its load "
                         "balancer listens on 127.0.0.1:6444), so every pod ADD ends in "
                         "`context deadline exceeded`.",
                 fix="multusctl kubeconfig create --server https://127.0.0.1:6444",
                 path=KUBECONFIG, field="clusters[default].cluster.server",
                 evidence={"server": "https://127.0.0.1:6443", "port": 6443}),
        _finding("thin-pod-path", "error", path=THIN_CONF, field="kubeconfig",
                 message="kubeconfig /host/etc/cni/net.d/multus.d/multus.kubeconfig is an in-pod path",
                 fix='"kubeconfig": "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig"'),
        _finding("kubeconfig-admin-credentials", "warning", path=KUBECONFIG,
                 field="users[default].user.client-certificate-data",
                 evidence={"subject": "O=system:masters,CN=system:admin"}),
        _finding("global-namespaces-no-default", "info", path=THIN_CONF, field="globalNamespaces"),
    ]
    checks = ["conf-dir-missing", "thin-pod-path", "kubeconfig-server-loopback",
              "kubeconfig-admin-credentials", "global-namespaces-no-default", "kubeconfig-insecure"]
    return Report(Target(kind="node", root="/tmp/node", distro="k3s", role="agent", mode="thin"),
                  findings, checks, tool_version="0.1.0")


def clean_report() -> Report:
    return Report(Target(root="/", distro="k3s", role="server", mode="thin"), [],
                  ["conf-dir-missing", "kubeconfig-insecure"], "0.1.0")


# ---------------------------------------------------------------- json

def test_json_matches_the_contract() -> None:
    doc = json.loads(render(seed_report(), "json"))
    assert set(doc) == {"schema", "tool", "target", "findings", "checks_run", "summary"}
    assert doc["schema"] == "multusctl.report/v1"
    assert doc["tool"] == {"name": "multusctl", "version": "0.1.0"}
    assert doc["target"] == {"kind": "node", "root": "/tmp/node", "distro": "k3s", "role": "agent",
                             "mode": "thin"}
    assert doc["summary"] == {"error": 2, "warning": 1, "info": 1}
    assert doc["checks_run"][0] == "conf-dir-missing"
    for f in doc["findings"]:
        assert set(f) == {"id", "severity", "title", "message", "fix", "path", "field", "evidence"}
        assert f["severity"] in {"error", "warning", "info"}
        assert f["path"] is None or f["path"].startswith("/")
    assert doc["findings"][0]["evidence"] == {"server": "https://127.0.0.1:6443", "port": 6443}


# ---------------------------------------------------------------- sarif



@pytest.mark.parametrize("report", [seed_report(), clean_report()], ids=["seed", "clean"])
def test_sarif_validates_against_the_2_1_0_schema(report: Report) -> None:
    doc = json.loads(render(report, "sarif"))
    validator = sarif_validator()
    if validator is not None:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, errors
    # The structure code-scanning UIs rely on, checked by hand whether or not the schema is at hand.
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "multusctl"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids[: len(report.checks_run)] == report.checks_run
    for r in driver["rules"]:
        assert r["shortDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in {"error", "warning", "note"}


def test_sarif_results_carry_level_message_fix_location_and_properties() -> None:
    doc = json.loads(render(seed_report(), "sarif"))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "error", "warning", "note"]
    loop = results[0]
    assert loop["ruleId"] == "kubeconfig-server-loopback"
    assert rules[loop["ruleIndex"]]["id"] == loop["ruleId"]
    assert "context deadline exceeded" in loop["message"]["text"]
    assert "multusctl kubeconfig create --server https://127.0.0.1:6444" in loop["message"]["text"]
    assert loop["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file://" + KUBECONFIG
    assert loop["properties"]["field"] == "clusters[default].cluster.server"
    assert loop["properties"]["evidence"]["port"] == 6443


def test_sarif_rule_level_is_the_catalog_default_not_the_findings() -> None:
    from multusctl import catalog

    cid = "kubeconfig-insecure"
    entry = catalog.get(cid)
    assert entry is not None and entry.severity == "warning"
    report = Report(Target(), [_finding(cid, "error")], [cid])
    doc = json.loads(render(report, "sarif"))
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["defaultConfiguration"]["level"] == "warning"
    assert rule["shortDescription"]["text"] == entry.title
    assert doc["runs"][0]["results"][0]["level"] == "error"


def test_sarif_rules_carry_when_help_uri_and_references() -> None:
    from multusctl import catalog

    doc = json.loads(render(seed_report(), "sarif"))
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    for cid in seed_report().checks_run:
        entry = catalog.get(cid)
        assert entry is not None
        rule = rules[cid]
        assert rule["fullDescription"]["markdown"] == entry.when
        assert rule["fullDescription"]["text"] and "**" not in rule["fullDescription"]["text"]
        assert rule["helpUri"] == f"{catalog.DOCS_URL}#{cid}"
        assert rule["properties"]["references"] == list(entry.references)
    assert rules["kubeconfig-server-loopback"]["properties"]["area"] == "node"


def test_sarif_prefers_the_entries_the_report_carries() -> None:

    from multusctl import catalog

    entry = catalog.get("kubeconfig-insecure")
    assert entry is not None
    carried = records.replace(entry, title="carried title", when="carried when")
    report = Report(Target(), [], ["kubeconfig-insecure"], checks={"kubeconfig-insecure": carried})
    rule = json.loads(render(report, "sarif"))["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "carried title"
    assert rule["fullDescription"]["text"] == "carried when"


def test_sarif_rule_of_an_id_the_catalog_lacks_has_no_catalog_fields() -> None:
    report = Report(Target(), [_finding("x-made-up", "error")], ["x-made-up"])
    rule = json.loads(render(report, "sarif"))["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "title of x-made-up"
    assert rule["defaultConfiguration"]["level"] == "error"
    assert "helpUri" not in rule and "fullDescription" not in rule


def test_sarif_result_without_a_path_has_no_location() -> None:
    report = Report(Target(), [_finding("x-made-up", "info")], ["x-made-up"])
    result = json.loads(render(report, "sarif"))["runs"][0]["results"][0]
    assert "locations" not in result and result["level"] == "note"


@pytest.mark.parametrize(("path", "uri"), [
    ("/etc/cni/net.d/00-multus.conf", "file:///etc/cni/net.d/00-multus.conf"),
    ("/etc/cni/net.d/a b#c.conf", "file:///etc/cni/net.d/a%20b%23c.conf"),
    ("/etc/cni/net.d/\udcff.conf", "file:///etc/cni/net.d/%FF.conf"),
])
def test_sarif_uri_is_a_percent_encoded_file_uri(path: str, uri: str) -> None:
    assert node_uri(path) == uri


# ---------------------------------------------------------------- junit

def test_junit_parses_and_counts() -> None:
    root = ET.fromstring(render(seed_report(), "junit"))
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == seed_report().checks_run
    assert suite.get("tests") == "6" and suite.get("failures") == "3" and suite.get("errors") == "0"
    failures = {c.get("name"): c.findall("failure") for c in cases}
    assert failures["conf-dir-missing"] == [] and failures["kubeconfig-insecure"] == []
    assert failures["global-namespaces-no-default"] == []  # info: passes, the note is in system-out
    info_case = next(c for c in cases if c.get("name") == "global-namespaces-no-default")
    assert "why global-namespaces-no-default" in (info_case.findtext("system-out") or "")
    (fail,) = failures["kubeconfig-server-loopback"]
    assert fail.get("type") == "error"
    assert fail.get("message") == "The kubeconfig's server is a loopback address with no apiserver behind it"
    assert "context deadline exceeded" in (fail.text or "")
    assert "multusctl kubeconfig create" in (fail.text or "") and KUBECONFIG in (fail.text or "")
    assert failures["kubeconfig-admin-credentials"][0].get("type") == "warning"


def test_junit_one_failure_per_finding_and_clean_report() -> None:
    two = [_finding("conf-invalid", "error", path=f"/etc/cni/net.d/{n}.conf") for n in ("10-a", "20-b")]
    root = ET.fromstring(render(Report(Target(), two, ["conf-invalid", "conf-dir-missing"]), "junit"))
    assert len(root.find("testsuite").findall("testcase/failure")) == 2  # type: ignore[union-attr]
    assert root.get("failures") == "1"
    clean = ET.fromstring(render(clean_report(), "junit"))
    assert clean.get("tests") == "2" and clean.get("failures") == "0"
    assert not clean.findall(".//failure")


def test_junit_stays_valid_xml_with_control_characters_and_undecodable_names() -> None:
    f = _finding("conf-invalid", "error", message="bad \x00\x1b[31m\x07 byte", path="/etc/cni/net.d/\udcfe.conf")
    out = render(Report(Target(), [f], ["conf-invalid"]), "junit")
    text = ET.fromstring(out).find(".//failure").text  # type: ignore[union-attr]
    assert "\\x00" in text and "\\x1b" in text and "\\xfe" in text  # type: ignore[operator]
    out.encode("utf-8")


# ---------------------------------------------------------------- text

def test_text_groups_by_severity_with_path_why_and_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    out = render_text(seed_report(), color=False, verbose=True)  # why: with -v only (issue 8 #13)
    lines = out.splitlines()
    assert lines[0] == "multusctl check: k3s agent node, multus thin, root /tmp/node"
    heads = [i for i, line in enumerate(lines) if re.match(r"^(ERRORS|WARNINGS|INFO) \(\d+\)$", line)]
    assert [lines[i] for i in heads] == ["ERRORS (2)", "WARNINGS (1)", "INFO (1)"]
    assert out.index("kubeconfig-server-loopback") < out.index("kubeconfig-admin-credentials") \
        < out.index("global-namespaces-no-default")
    # Path and key both whole: on one line when they fit, else the key on a line of its own.
    assert f"    at   {KUBECONFIG}\n    key  clusters[default].cluster.server\n" in out
    assert f"    at   {THIN_CONF}  (kubeconfig)\n" in out
    assert "why  server https://127.0.0.1:6443" in out
    # A command fix is printed whole on one line, so it can be copied.
    assert "    fix  multusctl kubeconfig create --server https://127.0.0.1:6444\n" in out
    assert lines[-1] == "2 errors, 1 warning, 1 info — 6 checks run"


def test_text_clean_report_is_one_line_after_the_header() -> None:
    out = render_text(clean_report(), color=False)
    assert out.splitlines() == ["multusctl check: k3s server node, multus thin, root /",
                                "ok: no problems found — 2 checks run"]


def test_text_summary_singular_forms() -> None:
    r = Report(Target(), [_finding("a", "error"), _finding("b", "warning")], ["a"])
    assert render_text(r).splitlines()[-1] == "1 error, 1 warning, 0 info — 1 check run (-v: why each matters)"
    assert render_text(r, verbose=True).splitlines()[-1] == "1 error, 1 warning, 0 info — 1 check run"


def test_text_colour_only_when_asked() -> None:
    plain = render_text(seed_report(), color=False)
    coloured = render_text(seed_report(), color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31m" in coloured and "\x1b[1;33m" in coloured and "\x1b[1;32m" in coloured
    assert ANSI.sub("", coloured) == plain
    assert "\x1b" not in render(seed_report(), "text", color=False)


def test_text_wraps_prose_but_not_quoted_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    long_msg = "word " * 40 + "then `kubectl -n kube-system rollout restart daemonset/kube-multus-ds` end"
    out = render_text(Report(Target(), [_finding("a", "error", message=long_msg)], ["a"]), verbose=True)
    body = [line for line in out.splitlines() if line.startswith("    ")]
    assert all(len(line) <= 60 for line in body if "`" not in line)
    assert any("`kubectl -n kube-system rollout restart daemonset/kube-multus-ds`" in line for line in body)


def test_text_escapes_terminal_control_sequences_from_node_files() -> None:
    hostile = _finding("conf-invalid", "error", message="name \x1b]0;pwned\x07 here",
                       path="/etc/cni/net.d/\x1b[2J\udcff.conf")
    out = render_text(Report(Target(), [hostile], ["conf-invalid"]), color=False)
    assert "\x1b" not in out and "\x07" not in out
    assert "/etc/cni/net.d/\\x1b[2J\\xff.conf" in out
    out.encode("utf-8")  # no lone surrogate left: writable to any UTF-8 stream


# ---------------------------------------------------------------- redaction

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06bXVsdHVzIn0.c2ln"
KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\"<&>\n-----END EC PRIVATE KEY-----"


def _leaky_report() -> Report:
    # Checks never do this; the renderers are the last line of defence if one ever does.
    f = _finding("kubeconfig-insecure", "warning", message=f"token {TOKEN} and key {KEY}",
                 fix=f"replace {TOKEN}", field=f"users[{TOKEN[:20]}]",
                 evidence={"token": TOKEN, "nested": [{"key": KEY}], TOKEN: 1})
    return Report(Target(root=f"/tmp/{TOKEN}"), [f], ["kubeconfig-insecure"])


@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_secrets_never_appear_in_any_format(fmt: str) -> None:
    out = render(_leaky_report(), fmt, color=True, secrets={TOKEN, KEY})
    escaped_key = json.dumps(KEY)[1:-1]
    for needle in (TOKEN, KEY, escaped_key, "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5"):
        assert needle not in out, (fmt, needle)
    assert "redacted sha256:" in out


# ---------------------------------------------------------------- the real command, every format

def _seed_agent_root(tmp_path: Any) -> str:
    """The founding case on a k3s agent: thin config, k3s.yaml copied as the multus kubeconfig."""
    from tests import certs
    from tests.distro_roots import K3S_BIN_DIR, K3S_CONF_DIR, flannel_conflist, k3s_agent
    from tests.noderoot import File, make_root

    files = k3s_agent()
    files.update({
        f"{K3S_CONF_DIR}/00-multus.conf": {
            "cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
            "kubeconfig": f"{K3S_CONF_DIR}/multus.d/multus.kubeconfig", "delegates": [flannel_conflist()]},
        f"{K3S_CONF_DIR}/multus.d/multus.kubeconfig": File(certs.k3s_yaml(), mode=0o600),
        f"{K3S_BIN_DIR}/multus": File("#!/bin/sh\n", mode=0o755),
    })
    return str(make_root(tmp_path / "node", files))


def test_every_format_of_a_real_check_run(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from multusctl.cli.main import cli

    root = _seed_agent_root(tmp_path)
    outs = {}
    for fmt in ("json", "sarif", "junit", "text"):
        res = CliRunner().invoke(cli, ["check", "--root", root, "-o", fmt, "--no-color"])
        assert res.exit_code == 1, (fmt, res.output)
        outs[fmt] = res.stdout
    doc = json.loads(outs["json"])
    ids = {f["id"] for f in doc["findings"]}
    assert {"kubeconfig-server-loopback", "kubeconfig-admin-credentials"} <= ids
    assert all(not f["path"] or not f["path"].startswith(root) for f in doc["findings"])

    sarif = json.loads(outs["sarif"])
    validator = sarif_validator()
    if validator is not None:
        assert not list(validator.iter_errors(sarif))
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == doc["checks_run"]
    assert all(r["helpUri"].endswith("#" + r["id"]) and r["fullDescription"]["text"]
               for r in run["tool"]["driver"]["rules"])
    assert len(run["results"]) == len(doc["findings"])

    suite = ET.fromstring(outs["junit"]).find("testsuite")
    assert suite is not None and suite.get("tests") == str(len(doc["checks_run"]))
    failing = {f["id"] for f in doc["findings"] if f["severity"] != "info"}
    assert suite.get("failures") == str(len(failing))

    text = outs["text"]
    assert text.splitlines()[0].startswith("multusctl check: k3s agent node, multus thin, root ")
    assert "x kubeconfig-server-loopback" in text and "\x1b" not in text
    s = doc["summary"]
    assert text.rstrip().splitlines()[-1].startswith(f"{s['error']} error")
    # The client key of the copied k3s.yaml is a secret: never printed, in any format.
    key_b64 = certs_key_b64()
    assert all(key_b64 not in out for out in outs.values())


def certs_key_b64() -> str:
    from tests import certs

    return certs.admin().key_b64
