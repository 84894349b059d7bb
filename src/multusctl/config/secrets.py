"""Secrets never leave multusctl: the one redaction (CHECKS.md, report contract).

Parsers `remember` every credential they meet (tokens, keys, passwords, OIDC and exec-plugin values, the
k3s join token); `redact` replaces each of them, and the escaped forms in which libraries print them
(`\\n` in a repr or JSON, percent-encoding), with a `sha256:` fingerprint. The CLI runs `redact` over every
line it writes to stdout and stderr (`multusctl.cli.streams`), so a library's error text that quotes a
header or a URL cannot carry a secret out either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

try:
    # hashlib loads OpenSSL's libcrypto (~4-5 ms of every start-up) for an 8-hex fingerprint; the
    # interpreter's own SHA-256 gives the same digest (Python 3.12 renamed the module: hashlib there).
    from _sha256 import sha256  # type: ignore[import-not-found]  # no typeshed stub
except ImportError:  # pragma: no cover
    from hashlib import sha256

MIN_SECRET_LEN = 8  # shorter values would redact ordinary words; URL passwords are dropped by redact_url

_BEARER = re.compile(r"(?i)(bearer\s+)(?!<redacted)[^\s'\"]+")

# Every secret seen in this process -> its fingerprint, and the forms to look for (longest first).
_KNOWN: dict[str, str] = {}
_FORMS: list[tuple[str, str]] = []

# Kubeconfig user fields that are not credentials (paths, names, settings); everything else under a
# user (token, password, client-key-data, auth-provider config, exec args and env values, and fields
# added later) is treated as a secret.
NOT_SECRET_USER_KEYS = frozenset({
    "client-certificate", "client-key", "tokenFile", "username", "as", "as-uid", "as-groups", "command",
    "apiVersion", "installHint", "interactiveMode", "provideClusterInfo", "client-certificate-data", "name",
    "idp-issuer-url", "client-id",
})


def fingerprint(secret: str | bytes) -> str:
    data = secret.encode("utf-8", "surrogatepass") if isinstance(secret, str) else secret
    return "sha256:" + sha256(data).hexdigest()[:8]


def _forms(secret: str) -> set[str]:
    """`secret` as it appears in text: raw, escaped by repr/JSON/bytes repr, percent-encoded, line by line."""
    from urllib.parse import quote  # only with a secret to redact: it costs ~2 ms of every start-up

    core = secret.strip()  # surrounding whitespace is no part of a secret, and text around it must stay
    forms = {core}
    for s in {secret, core}:
        forms.add(json.dumps(s)[1:-1])
        forms.add(repr(s)[1:-1])
        forms.add(repr(s.encode("utf-8", "surrogatepass"))[2:-1])
        forms.add(quote(s, safe="", errors="surrogatepass"))
    forms.update(line.strip() for line in core.splitlines())
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


def remember(values: Iterable[str]) -> None:
    """Register secrets for every later `redact` in this process."""
    added = False
    for v in values:
        if isinstance(v, str) and len(v.strip()) >= MIN_SECRET_LEN and v not in _KNOWN:
            _KNOWN[v] = fingerprint(v.strip())
            added = True
    if added:
        forms = {form: fp for secret, fp in _KNOWN.items() for form in _forms(secret)}
        _FORMS[:] = sorted(forms.items(), key=lambda kv: len(kv[0]), reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every remembered secret (and every one of `secrets`) shown as its fingerprint."""
    if secrets:
        remember(secrets)
    for form, fp in _FORMS:
        if form in text:
            text = text.replace(form, f"<redacted {fp}>")
    # Whatever follows "Bearer " is a token, known to us or not (an HTTP library quoting a header).
    return _BEARER.sub(r"\1<redacted>", text) if "earer" in text else text


# Everything between the scheme (optional: client-go adds https:// to a bare host:port) and the LAST "@"
# is user info. Not urlsplit: an unencoded "#", "?" or "/" in a password makes it put the "@" in the
# fragment or path and report no user info at all.
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<info>.*)@(?P<host>[^@]*)$", re.S)


def url_password(url: str) -> str | None:
    """The password of `https://user:password@host` (or of a scheme-less `user:password@host`), if any."""
    m = _USERINFO.match(url.strip())
    if m is None or ":" not in m.group("info"):
        return None
    return m.group("info").split(":", 1)[1] or None


def redact_url(url: str) -> str:
    """A URL fit to print: user info (`user:password@`) replaced by `<redacted>@`."""
    m = _USERINFO.match(url.strip())
    if m is None:
        return url
    return f"{m.group('scheme') or ''}<redacted>@{m.group('host')}"


def user_secrets(user: Any) -> set[str]:
    """Every string inside a kubeconfig `user` entry that may be a credential (see NOT_SECRET_USER_KEYS)."""
    found: set[str] = set()
    stack: list[tuple[Any, str | None]] = [(user, None)]
    while stack:
        value, key = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, str(k)) for k, v in value.items() if str(k) not in NOT_SECRET_USER_KEYS)
        elif isinstance(value, list):
            stack.extend((v, key) for v in value)
        elif isinstance(value, str) and value.strip():
            found.add(value.strip())
    return found
