"""The effective-config view (gather/effective.py): Multus' merge rules applied once, every value traced."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.gather import effective
from tests.checkrun import findings
from tests.checks.test_paths_checks import kubeadm_thick
from tests.fuzzkit import examples

SHIM = "/etc/cni/net.d/00-multus.conf"
DAEMON = "/etc/cni/net.d/multus.d/daemon-config.json"


def test_thin_is_go_decoding_last_spelling_wins() -> None:
    eff = effective.thin({"binDir": "/a", "BinDir": "/b"}, SHIM, "plugins[0].")
    s = eff.get("bindir")
    assert s is not None and (s.value, s.source, s.field) == ("/b", SHIM, "plugins[0].BinDir")
    assert [x.key for x in eff.spellings("binDir")] == ["binDir", "BinDir"]


def test_thick_daemon_config_overrides_the_shim_key_by_key() -> None:
    eff = effective.thick({"type": "multus-shim", "binDir": "/shim", "confDir": "/c"}, SHIM, "",
                          {"binDir": "/daemon", "multusConfigFile": "auto"}, DAEMON)
    b, c = eff.get("binDir"), eff.get("confDir")
    assert b is not None and (b.value, b.source, b.field) == ("/daemon", DAEMON, "binDir")
    assert c is not None and (c.value, c.source) == ("/c", SHIM)  # the daemon does not set it: the shim's stays


def test_a_case_only_collision_is_won_by_the_lowercase_spelling_not_the_later_file() -> None:
    # The daemon re-encodes a Go map (sorted keys): readinessIndicatorFile < readinessindicatorfile.
    eff = effective.thick({"readinessindicatorfile": "/shim/ready"}, SHIM, "",
                          {"readinessIndicatorFile": "/daemon/ready", "multusConfigFile": "/etc/x.conf"}, DAEMON)
    s = eff.get("readinessindicatorfile")
    assert s is not None and (s.value, s.source) == ("/shim/ready", SHIM)


def test_only_the_exact_lowercase_readiness_key_is_dropped_and_only_under_auto() -> None:
    shim = {"type": "multus-shim"}
    auto = effective.thick(shim, SHIM, "", {"multusConfigFile": "auto", "readinessindicatorfile": "/r"}, DAEMON)
    assert auto.get("readinessindicatorfile") is None and [d.key for d in auto.dropped] == ["readinessindicatorfile"]
    camel = effective.thick(shim, SHIM, "", {"multusConfigFile": "auto", "readinessIndicatorFile": "/r"}, DAEMON)
    assert camel.text("readinessindicatorfile") == "/r" and camel.dropped == []
    fixed = effective.thick(shim, SHIM, "", {"multusConfigFile": "/etc/m.conf", "readinessindicatorfile": "/r"},
                            DAEMON)
    assert fixed.text("readinessindicatorfile") == "/r"


_keys = st.sampled_from(["binDir", "bindir", "BinDir", "confDir", "confdir", "readinessindicatorfile",
                         "readinessIndicatorFile", "cniVersion"])


@settings(max_examples=examples(200), deadline=None)
@given(shim=st.dictionaries(_keys, st.text(max_size=3)), daemon=st.dictionaries(_keys, st.text(max_size=3)))
def test_the_merge_is_what_the_daemon_computes(shim: dict[str, str], daemon: dict[str, str]) -> None:
    # A direct transcription of overrideCNIConfigWithServerConfig + json.Marshal + encoding/json decode.
    merged = dict(shim)
    merged.update(daemon)
    decoded: dict[str, str] = {}
    for k in sorted(merged):
        decoded[k.lower()] = merged[k]
    eff = effective.thick(shim, SHIM, "", daemon, DAEMON)
    for low, value in decoded.items():
        assert eff.value(low) == value


def test_a_camel_case_readiness_key_in_daemon_config_is_checked_where_it_is_written(tmp_path: Path) -> None:
    # Before the effective view the check read only the exact lowercase key and stayed silent.
    got = findings(tmp_path, kubeadm_thick(daemon={"readinessIndicatorFile": "/host/run/flannel/nope.env"}))
    hit = next(f for f in got if f.id == "readiness-file-missing")
    assert hit.field == "readinessIndicatorFile" and hit.path is not None and hit.path.endswith("daemon-config.json")
