"""The credentials Multus uses to reach the API: present, valid, least-privilege, not expired.

Thin: multus runs on the host and loads the kubeconfig its config names with client-go
(`clientcmd.BuildConfigFromFlags`), so every path here is a host path. Thick: `daemon-config.json`
names the kubeconfig as the daemon pod sees it; gather maps it to the host path through the DaemonSet's
mounts, and file references inside it are pod paths too (mapped the same way here).

No check prints a credential: tokens and keys appear only as `fingerprint()`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from multusctl.checks.registry import Hit, check
from multusctl.config import kubeconfig as kc_mod
from multusctl.config.certs import CertInfo, parse_pem_certs
from multusctl.config.errors import ParseError
from multusctl.config.jwt import TokenClaims, decode_claims
from multusctl.config.kubeconfig import FileRef, Kubeconfig
from multusctl.config.secrets import fingerprint
from multusctl.gather.nodefs import NodeFSError, path_problem
from multusctl.gather.snapshot import KubeconfigFile, NodeSnapshot
from multusctl.layout.distros import paths_for

CREATE = "multusctl kubeconfig create"
EXPIRING_WITHIN = timedelta(days=7)
SHORT_LIVED = timedelta(hours=24)
# Groups bound to cluster-admin out of the box: system:masters (every distro; k3s.yaml, kubeadm < 1.29
# admin.conf) and kubeadm:cluster-admins (kubeadm >= 1.29 admin.conf).
ADMIN_GROUPS = ("system:masters", "kubeadm:cluster-admins")
ADMIN_CNS = ("system:admin", "kubernetes-admin")
# Where a pod sees its own ServiceAccount token (a projected volume, never a host path).
POD_SA_DIRS = ("/var/run/secrets/kubernetes.io/serviceaccount/", "/run/secrets/kubernetes.io/serviceaccount/")
# k3s and rke2 name the cluster, user and context of their admin kubeconfig "default".
K3S_ADMIN_NAME = "default"


# --------------------------------------------------------------------------------------------- helpers


def with_kubeconfig(
    fn: Callable[[NodeSnapshot, KubeconfigFile, Kubeconfig], Iterator[Hit]],
) -> Callable[[NodeSnapshot], Iterator[Hit]]:
    """Run a check only when Multus's kubeconfig was found and parsed (the other cases have their own ids:
    kubeconfig-unset, -missing, -invalid), handing it the file and the parsed config."""

    @functools.wraps(fn)
    def run(snap: NodeSnapshot) -> Iterator[Hit]:
        kf = snap.kubeconfig
        if kf is None or kf.config is None:
            return iter(())
        return fn(snap, kf, kf.config)

    return run


def _thick(snap: NodeSnapshot) -> bool:
    return snap.mode == "thick"


# The thick daemon builds one API client at start (pkg/server NewCNIServer: in-cluster ServiceAccount, or
# perNodeCertificate) and hands it to every request; GetK8sClient(conf.Kubeconfig, client) returns that
# client without loading `kubeconfig`. So in thick mode this file breaks nothing today.
THICK_UNUSED = (" (Thick mode: the multus daemon talks to the API with its own in-cluster ServiceAccount and "
                "never loads this kubeconfig, so pods are not affected today; fix or drop the \"kubeconfig\" "
                "key so it cannot mislead, or break a later thin setup that reuses the file.)")


def _thick_aware(snap: NodeSnapshot, hit: Hit) -> Hit:
    """A finding about whether the kubeconfig *works*: only informational where multus never loads it."""
    if not _thick(snap):
        return hit
    return replace(hit, message=hit.message + THICK_UNUSED, severity="info")


def _where(kf: KubeconfigFile) -> str:
    """How a message names the file (its host path is the finding's `path`): plus the pod path a thick
    daemon-config wrote, when that differs."""
    if kf.referenced_as != kf.path:
        return f"The kubeconfig (written as {kf.referenced_as} in {kf.referenced_by.rsplit(' ', 1)[0]})"
    return "The kubeconfig"


@dataclass(frozen=True)
class RefPath:
    written: str  # as in the kubeconfig
    resolved: str  # absolute, as the reader of the kubeconfig opens it (a pod path for thick)
    host: str | None  # node path, None when no DaemonSet mount shows it


def _ref_path(snap: NodeSnapshot, kf: KubeconfigFile, value: str) -> RefPath:
    # Relative references are relative to the kubeconfig's directory as its reader sees it.
    resolved = kc_mod.resolve_ref(kf.referenced_as, value)
    host = snap.thick_paths.to_host(resolved) if _thick(snap) else resolved
    return RefPath(value, resolved, host)


def _read(snap: NodeSnapshot, path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return snap.fs.read_bytes(path)
    except NodeFSError:
        return None


@dataclass(frozen=True)
class Token:
    value: str
    field: str
    source: str  # "the kubeconfig" or the tokenFile path


def _tokens(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> list[Token]:
    """Inline `token` and the content of `tokenFile` (client-go re-reads the file and prefers it)."""
    out = []
    if kc.token:
        out.append(Token(kc.token, f"{kc.user_field}.token", "the kubeconfig"))
    tf = kc.user_str("tokenFile")
    if tf:
        ref = _ref_path(snap, kf, tf.strip())
        data = _read(snap, ref.host)
        text = data.decode("utf-8", "replace").strip() if data else ""
        if text:
            out.append(Token(text, f"{kc.user_field}.tokenFile", ref.host or ref.resolved))
    return out


def _token_name(kf: KubeconfigFile, token: Token) -> str:
    fp = fingerprint(token.value)
    if token.source == "the kubeconfig":
        return f"{_where(kf)}'s bearer token ({fp})"
    return f"The bearer token in {token.source} ({fp}, the kubeconfig's tokenFile)"


def _claims(token: Token) -> TokenClaims | None:
    try:
        return decode_claims(token.value)
    except ParseError:
        return None  # an opaque token (static token file, bootstrap token): nothing to read


def _token_evidence(token: Token, claims: TokenClaims) -> dict[str, Any]:
    ev: dict[str, Any] = {"token": fingerprint(token.value), "source": token.source}
    if claims.service_account:
        ev["serviceaccount"] = claims.service_account
    for key, when in (("exp", claims.expires), ("iat", claims.issued), ("warnafter", claims.warn_after)):
        if when is not None:
            ev[key] = _iso(when)
    if claims.bound_pod:
        ev["pod"] = claims.bound_pod
    return ev


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(delta: timedelta) -> str:
    secs = abs(int(delta.total_seconds()))
    if secs >= 2 * 86400:
        return f"{secs // 86400} days"
    if secs >= 2 * 3600:
        return f"{secs // 3600} h"
    if secs >= 120:
        return f"{secs // 60} min"
    return f"{secs} s"


def _client_cert(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> tuple[bytes, str] | None:
    """The client certificate PEM and the field it came from (`client-certificate-data` wins, as in client-go)."""
    data = kc.decoded(kc.user, "client-certificate-data")
    if data:
        return data, f"{kc.user_field}.client-certificate-data"
    ref = kc.user_str("client-certificate")
    if ref:
        data = _read(snap, _ref_path(snap, kf, ref.strip()).host)
        if data:
            return data, f"{kc.user_field}.client-certificate"
    return None


def _leaf(pem: bytes) -> CertInfo | None:
    try:
        certs = parse_pem_certs(pem)
    except ParseError:
        return None
    return certs[0] if certs else None


def _create_hint(snap: NodeSnapshot, target: str) -> str:
    """`kubeconfig create` needs admin credentials; said in the fix when this node has none to offer
    (a k3s/rke2 agent, a kubeadm worker), where the bare command stops with "no admin kubeconfig found"."""
    admin = snap.layout.admin_kubeconfig
    try:
        if _thick(snap) or (admin and snap.fs.is_file(admin)):
            return ""
    except NodeFSError:
        pass
    server_admin = paths_for(snap.layout.distro).admin_kubeconfig
    where = (f"a copy of a server's {server_admin} with its server: set to that server's address" if server_admin
             else "an admin kubeconfig that reaches the API from this node")
    return (f" This node has no admin kubeconfig of its own (the command also tries $KUBECONFIG and "
            f"~/.kube/config), so give it one: `{CREATE} --kubeconfig ADMIN` with ADMIN "
            f"{where}; or run `{CREATE} --path FILE` on a server and copy FILE to {target} (mode 0600).")


# `https://[10.43.0.1]:443`: what the thin entrypoint (fmt "%s://[%s]:%s", until multus-cni#1451) and the
# older shell entrypoint write for any KUBERNETES_SERVICE_HOST.
_BRACKETED = re.compile(r"^\s*(?:(https?)://)?\[([^\]]*)\](?::(\d+))?/?\s*$")


def bracketed_non_ipv6(server: str | None) -> tuple[str, str] | None:
    """(host, url without the brackets) when the server puts an IPv4 address or a host name in brackets.

    Go's net/url accepted anything in brackets until Go 1.24.8 / 1.25.2, which reject a non-IPv6 host
    there (CVE-2025-47912): client-go then fails with "host must be a URL or a host:port pair"."""
    m = _BRACKETED.match(server or "")
    if m is None or not m.group(2):
        return None
    host = m.group(2)
    try:
        ipaddress.IPv6Address(host.split("%", 1)[0])
        return None
    except ValueError:
        pass
    port = m.group(3) or ("80" if m.group(1) == "http" else "443")
    return host, f"{m.group(1) or 'https'}://{host}:{port}"


def _kubernetes_service_ip(cidr: str | None) -> str | None:
    """The `kubernetes` Service ClusterIP: the first address of the service CIDR."""
    if not cidr:
        return None
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return str(net.network_address + 1)


def _server_suggestion(snap: NodeSnapshot) -> str:
    """A server URL that works from every node, from what detection found."""
    for ep in snap.layout.api_endpoints:
        addr = kc_mod.server_address(ep)
        if addr and not kc_mod.is_loopback_host(addr[0]):
            return ep
    svc = _kubernetes_service_ip(snap.layout.service_cidr)
    if svc:
        host = f"[{svc}]" if ":" in svc else svc
        return f"https://{host}:443 (the `kubernetes` Service)"
    return "https://<kubernetes Service ClusterIP>:443 or the address of a server node"


def _local_endpoint(snap: NodeSnapshot, port: int) -> bool:
    """Does something on this node's loopback answer API requests on `port`?"""
    if port in snap.layout.local_api_ports:
        return True
    for ep in snap.layout.api_endpoints:
        addr = kc_mod.server_address(ep)
        if addr and kc_mod.is_loopback_host(addr[0]) and addr[1] == port:
            return True
    return False


# ---------------------------------------------------------------------------------------------- checks


@check("kubeconfig-unset")
def kubeconfig_unset(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thin":
        return
    # Go's encoding/json matches keys case-insensitively, so `kubeConfig` counts (MultusConfig does that).
    value = m.multus.kubeconfig
    if value and value.strip():
        return
    why = " Its value is empty, which multus treats as unset." if value is not None else ""
    target = snap.layout.multus_kubeconfig
    yield Hit(
        message=f"{m.name} is a thin config (type: multus) without a \"kubeconfig\".{why} The thin plugin runs "
        "on the host, where the container runtime does not set KUBERNETES_SERVICE_HOST, so multus has no API "
        "client: it ignores every pod's k8s.v1.cni.cncf.io/networks annotation (NADs) and pods only get "
        "the cluster network.",
        fix=f"Run `{CREATE}` (writes {target}) and add \"kubeconfig\": \"{target}\" to {m.path}."
        + _create_hint(snap, target),
        path=m.path,
        field="kubeconfig",
        evidence={"mode": "thin", "suggested": target},
    )


@check("kubeconfig-missing")
def kubeconfig_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.info is not None:
        return
    target = snap.layout.multus_kubeconfig
    by_path, by_field = kf.referenced_by.rsplit(" ", 1) if " " in kf.referenced_by else (kf.referenced_by, "")
    if _thick(snap):
        what = (f"The thick daemon-config names kubeconfig {kf.referenced_as}, which the daemon pod sees at host "
                f"path {kf.path} ({snap.thick_paths.source}); no file is there.")
    elif problem := path_problem(kf.referenced_as):
        what = f"The thin config names kubeconfig {kf.referenced_as!r}, which {problem}."
    else:
        what = f"The thin config names kubeconfig {kf.referenced_as}, which does not exist on this node."
    exists_elsewhere = target != kf.path and snap.fs.is_file(target)
    if exists_elsewhere and not _thick(snap):
        fix = f"Set \"kubeconfig\": \"{target}\" in {by_path} (a kubeconfig exists there)."
    else:
        fix = f"Run `{CREATE}` to write a ServiceAccount kubeconfig to {kf.path}"
        fix += "." if kf.path == target or _thick(snap) else f", or write it to {target} and point {by_path} at it."
        fix += _create_hint(snap, kf.path)
    yield _thick_aware(snap, Hit(
        message=f"{what} Multus fails every pod ADD with \"GetK8sClient: failed to get context for the kubeconfig "
        f"{kf.referenced_as}: ... no such file or directory\" (MC#564).",
        fix=fix,
        path=kf.path,
        field=by_field or "kubeconfig",
        evidence={"referenced_as": kf.referenced_as, "referenced_by": by_path, "host_path": kf.path,
                  "layout_kubeconfig": target, "layout_kubeconfig_exists": snap.fs.is_file(target)},
    ))


@check("kubeconfig-invalid")
def kubeconfig_invalid(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.info is None:
        return
    breaks = ("Multus fails every pod ADD with \"GetK8sClient: failed to get context for the kubeconfig "
              f"{kf.referenced_as}\".")
    if kf.error is not None or kf.config is None:
        yield _thick_aware(snap, Hit(
            message=f"{_where(kf)} cannot be read as a kubeconfig: {kf.error or 'unreadable'}. {breaks}",
            fix=f"Recreate it with `{CREATE}` (or `kubectl --kubeconfig {kf.path} config view` to see what "
            "client-go makes of it).",
            path=kf.path,
            field=None,
            evidence={"error": kf.error or "unreadable"},
        ))
        return
    kc = kf.config
    for fld, reason in kc.problems:
        if fld.endswith(".server") and (br := bracketed_non_ipv6(kc.server)):
            yield _thick_aware(snap, _bracketed_hit(kf, fld, kc.server_shown, *br))
            continue
        anonymous = "anonymously" in reason
        why = ("Multus's API calls are then unauthenticated and fail (Unauthorized / forbidden)." if anonymous
               else breaks)
        fix = _invalid_fix(snap, kf, kc, fld, reason)
        yield _thick_aware(snap, Hit(
            message=f"{_where(kf)}: {reason}. {why}",
            fix=fix,
            path=kf.path,
            field=fld,
            evidence={"problem": reason, "current_context": kc.current_context,
                      "contexts": _names(kc.raw, "contexts"), "clusters": _names(kc.raw, "clusters"),
                      "users": _names(kc.raw, "users")},
        ))


def _bracketed_hit(kf: KubeconfigFile, fld: str, server: str, host: str, fixed: str) -> Hit:
    return Hit(
        message=f"{_where(kf)}: server {server} puts {host}, which is not an IPv6 address, in square brackets "
        "(the thin entrypoint wrote every address that way until multus-cni#1451). A multus binary built with "
        "Go 1.24.8 / 1.25.2 or later rejects it (CVE-2025-47912) and fails every pod ADD with \"error getting "
        "k8s client: host must be a URL or a host:port pair\"; older builds accept it. Which Go built the "
        "binary on this node cannot be read offline, so this breaks at the latest when multus is upgraded.",
        fix=f"Set server: {fixed} in {kf.path}. If a multus DaemonSet writes this file, it puts the brackets "
        "back on its next start until its image is one whose entrypoint no longer adds them.",
        path=kf.path,
        field=fld,
        evidence={"server": server, "host": host, "suggested": fixed},
        severity="warning",
    )


def _names(raw: dict[str, Any], key: str) -> list[str]:
    items = raw.get(key)
    if not isinstance(items, list):
        return []
    return [str(i["name"]) for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)][:20]


def _invalid_fix(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig, fld: str, reason: str) -> str:
    if fld == "current-context":
        contexts = _names(kc.raw, "contexts")
        if len(contexts) == 1:
            return f"Set `current-context: {contexts[0]}` in {kf.path} (or `kubectl --kubeconfig {kf.path} " \
                   f"config use-context {contexts[0]}`)."
        return f"Set current-context to one of the contexts in {kf.path}, or recreate it with `{CREATE}`."
    if fld.endswith(".server"):
        return f"Set server to a reachable API address, e.g. {_server_suggestion(snap)}, or recreate the file " \
               f"with `{CREATE}` (which never writes an empty host or port)."
    return f"Recreate {kf.path} with `{CREATE}`, or fix the entry named in {fld}."


@check("kubeconfig-permissions")
def kubeconfig_permissions(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.info is None or kf.info.kind != "file":
        return
    mode, uid = kf.info.mode, kf.info.uid
    readable = mode & 0o044
    broader = mode & 0o177
    not_root = uid != 0
    if not (readable or broader or not_root):
        return
    problems = []
    if readable:
        who = " and ".join(w for w, bit in (("its group", 0o040), ("every user", 0o004)) if mode & bit)
        problems.append(f"{who} can read it, so any local account can take the credentials Multus uses")
    elif broader:
        problems.append(f"mode {mode:04o} grants more than owner read/write")
    if not_root:
        problems.append(f"it is owned by uid {uid}, not root, so that account can replace Multus's credentials")
    shown = "The kubeconfig" if kf.info.path == kf.path else f"The kubeconfig (a link to {kf.info.path})"
    yield Hit(
        message=f"{shown} has mode {mode:04o}, owner uid {uid}: " + "; ".join(problems) + ".",
        fix=f"chown root:root {kf.info.path} && chmod 600 {kf.info.path}",
        path=kf.path,
        field=None,
        evidence={"mode": f"{mode:04o}", "uid": uid, "gid": kf.info.gid},
        severity="error" if readable else None,
    )


@check("kubeconfig-admin-credentials")
@with_kubeconfig
def kubeconfig_admin_credentials(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    reasons: list[str] = []
    evidence: dict[str, Any] = {}
    fld = kc.user_field
    cert = _client_cert(snap, kf, kc)
    leaf = _leaf(cert[0]) if cert else None
    if cert and leaf:
        fld = cert[1]
        evidence["client_certificate"] = {"subject": leaf.subject, "issuer_cn": leaf.issuer_cn, "sha256": leaf.sha256}
        groups = [g for g in leaf.organizations if g in ADMIN_GROUPS]
        if groups:
            reasons.append(f"its client certificate ({leaf.subject}) is in group {groups[0]}, bound to cluster-admin")
        elif leaf.subject_cn in ADMIN_CNS:
            reasons.append(f"its client certificate is the distribution's admin user ({leaf.subject})")
    copy_of = _same_as_admin(snap, kf, kc, cert[0] if cert else None)
    if copy_of:
        reasons.append(f"it carries the same credentials as {copy_of}")
        evidence["admin_kubeconfig"] = copy_of
    elif not reasons and cert and (kc.cluster_name, kc.user_name, kc.current_context) == (K3S_ADMIN_NAME,) * 3:
        reasons.append("its cluster, user and context are all named \"default\" with a client certificate, "
                       "as in k3s.yaml / rke2.yaml")
        evidence["names"] = K3S_ADMIN_NAME
    if not reasons:
        return
    thick = (" (Thick mode: the daemon does not load this file, but the admin credentials still sit on the "
             "node's disk.)") if _thick(snap) else ""
    yield Hit(
        message=f"{_where(kf)} gives Multus cluster-admin: " + "; ".join(reasons) + ". Anyone who can read this "
        "file (or a compromised plugin on this node) owns the cluster, and the file breaks whenever the admin "
        "credentials rotate. Multus needs only get/list/watch/update on pods and NADs and to create events."
        + thick,
        fix=f"Run `{CREATE}` to replace it with a kube-system/multus ServiceAccount kubeconfig at {kf.path}."
        + _create_hint(snap, kf.path),
        path=kf.path,
        field=fld,
        evidence=evidence,
    )


def _same_as_admin(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig, cert: bytes | None) -> str | None:
    admin_path = snap.layout.admin_kubeconfig
    if not admin_path or admin_path == kf.path:
        return None
    try:
        admin = kc_mod.parse(snap.fs.read_bytes(admin_path))
    except (ParseError, NodeFSError):
        return None
    if kc.token and admin.token and kc.token == admin.token:
        return admin_path
    admin_cert = admin.decoded(admin.user, "client-certificate-data")
    if cert and admin_cert:
        a, b = _leaf(cert), _leaf(admin_cert)
        if a and b and a.sha256 == b.sha256:
            return admin_path
    return None


@check("kubeconfig-server-loopback")
@with_kubeconfig
def kubeconfig_server_loopback(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    addr = kc_mod.server_address(kc.server)
    if addr is None and (br := bracketed_non_ipv6(kc.server)):
        addr = kc_mod.server_address(br[1])  # still a loopback address to whichever multus accepts it
    if addr is None or not kc_mod.is_loopback_host(addr[0]):
        return
    host, port = addr
    layout = snap.layout
    fld = f"{kc.cluster_field}.server"
    # The upstream thick DaemonSet runs with hostNetwork: true, so its loopback is the host's.
    netns = "the thick daemon (hostNetwork, so the host's loopback)" if _thick(snap) else "the thin plugin (host)"
    suggestion = _server_suggestion(snap)
    evidence = {"server": kc.server_shown, "port": port, "role": layout.role, "distro": layout.distro,
                "local_api_ports": list(layout.local_api_ports), "api_endpoints": list(layout.api_endpoints)}
    if _local_endpoint(snap, port):
        elsewhere = ("agents have no apiserver there" if layout.role == "server"
                     else "it depends on that local endpoint, which nodes of another role or distribution lack")
        yield _thick_aware(snap, Hit(
            message=f"{_where(kf)} points at {kc.server_shown}. That works on this {layout.distro} {layout.role} node, "
            f"where port {port} answers on loopback, but {elsewhere}: the same file copied to other nodes "
            "(or written there by the DaemonSet) fails with connection refused.",
            fix=f"Prefer a server every node can reach: {suggestion} (`{CREATE}` picks one).",
            path=kf.path,
            field=fld,
            evidence=evidence,
            severity="info",
        ))
        return
    known = layout.role != "unknown" or layout.local_api_ports
    if layout.distro == "k3s" and layout.role == "agent":
        why = (f"this is a k3s agent: no apiserver listens on {host}:{port} here (agents reach the API through "
               "k3s's client load balancer on 127.0.0.1:6444)")
    elif known:
        why = (f"no apiserver listens on port {port} of this {layout.distro} {layout.role} node "
               f"(local API ports: {', '.join(map(str, layout.local_api_ports)) or 'none'})")
    else:
        why = "multusctl found no apiserver on this node (its role is unknown)"
    yield _thick_aware(snap, Hit(
        message=f"{_where(kf)} points at {kc.server_shown}, which {netns} resolves to this node itself, but {why}. "
        "Every pod ADD then fails with connection refused, or with \"context deadline exceeded\".",
        fix=f"Set server to {suggestion} in {kf.path}, or recreate the file with `{CREATE}`."
        + _create_hint(snap, kf.path),
        path=kf.path,
        field=fld,
        evidence=evidence,
        severity=None if known else "warning",
    ))


@check("kubeconfig-token-expired")
@with_kubeconfig
def kubeconfig_token_expired(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    for token in _tokens(snap, kf, kc):
        claims = _claims(token)
        if claims is None or claims.expires is None or claims.expires > snap.now:
            continue
        ago = _span(snap.now - claims.expires)
        yield _thick_aware(snap, Hit(
            message=f"{_token_name(kf, token)} expired at "
            f"{_iso(claims.expires)}, {ago} ago. The API answers 401, and multus reports \"Unauthorized\" "
            "while getting the pod, for every pod on this node (MC#852).",
            fix=f"Run `{CREATE}`: it writes a token for the kube-system/multus ServiceAccount that does not "
            "expire with a pod (or run the thin DaemonSet with --cleanup-config-on-exit=true so it rewrites "
            "the token on rotation)." + _create_hint(snap, kf.path),
            path=kf.path if token.source == "the kubeconfig" else token.source,
            field=token.field,
            evidence=_token_evidence(token, claims),
        ))


@check("kubeconfig-token-expiring")
@with_kubeconfig
def kubeconfig_token_expiring(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    for token in _tokens(snap, kf, kc):
        claims = _claims(token)
        if claims is None or (claims.expires is not None and claims.expires <= snap.now):
            continue  # opaque, or already expired (kubeconfig-token-expired)
        reasons = _expiring_reasons(snap.now, claims)
        if not reasons:
            continue
        yield _thick_aware(snap, Hit(
            message=f"{_token_name(kf, token)} "
            + "; ".join(reasons) + ". When it lapses, multus fails every pod ADD with \"Unauthorized\" (MC#852).",
            fix=f"Run `{CREATE}` for a ServiceAccount token not bound to a pod, or run the thin DaemonSet with "
            "--cleanup-config-on-exit=true (and without --skip-config-watch) so it rewrites the token when "
            "the kubelet rotates it." + _create_hint(snap, kf.path),
            path=kf.path if token.source == "the kubeconfig" else token.source,
            field=token.field,
            evidence=_token_evidence(token, claims),
        ))


def _expiring_reasons(now: datetime, claims: TokenClaims) -> list[str]:
    reasons = []
    if claims.expires is not None and claims.expires - now <= EXPIRING_WITHIN:
        reasons.append(f"expires at {_iso(claims.expires)}, in {_span(claims.expires - now)}")
    lifetime = claims.lifetime
    if lifetime is not None and lifetime <= SHORT_LIVED:
        reasons.append(f"was issued for only {_span(lifetime)}")
    requested = claims.requested_lifetime
    if requested is not None and claims.warn_after is not None and requested <= SHORT_LIVED:
        reasons.append(f"is a kubelet token asked for {_span(requested)} and only extended by the apiserver "
                       f"(kubernetes.io.warnafter {_iso(claims.warn_after)})")
    if claims.bound_pod:
        reasons.append(f"is bound to pod {claims.bound_pod}, so it stops working once that pod is deleted (a "
                       "DaemonSet update or removal) unless the pod that replaces it rewrites this file")
    return reasons


@check("kubeconfig-file-ref-missing")
@with_kubeconfig
def kubeconfig_file_ref_missing(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    for ref in kc.file_refs():
        path = _ref_path(snap, kf, ref.value)
        if path.host is not None and snap.fs.is_file(path.host):
            continue
        if _thick(snap) and path.resolved.startswith(POD_SA_DIRS):
            continue  # the daemon pod's own projected ServiceAccount volume: not on the host, and fine
        yield _thick_aware(snap, _file_ref_hit(snap, kf, ref, path))


def _file_ref_hit(snap: NodeSnapshot, kf: KubeconfigFile, ref: FileRef, path: RefPath) -> Hit:
    shown = path.resolved if path.resolved == ref.value else f"{ref.value} (-> {path.resolved})"
    if path.host is None:
        state = f"is not under any mount of the daemon pod ({snap.thick_paths.source})"
    elif snap.fs.exists(path.host):
        state = f"is not a regular file (host path {path.host})"
    else:
        state = "does not exist" + (f" (host path {path.host})" if path.host != path.resolved else "")
    effect = {
        "certificate-authority": "client-go rejects the kubeconfig (\"unable to read certificate-authority\")",
        "client-certificate": "client-go rejects the kubeconfig (\"unable to read client-cert\")",
        "client-key": "client-go rejects the kubeconfig (\"unable to read client-key\")",
        "tokenFile": "client-go cannot read the token, so every API call fails",
    }[ref.key]
    data_key = {"certificate-authority": "certificate-authority-data", "client-certificate": "client-certificate-data",
                "client-key": "client-key-data"}.get(ref.key)
    alt = f" or embed it as {data_key}" if data_key else ""
    return Hit(
        message=f"{_where(kf)} names {ref.key} {shown}, which {state}: {effect} and Multus fails every pod ADD.",
        fix=f"Restore the file at {path.host or path.resolved}{alt}, or recreate the kubeconfig with `{CREATE}` "
        "(self-contained: certificate-authority-data and an inline token).",
        path=kf.path,
        field=ref.field,
        evidence={"written": ref.value, "resolved": path.resolved, "host_path": path.host},
    )


@check("kubeconfig-ca-invalid")
@with_kubeconfig
def kubeconfig_ca_invalid(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    if kc.cluster.get("insecure-skip-tls-verify") is True:
        return  # no CA is used (kubeconfig-insecure reports that)
    source = _ca_source(snap, kf, kc)
    if source is None:
        return
    data, fld = source
    try:
        certs = parse_pem_certs(data)
    except ParseError as exc:
        yield _thick_aware(snap, Hit(
            message=f"{_where(kf)}: {fld.rsplit('.', 1)[-1]} is not a PEM certificate ({exc}). client-go cannot "
            "verify the API server, so multus fails every pod ADD (\"unable to load root certificates\" or "
            "\"x509: certificate signed by unknown authority\").",
            fix=_ca_fix(snap, kf),
            path=kf.path,
            field=fld,
            evidence={"error": str(exc), "bytes": len(data)},
        ))
        return
    current = [c for c in certs if c.not_after > snap.now]
    if current:
        return
    newest = max(certs, key=lambda c: c.not_after)
    yield _thick_aware(snap, Hit(
        message=f"{_where(kf)}: the CA in {fld.rsplit('.', 1)[-1]} ({newest.subject}) expired at "
        f"{_iso(newest.not_after)}. No server certificate verifies against it, so multus fails every pod ADD "
        "with \"x509: certificate has expired or is not yet valid\" or \"signed by unknown authority\" (MC#743).",
        fix=_ca_fix(snap, kf),
        path=kf.path,
        field=fld,
        evidence={"subject": newest.subject, "not_after": _iso(newest.not_after), "sha256": newest.sha256,
                  "certificates": len(certs)},
    ))


def _ca_source(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> tuple[bytes, str] | None:
    raw = kc.cluster.get("certificate-authority-data")
    if isinstance(raw, str) and raw.strip():
        data = kc.decoded(kc.cluster, "certificate-authority-data")
        # Bad base64 fails the whole load: kubeconfig-invalid reports it.
        return (data, f"{kc.cluster_field}.certificate-authority-data") if data is not None else None
    ref = kc.cluster_str("certificate-authority")
    if ref:
        data = _read(snap, _ref_path(snap, kf, ref.strip()).host)
        # A missing file is kubeconfig-file-ref-missing.
        return (data, f"{kc.cluster_field}.certificate-authority") if data is not None else None
    return None


def _ca_fix(snap: NodeSnapshot, kf: KubeconfigFile) -> str:
    where = "the cluster CA (the ca.crt of any ServiceAccount token)"
    if snap.layout.distro == "k3s":
        where = ("the current CA (/var/lib/rancher/k3s/server/tls/server-ca.crt on a server, "
                 "/var/lib/rancher/k3s/agent/server-ca.crt on an agent)")
    return (f"Run `{CREATE}` (it embeds the cluster's current CA), or set certificate-authority-data in "
            f"{kf.path} to `base64 -w0` of {where}.")


@check("kubeconfig-insecure")
@with_kubeconfig
def kubeconfig_insecure(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    if kc.cluster.get("insecure-skip-tls-verify") is True:
        yield Hit(
            message="insecure-skip-tls-verify: true lets anyone on the path impersonate the API server "
            "and read the credentials Multus sends.",
            fix="Remove insecure-skip-tls-verify and set certificate-authority-data to the cluster CA "
            "(multusctl kubeconfig create does both).",
            path=kf.path,
            field=f"{kc.cluster_field}.insecure-skip-tls-verify",
        )
