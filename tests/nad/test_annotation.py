"""config/annotation.py: multus' parsing rules and messages (v4.3.0 pkg/k8sclient), and its interface naming."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.config.annotation import AnnotationError, interface_names, parse
from tests.fuzzkit import examples

PRE = "parsePodNetworkAnnotation: parsePodNetworkObjectName: "


@pytest.mark.parametrize(("text", "want"), [
    ("a", [("default", "a", "")]),
    ("ns1/a@eth5, b", [("ns1", "a", "eth5"), ("default", "b", "")]),
    (" ns1 / a @ x ", [("ns1", "a", "x")]),
    ('[{"name":"a","namespace":"n","interface":"i1"},{"name":"b"}]', [("n", "a", "i1"), ("default", "b", "")]),
    ('[{"NAME":"a","interfaceRequest":"old"}]', [("default", "a", "old")]),  # Go matches keys case-insensitively
    ("[]", []), ("null", [("default", "null", "")]),
    ('[{"name":"a","ips":["10.1.1.1/24","fd00::1"],"mac":"02:00:00:00:00:01"}]', [("default", "a", "")]),
])
def test_accepted(text: str, want: list[tuple[str, str, str]]) -> None:
    assert [(s.namespace, s.name, s.interface) for s in parse(text)] == want


@pytest.mark.parametrize(("text", "message"), [
    ("", 'parsePodNetworkAnnotation: pod annotation does not have "network" as key'),
    ("a/b/c", PRE + "Invalid network object (failed at '/')"),
    ("a@b@c", PRE + "Invalid network object (failed at '@')"),
    ("Bad", PRE + "Failed to parse: one or more items did not match comma-delimited format (must consist of lower "
     "case alphanumeric characters). Must start and end with an alphanumeric character), mismatch @ 'Bad'"),
    ("a@x/y", "mismatch @ 'a@x'"),  # split at '/' first: the namespace is then `a@x`
    ("a@abcdefghijklmnop", PRE + "Failed to parse interface name: must be less than 15 chars and not contain '/' or "
     "spaces. interface name 'abcdefghijklmnop'"),
    ('{"name":"a"}', "json: cannot unmarshal object into Go value of type []*types.NetworkSelectionElement"),
    ('[{"name":1}]', "json: cannot unmarshal number into Go struct field NetworkSelectionElement.name of type string"),
    ('[{"name":"a","mac":"zz"}]', "parsePodNetworkAnnotation: failed to mac: address zz: invalid MAC address"),
    ('[{"name":"a","ips":["10.1.1.300"]}]', 'failed to parse IP address "10.1.1.300"'),
    ('[{"name":"a","ips":["10.1.1.1/33"]}]', 'failed to parse CIDR "10.1.1.1/33"'),
    ('[{"name":"a"', "unexpected end of JSON input"),
])
def test_refused_with_multus_message(text: str, message: str) -> None:
    with pytest.raises(AnnotationError) as exc:
        parse(text)
    assert message in str(exc.value)


def test_empty_item_is_no_name_not_an_error() -> None:
    # multus accepts "a," (the empty item matches nothing and is skipped by the regexp guard): a NAD named "" then
    # fails the lookup, which is nad test's `cannot find a network-attachment-definition`.
    assert [s.name for s in parse("a,")] == ["a", ""]


def test_interface_names_follow_multus_positions() -> None:
    assert interface_names(parse("a,b,c")) == ["net1", "net2", "net3"]
    assert interface_names(parse("a@foo,b")) == ["foo", "net2"]


@settings(max_examples=examples(400), deadline=None)
@given(st.text(max_size=80) | st.text(alphabet='[]{}",:/@ abcn-01eth', max_size=60))
def test_any_text_parses_or_refuses_in_one_line(text: str) -> None:
    try:
        got = parse(text)
    except AnnotationError as exc:
        assert str(exc) and ("\n" not in str(exc).strip() or "\n" in text)
        return
    for s in got:
        assert isinstance(s.name, str) and s.namespace


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True),
                          st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
                          st.from_regex(r"[a-z0-9]{0,14}", fullmatch=True)),
                min_size=1, max_size=5))
def test_text_form_round_trips(items: list[tuple[str, str, str]]) -> None:
    text = ",".join(f"{ns}/{name}" + (f"@{i}" if i else "") for name, ns, i in items)
    assert [(s.namespace, s.name, s.interface) for s in parse(text)] == [(ns, n, i) for n, ns, i in items]
