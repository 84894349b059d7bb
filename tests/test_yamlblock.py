"""config/yamlblock.py, the strict recogniser behind yamlload.load_all: on every document it accepts it must build
exactly what the YAML loader builds (both the C loader yamlload uses and PyYAML's pure yaml.safe_load), and
whatever it declines still goes through the guarded loader. Documents are generated in the shapes it reads
(as hand-written NADs and `yaml.safe_dump`/kubectl print them), then mutated at random."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from multusctl.config import yamlblock, yamlload
from multusctl.config.errors import ParseError
from multusctl.config.nadfile import nads_from_text
from tests.fuzzkit import examples

WORDS = ["name", "namespace", "k8s.v1.cni.cncf.io/networks", "app_x", "a-b", "on", "null", "y", "True", "_k"]
PLAINS = ["net1", "eth0", "yes", "No", "null", "0", "12", "017", "0x1f", "1_000", "1.5", "1e-5", "1.0e-5",
          "2024-01-05", "6d756c74-7573-6374", "3f0b5c3e", "a b", "a  b", "y", "~", "1:20", "10.1.2.0/24", "-x",
          "https://10.43.0.1:443", "a:b", "a:", "a: b", "a :b", "a::b", "a:#b", "YWJj+/=", "YQ==", "=", "x=1", "+1",
          "1e+5", "1.0e+5", "1+2", "a+", "eyJh.eyJp.c2ln", "0:1", "1:2:3", "127.0.0.1:6443", "a:b #c", "a:b#c"]
SCALAR_TEXT = st.lists(st.sampled_from([*"ab '\"\\#:-|{}[]\n\t\u00e9", "  ", "''", "\\u00e9", "\\n"]),
                       max_size=8).map("".join)


def quoted_single(s: str, width: int) -> str:
    """`s` single-quoted and folded at `width` the way an emitter may fold it (or not: it is then invalid YAML
    or another value, which the comparison settles)."""
    body = s.replace("'", "''")
    if width and len(body) > width:
        body = body[:width] + "\n    " + body[width:]
    return f"'{body}'"


@st.composite
def scalar(draw: st.DrawFn, depth: int) -> str:
    kind = draw(st.sampled_from(["plain", "single", "double", "literal", "empty", "json"]))
    if kind == "plain":
        return draw(st.sampled_from(PLAINS))
    if kind == "single":
        return quoted_single(draw(SCALAR_TEXT), draw(st.sampled_from([0, 3, 8])))
    if kind == "double":
        return json.dumps(draw(SCALAR_TEXT), ensure_ascii=draw(st.booleans()))
    if kind == "empty":
        return draw(st.sampled_from(["{}", "[]", "", "# note"]))
    if kind == "json":
        return quoted_single(json.dumps({"cniVersion": "1.0.0", "type": "bridge", "ipam": {"type": "host-local"}}),
                             draw(st.sampled_from([0, 20, 40])))
    chomp = draw(st.sampled_from(["", "-", "+"]))
    pad = "  " * (depth + 1)
    lines = draw(st.lists(st.sampled_from(["{", '  "a": 1,', "", "  ", "#x", "b: c", "}"]), min_size=1, max_size=5))
    if not lines[0].strip():
        lines[0] = "x"
    return f"|{chomp}\n" + "\n".join(pad + ln if ln else ln for ln in lines) + draw(st.sampled_from(["", "\n"]))


@st.composite
def mapping(draw: st.DrawFn, depth: int = 0) -> str:
    pad = "  " * depth
    out = []
    for key in draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)):
        choice = draw(st.sampled_from(["scalar", "map", "seq"] if depth < 3 else ["scalar"]))
        if choice == "scalar":
            value = draw(scalar(depth))
            out.append(f"{pad}{key}:" + (f" {value}" if value else ""))
        elif choice == "map":
            out.append(f"{pad}{key}:\n" + draw(mapping(depth + 1)))
        else:
            indentless = draw(st.booleans())
            dash = pad if indentless else pad + "  "
            items = []
            for _ in range(draw(st.integers(1, 3))):
                if draw(st.booleans()):
                    inner = draw(mapping(depth + 2)).split("\n")
                    first = inner[0].lstrip(" ")
                    items.append(f"{dash}- {first}" + "".join("\n" + ln for ln in inner[1:]))
                else:
                    items.append(f"{dash}- {draw(scalar(depth + 1))}")
            out.append(f"{pad}{key}:\n" + "\n".join(items))
    return "\n".join(out)


@st.composite
def stream(draw: st.DrawFn) -> str:
    docs = draw(st.lists(mapping(), min_size=1, max_size=3))
    head = draw(st.sampled_from(["", "---\n", "# c\n", "--- # c\n"]))
    return head + "\n---\n".join(docs) + draw(st.sampled_from(["\n", "", "\n\n", "\n---\n"]))


def mutate(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(0, 3))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        char = data.draw(st.sampled_from(list(" \n'\"-:#|&*!{}[]\t%.a1\\>?")))
        text = text[:i] + (char if op != "delete" else "") + text[i + (op != "insert"):]
    return text


def loaders(text: str, single: bool = False) -> list[Any] | None:
    """What both YAML loaders build from `text` (its one document with `single`, as yaml.safe_load), or None
    when they refuse it; a text they disagree on is not evidence either way."""
    def build(loader: Any) -> list[Any] | None:
        try:
            return [yaml.load(text, Loader=loader)] if single else list(yaml.load_all(text, Loader=loader))
        except Exception:  # any refusal, "expected a single document" included
            return None

    c = build(yaml.CSafeLoader)
    assume(c == build(yaml.SafeLoader))
    return c


def reads_as_the_loaders(read: Any, text: str, want: list[Any] | None) -> None:
    """`read(text)` gives what the loaders give (`want`), or a one-line ParseError where they refuse it."""
    try:
        got = read(text)
    except ParseError as exc:
        assert "\n" not in str(exc)
        assert want is None, f"refused what the loader reads: {text!r}: {exc}"
        return
    assert want is not None, f"read what the loader refuses: {text!r}"
    assert got == want, text


def check(text: str) -> None:
    want = loaders(text)
    for part in yamlblock.split(text) or []:  # each recognised document is what the loaders build from it
        try:
            got = yamlblock.recognise(part)
        except yamlblock.Declined:
            continue
        alone = loaders(part.text)
        assert alone is not None, f"recognised what the loader refuses: {part.text!r}"
        assert ([] if got is yamlblock.NO_DOCUMENT else [got]) == alone, part.text
    reads_as_the_loaders(yamlload.load_all, text, want)  # and the stream as a whole


def check_load(text: str) -> None:
    """yamlload.load (kubeconfigs, config.yaml: the recogniser first) reads a text as yaml.safe_load does."""
    reads_as_the_loaders(lambda t: [yamlload.load(t)], text, loaders(text, single=True))


@settings(max_examples=examples(300), deadline=None)
@given(stream(), st.data())
def test_a_single_document_reads_as_safe_load_reads_it(text: str, data: st.DataObject) -> None:
    check_load(text if data.draw(st.booleans()) else mutate(text, data))


def test_kubeconfig_shapes_are_recognised() -> None:
    from tests import certs

    for text in (certs.kubeconfig("https://10.43.0.1:443", token=certs.legacy_token()),
                 certs.kubeconfig("https://127.0.0.1:6443", token="K10abc::server:secret")):
        parts = yamlblock.split(text)
        assert parts is not None and not any(_declined(p) for p in parts), text
        assert yamlload.load(text) == yaml.safe_load(text)


def _declined(part: yamlblock.Part) -> bool:
    try:
        yamlblock.recognise(part)
    except yamlblock.Declined:
        return True
    return False


@settings(max_examples=examples(400), deadline=None)
@given(stream())
def test_recognised_documents_equal_the_loader(text: str) -> None:
    check(text)


@settings(max_examples=examples(500), deadline=None)
@given(stream(), st.data())
def test_mutated_documents_equal_the_loader_or_are_declined(text: str, data: st.DataObject) -> None:
    check(mutate(text, data))


def test_the_bench_shape_is_recognised_not_declined() -> None:
    nads = [{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
             "metadata": {"name": f"n{i}", "namespace": "default", "labels": {"a": "b"}, "annotations": {}},
             "spec": {"config": json.dumps({"cniVersion": "1.0.0", "name": f"n{i}", "type": "bridge",
                                            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/24"}]]}})}}
            for i in range(20)]
    text = yaml.safe_dump_all(nads, sort_keys=False)
    parts = yamlblock.split(text)
    assert parts is not None and all(not _declined(p) for p in parts)
    assert yamlload.load_all(text) == nads


KUBECTL_LIST = """apiVersion: v1
items:
- apiVersion: k8s.cni.cncf.io/v1
  kind: NetworkAttachmentDefinition
  metadata:
    creationTimestamp: "2026-12-01T10:00:00Z"
    generation: 1
    name: macvlan-conf
    namespace: default
    resourceVersion: "1234"
    uid: 6d756c74-7573-6374-6c00-000000000001
  spec:
    config: |
      {
        "cniVersion": "1.0.0",
        "type": "macvlan",
        "master": "eth0"
      }
kind: List
metadata:
  resourceVersion: ""
"""


def test_kubectl_get_o_yaml_list_is_recognised() -> None:
    (part,) = yamlblock.split(KUBECTL_LIST) or []
    assert yamlblock.recognise(part) == yaml.safe_load(KUBECTL_LIST)
    assert [n["metadata"]["name"] for n in nads_from_text(KUBECTL_LIST, "f")] == ["macvlan-conf"]


@pytest.mark.parametrize("text", [
    "a: &x [1]\nb: *x\n",            # aliases: only the guarded loader reads them
    "a: !!str 1\n",                  # tags
    "a: {b: 1}\n",                   # flow collections
    "%YAML 1.1\n---\na: 1\n",        # directives: the whole stream goes to the loader
    "a: 1\n...\n",                   # document end marker
    "a: >\n  folded\n",              # folded block scalars
    "a: 'b\tc'\n",                  # tabs
    "a: 1.5\n", "a: 0x1f\n", "a: 2024-01-05\n", "on: 1\n",  # YAML 1.1 types other than str/int/bool/null
    "a: b\n  c\n",                   # multi-line plain scalars
    'a: "x\n  y"\n',                 # multi-line double-quoted
])
def test_declined_shapes_still_read_like_the_loader(text: str) -> None:
    parts = yamlblock.split(text)
    assert parts is None or any(_declined(p) for p in parts)
    assert yamlload.load_all(text) == list(yaml.safe_load_all(text))


def test_an_alias_bomb_among_plain_nads_is_still_refused() -> None:
    plain = "apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: a\n"
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" \
           "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    with pytest.raises(ParseError, match="excessive aliasing"):
        yamlload.load_all(plain + "---\n" + bomb + "---\n" + plain)


def test_errors_name_the_line_in_the_whole_file() -> None:
    plain = "kind: X\nmetadata:\n  name: a\n"
    text = plain + "---\n" + plain + "---\na: [\n"
    with pytest.raises(ParseError) as exc:
        yamlload.load_all(text)
    with pytest.raises(ParseError) as whole:
        yamlload._documents(text, single=False)
    assert str(exc.value) == str(whole.value)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from([*list("ab: -'\"|\n#{}[]\t&*!%.0"), "---\n", "  ", "key: "]), max_size=60).map("".join))
def test_any_text_is_a_value_or_a_one_line_error(text: str) -> None:
    try:
        yamlload.load_all(text)
    except ParseError as exc:
        assert "\n" not in str(exc)


def test_the_written_out_complement_is_the_set_the_recogniser_reads() -> None:
    reads = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
    odd = [c for c in range(0x110000) if bool(yamlblock._ODD.match(chr(c))) == bool(reads.match(chr(c)))]
    assert odd == []  # every code point is either read or odd, never both nor neither
