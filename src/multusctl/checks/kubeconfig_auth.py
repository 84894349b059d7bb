"""Checks of the kubeconfig's credentials and server: admin rights, loopback, expiry, CA, TLS.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from multusctl.checks.kubeconfig_facts import (
    CREATE,
    EXPIRING_WITHIN,
    K3S_ADMIN_NAME,
    SHORT_LIVED,
    _claims,
    _client_cert,
    _create_hint,
    _leaf,
    _local_endpoint,
    _read,
    _ref_path,
    _server_suggestion,
    _thick,
    _thick_aware,
    _token_evidence,
    _token_name,
    _tokens,
    _where,
    bracketed_non_ipv6,
    with_kubeconfig,
)
from multusctl.checks.registry import Hit, check
from multusctl.config import kubeconfig as kc_mod
from multusctl.config.certs import parse_pem_certs
from multusctl.config.credentials import admin_reason, span, timestamp
from multusctl.config.errors import ParseError
from multusctl.config.jwt import TokenClaims
from multusctl.config.kubeconfig import Kubeconfig
from multusctl.gather.snapshot import KubeconfigFile, NodeSnapshot


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
        why = admin_reason(leaf)
        if why and why.startswith("group"):
            reasons.append(f"its client certificate ({leaf.subject}) is in {why}, bound to cluster-admin")
        elif why:
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
    data = snap.fs.read_or_none(admin_path)
    try:
        admin = kc_mod.parse(data) if data is not None else None
    except ParseError:
        return None
    if admin is None:
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
        ago = span(snap.now - claims.expires)
        yield _thick_aware(snap, Hit(
            message=f"{_token_name(kf, token)} expired at "
            f"{timestamp(claims.expires)}, {ago} ago. The API answers 401, and multus reports \"Unauthorized\" "
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
        reasons.append(f"expires at {timestamp(claims.expires)}, in {span(claims.expires - now)}")
    lifetime = claims.lifetime
    if lifetime is not None and lifetime <= SHORT_LIVED:
        reasons.append(f"was issued for only {span(lifetime)}")
    requested = claims.requested_lifetime
    if requested is not None and claims.warn_after is not None and requested <= SHORT_LIVED:
        reasons.append(f"is a kubelet token asked for {span(requested)} and only extended by the apiserver "
                       f"(kubernetes.io.warnafter {timestamp(claims.warn_after)})")
    if claims.bound_pod:
        reasons.append(f"is bound to pod {claims.bound_pod}, so it stops working once that pod is deleted (a "
                       "DaemonSet update or removal) unless the pod that replaces it rewrites this file")
    return reasons


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
        f"{timestamp(newest.not_after)}. No server certificate verifies against it, so multus fails every pod ADD "
        "with \"x509: certificate has expired or is not yet valid\" or \"signed by unknown authority\" (MC#743).",
        fix=_ca_fix(snap, kf),
        path=kf.path,
        field=fld,
        evidence={"subject": newest.subject, "not_after": timestamp(newest.not_after), "sha256": newest.sha256,
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
