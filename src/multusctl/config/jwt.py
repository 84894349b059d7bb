"""Read (never verify) the claims of a ServiceAccount JWT: expiry, lifetime, binding."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from multusctl.config.errors import ParseError
from multusctl.records import dataclass


@dataclass(frozen=True)
class TokenClaims:
    """The claims of a JWT, read without verifying its signature."""

    raw: dict[str, Any]

    def _time(self, key: str) -> datetime | None:
        return _timestamp(self.raw.get(key))

    @property
    def expires(self) -> datetime | None:
        return self._time("exp")

    @property
    def exp_problem(self) -> str | None:
        """Why an `exp` claim that is there cannot be read (a string, a bool, NaN, past year 9999), or None.
        Such a token is not "never expiring": the API server refuses it."""
        if "exp" not in self.raw or self.expires is not None:
            return None
        return f"its exp claim {self.raw['exp']!r:.40} is not a time"

    @property
    def lifetime_problem(self) -> str | None:
        life = self.lifetime
        return "its exp claim is before its iat claim" if life is not None and life.total_seconds() < 0 else None

    @property
    def issued(self) -> datetime | None:
        return self._time("iat")

    @property
    def subject(self) -> str | None:
        v = self.raw.get("sub")
        return v if isinstance(v, str) else None

    @property
    def _k8s(self) -> dict[str, Any]:
        v = self.raw.get("kubernetes.io")
        return v if isinstance(v, dict) else {}

    @property
    def bound_pod(self) -> str | None:
        pod = self._k8s.get("pod")
        if isinstance(pod, dict) and isinstance(pod.get("name"), str):
            return str(pod["name"])
        return None

    @property
    def warn_after(self) -> datetime | None:
        """When the apiserver extends a kubelet's projected token (--service-account-extend-token-expiration,
        on by default) to a year, `warnafter` keeps the expiry the kubelet asked for (about 1 h)."""
        return _timestamp(self._k8s.get("warnafter"))

    @property
    def lifetime(self) -> timedelta | None:
        """exp - iat: how long the token was issued for."""
        exp, iat = self.expires, self.issued
        return exp - iat if exp is not None and iat is not None else None

    @property
    def requested_lifetime(self) -> timedelta | None:
        """warnafter - iat: the lifetime the requester asked for, before the apiserver extended it."""
        warn, iat = self.warn_after, self.issued
        return warn - iat if warn is not None and iat is not None else None

    @property
    def service_account(self) -> str | None:
        """`namespace/name` of the ServiceAccount, for bound and legacy tokens alike."""
        sa = self._k8s.get("serviceaccount")
        ns = self._k8s.get("namespace")
        if isinstance(sa, dict) and isinstance(sa.get("name"), str) and isinstance(ns, str):
            return f"{ns}/{sa['name']}"
        ns = self.raw.get("kubernetes.io/serviceaccount/namespace")
        name = self.raw.get("kubernetes.io/serviceaccount/service-account.name")
        if isinstance(ns, str) and isinstance(name, str):
            return f"{ns}/{name}"
        sub = self.subject or ""
        if sub.startswith("system:serviceaccount:") and sub.count(":") == 3:
            return "/".join(sub.split(":")[2:])
        return None

    @property
    def is_legacy_secret_token(self) -> bool:
        """A token the token controller wrote into a `kubernetes.io/service-account-token` Secret."""
        return "kubernetes.io/serviceaccount/secret.name" in self.raw


def _timestamp(v: Any) -> datetime | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        return datetime.fromtimestamp(v, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _b64(part: str) -> bytes:
    try:
        bare = part.rstrip("=")
        return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise ParseError("token is not base64url") from None


def looks_like_jwt(token: str) -> bool:
    """Kubernetes ServiceAccount tokens are JWTs whose header starts with `{"` (base64 `eyJ`)."""
    t = token.strip()
    return t.count(".") == 2 and t.startswith("eyJ")


def decode_claims(token: str | bytes) -> TokenClaims:
    """The payload of a JWT, read without verifying the signature (only the issuer can)."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise ParseError("token is not ASCII text") from None
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[1]:
        raise ParseError("token is not a JWT (expected three dot-separated parts)")
    try:
        payload = json.loads(_b64(parts[1]))
    except (ValueError, RecursionError):
        raise ParseError("token payload is not JSON") from None
    if not isinstance(payload, dict):
        raise ParseError("token payload is not a JSON object")
    return TokenClaims(payload)
