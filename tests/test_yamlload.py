"""The one YAML reader (`multusctl.config.yamlload`): bounded aliases and depth, errors that quote nothing.

Every command reads k3s/rke2 config.yaml and kubeconfigs through it, so these properties hold for detect,
check, kubeconfig inspect and create alike (the whole-command tests are in test_hardening.py)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.config import yamlload
from multusctl.config.errors import ParseError
from tests.fuzzkit import examples

# The 323-byte bomb: nine levels of nine aliases, then a setting that names the last level.
BOMB = "\n".join([
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)),
    "cluster-cidr: *i",
]) + "\n"


def test_the_alias_bomb_is_refused_quickly_and_in_little_memory() -> None:
    # In a child with a 1 GiB address-space cap: before the fix, walking the result grew to 1.5 GB.
    code = "import sys; from multusctl.config import yamlload as y; y.load(sys.stdin.read())"

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    proc = subprocess.run([sys.executable, "-c", code], input=BOMB, capture_output=True, text=True, timeout=30,
                          preexec_fn=cap, check=False)
    assert proc.returncode == 1 and "excessive aliasing" in proc.stderr, proc.stderr[-500:]
    with pytest.raises(ParseError, match=r"aliases expand it by \d+ nodes \(limit 10000\)"):
        yamlload.load(BOMB)


def test_a_few_honest_aliases_still_load() -> None:
    doc = yamlload.load("base: &b {a: 1, b: [1, 2]}\none: *b\ntwo: *b\n")
    assert doc == {"base": {"a": 1, "b": [1, 2]}, "one": {"a": 1, "b": [1, 2]}, "two": {"a": 1, "b": [1, 2]}}


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(ParseError, match="refers to the collection that contains it"):
        yamlload.load("a: &x [1, *x]\n")


def test_the_pure_loader_takes_deep_documents_without_a_segfault() -> None:
    with pytest.raises(ParseError, match="invalid YAML"):
        yamlload.load("[" * 100_000)
    assert yamlload.load("- " * 150 + "x\n") is not None  # deep but legal block nesting still loads


@pytest.mark.parametrize("text, secret", [
    ("users:\n- name: u\n  user:\n    token: !eyJhbGciOiJSUzI1NiJ9.c2VjcmV0\n", "eyJhbGciOiJSUzI1NiJ9"),
    ("token: K10abcdefSECRETjoin::server:0123\n  bad: [\n", "K10abcdefSECRETjoin"),
    ("token: 'K10abcdefSECRETjoin\n", "K10abcdefSECRETjoin"),
    ("a: *K10abcdefSECRETjoin\n", "K10abcdefSECRETjoin"),
    ("token: K10abcdefSECRETjoin\n\tx: 1\n", "K10abcdefSECRETjoin"),
    ("{token: K10abcdefSECRETjoin, ]\n", "K10abcdefSECRETjoin"),
])
def test_errors_give_line_and_column_never_the_content(text: str, secret: str) -> None:
    with pytest.raises(ParseError) as exc:
        yamlload.load(text)
    msg = str(exc.value)
    assert secret not in msg and "\n" not in msg
    assert msg.startswith("invalid YAML")
    # PyYAML's own message for the same text does quote it (that is the defect this reader closes)...
    with pytest.raises(yaml.YAMLError) as raw:
        yaml.safe_load(text)
    if "line" in msg:  # ...and ours still says where
        mark = getattr(raw.value, "problem_mark", None) or getattr(raw.value, "context_mark", None)
        assert f"line {mark.line + 1}" in msg


def test_a_stream_of_documents_is_each_bounded() -> None:
    assert yamlload.load_all("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    with pytest.raises(ParseError, match="excessive aliasing"):
        yamlload.load_all("a: 1\n---\n" + BOMB)


_scalar = st.one_of(st.integers(), st.text(max_size=8), st.booleans(), st.none())


@st.composite
def aliased_documents(draw: st.DrawFn) -> str:
    """Documents built from anchors that reuse earlier anchors: from harmless to explosive."""
    levels = draw(st.integers(1, 12))
    width = draw(st.integers(1, 12))
    lines = [f"l0: &l0 {draw(st.lists(_scalar, min_size=1, max_size=width))!r}".replace("None", "null")]
    for i in range(1, levels):
        refs = ", ".join(f"*l{draw(st.integers(0, i - 1))}" for _ in range(draw(st.integers(1, width))))
        lines.append(f"l{i}: &l{i} [{refs}]")
    lines.append(f"setting: *l{levels - 1}")
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(150), deadline=None)
@given(aliased_documents())
def test_any_aliasing_is_either_small_or_refused(text: str) -> None:
    try:
        doc = yamlload.load(text)
    except ParseError as exc:
        assert "excessive aliasing" in str(exc) or str(exc).startswith("invalid YAML")
        return
    # What loads can be walked and printed without blowing up: the expansion is bounded.
    assert len(str(doc)) < 2_000_000


MARK = "SECRETmark0123"
_pieces = st.sampled_from(["token: ", MARK, "!" + MARK, "&" + MARK, "*" + MARK, "'", '"', "[", "{", "]", "}", ":",
                           "- ", "\n", "\t", "  ", "? ", "|", "%YAML 1.1", "---", "#", ",", "\x00", "\ud800"])


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(_pieces, max_size=40).map("".join))
def test_any_text_loads_or_gives_one_line_without_its_content(text: str) -> None:
    try:
        yamlload.load(text)
    except ParseError as exc:
        assert "\n" not in str(exc) and MARK not in str(exc)


def test_pyyaml_non_printable_stand_in_is_the_same_character_set() -> None:
    """yamlload hands PyYAML's Reader a cheaper-to-compile NON_PRINTABLE: it must match exactly the same
    characters as PyYAML's own class, over every code point (lone surrogates included)."""
    import re

    from multusctl.config import yamlload

    yaml = yamlload._yaml()
    everything = "".join(map(chr, range(0x110000)))
    ours = [m.start() for m in re.finditer(yamlload._NON_PRINTABLE_SAME, everything)]
    theirs = [m.start() for m in re.finditer(yamlload._PYYAML_NON_PRINTABLE, everything)]
    assert ours == theirs
    assert yaml.reader.Reader.NON_PRINTABLE.pattern in (yamlload._NON_PRINTABLE_SAME, yamlload._PYYAML_NON_PRINTABLE)


def test_pyyaml_gets_the_stand_in_when_imported_through_yamlload() -> None:
    """If PyYAML changes its pattern the stand-in silently stops applying (slower, never wrong): notice."""
    import subprocess
    import sys

    code = ("from multusctl.config import yamlload as y; m = y._yaml(); "
            "print(m.reader.Reader.NON_PRINTABLE.pattern == y._NON_PRINTABLE_SAME)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True", out.stderr
