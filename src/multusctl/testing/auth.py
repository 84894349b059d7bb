"""Authentication and RBAC authorization for the test cluster.

Mirrors kube-apiserver closely enough that kubectl and client libraries see the
same outcomes they would against a real cluster:

* authentication order is x509 client certificate, then bearer token (static
  token file, then ServiceAccount JWTs); the first that succeeds wins and a
  request whose credentials all fail is a 401 (``AuthError``). A request with
  no credentials, or an ``Authorization`` header that is not ``Bearer``, is
  anonymous (``None``), as with ``--anonymous-auth=true``.
* ServiceAccount tokens are JWTs with the exact claim shapes of
  ``pkg/serviceaccount/claims.go`` (bound) and ``legacy.go`` (Secret-based),
  signed RS256 with ``kid`` = base64url(SHA-256(SPKI DER)) like the real
  server. ``exp``/``nbf`` carry the same 60 s leeway as go-jose.
* RBAC follows ``pkg/registry/rbac/validation`` and ``plugin/pkg/auth/
  authorizer/rbac``: ClusterRoleBindings, then RoleBindings of the request
  namespace; rule matching incl. ``*/subresource`` and ``nonResourceURLs``
  ending in ``*``; ``aggregationRule`` is resolved on the fly.
  ``system:masters`` bypasses RBAC. The bootstrap roles every cluster has
  (cluster-admin, system:basic-user, system:discovery,
  system:public-info-viewer) are built in and used unless the store holds an
  object of the same name.

Limits: no intermediate CAs for client certificates, no OIDC/webhook
authenticators (impersonation is in ``multusctl.testing.impersonate``), no
RBAC escalation checks on role writes; node claims in bound tokens are carried into ``extra`` but not validated; a
legacy Secret with no ``data.token`` yet does not veto its token (upstream
rejects it).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID

from multusctl.testing.pki import CertificateAuthority, client_identity, load_certificate

__all__ = [
    "ANONYMOUS",
    "BOOTSTRAP_CLUSTER_ROLES",
    "BOOTSTRAP_CLUSTER_ROLE_BINDINGS",
    "AuthError",
    "Authenticator",
    "Authorizer",
    "Lookup",
    "RequestAttributes",
    "TokenIssuer",
    "UserInfo",
    "forbidden_status",
    "status_object",
    "unauthorized_status",
]

RBAC_GROUP = "rbac.authorization.k8s.io"
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
LEGACY_ISSUER = "kubernetes/serviceaccount"
# go-jose's jwt.DefaultLeeway, which kube-apiserver's validator relies on.
DEFAULT_LEEWAY_SECONDS = 60.0
DEFAULT_TOKEN_SECONDS = 3600

ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
SYSTEM_MASTERS = "system:masters"
SA_PREFIX = "system:serviceaccount:"
SA_GROUPS_PREFIX = "system:serviceaccounts"

EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name"
EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid"
EXTRA_NODE_NAME = "authentication.kubernetes.io/node-name"
EXTRA_NODE_UID = "authentication.kubernetes.io/node-uid"


# --------------------------------------------------------------------------- users


@dataclass
class UserInfo:
    username: str
    uid: str = ""
    groups: list[str] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The ``UserInfo`` shape of TokenReview/SelfSubjectReview status (empty fields omitted)."""
        out: dict[str, Any] = {"username": self.username}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


ANONYMOUS = UserInfo("system:anonymous", groups=[ALL_UNAUTHENTICATED])


def service_account_username(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def _with_authenticated(groups: Iterable[str]) -> list[str]:
    # The real AuthenticatedGroupAdder appends system:authenticated unless present.
    out = list(groups)
    if ALL_AUTHENTICATED not in out:
        out.append(ALL_AUTHENTICATED)
    return out


class Lookup(Protocol):
    """Read access to stored objects (plain Kubernetes JSON dicts)."""

    def get(self, group: str, resource: str, namespace: str | None, name: str) -> dict | None: ...

    def list(self, group: str, resource: str, namespace: str | None = None) -> list[dict]: ...


# --------------------------------------------------------------------------- errors / Status


class AuthError(Exception):
    """Credentials were presented and rejected: the request gets a 401.

    ``reason`` is the server-side explanation (kube-apiserver logs it); the
    response body is always the generic ``Unauthorized`` Status, as upstream,
    so clients learn nothing about why.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def status(self) -> dict[str, Any]:
        return unauthorized_status()


def status_object(code: int, reason: str, message: str, details: dict | None = None) -> dict[str, Any]:
    """A ``v1 Status`` failure body as kube-apiserver writes it."""
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        out["details"] = details
    out["code"] = code
    return out


def unauthorized_status() -> dict[str, Any]:
    return status_object(401, "Unauthorized", "Unauthorized")


def forbidden_message(user: UserInfo | None, attrs: RequestAttributes) -> str:
    """The text of ``responsewriters.forbiddenMessage`` (what kubectl prints after "Error from server")."""
    username = (user or ANONYMOUS).username
    if not attrs.resource_request:
        return f'User "{username}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
    if attrs.namespace:
        return (
            f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" in the namespace "{attrs.namespace}"'
        )
    return (
        f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group '
        f'"{attrs.api_group}" at the cluster scope'
    )


def forbidden_status(user: UserInfo | None, attrs: RequestAttributes, reason: str = "") -> dict[str, Any]:
    """The 403 Status (``apierrors.NewForbidden``) for a denied request."""
    msg = forbidden_message(user, attrs)
    if reason:
        msg = f"{msg}: {reason}"
    if not attrs.resource_request:
        return status_object(403, "Forbidden", f"forbidden: {msg}", {})
    qualified = attrs.resource + (f".{attrs.api_group}" if attrs.api_group else "")
    message = f'{qualified} "{attrs.name}" is forbidden: {msg}' if attrs.name else f"{qualified} is forbidden: {msg}"
    details: dict[str, Any] = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    details["kind"] = attrs.resource
    return status_object(403, "Forbidden", message, details)


# --------------------------------------------------------------------------- JWT


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL_ALPHABET for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _reject_constant(name: str) -> Any:
    # Go's encoding/json has no NaN/Infinity; Python's would let "exp": NaN disable expiry.
    raise ValueError(f"invalid JSON number {name}")


def _json_loads(data: bytes) -> Any:
    return json.loads(data, parse_constant=_reject_constant)


def _json_compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def _key_id(public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    # serviceaccount.keyIDFromPublicKey: base64url(sha256(PKIX DER)), unpadded.
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64url(hashlib.sha256(der).digest())


def _numeric(claims: Mapping[str, Any], key: str) -> float | None:
    value = claims.get(key)
    if value is None:
        return None
    # bool is an int subclass; a JSON true is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"claim {key} is not a number")
    return float(value)


# A 2048-bit RSA key costs ~70 ms to generate, and every TestCluster has an issuer. Keys are reused, but
# never by two issuers holding one at once: each live issuer still has a key of its own ("signed by another
# cluster" stays a wrong key). An issuer gives its key back when its cluster stops (`release`), not when it
# is collected: a stopped cluster's cycles (threads, handlers) kept it for the cyclic collector, and the
# suite made a new key for nearly every test (120 for 148 tests).
_rsa_keys: list[rsa.RSAPrivateKey] = []
_rsa_holders: weakref.WeakKeyDictionary[TokenIssuer, rsa.RSAPrivateKey] = weakref.WeakKeyDictionary()
_rsa_lock = threading.Lock()


def _rsa_key_for(issuer: TokenIssuer, current: rsa.RSAPrivateKey | None = None) -> rsa.RSAPrivateKey:
    with _rsa_lock:
        held = {id(k) for i, k in _rsa_holders.items() if i is not issuer}
        key = current if current is not None and id(current) not in held else None
        key = key or next((k for k in _rsa_keys if id(k) not in held), None)
        if key is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _rsa_keys.append(key)
        _rsa_holders[issuer] = key
        return key


class TokenIssuer:
    """Signs ServiceAccount tokens like kube-apiserver's ``--service-account-signing-key-file``."""

    def __init__(self, issuer: str = DEFAULT_ISSUER, *, algorithm: str = "RS256") -> None:
        if algorithm == "RS256":
            # 2048-bit RSA is what kubeadm/k3s generate for sa.key.
            self._key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = _rsa_key_for(self)
        elif algorithm == "ES256":
            self._key = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"unsupported algorithm {algorithm}")
        self.issuer = issuer
        self.algorithm = algorithm
        self.public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey = self._key.public_key()
        self.kid = _key_id(self.public_key)

    def release(self) -> None:
        """Give the key back for another issuer to take (this one's cluster stopped)."""
        with _rsa_lock:
            _rsa_holders.pop(self, None)

    def hold(self) -> None:
        """Hold a key again after `release` (a cluster started again): the same one unless another issuer
        took it meanwhile, in which case tokens signed before no longer verify, as after a new sa.key."""
        if isinstance(self._key, rsa.RSAPrivateKey):
            key = _rsa_key_for(self, self._key)
            if key is not self._key:
                self._key, self.public_key = key, key.public_key()
                self.kid = _key_id(self.public_key)

    # -- signing

    def _sign(self, signing_input: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        der = self._key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        # JWS wants raw r||s, not DER.
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Sign arbitrary claims with this issuer's key (tests use it to forge odd tokens)."""
        header = {"alg": self.algorithm, "kid": self.kid}
        signing_input = f"{_b64url(_json_compact(header))}.{_b64url(_json_compact(dict(claims)))}"
        sig = self._sign(signing_input.encode("ascii"))
        return f"{signing_input}.{_b64url(sig)}"

    def issue(
        self,
        namespace: str,
        sa_name: str,
        sa_uid: str,
        expiration_seconds: int | None,
        audiences: list[str] | None = None,
        secret: tuple[str, str] | None = None,
        pod: tuple[str, str] | None = None,
        *,
        node: tuple[str, str] | None = None,
        now: _dt.datetime | None = None,
    ) -> tuple[str, _dt.datetime]:
        """A bound token (TokenRequest); returns ``(token, expirationTimestamp)``.

        ``expiration_seconds=None`` means the TokenRequest default of 3600 s.
        ``now`` lets tests mint tokens that are already expired or not yet valid.
        ``secret``/``pod``/``node`` are ``(name, uid)`` of the bound object.
        """
        issued = now if now is not None else _dt.datetime.now(_dt.UTC)
        iat = int(issued.timestamp())
        seconds = DEFAULT_TOKEN_SECONDS if expiration_seconds is None else int(expiration_seconds)
        exp = iat + seconds
        k8s: dict[str, Any] = {"namespace": namespace}
        # claims.go: pod takes precedence over secret, node only alongside a pod or alone.
        if pod is not None:
            k8s["pod"] = {"name": pod[0], "uid": pod[1]}
        elif secret is not None:
            k8s["secret"] = {"name": secret[0], "uid": secret[1]}
        if node is not None:
            k8s["node"] = {"name": node[0], "uid": node[1]}
        k8s["serviceaccount"] = {"name": sa_name, "uid": sa_uid}
        claims: dict[str, Any] = {
            "aud": list(audiences) if audiences else [self.issuer],
            "exp": exp,
            "iat": iat,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": k8s,
            "nbf": iat,
            "sub": service_account_username(namespace, sa_name),
        }
        return self.sign(claims), _dt.datetime.fromtimestamp(exp, _dt.UTC)

    def issue_legacy_secret_token(
        self, namespace: str, sa_name: str, sa_uid: str, secret_name: str, secret_uid: str = ""
    ) -> str:
        """A pre-1.24 ``kubernetes.io/service-account-token`` Secret token: no exp, no aud.

        ``secret_uid`` is accepted for symmetry but, as upstream, not a claim.
        """
        del secret_uid
        claims = {
            "iss": LEGACY_ISSUER,
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": secret_name,
            "kubernetes.io/serviceaccount/service-account.name": sa_name,
            "kubernetes.io/serviceaccount/service-account.uid": sa_uid,
            "sub": service_account_username(namespace, sa_name),
        }
        return self.sign(claims)

    # -- verification

    def verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the signature; returns ``(header, claims)`` or raises ``ValueError``.

        Only the algorithm this issuer signs with is accepted, so ``alg: none``
        and algorithm-confusion tokens fail here.
        """
        if not isinstance(token, str):
            raise ValueError("token is not a string")
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("not a compact JWS")
        try:
            header = _json_loads(_b64url_decode(parts[0]))
            claims = _json_loads(_b64url_decode(parts[1]))
            sig = _b64url_decode(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
            raise ValueError("malformed token") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ValueError("malformed token")
        if header.get("alg") != self.algorithm:
            raise ValueError("unexpected signing algorithm")
        kid = header.get("kid")
        if kid is not None and kid != self.kid:
            raise ValueError("unknown key id")
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        try:
            if isinstance(self.public_key, rsa.RSAPublicKey):
                self.public_key.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
            else:
                if len(sig) != 64:
                    raise ValueError("bad signature length")
                der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
                self.public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise ValueError("invalid signature") from exc
        return header, claims

    def jwks(self) -> dict[str, Any]:
        """``/openid/v1/jwks`` body."""
        jwk: dict[str, Any] = {"use": "sig", "kid": self.kid, "alg": self.algorithm}
        if isinstance(self.public_key, rsa.RSAPublicKey):
            nums = self.public_key.public_numbers()
            jwk.update(
                kty="RSA",
                n=_b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
                e=_b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")),
            )
        else:
            pnums = self.public_key.public_numbers()
            jwk.update(
                kty="EC", crv="P-256", x=_b64url(pnums.x.to_bytes(32, "big")), y=_b64url(pnums.y.to_bytes(32, "big"))
            )
        return {"keys": [jwk]}

    def openid_configuration(self) -> dict[str, Any]:
        """``/.well-known/openid-configuration`` body."""
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer.rstrip('/')}/openid/v1/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.algorithm],
        }


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
            groups=_with_authenticated(orgs),
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
            user = UserInfo(static.username, static.uid, _with_authenticated(static.groups), dict(static.extra))
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
            unverified = _json_loads(_b64url_decode(token.split(".")[1]))
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
        exp, nbf, iat = _numeric(claims, "exp"), _numeric(claims, "nbf"), _numeric(claims, "iat")
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
        secret_ref = _ref(k8s.get("secret"))
        if secret_ref is not None:
            secret = self.lookup.get("", "secrets", namespace, secret_ref[0])
            if secret is None or _deleted(secret):
                raise _TokenRejected("service account token has been invalidated")
            if _uid_of(secret) != secret_ref[1]:
                raise _TokenRejected(
                    f"secret UID ({_uid_of(secret)}) does not match service account secret ref claim ({secret_ref[1]})"
                )
        pod_ref = _ref(k8s.get("pod"))
        if pod_ref is not None:
            pod = self.lookup.get("", "pods", namespace, pod_ref[0])
            if pod is None or _deleted(pod):
                raise _TokenRejected("service account token has been invalidated")
            if _uid_of(pod) != pod_ref[1]:
                raise _TokenRejected(
                    f"pod UID ({_uid_of(pod)}) does not match service account pod ref claim ({pod_ref[1]})"
                )
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


# --------------------------------------------------------------------------- authorization


@dataclass
class RequestAttributes:
    verb: str
    api_group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    resource_request: bool = True
    path: str = ""


@dataclass(frozen=True)
class Decision:
    """One authorization decision, as an audit log at level Metadata records it."""

    user: str
    verb: str
    group: str
    resource: str  # with its subresource ("pods/status"), or the path of a non-resource request
    namespace: str
    allowed: bool


def _rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
          urls: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": verbs}
    if groups is not None:
        out["apiGroups"] = groups
    if resources is not None:
        out["resources"] = resources
    if urls is not None:
        out["nonResourceURLs"] = urls
    return out


def _bootstrap_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    }


def _bootstrap_binding(name: str, role: str, groups: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
    }


# The subset of plugin/pkg/auth/authorizer/rbac/bootstrappolicy that matters to
# clients: exported so a store can seed them as real objects.
BOOTSTRAP_CLUSTER_ROLES: dict[str, dict[str, Any]] = {
    "cluster-admin": _bootstrap_role(
        "cluster-admin", [_rule(["*"], ["*"], ["*"]), _rule(["*"], urls=["*"])]
    ),
    "system:basic-user": _bootstrap_role(
        "system:basic-user",
        [
            _rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
        ],
    ),
    "system:discovery": _bootstrap_role(
        "system:discovery",
        [
            _rule(
                ["get"],
                urls=["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                      "/readyz", "/version", "/version/"],
            )
        ],
    ),
    "system:public-info-viewer": _bootstrap_role(
        "system:public-info-viewer",
        [_rule(["get"], urls=["/healthz", "/livez", "/readyz", "/version", "/version/"])],
    ),
}

BOOTSTRAP_CLUSTER_ROLE_BINDINGS: dict[str, dict[str, Any]] = {
    "cluster-admin": _bootstrap_binding("cluster-admin", "cluster-admin", [SYSTEM_MASTERS]),
    "system:basic-user": _bootstrap_binding("system:basic-user", "system:basic-user", [ALL_AUTHENTICATED]),
    "system:discovery": _bootstrap_binding("system:discovery", "system:discovery", [ALL_AUTHENTICATED]),
    "system:public-info-viewer": _bootstrap_binding(
        "system:public-info-viewer", "system:public-info-viewer", [ALL_AUTHENTICATED, ALL_UNAUTHENTICATED]
    ),
}


def _strs(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def verb_matches(rule: Mapping[str, Any], verb: str) -> bool:
    verbs = _strs(rule.get("verbs"))
    return "*" in verbs or verb in verbs


def api_group_matches(rule: Mapping[str, Any], group: str) -> bool:
    groups = _strs(rule.get("apiGroups"))
    return "*" in groups or group in groups


def resource_matches(rule: Mapping[str, Any], combined: str, subresource: str) -> bool:
    for rr in _strs(rule.get("resources")):
        if rr in ("*", combined):
            return True
        # "*/scale" grants the scale subresource of every resource, and only that.
        if subresource and rr.startswith("*/") and rr[2:] == subresource:
            return True
    return False


def resource_name_matches(rule: Mapping[str, Any], name: str) -> bool:
    names = _strs(rule.get("resourceNames"))
    return not names or name in names


def non_resource_url_matches(rule: Mapping[str, Any], path: str) -> bool:
    for url in _strs(rule.get("nonResourceURLs")):
        if url in ("*", path):
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(rule: Mapping[str, Any], attrs: RequestAttributes) -> bool:
    """``rbac.RuleAllows``."""
    if attrs.resource_request:
        combined = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
        return (
            verb_matches(rule, attrs.verb)
            and api_group_matches(rule, attrs.api_group)
            and resource_matches(rule, combined, attrs.subresource)
            and resource_name_matches(rule, attrs.name)
        )
    return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)


def subject_applies(subject: Mapping[str, Any], user: UserInfo, binding_namespace: str) -> bool:
    """``appliesToUser``: SA subjects without a namespace take the binding's."""
    kind, name = subject.get("kind"), subject.get("name")
    if not isinstance(name, str):
        return False
    if kind == "User":
        return user.username == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        if not isinstance(ns, str) or not ns:
            return False
        return user.username == service_account_username(ns, name)
    return False


def _label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match_labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not match_labels and not exprs:
        # An empty selector in an aggregationRule matches nothing (upstream guards against it).
        return False
    for key, value in match_labels.items():
        if labels.get(key) != value:
            return False
    for expr in exprs:
        key, op, values = expr.get("key"), expr.get("operator"), _strs(expr.get("values"))
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _go_quote(text: Any) -> str:
    # Go's %q for the plain names RBAC objects have.
    return json.dumps(str(text))


def _describe_subject(subject: Mapping[str, Any], binding_namespace: str) -> str:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        return f"{kind} {_go_quote(f'{name}/{ns}')}"
    return f"{kind} {_go_quote(name)}"


class Authorizer:
    """RBAC over whatever the ``Lookup`` returns, plus the bootstrap defaults."""

    def __init__(self, lookup: Lookup, *, include_bootstrap: bool = True) -> None:
        self.lookup = lookup
        self.include_bootstrap = include_bootstrap

    # -- object access

    def _cluster_role_bindings(self) -> list[dict[str, Any]]:
        stored = self.lookup.list(RBAC_GROUP, "clusterrolebindings", None)
        if not self.include_bootstrap:
            return stored
        names = {(b.get("metadata") or {}).get("name") for b in stored}
        return stored + [b for n, b in BOOTSTRAP_CLUSTER_ROLE_BINDINGS.items() if n not in names]

    def _cluster_role(self, name: str) -> dict[str, Any] | None:
        role = self.lookup.get(RBAC_GROUP, "clusterroles", None, name)
        if role is None and self.include_bootstrap:
            role = BOOTSTRAP_CLUSTER_ROLES.get(name)
        return role

    def _all_cluster_roles(self) -> list[dict[str, Any]]:
        stored = self.lookup.list(RBAC_GROUP, "clusterroles", None)
        if not self.include_bootstrap:
            return stored
        names = {(r.get("metadata") or {}).get("name") for r in stored}
        return stored + [r for n, r in BOOTSTRAP_CLUSTER_ROLES.items() if n not in names]

    def cluster_role_rules(self, role: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Rules of a ClusterRole, resolving ``aggregationRule`` like the aggregation controller."""
        agg = role.get("aggregationRule")
        if not isinstance(agg, Mapping):
            return [r for r in role.get("rules") or [] if isinstance(r, dict)]
        selectors = [s for s in agg.get("clusterRoleSelectors") or [] if isinstance(s, Mapping)]
        own_name = (role.get("metadata") or {}).get("name")
        rules: list[dict[str, Any]] = []
        for other in sorted(self._all_cluster_roles(), key=lambda r: (r.get("metadata") or {}).get("name", "")):
            meta = other.get("metadata") or {}
            if meta.get("name") == own_name:
                continue
            labels = meta.get("labels") or {}
            if any(_label_selector_matches(s, labels) for s in selectors):
                # One level only: the controller also only copies the stored rules.
                for r in other.get("rules") or []:
                    if isinstance(r, dict) and r not in rules:
                        rules.append(r)
        return rules

    def _role_rules(self, ref: Mapping[str, Any], binding_namespace: str) -> tuple[list[dict[str, Any]], str]:
        kind, name = ref.get("kind"), ref.get("name")
        if not isinstance(name, str):
            return [], "invalid roleRef"
        if kind == "ClusterRole":
            role = self._cluster_role(name)
            if role is None:
                return [], f'clusterrole.{RBAC_GROUP} "{name}" not found'
            return self.cluster_role_rules(role), ""
        if kind == "Role" and binding_namespace:
            role = self.lookup.get(RBAC_GROUP, "roles", binding_namespace, name)
            if role is None:
                return [], f'role.{RBAC_GROUP} "{name}" not found'
            return [r for r in role.get("rules") or [] if isinstance(r, dict)], ""
        return [], f"unsupported roleRef kind {kind!r}"

    def _visit_rules(
        self, user: UserInfo, namespace: str
    ) -> tuple[list[tuple[dict[str, Any], str]], list[str]]:
        """Rules that apply to ``user`` in ``namespace`` (cluster-wide ones included),
        each with the upstream description of the binding that grants it, plus errors."""
        rules: list[tuple[dict[str, Any], str]] = []
        errors: list[str] = []
        for binding in self._cluster_role_bindings():
            subject = next((s for s in binding.get("subjects") or [] if subject_applies(s, user, "")), None)
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            got, err = self._role_rules(ref, "")
            source = (
                f"ClusterRoleBinding {_go_quote((binding.get('metadata') or {}).get('name', ''))} of "
                f"{ref.get('kind')} {_go_quote(ref.get('name', ''))} to {_describe_subject(subject, '')}"
            )
            rules.extend((r, source) for r in got)
            if err:
                errors.append(err)
        if namespace:
            for binding in self.lookup.list(RBAC_GROUP, "rolebindings", namespace):
                subject = next(
                    (s for s in binding.get("subjects") or [] if subject_applies(s, user, namespace)), None
                )
                if subject is None:
                    continue
                ref = binding.get("roleRef") or {}
                got, err = self._role_rules(ref, namespace)
                source = (
                    f"RoleBinding {_go_quote((binding.get('metadata') or {}).get('name', '') + '/' + namespace)} "
                    f"of {ref.get('kind')} {_go_quote(ref.get('name', ''))} to {_describe_subject(subject, namespace)}"
                )
                # Non-resource rules come along but never match: non-resource
                # requests carry no namespace, so RoleBindings are not consulted.
                rules.extend((r, source) for r in got)
                if err:
                    errors.append(err)
        return rules, errors

    # -- decisions

    def authorize_with_reason(self, user: UserInfo | None, attrs: RequestAttributes) -> tuple[bool, str]:
        """``(allowed, reason)`` with upstream's reasons.

        Allowed: ``RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "u"``
        (empty for system:masters, which never reaches RBAC). Denied: empty, or
        ``RBAC: ...`` naming roles that bindings refer to but do not exist,
        which upstream appends to the 403 message.
        """
        who = user if user is not None else ANONYMOUS
        if SYSTEM_MASTERS in who.groups:
            return True, ""
        namespace = attrs.namespace if attrs.resource_request else ""
        rules, errors = self._visit_rules(who, namespace)
        for rule, source in rules:
            if rule_allows(rule, attrs):
                return True, f"RBAC: allowed by {source}"
        if not errors:
            return False, ""
        # utilerrors.Aggregate prints one error bare and several in brackets.
        joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        return False, f"RBAC: {joined}"

    def authorize(self, user: UserInfo | None, attrs: RequestAttributes) -> bool:
        return self.authorize_with_reason(user, attrs)[0]

    def rules_for(self, user: UserInfo | None, namespace: str) -> tuple[list[dict], list[dict]]:
        """``(resourceRules, nonResourceRules)`` as in a SelfSubjectRulesReview status.

        Like ``RBACAuthorizer.RulesFor``: every rule reachable from the user's
        bindings, split by whether it names resources and/or non-resource URLs
        (so non-resource rules from a RoleBinding are listed even though they
        never authorize anything).
        """
        who = user if user is not None else ANONYMOUS
        rules = [rule for rule, _ in self._visit_rules(who, namespace)[0]]
        if SYSTEM_MASTERS in who.groups:
            # Upstream shows cluster-admin via its binding to system:masters; keep that
            # true even when the binding was removed or bootstrap objects are disabled.
            admin = self.cluster_role_rules(BOOTSTRAP_CLUSTER_ROLES["cluster-admin"])
            rules = [r for r in admin if r not in rules] + rules
        resource_rules: list[dict] = []
        non_resource_rules: list[dict] = []
        for r in rules:
            verbs = _strs(r.get("verbs"))
            if _strs(r.get("resources")):
                item: dict[str, Any] = {"verbs": verbs}
                for key in ("apiGroups", "resources", "resourceNames"):
                    if _strs(r.get(key)):
                        item[key] = _strs(r.get(key))
                if item not in resource_rules:
                    resource_rules.append(item)
            urls = _strs(r.get("nonResourceURLs"))
            if urls:
                nr = {"verbs": verbs, "nonResourceURLs": urls}
                if nr not in non_resource_rules:
                    non_resource_rules.append(nr)
        return resource_rules, non_resource_rules
