"""Property tests: kubeconfig, JWT and PEM parsers turn any input into a result or a one-line ParseError.

Whatever a node holds at the kubeconfig path (binary junk, a truncated copy, YAML bombs of nesting, base64
garbage in `*-data`), `multusctl check` must report it, never crash on it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multusctl.config import kubeconfig as kc_mod
from multusctl.config.certs import parse_pem_certs
from multusctl.config.errors import ParseError
from multusctl.config.jwt import decode_claims, looks_like_jwt
from tests import certs
from tests.fuzzkit import examples

FAST = settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = certs.kubeconfig(token=certs.bound_token())


def _parse_ok(data: str | bytes) -> kc_mod.Kubeconfig | None:
    """Parse, allowing only ParseError; on success every problem is a (field, one-line reason)."""
    try:
        kc = kc_mod.parse(data)
    except ParseError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)
        return None
    for fld, reason in kc.problems:
        assert isinstance(fld, str) and fld
        assert isinstance(reason, str) and "\n" not in reason
    # The properties checks use must not raise either.
    _ = (kc.server, kc.token, kc.file_refs(), kc.user_field, kc.cluster_field)
    for section, key in kc_mod.DATA_KEYS:
        kc.decoded(kc.section(section), key)
    kc_mod.server_address(kc.server)
    return kc


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         st.text(max_size=30))
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["name", "cluster", "user", "context", "server", "token", "clusters", "users",
                                 "contexts", "current-context", "certificate-authority-data", "client-key-data",
                                 "tokenFile", "client-certificate"]) | st.text(max_size=8), inner, max_size=5)),
    max_leaves=25,
)


@FAST
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _parse_ok(text)


@FAST
@given(st.binary(max_size=400))
def test_random_binary(data: bytes) -> None:
    _parse_ok(data)


@FAST
@given(st.text(alphabet=string.printable + "{}[]:-|>&*!%@`", max_size=300))
def test_yamlish_text(text: str) -> None:
    _parse_ok(text)


@FAST
@given(yaml_values)
def test_structured_documents(doc: object) -> None:
    _parse_ok(yaml.safe_dump(doc))


@FAST
@given(st.integers(min_value=0, max_value=len(VALID)))
def test_truncated_kubeconfig(cut: int) -> None:
    _parse_ok(VALID[:cut])


@FAST
@given(st.sampled_from([kc for kc, _ in kc_mod.DATA_KEYS]), st.sampled_from([k for _, k in kc_mod.DATA_KEYS]),
       st.one_of(st.text(max_size=60), st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
                 st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=3)))
def test_junk_in_data_fields(section: str, key: str, value: object) -> None:
    doc = yaml.safe_load(VALID)
    target = doc["clusters"][0]["cluster"] if section == "cluster" else doc["users"][0]["user"]
    target[key] = value
    kc = _parse_ok(yaml.safe_dump(doc))
    assert kc is not None


@FAST
@given(st.one_of(st.text(max_size=60), st.sampled_from(
    ["https://[]:", "https://:6443", "https://10.43.0.1:", "https://[::1", "http://x:99999", "https://a b:1",
     "tcp://1.2.3.4:6443", "10.43.0.1:443", "https://[fe80::1%eth0]:6443", "https://\u00e9:1"])))
def test_any_server_url(server: str) -> None:
    problem = kc_mod.server_problem(server)
    assert problem is None or "\n" not in problem
    kc_mod.server_address(server)


def test_deep_nesting_is_a_parse_error_or_result() -> None:
    _parse_ok("a: " + "[" * 50_000 + "]" * 50_000)
    _parse_ok("- " * 5_000 + "x")
    _parse_ok("{a: " * 20_000 + "1" + "}" * 20_000)


def test_huge_document() -> None:
    big = certs.kubeconfig(token="x" * 500_000)
    kc = _parse_ok(big)
    assert kc is not None and kc.token == "x" * 500_000


def test_alias_bomb_is_bounded() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    _parse_ok("\n".join(lines))  # PyYAML shares aliased nodes: no blow-up, just a mapping


@FAST
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_jwt_garbage(token: str | bytes) -> None:
    try:
        claims = decode_claims(token)
    except ParseError as exc:
        assert "\n" not in str(exc)
        return
    _ = (claims.expires, claims.issued, claims.lifetime, claims.requested_lifetime, claims.bound_pod,
         claims.service_account, claims.warn_after, claims.is_legacy_secret_token)


def _b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@FAST
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
                    lambda i: st.lists(i, max_size=3) | st.dictionaries(
                        st.sampled_from(["exp", "iat", "kubernetes.io", "pod", "name", "warnafter", "sub"]),
                        i, max_size=4), max_leaves=15))
def test_jwt_payload_of_any_shape(payload: object) -> None:
    token = f"eyJhbGciOiJSUzI1NiJ9.{_b64url(payload)}.c2ln"
    assert looks_like_jwt(token)
    try:
        claims = decode_claims(token)
    except ParseError:
        assert not isinstance(payload, dict)
        return
    _ = (claims.expires, claims.issued, claims.lifetime, claims.requested_lifetime, claims.bound_pod,
         claims.service_account, claims.warn_after)


def test_jwt_extreme_numbers() -> None:
    for exp in (10**400, -(10**20), 1e308, float("inf")):
        payload = '{"exp": %s, "iat": 0, "kubernetes.io": {"warnafter": %s}}' % (exp, exp)  # noqa: UP031
        token = "eyJhbGciOiJSUzI1NiJ9." + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + ".x"
        try:
            claims = decode_claims(token)
        except ParseError:
            continue
        _ = (claims.expires, claims.lifetime, claims.requested_lifetime)


def test_jwt_real_shapes() -> None:
    claims = decode_claims(certs.bound_token(pod="kube-multus-ds-abcde"))
    assert claims.bound_pod == "kube-multus-ds-abcde"
    assert claims.service_account == "kube-system/multus"
    legacy = decode_claims(certs.legacy_token())
    assert legacy.is_legacy_secret_token and legacy.expires is None
    assert legacy.service_account == "kube-system/multus"


@FAST
@given(st.binary(max_size=300))
def test_pem_garbage(body: bytes) -> None:
    for data in (body, b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(body) + b"-----END CERTIFICATE-----\n"):
        try:
            parse_pem_certs(data)
        except ParseError as exc:
            assert "\n" not in str(exc)


def test_pem_truncated_real_cert() -> None:
    pem = certs.ca().cert_pem
    for cut in range(0, len(pem), 7):
        with contextlib.suppress(ParseError):
            parse_pem_certs(pem[:cut])
    assert parse_pem_certs(pem)[0].is_ca
