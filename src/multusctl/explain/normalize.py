"""Pasted text -> the texts the catalog's patterns are matched on.

What users paste is a failure message wrapped in layers of noise: a kubelet event row (`Warning
FailedCreatePodSandBox  3m (x12 over 10m)  kubelet  Failed to create pod sandbox: rpc error: ...`), a
multus log line (`2026-12-01T22:40:01Z [error] ...`), a `kubectl describe pod` excerpt wrapped by the
terminal, the CNI error object (`{"code":999,"msg":"..."}`, `{"cniVersion":...,"code":...,"msg":...,
"details":...}`) with its quotes escaped once per Go `%q` or JSON level (`\\"`, `\\\\\\"`). Normalizing:

- caps the input at MAX_INPUT characters (the caller says so when it cut);
- drops terminal colour sequences and turns other control characters into spaces;
- undoes escaping at every level: any run of backslashes before a quote, `/`, `n`, `r`, `t`, or a `uXXXX`
  escape (Go's JSON writes `<`, `>`, `&` as `\\u003c` ...) becomes the character itself;
- unwraps CNI error objects to `msg: details`;
- redacts (config/secrets.redact, plus anything JWT-shaped and `token: <value>`), so no pattern span and
  no excerpt can hold a credential;
- collapses line wrapping: variant A joins lines with one space and collapses runs of spaces (a message
  broken between words, indented or not); variant B drops the line breaks and keeps the spaces around
  them (a message cut inside a word, as `fold` or a narrow terminal cuts it: such cuts are not indented).
  Patterns are unanchored, so timestamps, log levels, event columns, pod and namespace names, UIDs,
  addresses and ports around a message do not matter; where a pattern names one, it uses a macro of
  explain/catalog.py ({ip}, {hostport}, {name}, ...).

Every step is a linear scan (bounded regexes), so 1 MiB of hostile text costs what 1 MiB of log costs.
"""

from __future__ import annotations

import re

from multusctl.config.secrets import redact

MAX_INPUT = 1 << 20  # characters

_ANSI = re.compile(r"\x1b\[[0-9;?]{0,32}[ -/]{0,4}[@-~]|\x1b\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ESCAPE = re.compile(r"\\+(?:([\"'/`])|u([0-9a-fA-F]{4})|([nrt]))")
_CNI_ERROR = re.compile(
    r"\{\s{0,8}(?:\"cniVersion\"\s{0,8}:\s{0,8}\"[^\"]{0,32}\"\s{0,8},\s{0,8})?\"code\"\s{0,8}:\s{0,8}\d{1,6}"
    r"\s{0,8},\s{0,8}\"msg\"\s{0,8}:\s{0,8}\"", re.IGNORECASE)
_CNI_DETAILS = re.compile(r"\"\s{0,8},\s{0,8}\"details\"\s{0,8}:\s{0,8}\"", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{0,2048}")
_TOKEN_FIELD = re.compile(r"(?i)(\b(?:token|password|client-key-data)[\"']?\s{0,4}[:=]\s{0,4}[\"']?)"
                          r"(?!<redacted)[^\s\"',}]{8,}")
_NEWLINE_A = re.compile(r"[ \t]*\n\s*")
_SPACES = re.compile(r"[ \t]{2,}")


def cap(text: str) -> tuple[str, bool]:
    """`text` cut at MAX_INPUT characters, and whether it was cut."""
    return (text[:MAX_INPUT], True) if len(text) > MAX_INPUT else (text, False)


def _unescape(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1)
    if m.group(2) is not None:
        c = int(m.group(2), 16)
        return "\ufffd" if 0xD800 <= c <= 0xDFFF else chr(c)
    return " "


def redact_text(text: str) -> str:
    """`text` with every credential multusctl knows of, `Bearer <value>`, JWT-shaped values and
    `token: <value>` fields replaced."""
    text = redact(text)
    text = _JWT.sub("<redacted jwt>", text)
    return _TOKEN_FIELD.sub(r"\1<redacted>", text)


def clean(text: str) -> str:
    """The steps before line joining: colour codes, control characters, escapes, CNI error objects, secrets."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _ESCAPE.sub(_unescape, text)
    text = _CONTROL.sub(" ", text)  # an escape may have spelled one
    text = _CNI_ERROR.sub("", text)
    text = _CNI_DETAILS.sub(": ", text)
    return redact_text(text)


def variants(text: str) -> tuple[str, ...]:
    """The normalized texts to match on: lines joined with a space (A), and, when the text has several
    lines, joined without one (B). `text` should already be capped."""
    cleaned = clean(text)
    a = _SPACES.sub(" ", _NEWLINE_A.sub(" ", cleaned)).strip()
    if "\n" not in cleaned.strip():
        return (a,)
    b = _SPACES.sub(" ", cleaned.replace("\n", "")).strip()
    return (a, b)
