"""Scrubbing whole documents that leave the machine (the support bundle), built on the one redaction.

`config.secrets.redact` replaces the secrets this process has met (kubeconfig tokens and keys, k3s join
tokens, what the API returned). A bundle also carries text nobody parsed: pod logs, ConfigMaps, pod specs,
NAD configs. So `scrub_text` adds what can be recognised by shape, whoever wrote it:

- a JWT (three base64url segments, the first `eyJ`: every ServiceAccount token) -> its fingerprint;
- a k3s join token (`K10<ca hash>::<user>:<password>`) -> its fingerprint;
- a PEM private key block (raw, or with JSON/YAML `\\n` escapes) -> a removal marker;
- the value of a credential-named setting (`token: x`, `password = x`, `"client-secret": "x"`, `--token=x`)
  and of an env entry whose name says credential (`{"name": "API_TOKEN", "value": "x"}`) -> its fingerprint:
  an opaque token or a password has no shape, but its name gives it away;
- base64 text (a kubeconfig's `client-key-data`, a Secret-like ConfigMap value, a whole kubeconfig encoded
  once more) is decoded and scrubbed in turn, and put back re-encoded when anything in it was removed
  (or as the bare marker when the value was nothing but the secret).

Fingerprints are `config.secrets.fingerprint` of the secret, so a token in the bundle can still be matched
against the one an operator holds, without the bundle holding it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from multusctl.config.secrets import fingerprint, redact, remember

PRIVATE_KEY_MARKER = "<private key removed>"

# The PEM label may carry words (RSA, EC, ENCRYPTED); the body may hold raw newlines or escaped ones (`\n`
# in JSON, `\\n` after JSON-in-JSON), so anything up to the END line goes. An unterminated BEGIN (a log
# line cut at its tail) takes the rest of the text with it: better lose a log tail than keep half a key.
_PEM_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?:.*?-----END \1PRIVATE KEY-----|.*\Z)", re.S)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# k3s's secure token: K10 + sha256 of the cluster CA + "::" + username ":" password (pkg/clientaccess).
_K3S_TOKEN = re.compile(r"K10[0-9a-fA-F]{32,}::[^\s:\"'\\]+:[^\s\"'\\,;)}\]]+")
# Candidate base64, one pattern per alphabet (standard, URL-safe: a `-` glued to a standard value must not
# hide it): at least 11 characters (8 bytes, the shortest secret `remember` keeps), runs joined across line
# breaks (PEM, `base64 -w 76`), raw or JSON-escaped.
_B64_RUNS = (
    (re.compile(r"[A-Za-z0-9+/]{11,}(?:(?:\r?\n|\\r?\\n)[A-Za-z0-9+/]{4,})*={0,2}"), b"+/"),
    (re.compile(r"[A-Za-z0-9_-]{11,}(?:(?:\r?\n|\\r?\\n)[A-Za-z0-9_-]{4,})*={0,2}"), b"-_"),
)
# `token: x`, `"password": "x"`, `--token=x`, `client-secret = x`; not `tokenFile:` or `token-duration:`
# (the name must end where the separator starts); a value already redacted (`<...`) or a reference
# (`$(VAR)`, `${VAR}`) is left.
_CREDENTIAL_SETTING = re.compile(
    r"""(?i)(["']?\b(?:token|password|passwd|pwd|secret|client[-_]secret|api[-_]?key|access[-_]?key|"""
    r"""secret[-_]?key|bearer[-_]?token|auth[-_]?token|refresh[-_]?token|id[-_]token)["']?[ \t]*[:=][ \t]*["']?)"""
    r"""(?![<$])([^\s"',;}\]]{4,})""")
_CREDENTIAL_NAME = re.compile(r"(?i)token|passw|secret|api[-_]?key|access[-_]?key|credential|private[-_]?key")
_BREAKS = re.compile(r"\r?\n|\\r?\\n")
MAX_DEPTH = 3  # a kubeconfig in a base64 ConfigMap value holds base64 keys: three levels is plenty


_MARKER_ONLY = re.compile(r"\s*(<redacted sha256:[0-9a-f]{8}>|<private key removed>)\s*")


def _marked(secret: str) -> str:
    return f"<redacted {fingerprint(secret)}>"


def _scrub_b64(text: str, depth: int, pattern: re.Pattern[str], alt: bytes) -> str:
    def one(match: re.Match[str]) -> str:
        run = match.group(0)
        compact = _BREAKS.sub("", run)
        for skip in range(4):  # the value may start after text glued to it (a key, random characters)
            decoded = _decode_at(compact, skip, alt)
            if decoded is None:
                continue
            inner = decoded.decode("utf-8", "surrogateescape")  # lossless: re-encodes to the same bytes
            clean = _scrub(inner, depth + 1)
            if clean == inner:
                continue
            if only := _MARKER_ONLY.fullmatch(clean):
                return compact[:skip] + only.group(1)  # the value was the secret alone: say so plainly
            raw = clean.encode("utf-8", "surrogateescape")
            return compact[:skip] + base64.b64encode(raw, altchars=alt).decode()
        return run

    return pattern.sub(one, text)


def _decode_at(compact: str, skip: int, alt: bytes) -> bytes | None:
    """The bytes `compact[skip:]` encodes (padding restored, a dangling last character dropped), or None."""
    body = compact[skip:].rstrip("=")
    body = body[:-1] if len(body) % 4 == 1 else body
    if len(body) < 11:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=alt, validate=True)
    except (binascii.Error, ValueError):
        return None


def _scrub(text: str, depth: int) -> str:
    # Keys first: `redact` knows each line of a remembered key, the BEGIN line too, and once that is a
    # fingerprint the block is no longer recognisable, while the lines of another key in it would stay.
    if "PRIVATE KEY" in text:
        text = _PEM_KEY.sub(PRIVATE_KEY_MARKER, text)
    text = redact(text)
    if "eyJ" in text:
        text = _JWT.sub(lambda m: _marked(m.group(0)), text)
    if "K10" in text:
        text = _K3S_TOKEN.sub(lambda m: _marked(m.group(0)), text)
    text = _CREDENTIAL_SETTING.sub(lambda m: m.group(1) + _marked(m.group(2)), text)
    if depth < MAX_DEPTH:
        for pattern, alt in _B64_RUNS:
            text = _scrub_b64(text, depth, pattern, alt)
    return text


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any known secret (`secrets` and every one remembered), JWT, k3s join token or
    private key, raw, escaped or base64-encoded."""
    if secrets:
        remember(secrets)
    return _scrub(text, 0)


def scrub_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON-like value with `scrub_text` applied to every string (keys too), before it is serialized:
    a key's newlines become `\\n` in JSON, which a scrub of the serialized text would see differently."""
    if secrets:
        remember(secrets)
    if isinstance(value, str):
        return _scrub(value, 0)
    if isinstance(value, dict):
        name, env_value = value.get("name"), value.get("value")
        if isinstance(name, str) and isinstance(env_value, str) and env_value and _CREDENTIAL_NAME.search(name):
            value = {**value, "value": _marked(env_value)}  # an env entry (or alike) named for a credential
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value
