"""explain() on random and hostile text: never an exception, a well-formed answer, a sound prefilter, and the
known messages still found inside noise. No timed assertions: the inputs are small, and the catalog's
patterns are held to bounded repeats by tests/test_explain.py."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multusctl.explain import MAX_INPUT, explain, load
from multusctl.explain.normalize import variants
from tests.fuzzkit import examples
from tests.test_explain import SAMPLES

FUZZ = settings(deadline=None, max_examples=examples(150), suppress_health_check=[HealthCheck.too_slow])

# Pieces of what the patterns look for, and of what makes regexes and unescaping work hard.
FRAGMENTS = sorted({n for e in load().values() for n in e.needles if n} | {
    '"', "\\", '\\"', '\\\\\\"', "\\u0026", "\\n", "'", "`", "[", "]", "{", "}", "(", ")", ":", " ", "\n", "\n   ",
    "\t", "\x1b[31m", "\x1b]0;", "\x00", "\ud800", "10.43.0.1:443", "[::1]:6443", "/etc/cni/net.d/", "@",
    '{"code":999,"msg":"', '","details":"', "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer ", "token: ",
    "2026-12-01T22:40:01Z [error] ", "Warning  FailedCreatePodSandBox  3m (x12 over 10m)  kubelet  ",
})
hostile = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60).map("".join)
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


def _well_formed(text: str) -> None:
    matches = explain(text)
    assert len({m.id for m in matches}) == len(matches)
    for m in matches:
        assert m.id in load() and m.severity in ("error", "warning") and m.causes
        assert not CONTROL.search(m.excerpt), repr(m.excerpt)


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _well_formed(text)


@FUZZ
@given(hostile)
def test_hostile_text(text: str) -> None:
    _well_formed(text)


@FUZZ
@given(hostile)
def test_the_prefilter_never_hides_a_match(text: str) -> None:
    for v in variants(text):
        low = v.lower()
        for e in load().values():
            for pattern, needle in zip(e.compiled, e.needles, strict=True):
                if pattern.search(v):
                    assert needle in low, (e.id, pattern.pattern, v)


noise = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .,;=-\n", max_size=200)


@FUZZ
@given(st.sampled_from(SAMPLES), noise, noise)
def test_a_known_message_is_found_inside_noise(sample: object, before: str, after: str) -> None:
    sid, text = sample.id, sample.text  # type: ignore[attr-defined]
    assert sid in [m.id for m in explain(f"{before}\n{text}\n{after}")]


def test_a_megabyte_of_near_misses_finishes() -> None:
    """The worst inputs found while building it (many starts of a long pattern, none completing)."""
    for unit in ("forbidden: user ", "x509: certificate is valid for ", '"delegates": [ {', "dial tcp 1.2.3.4:"):
        assert explain(unit * (MAX_INPUT // len(unit))) == []
