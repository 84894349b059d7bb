"""ServiceAccount tokens of the test cluster: JWTs with the claim shapes of kube-apiserver's
``pkg/serviceaccount/claims.go`` (bound) and ``legacy.go`` (Secret-based), signed RS256 with ``kid`` =
base64url(SHA-256(SPKI DER)) like the real server (ES256 on request); ``exp``/``nbf`` with go-jose's 60 s leeway.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import threading
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from multusctl.testing.auth import DEFAULT_ISSUER, DEFAULT_TOKEN_SECONDS, LEGACY_ISSUER, service_account_username

# --------------------------------------------------------------------------- JWT


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL_ALPHABET for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _reject_constant(name: str) -> Any:
    # Go's encoding/json has no NaN/Infinity; Python's would let "exp": NaN disable expiry.
    raise ValueError(f"invalid JSON number {name}")


def json_loads_strict(data: bytes) -> Any:
    return json.loads(data, parse_constant=_reject_constant)


def _json_compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def _key_id(public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    # serviceaccount.keyIDFromPublicKey: base64url(sha256(PKIX DER)), unpadded.
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64url(hashlib.sha256(der).digest())


def numeric_claim(claims: Mapping[str, Any], key: str) -> float | None:
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
            header = json_loads_strict(b64url_decode(parts[0]))
            claims = json_loads_strict(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
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

