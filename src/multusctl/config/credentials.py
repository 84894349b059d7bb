"""Facts about credentials that `check` (kubeconfig-* ids) and `kubeconfig inspect` both state.

One rule each, so the two commands can never disagree: who counts as cluster-admin, which file modes and
owners expose a credential, how a moment and a span of time are written, how a secret or certificate is
fingerprinted (`sha256:` + 8 hex, `config.secrets.fingerprint`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from multusctl.config.certs import CertInfo

# Groups bound to cluster-admin out of the box: system:masters (every distro; k3s.yaml, kubeadm < 1.29
# admin.conf) and kubeadm:cluster-admins (kubeadm >= 1.29 admin.conf); the admin users k3s and kubeadm name.
ADMIN_GROUPS = ("system:masters", "kubeadm:cluster-admins")
ADMIN_CNS = ("system:admin", "kubernetes-admin")


def admin_reason(cert: CertInfo) -> str | None:
    """Why a client certificate is cluster-admin (its group or its name), or None."""
    groups = [g for g in cert.organizations if g in ADMIN_GROUPS]
    if groups:
        return f"group {', '.join(groups)}"
    if cert.subject_cn in ADMIN_CNS:
        return f"user {cert.subject_cn}"
    return None


def kubeconfig_admin_reason(data: bytes) -> str | None:
    """Why a kubeconfig file's selected user is cluster-admin by its client certificate, or None (also for a
    file that does not parse: a backup is judged on what is plainly in it)."""
    from multusctl.config.certs import parse_pem_certs
    from multusctl.config.errors import ParseError
    from multusctl.config.kubeconfig import parse

    try:
        kc = parse(data)
        cert = kc.decoded(kc.user, "client-certificate-data")
        leaf = parse_pem_certs(cert)[0] if cert else None
    except ParseError:
        return None
    return admin_reason(leaf) if leaf else None


def permission_problems(mode: int, uid: int) -> list[str]:
    """Why a credential file with this mode and owner is exposed (empty: private, 0600 root or stricter)."""
    problems = []
    if mode & 0o044:
        who = " and ".join(w for w, bit in (("its group", 0o040), ("every user", 0o004)) if mode & bit)
        problems.append(f"{who} can read it, so any local account can take the credentials Multus uses")
    elif mode & 0o177:
        problems.append(f"mode {mode:04o} grants more than owner read/write")
    if uid != 0:
        problems.append(f"it is owned by uid {uid}, not root, so that account can replace Multus's credentials")
    return problems


def timestamp(t: datetime) -> str:
    """A moment: RFC 3339 in UTC, second precision, as kubectl shows times."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def span(delta: timedelta | float) -> str:
    """A span of time in the largest unit that keeps it readable: `20 years`, `3 days`, `5 h`, `12 min`, `40 s`."""
    secs = abs(int(delta.total_seconds() if isinstance(delta, timedelta) else delta))
    if secs >= 2 * 365 * 86400:
        return f"{secs // (365 * 86400)} years"
    if secs >= 2 * 86400:
        return f"{secs // 86400} days"
    if secs >= 2 * 3600:
        return f"{secs // 3600} h"
    if secs >= 120:
        return f"{secs // 60} min"
    return f"{secs} s"
