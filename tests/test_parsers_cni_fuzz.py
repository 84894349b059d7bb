"""Fuzz the CNI-side parsers: whatever the bytes, the answer is a model or a one-line ParseError.

Covers config.jsonload.loads, config.cni.parse / runtime_load_error, config.multus.from_cni /
daemon_from_obj / multus_depth / netconf_type_errors / lookup: garbage, truncated JSON, binary, huge and
deeply nested input (FACTS.md §7 #20: a real nested 00-multus.conflist is ~2,500 levels deep).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multusctl.config import cni as cni_mod
from multusctl.config import multus as multus_mod
from multusctl.config.errors import ParseError
from multusctl.config.jsonload import GO_MAX_DEPTH, json_depth, loads
from tests.fuzzkit import examples

FAST = settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | \
    st.text(max_size=20)
KEYS = st.sampled_from(["type", "name", "cniVersion", "plugins", "delegates", "ipam", "clusterNetwork",
                        "defaultNetworks", "kubeconfig", "kubeConfig", "logLevel", "binDir", "capabilities",
                        "namespaceIsolation", "globalNamespaces", "readinessIndicatorFile", "x"]) | st.text(max_size=8)
TYPES = st.sampled_from(["multus", "multus-shim", "flannel", "bridge", "macvlan", "", "MULTUS"])
json_values = st.recursive(
    json_scalars | TYPES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=12,
)


def _whole_chain(data: bytes | str) -> None:
    """Every parser step the gatherer runs, as gather_node runs them."""
    try:
        cfg = cni_mod.parse(data)
    except ParseError as exc:
        assert "\n" not in str(exc)
        assert str(exc)
    else:
        cni_mod.runtime_load_error(cfg.raw, "00-multus.conf")
        cni_mod.runtime_load_error(cfg.raw, "00-multus.conflist")
        if cfg.multus_type:
            mc = multus_mod.from_cni(cfg)
            assert mc.nesting_depth >= 0
            multus_mod.netconf_type_errors(mc.plugin)
            _ = (mc.kubeconfig, mc.cluster_network, mc.default_networks, mc.bin_dir, mc.conf_dir, mc.socket_dir)
    try:
        obj = loads(data)
    except ParseError:
        return
    try:
        dc = multus_mod.daemon_from_obj(obj)
    except ParseError:
        pass
    else:
        _ = (dc.chroot_dir, dc.get_str("logLevel"), dc.get("binDir"))
    multus_mod.multus_depth(obj)


@FAST
@given(st.binary(max_size=2000))
def test_binary_garbage(data: bytes) -> None:
    _whole_chain(data)


@FAST
@given(st.text(max_size=2000))
def test_text_garbage(data: str) -> None:
    _whole_chain(data)


@FAST
@given(json_values)
def test_json_values(value: Any) -> None:
    _whole_chain(json.dumps(value))


@FAST
@given(json_values, st.integers(min_value=0, max_value=400))
def test_truncated_json(value: Any, cut: int) -> None:
    text = json.dumps({"cniVersion": "1.0.0", "name": "m", "type": "multus", "delegates": [value]})
    _whole_chain(text[: min(cut, len(text))])


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, json_values, max_size=5), TYPES)
def test_multus_shaped_objects(obj: dict[str, Any], mtype: str) -> None:
    obj = {**obj, "type": mtype}
    _whole_chain(json.dumps(obj))
    _whole_chain(json.dumps({"name": "x", "cniVersion": "1.0.0", "plugins": [obj]}))
    for key in ("kubeconfig", "logLevel", "delegates"):
        multus_mod.lookup(obj, key)


@FAST
@given(st.text(alphabet="[]{}\",:\\ab1 \n", max_size=3000))
def test_bracket_soup(text: str) -> None:
    _whole_chain(text)
    assert json_depth(text) >= 0


@pytest.mark.parametrize("depth", [499, 500, 2500, GO_MAX_DEPTH, GO_MAX_DEPTH + 1])
def test_deep_nesting_is_model_or_parse_error(depth: int) -> None:
    arr = "[" * depth + "]" * depth
    obj = '{"a":' * depth + "1" + "}" * depth
    for text in (arr, obj):
        if depth > GO_MAX_DEPTH:
            with pytest.raises(ParseError, match="nested"):
                loads(text)
        else:
            loads(text)
        _whole_chain(text)


def test_deep_multus_nesting_counted_without_recursion() -> None:
    levels = 3000
    text = ('{"type":"multus","name":"m","delegates":[' * levels + '{"type":"flannel","name":"f"}'
            + "]}" * levels)
    cfg = cni_mod.parse(text)
    mc = multus_mod.from_cni(cfg)
    assert mc.nesting_depth == levels - 1


def test_conflist_wrapping_counts_once() -> None:
    inner = {"name": "n", "cniVersion": "1.0.0", "plugins": [{"type": "multus", "delegates": [{"type": "bridge"}]}]}
    outer = {"type": "multus", "name": "m", "delegates": [inner]}
    assert multus_mod.multus_depth(outer) == 1


def test_huge_inputs() -> None:
    big_string = json.dumps({"type": "bridge", "name": "x" * 1_000_000})
    assert cni_mod.parse(big_string).name is not None
    many = json.dumps({"type": "multus", "name": "m", "delegates": [{"type": "bridge"}] * 20_000})
    assert len(multus_mod.from_cni(cni_mod.parse(many)).delegates) == 20_000
    with pytest.raises(ParseError):
        loads("[" * 50_000)  # deeper than Go's limit and truncated
    with pytest.raises(ParseError):
        loads("9" * 10_000)  # beyond Python's int conversion limit


@pytest.mark.parametrize("text", ["", "   \n", "NaN", '{"a": Infinity}', "\ufeff{}", '{"a":1', "{'a': 1}",
                                  b"\xff\xfe{\x00}", '{"a": 1} trailing'])
def test_one_line_errors(text: str | bytes) -> None:
    with pytest.raises(ParseError) as exc:
        loads(text)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(("obj", "name", "expect"), [
    ({"name": "x", "plugins": [{"type": "a"}]}, "10.conf", "missing 'type'"),
    ({"name": "x", "type": "bridge"}, "10.conflist", "plugins"),
    ({"plugins": [{"type": "a"}]}, "10.conflist", "no name"),
    ({"name": "x", "plugins": []}, "10.conflist", "no plugins"),
    ({"name": "x", "plugins": [{}]}, "10.conflist", "plugin config 0"),
    ({"type": 3}, "10.json", "not a string"),
    ({"name": "x", "plugins": [{"type": "a"}]}, "10.conflist", None),
    ({"type": "bridge"}, "10.conf", None),
])
def test_runtime_load_error_follows_libcni(obj: dict[str, Any], name: str, expect: str | None) -> None:
    got = cni_mod.runtime_load_error(obj, name)
    if expect is None:
        assert got is None
    else:
        assert got is not None and expect in got
