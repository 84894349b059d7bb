"""Authentication (x509, static and ServiceAccount tokens) and RBAC of the test cluster."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import time
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multusctl.testing import tokens
from multusctl.testing.auth import (
    ANONYMOUS,
    AuthError,
    RequestAttributes,
    UserInfo,
    forbidden_status,
    status_object,
    unauthorized_status,
)
from multusctl.testing.authn import Authenticator
from multusctl.testing.pki import CertificateAuthority
from multusctl.testing.rbac import BOOTSTRAP_CLUSTER_ROLES, Authorizer
from multusctl.testing.tokens import TokenIssuer
from tests.fuzzkit import examples

RBAC = "rbac.authorization.k8s.io"
ISSUER = "https://kubernetes.default.svc.cluster.local"


# --------------------------------------------------------------------------- fixtures


class DictLookup:
    """The ``Lookup`` protocol over a plain dict, standing in for the server's store."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}

    def add(self, group: str, resource: str, obj: dict) -> dict:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).hexdigest())
        self.objects[(group, resource, meta.get("namespace", ""), meta["name"])] = obj
        return obj

    def remove(self, group: str, resource: str, namespace: str, name: str) -> None:
        del self.objects[(group, resource, namespace, name)]

    def get(self, group: str, resource: str, namespace: str | None, name: str) -> dict | None:
        obj = self.objects.get((group, resource, namespace or "", name))
        return copy.deepcopy(obj) if obj is not None else None

    def list(self, group: str, resource: str, namespace: str | None = None) -> list[dict]:
        return [
            copy.deepcopy(o)
            for (g, r, ns, _), o in sorted(self.objects.items())
            if g == group and r == resource and (namespace is None or ns == namespace)
        ]


def _sa(ns: str, name: str, uid: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns, "uid": uid}}


def _named(kind: str, ns: str, name: str, uid: str, **extra: Any) -> dict:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns, "uid": uid}, **extra}


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create()


@pytest.fixture
def lookup() -> DictLookup:
    lk = DictLookup()
    lk.add("", "serviceaccounts", _sa("kube-system", "multus", "sa-uid-1"))
    lk.add("", "secrets", _named("Secret", "kube-system", "multus-token", "secret-uid-1"))
    lk.add("", "pods", _named("Pod", "kube-system", "multus-abc", "pod-uid-1"))
    return lk


@pytest.fixture
def authn(lookup: DictLookup, issuer: TokenIssuer, ca: CertificateAuthority) -> Authenticator:
    static = {"s3cr3t": UserInfo("static-admin", uid="42", groups=["ops"])}
    return Authenticator(lookup, issuer, ca.cert, static_tokens=static)


def _der(cert_pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(cert_pem).public_bytes(Encoding.DER)


def _segments(token: str) -> tuple[dict, dict]:
    head, body, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(head))), json.loads(base64.urlsafe_b64decode(pad(body)))


def _b64(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _bearer(authn: Authenticator, token: str) -> UserInfo | AuthError | None:
    return authn.authenticate(None, f"Bearer {token}")


# --------------------------------------------------------------------------- anonymous and Status


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Negotiate abc"])
def test_no_bearer_credentials_is_anonymous(authn: Authenticator, header: str | None) -> None:
    assert authn.authenticate(None, header) is None


def test_status_objects_have_the_real_shape() -> None:
    assert unauthorized_status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    nf = status_object(404, "NotFound", 'pods "x" not found', {"name": "x", "kind": "pods"})
    assert nf["details"] == {"name": "x", "kind": "pods"} and nf["code"] == 404
    assert AuthError("why").status()["code"] == 401 and AuthError("why").reason == "why"


def test_forbidden_status_matches_apiserver_wording() -> None:
    sa = UserInfo("system:serviceaccount:default:x")
    st_ns = forbidden_status(sa, RequestAttributes("list", "", "pods", namespace="default"))
    assert st_ns["message"] == (
        'pods is forbidden: User "system:serviceaccount:default:x" cannot list resource "pods" '
        'in API group "" in the namespace "default"'
    )
    assert st_ns["reason"] == "Forbidden" and st_ns["code"] == 403 and st_ns["details"] == {"kind": "pods"}
    st_cl = forbidden_status(
        sa, RequestAttributes("get", "k8s.cni.cncf.io", "network-attachment-definitions", name="macvlan")
    )
    assert st_cl["message"] == (
        'network-attachment-definitions.k8s.cni.cncf.io "macvlan" is forbidden: User '
        '"system:serviceaccount:default:x" cannot get resource "network-attachment-definitions" in API group '
        '"k8s.cni.cncf.io" at the cluster scope'
    )
    st_sub = forbidden_status(sa, RequestAttributes("get", "", "pods", "log", "default", "p"), "RBAC: nope")
    assert 'cannot get resource "pods/log"' in st_sub["message"] and st_sub["message"].endswith(": RBAC: nope")
    st_url = forbidden_status(None, RequestAttributes("get", "", "", resource_request=False, path="/metrics"))
    assert st_url["message"] == 'forbidden: User "system:anonymous" cannot get path "/metrics"'


# --------------------------------------------------------------------------- client certificates


def test_admin_client_certificate(authn: Authenticator, ca: CertificateAuthority) -> None:
    der = _der(ca.issue_client_cert("admin", ["system:masters"])[0])
    user = authn.authenticate(der, None)
    assert isinstance(user, UserInfo)
    assert user.username == "admin"
    assert user.groups == ["system:masters", "system:authenticated"]
    fingerprint = hashlib.sha256(der).hexdigest()
    assert user.extra == {"authentication.kubernetes.io/credential-id": [f"X509SHA256={fingerprint}"]}


def test_client_certificate_rejections(authn: Authenticator, ca: CertificateAuthority) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    other = CertificateAuthority.create("other")
    cases = {
        "foreign CA": _der(other.issue_client_cert("admin", ["system:masters"])[0]),
        "expired": _der(ca.issue_client_cert("admin", not_after=past)[0]),
        "not yet valid": _der(
            ca.issue_client_cert(
                "admin",
                not_before=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
            )[0]
        ),
        "serving cert": _der(ca.issue_server_cert(["127.0.0.1"])[0]),
        "garbage": b"\x30\x03\x02\x01\x00",
    }
    for label, der in cases.items():
        result = authn.authenticate(der, None)
        assert isinstance(result, AuthError), label
        assert result.reason.startswith("x509:"), label


def test_expired_ca_vouches_for_nothing(lookup: DictLookup, issuer: TokenIssuer) -> None:
    now = dt.datetime.now(dt.UTC)
    old = CertificateAuthority.create(not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
    cert = old.issue_client_cert("admin", ["system:masters"], not_before=now - dt.timedelta(days=20))[0]
    result = Authenticator(lookup, issuer, old).authenticate(_der(cert), None)
    assert isinstance(result, AuthError) and "unknown authority" in result.reason


def test_several_client_cas_and_pem_input(lookup: DictLookup, issuer: TokenIssuer, ca: CertificateAuthority) -> None:
    other = CertificateAuthority.create("other")
    authn = Authenticator(lookup, issuer, ca.cert_pem + other.cert_pem)
    for who in (ca, other):
        assert isinstance(authn.authenticate(_der(who.issue_client_cert("u")[0]), None), UserInfo)
    assert isinstance(Authenticator(lookup, issuer, [ca, other.cert]).authenticate(
        _der(other.issue_client_cert("u")[0]), None), UserInfo)
    none = Authenticator(lookup, issuer, None).authenticate(_der(ca.issue_client_cert("u")[0]), None)
    assert isinstance(none, AuthError)


def test_certificate_wins_over_token_and_bad_certificate_falls_back(
    authn: Authenticator, ca: CertificateAuthority, issuer: TokenIssuer
) -> None:
    token, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 3600)
    good = _der(ca.issue_client_cert("admin", ["system:masters"])[0])
    bad = _der(CertificateAuthority.create("x").issue_client_cert("admin")[0])
    user = authn.authenticate(good, f"Bearer {token}")
    assert isinstance(user, UserInfo) and user.username == "admin"
    user = authn.authenticate(bad, f"Bearer {token}")
    assert isinstance(user, UserInfo) and user.username == "system:serviceaccount:kube-system:multus"
    both_bad = authn.authenticate(bad, "Bearer nope")
    assert isinstance(both_bad, AuthError) and "x509" in both_bad.reason and "invalid bearer token" in both_bad.reason


# --------------------------------------------------------------------------- static tokens


def test_static_token(authn: Authenticator) -> None:
    user = _bearer(authn, "s3cr3t")
    assert user == UserInfo("static-admin", uid="42", groups=["ops", "system:authenticated"])
    assert isinstance(authn.authenticate(None, "bearer s3cr3t"), UserInfo)  # scheme is case-insensitive
    assert isinstance(_bearer(authn, "s3cr3t-not"), AuthError)


def test_static_token_does_not_duplicate_authenticated_group(lookup: DictLookup, issuer: TokenIssuer) -> None:
    authn = Authenticator(lookup, issuer, None, {"t": UserInfo("u", groups=["system:authenticated"])})
    user = _bearer(authn, "t")
    assert isinstance(user, UserInfo) and user.groups == ["system:authenticated"]


# --------------------------------------------------------------------------- bound tokens


def test_bound_token_has_apiserver_shape(issuer: TokenIssuer) -> None:
    token, expires = issuer.issue("kube-system", "multus", "sa-uid-1", 3600, secret=("multus-token", "secret-uid-1"))
    header, claims = _segments(token)
    assert header == {"alg": "RS256", "kid": issuer.kid}
    assert set(claims) == {"aud", "exp", "iat", "iss", "jti", "kubernetes.io", "nbf", "sub"}
    assert claims["aud"] == [ISSUER] and claims["iss"] == ISSUER
    assert claims["sub"] == "system:serviceaccount:kube-system:multus"
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert claims["kubernetes.io"] == {
        "namespace": "kube-system",
        "secret": {"name": "multus-token", "uid": "secret-uid-1"},
        "serviceaccount": {"name": "multus", "uid": "sa-uid-1"},
    }
    assert expires == dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    assert abs(claims["iat"] - time.time()) < 5
    # kid is base64url(SHA-256(SPKI)), unpadded, like keyIDFromPublicKey.
    assert "=" not in issuer.kid and len(issuer.kid) == 43
    _, pod_claims = _segments(issuer.issue("ns", "sa", "u", None, ["a", "b"], pod=("p", "pu"), node=("n", "nu"))[0])
    assert pod_claims["kubernetes.io"]["pod"] == {"name": "p", "uid": "pu"}
    assert pod_claims["kubernetes.io"]["node"] == {"name": "n", "uid": "nu"}
    assert pod_claims["aud"] == ["a", "b"] and pod_claims["exp"] - pod_claims["iat"] == 3600


def test_bound_token_authenticates_as_the_service_account(authn: Authenticator, issuer: TokenIssuer) -> None:
    token, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600)
    user = _bearer(authn, token)
    assert isinstance(user, UserInfo)
    assert user.username == "system:serviceaccount:kube-system:multus"
    assert user.uid == "sa-uid-1"
    assert user.groups == ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]
    jti = _segments(token)[1]["jti"]
    assert user.extra == {"authentication.kubernetes.io/credential-id": [f"JTI={jti}"]}


def test_pod_bound_token_carries_pod_extra(authn: Authenticator, issuer: TokenIssuer) -> None:
    token, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600, pod=("multus-abc", "pod-uid-1"))
    user = _bearer(authn, token)
    assert isinstance(user, UserInfo)
    assert user.extra["authentication.kubernetes.io/pod-name"] == ["multus-abc"]
    assert user.extra["authentication.kubernetes.io/pod-uid"] == ["pod-uid-1"]


def test_expiry_is_enforced_with_go_jose_leeway(lookup: DictLookup, issuer: TokenIssuer) -> None:
    now = time.time()
    authn = Authenticator(lookup, issuer, None, clock=lambda: now)
    start = dt.datetime.fromtimestamp(now, dt.UTC)
    fresh, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 3600, now=start)
    assert isinstance(_bearer(authn, fresh), UserInfo)
    expired, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 3600, now=start - dt.timedelta(hours=2))
    result = _bearer(authn, expired)
    assert isinstance(result, AuthError) and result.reason == "service account token has expired"
    just_expired, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600, now=start - dt.timedelta(seconds=630))
    assert isinstance(_bearer(authn, just_expired), UserInfo)  # within the 60 s leeway, as upstream
    strict = Authenticator(lookup, issuer, None, leeway_seconds=0, clock=lambda: now)
    assert isinstance(_bearer(strict, just_expired), AuthError)
    future, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 3600, now=start + dt.timedelta(hours=1))
    result = _bearer(authn, future)
    assert isinstance(result, AuthError) and "not valid yet" in result.reason
    # The clock moving on expires a token that was good.
    later = Authenticator(lookup, issuer, None, clock=lambda: now + 3600 + 61)
    assert isinstance(_bearer(later, fresh), AuthError)


def test_audiences(authn: Authenticator, issuer: TokenIssuer) -> None:
    vault, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600, audiences=["vault"])
    result = _bearer(authn, vault)
    assert isinstance(result, AuthError) and "audiences" in result.reason
    review = authn.authenticate_token(vault, ["vault", "other"])
    assert not isinstance(review, AuthError) and review[1] == ["vault"]
    default = authn.authenticate_token(issuer.issue("kube-system", "multus", "sa-uid-1", 600)[0])
    assert not isinstance(default, AuthError) and default[1] == [ISSUER]


def test_deleted_or_replaced_objects_invalidate_bound_tokens(
    authn: Authenticator, lookup: DictLookup, issuer: TokenIssuer
) -> None:
    plain, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600)
    by_secret, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600, secret=("multus-token", "secret-uid-1"))
    by_pod, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600, pod=("multus-abc", "pod-uid-1"))
    for token in (plain, by_secret, by_pod):
        assert isinstance(_bearer(authn, token), UserInfo)

    # Pod recreated under the same name: new uid, old token is dead.
    lookup.add("", "pods", _named("Pod", "kube-system", "multus-abc", "pod-uid-2"))
    result = _bearer(authn, by_pod)
    assert isinstance(result, AuthError) and "pod UID" in result.reason
    lookup.remove("", "pods", "kube-system", "multus-abc")
    result = _bearer(authn, by_pod)
    assert isinstance(result, AuthError) and result.reason == "service account token has been invalidated"

    lookup.add("", "secrets", _named("Secret", "kube-system", "multus-token", "secret-uid-2"))
    result = _bearer(authn, by_secret)
    assert isinstance(result, AuthError) and "secret UID" in result.reason
    lookup.remove("", "secrets", "kube-system", "multus-token")
    assert isinstance(_bearer(authn, by_secret), AuthError)
    assert isinstance(_bearer(authn, plain), UserInfo)

    # A terminating ServiceAccount no longer authenticates.
    sa = _sa("kube-system", "multus", "sa-uid-1")
    sa["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    lookup.add("", "serviceaccounts", sa)
    assert isinstance(_bearer(authn, plain), AuthError)

    lookup.add("", "serviceaccounts", _sa("kube-system", "multus", "sa-uid-other"))
    result = _bearer(authn, plain)
    assert isinstance(result, AuthError) and "does not match claim" in result.reason
    lookup.remove("", "serviceaccounts", "kube-system", "multus")
    result = _bearer(authn, plain)
    assert isinstance(result, AuthError) and "not found" in result.reason


def test_forged_tokens_are_rejected(authn: Authenticator, issuer: TokenIssuer) -> None:
    token, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600)
    head, body, sig = token.split(".")
    _, claims = _segments(token)

    tampered = dict(claims, sub="system:serviceaccount:kube-system:admin")
    forged = {
        "tampered payload": f"{head}.{_b64(tampered)}.{sig}",
        "extended expiry": f"{head}.{_b64(dict(claims, exp=claims['exp'] + 10**6))}.{sig}",
        "wrong key": TokenIssuer(ISSUER).issue("kube-system", "multus", "sa-uid-1", 600)[0],
        "alg none": f"{_b64({'alg': 'none'})}.{body}.",
        "alg none kid": f"{_b64({'alg': 'none', 'kid': issuer.kid})}.{body}.{sig}",
        "HS256 confusion": f"{_b64({'alg': 'HS256', 'kid': issuer.kid})}.{body}.{sig}",
        "truncated signature": f"{head}.{body}.{sig[:-8]}",
        "no signature": f"{head}.{body}.",
        "foreign issuer": issuer.sign(dict(claims, iss="https://evil.example")),
        "two segments": f"{head}.{body}",
        "not json": f"{_b64(b'not json')}.{body}.{sig}",
    }
    for label, bad in forged.items():
        result = _bearer(authn, bad)
        assert isinstance(result, AuthError), label
        assert result.status() == unauthorized_status()


def test_signed_but_inconsistent_claims_are_rejected(authn: Authenticator, issuer: TokenIssuer) -> None:
    token, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600)
    _, claims = _segments(token)
    variants = {
        "sub mismatch": dict(claims, sub="system:serviceaccount:kube-system:other"),
        "no exp": {k: v for k, v in claims.items() if k != "exp"},
        "string exp": dict(claims, exp=str(claims["exp"])),
        "bool exp": dict(claims, exp=True),
        "no kubernetes.io": {k: v for k, v in claims.items() if k != "kubernetes.io"},
        "kubernetes.io list": dict(claims, **{"kubernetes.io": []}),
        "aud int": dict(claims, aud=5),
        "serviceaccount str": dict(claims, **{"kubernetes.io": {"namespace": "kube-system", "serviceaccount": "x"}}),
    }
    for label, bad in variants.items():
        assert isinstance(_bearer(authn, issuer.sign(bad)), AuthError), label
    # A single-string aud is valid JWT and accepted, as go-jose does.
    assert isinstance(_bearer(authn, issuer.sign(dict(claims, aud=ISSUER))), UserInfo)


def test_live_issuers_never_share_a_key_and_a_released_one_is_reused(lookup: DictLookup) -> None:
    """A stopped cluster gives its RSA key back; the next cluster takes it instead of making one (~70 ms each,
    once per test before), while no two live clusters ever accept each other's tokens."""
    first, second = TokenIssuer(), TokenIssuer()
    assert first.kid != second.kid
    token, _ = first.issue("kube-system", "multus", "sa-uid-1", 600)
    first.release()
    keys = len(tokens._rsa_keys)
    third = TokenIssuer()
    assert len(tokens._rsa_keys) == keys and third.kid != second.kid
    first.hold()  # started again: a key no live issuer holds, the old one if it is still free
    assert len({first.kid, second.kid, third.kid}) == 3
    signed_by = _segments(token)[0]["kid"]
    for issuer in (first, second, third):  # a token verifies where its key is held, at one live issuer at most
        accepted = isinstance(_bearer(Authenticator(lookup, issuer, None), token), UserInfo)
        assert accepted == (issuer.kid == signed_by)


def test_es256_issuer_round_trip(lookup: DictLookup) -> None:
    es = TokenIssuer(algorithm="ES256")
    authn = Authenticator(lookup, es, None)
    token, _ = es.issue("kube-system", "multus", "sa-uid-1", 600)
    assert _segments(token)[0]["alg"] == "ES256"
    assert isinstance(_bearer(authn, token), UserInfo)
    rs_token = TokenIssuer().issue("kube-system", "multus", "sa-uid-1", 600)[0]
    assert isinstance(_bearer(authn, rs_token), AuthError)
    with pytest.raises(ValueError):
        TokenIssuer(algorithm="HS256")


def test_jwks_and_discovery(issuer: TokenIssuer) -> None:
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == "RSA" and key["kid"] == issuer.kid and key["e"] == "AQAB" and key["alg"] == "RS256"
    cfg = issuer.openid_configuration()
    assert cfg["issuer"] == ISSUER and cfg["jwks_uri"].endswith("/openid/v1/jwks")
    (ec_key,) = TokenIssuer(algorithm="ES256").jwks()["keys"]
    assert ec_key["kty"] == "EC" and ec_key["crv"] == "P-256"


# --------------------------------------------------------------------------- legacy tokens


def _legacy_setup(lookup: DictLookup, issuer: TokenIssuer, store_token: bool) -> str:
    token = issuer.issue_legacy_secret_token("kube-system", "multus", "sa-uid-1", "multus-token", "secret-uid-1")
    if store_token:
        secret = _named(
            "Secret", "kube-system", "multus-token", "secret-uid-1",
            type="kubernetes.io/service-account-token", data={"token": base64.b64encode(token.encode()).decode()},
        )
        lookup.add("", "secrets", secret)
    return token


def test_legacy_token_shape_and_authentication(authn: Authenticator, lookup: DictLookup, issuer: TokenIssuer) -> None:
    token = _legacy_setup(lookup, issuer, store_token=True)
    header, claims = _segments(token)
    assert header["alg"] == "RS256"
    assert claims == {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "kube-system",
        "kubernetes.io/serviceaccount/secret.name": "multus-token",
        "kubernetes.io/serviceaccount/service-account.name": "multus",
        "kubernetes.io/serviceaccount/service-account.uid": "sa-uid-1",
        "sub": "system:serviceaccount:kube-system:multus",
    }
    user = _bearer(authn, token)
    assert isinstance(user, UserInfo)
    assert user.username == "system:serviceaccount:kube-system:multus" and user.uid == "sa-uid-1"
    assert "system:serviceaccounts:kube-system" in user.groups


def test_legacy_token_dies_with_its_secret_or_service_account(
    authn: Authenticator, lookup: DictLookup, issuer: TokenIssuer
) -> None:
    token = _legacy_setup(lookup, issuer, store_token=False)
    assert isinstance(_bearer(authn, token), UserInfo)  # a Secret without data yet does not veto
    lookup.remove("", "secrets", "kube-system", "multus-token")
    result = _bearer(authn, token)
    assert isinstance(result, AuthError) and result.reason == "Token has been invalidated"

    token = _legacy_setup(lookup, issuer, store_token=True)
    assert isinstance(_bearer(authn, token), UserInfo)
    lookup.add("", "serviceaccounts", _sa("kube-system", "multus", "sa-uid-recreated"))
    result = _bearer(authn, token)
    assert isinstance(result, AuthError) and "does not match claim" in result.reason
    lookup.remove("", "serviceaccounts", "kube-system", "multus")
    result = _bearer(authn, token)
    assert isinstance(result, AuthError) and "not found" in result.reason


def test_legacy_token_must_match_its_secret(authn: Authenticator, lookup: DictLookup, issuer: TokenIssuer) -> None:
    token = _legacy_setup(lookup, issuer, store_token=True)
    assert isinstance(_bearer(authn, token), UserInfo)
    # The token controller regenerated the Secret's token: the old one is void.
    secret = lookup.objects[("", "secrets", "kube-system", "multus-token")]
    secret["data"]["token"] = base64.b64encode(b"regenerated").decode()
    result = _bearer(authn, token)
    assert isinstance(result, AuthError) and result.reason == "Token does not match server's copy"


# --------------------------------------------------------------------------- property tests


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_garbage_tokens_never_raise(authn: Authenticator, garbage: str) -> None:
    result = authn.authenticate_token(garbage)
    assert isinstance(result, AuthError) or garbage == "s3cr3t"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_segment = st.one_of(
    st.binary(max_size=80).map(_b64),
    _json_values.map(_b64),
    st.text(alphabet="ABCxyz019-_=+/.!", max_size=40),
)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_garbage_certificates_never_raise(authn: Authenticator, blob: bytes) -> None:
    assert isinstance(authn.authenticate(blob, None), AuthError) or not blob  # no bytes: anonymous


@pytest.fixture(scope="module")
def admin_der(ca: CertificateAuthority) -> bytes:
    return _der(ca.issue_client_cert("admin", ["system:masters"])[0])


# A corrupted serial number is exactly the kind of input this test feeds; cryptography only warns today.
@pytest.mark.filterwarnings("ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning")
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_corrupted_certificates_never_raise_nor_pass(
    authn: Authenticator, admin_der: bytes, pos: int, xor: int
) -> None:
    pos %= len(admin_der)
    mutated = admin_der[:pos] + bytes([admin_der[pos] ^ xor]) + admin_der[pos + 1 :]
    result = authn.authenticate(mutated, None)
    # Only a flip that leaves the signed content and signature intact (e.g. in an outer
    # length encoding that still parses to the same certificate) may still authenticate.
    if isinstance(result, UserInfo):
        assert x509.load_der_x509_certificate(mutated).tbs_certificate_bytes == x509.load_der_x509_certificate(
            admin_der
        ).tbs_certificate_bytes
    else:
        assert isinstance(result, AuthError)


def test_non_finite_numbers_do_not_disable_expiry(authn: Authenticator, issuer: TokenIssuer) -> None:
    token, _ = issuer.issue("kube-system", "multus", "sa-uid-1", 600)
    head, body, _ = token.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    _, claims = _segments(token)
    for const in ("NaN", "Infinity"):
        payload = raw.replace(f'"exp":{claims["exp"]}', f'"exp":{const}')
        assert const in payload
        signing_input = f"{head}.{_b64(payload.encode())}"
        forged = f"{signing_input}.{_b64(issuer._sign(signing_input.encode()))}"
        assert isinstance(_bearer(authn, forged), AuthError)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_segment, min_size=1, max_size=4))
def test_structured_garbage_never_raises(authn: Authenticator, parts: list[str]) -> None:
    assert isinstance(authn.authenticate(None, "Bearer " + ".".join(parts)), AuthError | None)


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["aud", "exp", "nbf", "iat", "sub", "kubernetes.io", "jti",
                         "kubernetes.io/serviceaccount/namespace", "kubernetes.io/serviceaccount/secret.name"]),
        _json_values,
    ),
    st.sampled_from([ISSUER, "kubernetes/serviceaccount"]),
)
def test_validly_signed_arbitrary_claims_never_raise(
    authn: Authenticator, issuer: TokenIssuer, claims: dict, iss: str
) -> None:
    result = authn.authenticate_token(issuer.sign(dict(claims, iss=iss)))
    assert isinstance(result, AuthError | tuple)


# --------------------------------------------------------------------------- RBAC


def _role(kind: str, name: str, rules: list[dict], ns: str = "", **extra: Any) -> dict:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta, "rules": rules, **extra}


def _binding(kind: str, name: str, role_kind: str, role: str, subjects: list[dict], ns: str = "") -> dict:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
        "subjects": subjects,
    }


def _user(name: str) -> dict:
    return {"kind": "User", "apiGroup": RBAC, "name": name}


@pytest.fixture(scope="module")
def rbac() -> Authorizer:
    lk = DictLookup()
    add = lk.add
    add(RBAC, "clusterroles", _role("ClusterRole", "pod-reader", [
        {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
    ]))
    add(RBAC, "clusterroles", _role("ClusterRole", "multus", [
        {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
        {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["get", "update"]},
    ]))
    add(RBAC, "clusterroles", _role("ClusterRole", "scaler", [
        {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
    ]))
    add(RBAC, "clusterroles", _role("ClusterRole", "metrics", [
        {"nonResourceURLs": ["/metrics", "/logs/*"], "verbs": ["get"]},
    ]))
    add(RBAC, "clusterroles", _role("ClusterRole", "secret-reader", [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        {"nonResourceURLs": ["/secret-url"], "verbs": ["get"]},
    ]))
    add(RBAC, "clusterroles", _role("ClusterRole", "all-star", [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]},
    ]))
    # Aggregation: "nad-admin" collects every role labelled for it.
    add(RBAC, "clusterroles", _role("ClusterRole", "nad-admin", [], aggregationRule={
        "clusterRoleSelectors": [{"matchLabels": {"example.com/aggregate-to-nad-admin": "true"}}]}))
    agg_part = _role("ClusterRole", "nad-admin-part", [
        {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["network-attachment-definitions"], "verbs": ["delete"]}])
    agg_part["metadata"]["labels"] = {"example.com/aggregate-to-nad-admin": "true"}
    add(RBAC, "clusterroles", agg_part)

    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "alice-pods", "ClusterRole", "pod-reader",
                                              [_user("alice")]))
    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "multus", "ClusterRole", "multus",
                                              [{"kind": "ServiceAccount", "name": "multus",
                                                "namespace": "kube-system"}]))
    # A ServiceAccount subject with no namespace in a ClusterRoleBinding matches nobody.
    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "broken-sa", "ClusterRole", "all-star",
                                              [{"kind": "ServiceAccount", "name": "ghost"}]))
    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "scalers", "ClusterRole", "scaler",
                                              [{"kind": "Group", "apiGroup": RBAC, "name": "scalers"}]))
    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "mon", "ClusterRole", "metrics",
                                              [_user("mon")]))
    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "nad-admins", "ClusterRole", "nad-admin",
                                              [_user("nadmin")]))
    add(RBAC, "clusterrolebindings", _binding("ClusterRoleBinding", "dangling", "ClusterRole", "missing",
                                              [_user("dangler")]))

    add(RBAC, "roles", _role("Role", "cm-editor", [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["update", "get"], "resourceNames": ["app-config"]},
    ], ns="team"))
    add(RBAC, "rolebindings", _binding("RoleBinding", "devs", "Role", "cm-editor",
                                       [{"kind": "Group", "apiGroup": RBAC, "name": "devs"}], ns="team"))
    # RoleBinding to a ClusterRole: its rules apply in "team" only, non-resource rules not at all.
    add(RBAC, "rolebindings", _binding("RoleBinding", "builder-secrets", "ClusterRole", "secret-reader",
                                       [{"kind": "ServiceAccount", "name": "builder"}], ns="team"))
    add(RBAC, "rolebindings", _binding("RoleBinding", "dangling", "Role", "nope", [_user("dangler")], ns="team"))
    return Authorizer(lk)


ALICE = UserInfo("alice", groups=["system:authenticated"])
DEV = UserInfo("dave", groups=["devs", "system:authenticated"])
MULTUS = UserInfo("system:serviceaccount:kube-system:multus",
                  groups=["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"])
BUILDER = UserInfo("system:serviceaccount:team:builder",
                   groups=["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"])
OTHER_BUILDER = UserInfo("system:serviceaccount:other:builder",
                         groups=["system:serviceaccounts", "system:serviceaccounts:other", "system:authenticated"])
GHOST = UserInfo("system:serviceaccount:default:ghost", groups=["system:authenticated"])
SCALER = UserInfo("sc", groups=["scalers", "system:authenticated"])
MON = UserInfo("mon", groups=["system:authenticated"])
NADMIN = UserInfo("nadmin", groups=["system:authenticated"])
ADMIN = UserInfo("admin", groups=["system:masters", "system:authenticated"])
NOBODY = UserInfo("nobody", groups=["system:authenticated"])


def R(verb: str, group: str, resource: str, sub: str = "", ns: str = "", name: str = "") -> RequestAttributes:
    return RequestAttributes(verb, group, resource, sub, ns, name)


def U(verb: str, path: str) -> RequestAttributes:
    return RequestAttributes(verb, "", "", resource_request=False, path=path)


GRID = [
    # verbs and resources via ClusterRoleBinding -> ClusterRole, any namespace
    (ALICE, R("get", "", "pods", ns="default", name="p"), True),
    (ALICE, R("list", "", "pods"), True),
    (ALICE, R("watch", "", "pods", ns="kube-system"), True),
    (ALICE, R("delete", "", "pods", ns="default", name="p"), False),
    (ALICE, R("get", "", "pods", "log", ns="default", name="p"), True),
    (ALICE, R("get", "", "pods", "exec", ns="default", name="p"), False),
    (ALICE, R("get", "apps", "pods", ns="default"), False),  # group matters
    (ALICE, R("get", "", "services", ns="default"), False),
    # wildcard resources and verbs in a group; subresource listed explicitly
    (MULTUS, R("create", "k8s.cni.cncf.io", "network-attachment-definitions", ns="x"), True),
    (MULTUS, R("deletecollection", "k8s.cni.cncf.io", "anything"), True),
    (MULTUS, R("get", "k8s.cni.cncf.io", "network-attachment-definitions", "status", ns="x"), True),  # "*"
    (MULTUS, R("patch", "events.k8s.io", "events", ns="x"), True),
    (MULTUS, R("update", "", "pods", "status", ns="x", name="p"), True),
    (MULTUS, R("update", "", "pods", ns="x", name="p"), False),
    (MULTUS, R("delete", "", "events", ns="x"), False),
    # "*/scale" grants exactly the scale subresource
    (SCALER, R("update", "apps", "deployments", "scale", ns="x", name="d"), True),
    (SCALER, R("update", "apps", "statefulsets", "scale", ns="x"), True),
    (SCALER, R("update", "apps", "deployments", ns="x", name="d"), False),
    (SCALER, R("update", "apps", "deployments", "status", ns="x"), False),
    (SCALER, R("update", "", "deployments", "scale", ns="x"), False),
    # Role + resourceNames in a namespace via Group subject
    (DEV, R("create", "", "configmaps", ns="team"), True),
    (DEV, R("list", "", "configmaps", ns="team"), True),
    (DEV, R("update", "", "configmaps", ns="team", name="app-config"), True),
    (DEV, R("update", "", "configmaps", ns="team", name="other"), False),
    (DEV, R("get", "", "configmaps", ns="team"), False),  # resourceNames needs a name
    (DEV, R("create", "", "configmaps", ns="prod"), False),
    (DEV, R("create", "", "configmaps"), False),  # cluster scope
    # RoleBinding -> ClusterRole, SA subject defaulting to the binding's namespace
    (BUILDER, R("get", "", "secrets", ns="team", name="s"), True),
    (BUILDER, R("get", "", "secrets", ns="default", name="s"), False),
    (BUILDER, R("get", "", "secrets"), False),
    (BUILDER, U("get", "/secret-url"), False),  # non-resource rules do not flow through RoleBindings
    (OTHER_BUILDER, R("get", "", "secrets", ns="team"), False),
    (GHOST, R("get", "", "pods", ns="default"), False),
    # non-resource URLs
    (MON, U("get", "/metrics"), True),
    (MON, U("get", "/metrics/extra"), False),
    (MON, U("get", "/logs/kubelet.log"), True),
    (MON, U("get", "/logs/"), True),
    (MON, U("post", "/metrics"), False),
    (MON, U("get", "/logz"), False),
    # aggregated ClusterRole
    (NADMIN, R("delete", "k8s.cni.cncf.io", "network-attachment-definitions", ns="x", name="n"), True),
    (NADMIN, R("create", "k8s.cni.cncf.io", "network-attachment-definitions", ns="x"), False),
    # masters bypass
    (ADMIN, R("delete", "", "nodes", name="n"), True),
    (ADMIN, R("impersonate", "", "users"), True),
    (ADMIN, U("post", "/anything"), True),
    # built-in defaults for every authenticated user
    (NOBODY, R("create", "authorization.k8s.io", "selfsubjectaccessreviews"), True),
    (NOBODY, R("create", "authorization.k8s.io", "selfsubjectrulesreviews"), True),
    (NOBODY, R("create", "authentication.k8s.io", "selfsubjectreviews"), True),
    (NOBODY, R("create", "authorization.k8s.io", "subjectaccessreviews"), False),
    (NOBODY, R("create", "authentication.k8s.io", "tokenreviews"), False),
    (NOBODY, U("get", "/version"), True),
    (NOBODY, U("get", "/healthz"), True),
    (NOBODY, U("get", "/readyz"), True),
    (NOBODY, U("get", "/api"), True),
    (NOBODY, U("get", "/api/v1"), True),
    (NOBODY, U("get", "/apis/apps/v1"), True),
    (NOBODY, U("get", "/metrics"), False),
    (NOBODY, R("list", "", "namespaces"), False),
    # anonymous: public info only
    (None, U("get", "/version"), True),
    (None, U("get", "/healthz"), True),
    (None, U("get", "/api"), False),
    (None, R("create", "authorization.k8s.io", "selfsubjectaccessreviews"), False),
    (ANONYMOUS, R("list", "", "pods"), False),
]


@pytest.mark.parametrize(("user", "attrs", "allowed"), GRID)
def test_rbac_grid(rbac: Authorizer, user: UserInfo | None, attrs: RequestAttributes, allowed: bool) -> None:
    assert rbac.authorize(user, attrs) is allowed


def test_missing_roles_are_reported_in_the_reason(rbac: Authorizer) -> None:
    dangler = UserInfo("dangler", groups=["system:authenticated"])
    allowed, reason = rbac.authorize_with_reason(dangler, R("get", "", "pods", ns="team"))
    assert not allowed
    assert 'clusterrole.rbac.authorization.k8s.io "missing" not found' in reason
    assert 'role.rbac.authorization.k8s.io "nope" not found' in reason
    assert reason.startswith("RBAC: [") and reason.endswith("]")
    only_cluster = rbac.authorize_with_reason(dangler, R("get", "", "pods", ns="default"))
    assert only_cluster == (False, 'RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found')
    assert rbac.authorize_with_reason(NOBODY, R("get", "", "pods")) == (False, "")


def test_allowed_reason_names_the_binding(rbac: Authorizer) -> None:
    assert rbac.authorize_with_reason(ALICE, R("get", "", "pods", ns="x")) == (
        True,
        'RBAC: allowed by ClusterRoleBinding "alice-pods" of ClusterRole "pod-reader" to User "alice"',
    )
    assert rbac.authorize_with_reason(BUILDER, R("get", "", "secrets", ns="team")) == (
        True,
        'RBAC: allowed by RoleBinding "builder-secrets/team" of ClusterRole "secret-reader" '
        'to ServiceAccount "builder/team"',
    )
    assert rbac.authorize_with_reason(MULTUS, R("update", "", "pods", "status", ns="x"))[1] == (
        'RBAC: allowed by ClusterRoleBinding "multus" of ClusterRole "multus" to ServiceAccount "multus/kube-system"'
    )
    assert rbac.authorize_with_reason(NOBODY, U("get", "/version"))[1] == (
        'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" '
        'to Group "system:authenticated"'
    )
    assert rbac.authorize_with_reason(ADMIN, R("delete", "", "nodes")) == (True, "")


def test_stored_bootstrap_objects_override_built_ins() -> None:
    lk = DictLookup()
    authz = Authorizer(lk)
    assert authz.authorize(NOBODY, U("get", "/version"))
    # An operator who narrows system:public-info-viewer and system:discovery sees the narrowing.
    for name in ("system:discovery", "system:public-info-viewer"):
        lk.add(RBAC, "clusterroles", _role("ClusterRole", name, [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]))
    assert not authz.authorize(NOBODY, U("get", "/version"))
    assert authz.authorize(NOBODY, U("get", "/healthz"))
    assert not Authorizer(DictLookup(), include_bootstrap=False).authorize(NOBODY, U("get", "/healthz"))


def test_rules_for_like_self_subject_rules_review(rbac: Authorizer) -> None:
    resource, non_resource = rbac.rules_for(BUILDER, "team")
    assert {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]} in resource
    assert {
        "verbs": ["create"],
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    } in resource
    ssr = {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]}
    assert ssr in resource
    assert all("nonResourceURLs" not in r for r in resource)
    urls = {u for r in non_resource for u in r["nonResourceURLs"]}
    assert {"/api", "/api/*", "/version", "/healthz", "/readyz"} <= urls
    # Listed, as upstream does, although a RoleBinding can never authorize it.
    assert "/secret-url" in urls
    assert not rbac.authorize(BUILDER, U("get", "/secret-url"))
    # Other namespaces do not see the RoleBinding.
    other, _ = rbac.rules_for(BUILDER, "default")
    assert {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]} not in other

    dev, _ = rbac.rules_for(DEV, "team")
    assert {"verbs": ["update", "get"], "apiGroups": [""], "resources": ["configmaps"],
            "resourceNames": ["app-config"]} in dev

    admin_res, admin_non = rbac.rules_for(ADMIN, "team")
    assert admin_res[0] == {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
    assert admin_non[0] == {"verbs": ["*"], "nonResourceURLs": ["*"]}
    assert ssr in admin_res
    bare_res, bare_non = Authorizer(DictLookup(), include_bootstrap=False).rules_for(ADMIN, "")
    assert bare_res == [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    assert bare_non == [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
    assert Authorizer(DictLookup(), include_bootstrap=False).rules_for(None, "") == ([], [])


def test_bootstrap_roles_are_valid_objects() -> None:
    for name, role in BOOTSTRAP_CLUSTER_ROLES.items():
        assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == name and role["rules"]
