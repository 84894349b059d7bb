"""config/nad.py: whatever a NAD's spec.config holds, a list of (JSON path, one-line reason), never an exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.checks.cluster_nads import nad_config_invalid
from multusctl.config.nad import config_problems
from tests.fuzzkit import examples

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=20)
plugin_like = st.fixed_dictionaries({}, optional={"cniVersion": st.text(max_size=6) | st.integers(),
                                                  "type": json_values, "name": json_values, "ipam": json_values,
                                                  "plugins": st.lists(st.dictionaries(st.sampled_from(
                                                      ["type", "ipam", "master"]), json_values), max_size=3)
                                                  | json_values})


def _one_line(problems: list[tuple[str, str]]) -> None:
    for where, reason in problems:
        assert where.startswith("spec") and "\n" not in reason and reason


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")))
def test_any_text_gives_findings_never_an_exception(text: str) -> None:
    _one_line(config_problems(text))


@settings(max_examples=examples(300), deadline=None)
@given(plugin_like)
def test_any_json_shape_gives_findings_never_an_exception(doc: dict) -> None:
    _one_line(config_problems(json.dumps(doc)))


@settings(max_examples=examples(200), deadline=None)
@given(json_values)
def test_any_stored_nad_object_is_judged_without_a_crash(spec: object) -> None:
    from types import SimpleNamespace

    snap = SimpleNamespace(nads=[{"metadata": {"name": "n", "namespace": "ns"}, "spec": spec},
                                 {"metadata": spec, "spec": {"config": spec}}])
    for hit in nad_config_invalid(snap):
        assert hit.path and hit.field and "\n" not in hit.message


def test_deep_nesting_is_a_finding() -> None:
    (problem,) = config_problems("[" * 100_000 + "]" * 100_000)
    assert problem[0] == "spec.config"


def test_a_valid_conflist_and_an_empty_config_pass() -> None:
    assert config_problems(json.dumps({"cniVersion": "1.0.0", "name": "n", "plugins": [
        {"type": "macvlan", "master": "eth0", "ipam": {"type": "whereabouts", "range": "10.0.0.0/24"}},
        {"type": "tuning"}]})) == []
    assert config_problems("") == []
