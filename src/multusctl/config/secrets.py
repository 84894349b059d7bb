"""Secrets never leave multusctl: show a fingerprint instead (CHECKS.md, report contract)."""

from __future__ import annotations

import hashlib


def fingerprint(secret: str | bytes) -> str:
    data = secret.encode() if isinstance(secret, str) else secret
    return "sha256:" + hashlib.sha256(data).hexdigest()[:8]


def redact(text: str, secrets: set[str]) -> str:
    """Replace every known secret in `text` (a last line of defence; checks never print secrets)."""
    for s in sorted(secrets, key=len, reverse=True):
        if len(s) >= 8 and s in text:
            text = text.replace(s, f"<redacted {fingerprint(s)}>")
    return text
