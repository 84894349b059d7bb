"""Read (never verify) the claims of a ServiceAccount JWT: expiry, lifetime, binding."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from multusctl.config.errors import ParseError


@dataclass(frozen=True)
class TokenClaims:
    raw: dict[str, Any]

    def _time(self, key: str) -> datetime | None:
        v = self.raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None
        try:
            return datetime.fromtimestamp(v, UTC)
        except (OverflowError, OSError, ValueError):
            return None

    @property
    def expires(self) -> datetime | None:
        return self._time("exp")

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
        """kubelet-extended tokens carry the lifetime the user asked for in `warnafter`."""
        v = self._k8s.get("warnafter")
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None
        try:
            return datetime.fromtimestamp(v, UTC)
        except (OverflowError, OSError, ValueError):
            return None

    @property
    def is_legacy_secret_token(self) -> bool:
        return "kubernetes.io/serviceaccount/secret.name" in self.raw


def _b64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise ParseError("token is not base64url") from None


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def decode_claims(token: str) -> TokenClaims:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ParseError("token is not a JWT (expected three dot-separated parts)")
    try:
        payload = json.loads(_b64(parts[1]))
    except (ValueError, RecursionError):
        raise ParseError("token payload is not JSON") from None
    if not isinstance(payload, dict):
        raise ParseError("token payload is not a JSON object")
    return TokenClaims(payload)
