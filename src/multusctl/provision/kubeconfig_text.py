"""The kubeconfig text Multus's thin plugin reads, and a diff of two kubeconfigs that shows no secret."""

from __future__ import annotations

import base64
import difflib
import json
import re

from multusctl.config.errors import ParseError
from multusctl.config.kubeconfig import SECRET_KEYS, parse
from multusctl.config.secrets import NOT_SECRET_USER_KEYS, fingerprint, redact, redact_url

# Names as upstream's thin entrypoint writes them (cmd/thin_entrypoint), so users and docs recognise the file.
CLUSTER = "local"
USER = "multus"
CONTEXT = "multus-context"

CERT_FIELDS = ("certificate-authority-data", "client-certificate-data")
# `  key: value` or `  - key: value` inside users:, capturing everything up to the value.
_USER_LINE = re.compile(r"^(\s*(?:-\s+)?([A-Za-z0-9_.-]+)\s*:\s*)(\S.*)$")
_SERVER_LINE = re.compile(r"^(\s*server\s*:\s*)(\S+)\s*$")
_FIELD_LINE = re.compile(r"^(\s*-?\s*)(" + "|".join(SECRET_KEYS + CERT_FIELDS) + r")(\s*:\s*)(\S.*?)\s*$")


def build(server: str, ca_pem: bytes, token: str, *, service_account: str) -> str:
    """The whole file. Deterministic (no timestamps), so an unchanged setup writes nothing the second time."""
    ca_b64 = base64.b64encode(ca_pem).decode()
    # json.dumps gives a double-quoted scalar YAML reads back verbatim, whatever the URL or token holds.
    return (
        f"# Kubeconfig file for Multus CNI plugin: ServiceAccount {service_account}.\n"
        "# Written by `multusctl kubeconfig create`; inspect with `multusctl kubeconfig inspect`.\n"
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {CLUSTER}\n"
        "  cluster:\n"
        f"    server: {json.dumps(server)}\n"
        f"    certificate-authority-data: {ca_b64}\n"
        "users:\n"
        f"- name: {USER}\n"
        "  user:\n"
        f"    token: {json.dumps(token)}\n"
        "contexts:\n"
        f"- name: {CONTEXT}\n"
        "  context:\n"
        f"    cluster: {CLUSTER}\n"
        f"    user: {USER}\n"
        f"current-context: {CONTEXT}\n"
    )


def display(text: str, secrets: set[str]) -> str:
    """`text` fit to print: credentials become fingerprints, certificates a short fingerprint too.

    Inside the top-level `users:` block every value is shown as a fingerprint except those of the keys in
    NOT_SECRET_USER_KEYS, so credentials of kinds we do not know (OIDC `client-secret`, `refresh-token`,
    exec `env` values and `args`) are hidden too. A file that is not a kubeconfig is not shown at all."""
    try:
        parse(text)
    except ParseError as exc:
        lines = len(text.splitlines())
        return f"# (the old file's {lines} line(s) are not shown: it is not a valid kubeconfig: {exc})\n"
    out = []
    in_users = False
    for line in text.splitlines():
        if line[:1] not in ("", " ", "-", "#", "\t"):
            in_users = line.startswith("users:")
        m = _FIELD_LINE.match(line)
        u = _USER_LINE.match(line) if in_users and not m else None
        if m:
            lead, key, sep, value = m.groups()
            raw = value.strip().strip("\"'")
            if key in SECRET_KEYS:
                shown = f"<redacted {fingerprint(raw)}>" if not raw.startswith("<") else raw
            else:
                shown = f"<certificate {fingerprint(raw)}>"
            line = f"{lead}{key}{sep}{shown}"
        elif u:
            lead, key, value = u.groups()
            if key not in NOT_SECRET_USER_KEYS and value.strip() and value.strip() not in ("|", ">", "|-", ">-"):
                line = f"{lead}<redacted {fingerprint(value.strip().strip(chr(34) + chr(39)))}>"
        elif in_users and line.strip() and not line.lstrip().startswith(("#", "- name:", "-name:")) \
                and ":" not in line:
            # A continuation line (block scalar, wrapped value, list item of args): not shown.
            body = line.lstrip()
            dash = "- " if body.startswith("- ") else ""
            line = line[:len(line) - len(body)] + dash + "<redacted>"
        elif (srv := _SERVER_LINE.match(line)) and "@" in srv.group(2):
            line = srv.group(1) + redact_url(srv.group(2).strip("\"'"))
        out.append(line)
    # A last line of defence for secrets in places the pattern does not know (flow style, odd spacing).
    return redact("\n".join(out) + ("\n" if text.endswith("\n") else ""), secrets)


def diff(old: str | None, new: str, path: str, secrets: set[str]) -> str:
    """A unified diff of the redacted texts ("" when they are the same)."""
    a = display(old, secrets).splitlines(keepends=True) if old is not None else []
    b = display(new, secrets).splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, fromfile=path if old is not None else "/dev/null", tofile=path)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
