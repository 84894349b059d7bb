"""explain never raises and always finishes, whatever is pasted: random text, hostile near-misses of the
patterns (long runs of the characters they match on), deep quoting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.explain import explain
from tests.fuzzkit import examples
from tests.test_explain_samples import SAMPLES

fragments = st.sampled_from(["\\", '\\"', '"', "x509: certificate is valid for ", "a, ", "dial tcp ", ": ",
                             "cannot find a network-attachment-definition (", ")", "\\u00", "\n   ", "{", "[",
                             '"type":"multus"', '"delegates":[{', "interface name ", " already exists", "eyJ"])


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    for m in explain(text):
        assert "\n" not in m.excerpt


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(fragments, max_size=300).map("".join))
def test_pattern_shaped_garbage(text: str) -> None:
    explain(text)


@settings(max_examples=examples(50), deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.integers(min_value=0, max_value=6))
def test_any_depth_of_quoting_up_to_what_unescaping_undoes(entry: str, depth: int) -> None:
    import json

    text = SAMPLES[entry]
    for _ in range(min(depth, 4)):
        text = json.dumps({"msg": text})
    assert [m.id for m in explain(text)][:1] == [entry]


def test_a_megabyte_of_near_misses_finishes() -> None:
    explain("x509: certificate is valid for " + "a, " * 300_000)
    explain('"type":"multus","delegates":[{' * 30_000)
