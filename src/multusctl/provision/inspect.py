"""`multusctl kubeconfig inspect`: who a kubeconfig authenticates as, where it points, when it stops working.

Offline and secret-free: built from the same parsers the kubeconfig-* checks use.
"""

from __future__ import annotations

from datetime import UTC, datetime

from multusctl.config.certs import CertInfo, parse_pem_certs
from multusctl.config.credentials import admin_reason, permission_problems, span, timestamp
from multusctl.config.errors import ParseError
from multusctl.config.jwt import decode_claims, looks_like_jwt
from multusctl.config.kubeconfig import Kubeconfig, parse
from multusctl.config.secrets import fingerprint, redact
from multusctl.report.escape import one_line


def _until(t: datetime, now: datetime) -> str:
    delta = (t - now).total_seconds()
    return f"in {span(delta)}" if delta >= 0 else f"EXPIRED {span(-delta)} ago"


def _first_cert(data: bytes) -> tuple[CertInfo | None, str]:
    """The first certificate of a PEM bundle and its line, or None and why it is unusable."""
    try:
        c = parse_pem_certs(data)[0]
    except ParseError as exc:
        return None, f"unusable: {exc}"
    return c, f"{c.subject}, expires {timestamp(c.not_after)} ({c.sha256})"


def _is_admin(c: CertInfo) -> bool:
    return admin_reason(c) is not None


def _auth(kc: Kubeconfig, now: datetime) -> list[tuple[str, str]]:
    token = kc.token
    if token:
        rows = [("token", fingerprint(token))]
        if not looks_like_jwt(token):
            return [*rows, ("identity", "a static token (not a JWT): the identity is known only to the server")]
        try:
            claims = decode_claims(token)
        except ParseError as exc:
            return [*rows, ("identity", f"unreadable token: {exc}")]
        sa = claims.service_account
        sub = claims.subject or "(no sub claim)"
        rows.append(("identity", f"{sub}" + (f" (ServiceAccount {sa})" if sa else "")))
        if claims.is_legacy_secret_token:
            secret = claims.raw.get("kubernetes.io/serviceaccount/secret.name")
            rows.append(("kind", f"long-lived Secret token (Secret {secret})"))
        elif claims.bound_pod:
            rows.append(("kind", f"bound to pod {claims.bound_pod}: stops working when that pod is replaced"))
        if claims.exp_problem or claims.lifetime_problem:
            rows.append(("expires", f"unreadable: {claims.exp_problem or claims.lifetime_problem}"))
        elif claims.expires:
            life = f", lifetime {span(claims.lifetime)}" if claims.lifetime else ""
            rows.append(("expires", f"{timestamp(claims.expires)} ({_until(claims.expires, now)}{life})"))
        else:
            rows.append(("expires", "never (no exp claim)"))
        return rows
    cert = kc.decoded(kc.user, "client-certificate-data")
    if cert is not None:
        leaf, info = _first_cert(cert)
        return [("client cert", info + (" -- cluster-admin!" if leaf and _is_admin(leaf) else ""))]
    if kc.user_str("client-certificate"):
        return [("client cert", f"in file {kc.user_str('client-certificate')}")]
    if kc.user_str("tokenFile"):
        return [("token file", str(kc.user_str("tokenFile")))]
    if kc.user.get("exec"):
        return [("exec plugin", str((kc.user.get("exec") or {}).get("command")))]
    return [("identity", "anonymous (no credentials in the selected user)")]


def describe(data: bytes, shown: str, mode: int | None, uid: int | None, now: datetime | None = None) -> list[str]:
    """The report lines; ParseError when the file is no kubeconfig at all."""
    rows = inspect_rows(data, shown, mode, uid, now)
    width = max(len(k) for k, _ in rows)
    return [f"{k.ljust(width)}  {v}" for k, v in rows]


def describe_json(data: bytes, shown: str, mode: int | None, uid: int | None,
                  now: datetime | None = None) -> dict[str, object]:
    """The same facts as one JSON object (`multusctl.inspect/v1`); repeated rows (problems) become lists."""
    doc: dict[str, object] = {"schema": "multusctl.inspect/v1"}
    for key, value in inspect_rows(data, shown, mode, uid, now):
        k = key.replace(" ", "_")
        if k == "problem":
            problems = doc.setdefault("problems", [])
            assert isinstance(problems, list)
            problems.append(value)
        else:
            doc[k] = value
    return doc


def inspect_rows(data: bytes, shown: str, mode: int | None, uid: int | None,
                 now: datetime | None = None) -> list[tuple[str, str]]:
    """(label, text) of everything inspect reports, secret-free."""
    now = now or datetime.now(UTC)
    kc = parse(data)
    rows: list[tuple[str, str]] = []
    perm = f"mode {mode:04o}" if mode is not None else "mode ?"
    if mode is not None and uid is not None and (problems := permission_problems(mode, uid)):
        perm += f" ({'; '.join(problems)}: should be 0600 root)"
    rows.append(("file", f"{shown} ({perm}" + (f", owner uid {uid})" if uid is not None else ")")))
    rows.append(("context", f"{kc.current_context or '(none)'} (cluster {kc.cluster_name or '?'}, "
                            f"user {kc.user_name or '?'})"))
    rows.append(("server", kc.server_shown))
    if kc.cluster.get("insecure-skip-tls-verify") is True:
        rows.append(("CA", "none: insecure-skip-tls-verify is true"))
    elif kc.cluster_str("certificate-authority"):
        rows.append(("CA", f"in file {kc.cluster_str('certificate-authority')}"))
    else:
        ca = kc.decoded(kc.cluster, "certificate-authority-data")
        rows.append(("CA", _first_cert(ca)[1] if ca is not None else "(none)"))
    rows.extend(_auth(kc, now))
    rows.extend(("problem", f"{where}: {why}") for where, why in kc.problems)
    return [(k, one_line(redact(v, kc.secrets))) for k, v in rows]
