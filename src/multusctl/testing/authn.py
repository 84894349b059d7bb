"""Authentication of the test cluster, in kube-apiserver's order: x509 client certificate, then bearer token
(static token file, then ServiceAccount JWTs); the first that succeeds wins and a request whose credentials all
fail is a 401 (``AuthError``). No credentials, or an ``Authorization`` header that is not ``Bearer``, is
anonymous (``None``), as with ``--anonymous-auth=true``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from multusctl.testing.auth import (
    ALL_AUTHENTICATED,
    DEFAULT_LEEWAY_SECONDS,
    EXTRA_CREDENTIAL_ID,
    EXTRA_NODE_NAME,
    EXTRA_NODE_UID,
    EXTRA_POD_NAME,
    EXTRA_POD_UID,
    LEGACY_ISSUER,
    SA_GROUPS_PREFIX,
    AuthError,
    Lookup,
    UserInfo,
    service_account_username,
    with_authenticated,
)
from multusctl.testing.pki import CertificateAuthority, client_identity, load_certificate
from multusctl.testing.tokens import TokenIssuer, b64url_decode, json_loads_strict, numeric_claim

# --------------------------------------------------------------------------- authentication


def _uid_of(obj: Mapping[str, Any] | None) -> str | None:
    if not obj:
        return None
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        return None
    uid = meta.get("uid")
    return uid if isinstance(uid, str) else None


def _ref(value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError("malformed object reference claim")
    name, uid = value.get("name", ""), value.get("uid", "")
    if not isinstance(name, str) or not isinstance(uid, str):
        raise ValueError("malformed object reference claim")
    return name, uid


class Authenticator:
    """Turns a request's peer certificate and ``Authorization`` header into a user."""

    def __init__(
        self,
        lookup: Lookup,
        issuer: TokenIssuer,
        client_ca_cert: x509.Certificate | CertificateAuthority | bytes | str | Sequence[Any] | None,
        static_tokens: dict[str, UserInfo] | None = None,
        *,
        api_audiences: Sequence[str] | None = None,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lookup = lookup
        self.issuer = issuer
        self.client_cas = _normalize_cas(client_ca_cert)
        self.static_tokens: dict[str, UserInfo] = dict(static_tokens or {})
        self.api_audiences = list(api_audiences) if api_audiences else [issuer.issuer]
        self.leeway = float(leeway_seconds)
        self.clock = clock

    # -- entry point

    def authenticate(
        self, peer_cert_der: bytes | None, authorization: str | None
    ) -> UserInfo | AuthError | None:
        """``UserInfo`` when authenticated, ``None`` when anonymous, ``AuthError`` for a 401."""
        errors: list[str] = []
        if peer_cert_der:
            result = self.authenticate_certificate(peer_cert_der)
            if isinstance(result, UserInfo):
                return result
            errors.append(result.reason)
        token = _bearer_token(authorization)
        if token:
            tok = self.authenticate_token(token)
            if not isinstance(tok, AuthError):
                return tok[0]
            errors.append(tok.reason)
        if errors:
            return AuthError("; ".join(errors))
        return None

    # -- x509

    def authenticate_certificate(self, der: bytes) -> UserInfo | AuthError:
        try:
            return self._authenticate_certificate(der)
        except Exception:
            # Untrusted bytes: cryptography raises several unrelated exception types
            # (InvalidVersion is not a ValueError) and parses extensions lazily, so
            # anything that goes wrong here is a malformed certificate, i.e. a 401.
            return AuthError("x509: malformed certificate")

    def _authenticate_certificate(self, der: bytes) -> UserInfo | AuthError:
        cert = x509.load_der_x509_certificate(der)
        now = _dt.datetime.fromtimestamp(self.clock(), _dt.UTC)
        if now < cert.not_valid_before_utc or now > cert.not_valid_after_utc:
            return AuthError(
                "x509: certificate has expired or is not yet valid: current time "
                f"{now:%Y-%m-%dT%H:%M:%SZ} is outside {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
                f" - {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
            )
        if not self._signed_by_trusted_ca(cert, now):
            return AuthError("x509: certificate signed by unknown authority")
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            if ExtendedKeyUsageOID.CLIENT_AUTH not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
                return AuthError("x509: certificate specifies an incompatible key usage")
        except x509.ExtensionNotFound:
            pass  # Go treats a missing EKU as "any".
        cn, orgs = client_identity(cert)
        if not cn:
            return AuthError("x509: certificate has no common name")
        fingerprint = hashlib.sha256(der).hexdigest()
        return UserInfo(
            username=cn,
            groups=with_authenticated(orgs),
            extra={EXTRA_CREDENTIAL_ID: [f"X509SHA256={fingerprint}"]},
        )

    def _signed_by_trusted_ca(self, cert: x509.Certificate, now: _dt.datetime) -> bool:
        for ca in self.client_cas:
            if now < ca.not_valid_before_utc or now > ca.not_valid_after_utc:
                continue  # An expired CA vouches for nothing.
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return True
        return False

    # -- tokens

    def authenticate_token(
        self, token: str, audiences: Sequence[str] | None = None
    ) -> tuple[UserInfo, list[str]] | AuthError:
        """Validate a bearer token; returns ``(user, audiences)`` as a TokenReview would.

        ``audiences`` defaults to the API audiences; the result's audiences are
        the intersection the token is valid for.
        """
        wanted = list(audiences) if audiences else list(self.api_audiences)
        static = self.static_tokens.get(token)
        if static is not None:
            user = UserInfo(static.username, static.uid, with_authenticated(static.groups), dict(static.extra))
            return user, wanted
        try:
            return self._authenticate_jwt(token, wanted)
        except _TokenRejected as exc:
            return AuthError(str(exc))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            # Malformed input of any kind is just an invalid token, never a 500.
            return AuthError("invalid bearer token")

    def _authenticate_jwt(self, token: str, wanted: list[str]) -> tuple[UserInfo, list[str]]:
        if token.count(".") != 2:
            raise _TokenRejected("invalid bearer token")
        # Peek at iss before checking the signature, as the real server does, to
        # choose which validator applies.
        try:
            unverified = json_loads_strict(b64url_decode(token.split(".")[1]))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise _TokenRejected("invalid bearer token") from exc
        if not isinstance(unverified, dict):
            raise _TokenRejected("invalid bearer token")
        iss = unverified.get("iss")
        if iss not in (self.issuer.issuer, LEGACY_ISSUER):
            raise _TokenRejected("invalid bearer token")
        try:
            _, claims = self.issuer.verify(token)
        except ValueError as exc:
            raise _TokenRejected("invalid bearer token, square/go-jose: error in cryptographic primitive") from exc
        if iss == LEGACY_ISSUER:
            return self._validate_legacy(token, claims), wanted
        return self._validate_bound(claims, wanted)

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self.clock()
        exp, nbf, iat = numeric_claim(claims, "exp"), numeric_claim(claims, "nbf"), numeric_claim(claims, "iat")
        if exp is None:
            raise _TokenRejected("service account token claims could not be validated")
        if now - self.leeway > exp:
            raise _TokenRejected("service account token has expired")
        if nbf is not None and now + self.leeway < nbf:
            raise _TokenRejected("service account token is not valid yet")
        if iat is not None and now + self.leeway < iat:
            raise _TokenRejected("service account token is not valid yet")

    def _validate_bound(self, claims: Mapping[str, Any], wanted: list[str]) -> tuple[UserInfo, list[str]]:
        aud = claims.get("aud")
        token_auds = [aud] if isinstance(aud, str) else aud
        if not isinstance(token_auds, list) or not all(isinstance(a, str) for a in token_auds):
            raise _TokenRejected("invalid bearer token, token audiences is invalid")
        matched = [a for a in wanted if a in token_auds]
        if not matched:
            raise _TokenRejected(
                f"invalid bearer token, token audiences {token_auds!r} is invalid for the target audiences {wanted!r}"
            )
        self._check_times(claims)
        k8s = claims.get("kubernetes.io")
        if not isinstance(k8s, Mapping):
            raise _TokenRejected("service account token claims could not be validated")
        namespace = k8s.get("namespace")
        sa_ref = _ref(k8s.get("serviceaccount"))
        if not isinstance(namespace, str) or not namespace or sa_ref is None or not sa_ref[0]:
            raise _TokenRejected("service account token claims could not be validated")
        sub = claims.get("sub")
        if sub != service_account_username(namespace, sa_ref[0]):
            raise _TokenRejected("service account token claims could not be validated")
        sa_name, sa_uid = sa_ref
        sa = self.lookup.get("", "serviceaccounts", namespace, sa_name)
        if sa is None:
            raise _TokenRejected(f'serviceaccounts "{sa_name}" not found')
        if _deleted(sa):
            raise _TokenRejected(f"service account {namespace}/{sa_name} has been deleted")
        if _uid_of(sa) != sa_uid:
            raise _TokenRejected(f"service account UID ({_uid_of(sa)}) does not match claim ({sa_uid})")
        extra: dict[str, list[str]] = {}
        self._check_bound(namespace, "secret", _ref(k8s.get("secret")))
        pod_ref = _ref(k8s.get("pod"))
        if pod_ref is not None:
            self._check_bound(namespace, "pod", pod_ref)
            extra[EXTRA_POD_NAME] = [pod_ref[0]]
            extra[EXTRA_POD_UID] = [pod_ref[1]]
        node_ref = _ref(k8s.get("node"))
        if node_ref is not None:
            extra[EXTRA_NODE_NAME] = [node_ref[0]]
            extra[EXTRA_NODE_UID] = [node_ref[1]]
        jti = claims.get("jti")
        if isinstance(jti, str) and jti:
            extra[EXTRA_CREDENTIAL_ID] = [f"JTI={jti}"]
        user = _service_account_user(namespace, sa_name, sa_uid, extra)
        return user, matched

    def _validate_legacy(self, token: str, claims: Mapping[str, Any]) -> UserInfo:
        def claim(key: str) -> str:
            value = claims.get(f"kubernetes.io/serviceaccount/{key}")
            if not isinstance(value, str) or not value:
                raise _TokenRejected(f"token does not contain a valid {key} claim")
            return value

        namespace, secret_name = claim("namespace"), claim("secret.name")
        sa_name, sa_uid = claim("service-account.name"), claim("service-account.uid")
        if claims.get("sub") != service_account_username(namespace, sa_name):
            raise _TokenRejected("service account token claims could not be validated")
        secret = self.lookup.get("", "secrets", namespace, secret_name)
        if secret is None or _deleted(secret):
            raise _TokenRejected("Token has been invalidated")
        stored = (secret.get("data") or {}).get("token") if isinstance(secret.get("data"), Mapping) else None
        if isinstance(stored, str) and stored:
            # A regenerated Secret invalidates earlier tokens (legacy.go compares bytes).
            # Upstream also rejects when data.token is absent; here such a Secret does
            # not veto, so tests can seed Secrets before a token controller fills them.
            try:
                matches = base64.b64decode(stored, validate=True).decode() == token
            except (ValueError, binascii.Error, UnicodeDecodeError):
                matches = False
            if not matches:
                raise _TokenRejected("Token does not match server's copy")
        sa = self.lookup.get("", "serviceaccounts", namespace, sa_name)
        if sa is None or _deleted(sa):
            raise _TokenRejected(f'serviceaccounts "{sa_name}" not found')
        if _uid_of(sa) != sa_uid:
            raise _TokenRejected(f"ServiceAccount UID ({_uid_of(sa)}) does not match claim ({sa_uid})")
        return _service_account_user(namespace, sa_name, sa_uid, {})

    def _check_bound(self, namespace: str, kind: str, ref: tuple[str, str] | None) -> None:
        """A bound token's secret or pod must still exist with the UID the token names (kube-apiserver's
        pkg/serviceaccount/claims.go)."""
        if ref is None:
            return
        obj = self.lookup.get("", f"{kind}s", namespace, ref[0])
        if obj is None or _deleted(obj):
            raise _TokenRejected("service account token has been invalidated")
        if _uid_of(obj) != ref[1]:
            raise _TokenRejected(
                f"{kind} UID ({_uid_of(obj)}) does not match service account {kind} ref claim ({ref[1]})"
            )



class _TokenRejected(Exception):
    pass


def _deleted(obj: Mapping[str, Any]) -> bool:
    meta = obj.get("metadata")
    return isinstance(meta, Mapping) and bool(meta.get("deletionTimestamp"))


def _service_account_user(namespace: str, name: str, uid: str, extra: dict[str, list[str]]) -> UserInfo:
    return UserInfo(
        username=service_account_username(namespace, name),
        uid=uid,
        groups=[SA_GROUPS_PREFIX, f"{SA_GROUPS_PREFIX}:{namespace}", ALL_AUTHENTICATED],
        extra=extra,
    )


def _bearer_token(authorization: str | None) -> str | None:
    # Mirrors bearertoken.AuthenticateRequest: anything but "Bearer <tok>" is not ours.
    if not authorization:
        return None
    parts = authorization.strip().split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return None
    return parts[1] or None


def _normalize_cas(value: Any) -> list[x509.Certificate]:
    if value is None:
        return []
    if isinstance(value, CertificateAuthority):
        return [value.cert]
    if isinstance(value, x509.Certificate):
        return [value]
    if isinstance(value, bytes | str):
        raw = value.encode() if isinstance(value, str) else value
        if b"-----BEGIN" in raw:
            return list(x509.load_pem_x509_certificates(raw))
        return [load_certificate(raw)]
    out: list[x509.Certificate] = []
    for item in value:
        out.extend(_normalize_cas(item))
    return out


