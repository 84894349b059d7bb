"""What the kubeconfig checks share: the selected kubeconfig, its tokens, certificates and server.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from multusctl.checks.registry import Hit
from multusctl.config import kubeconfig as kc_mod
from multusctl.config.certs import CertInfo, parse_pem_certs
from multusctl.config.credentials import timestamp
from multusctl.config.errors import ParseError
from multusctl.config.jwt import TokenClaims, decode_claims
from multusctl.config.kubeconfig import Kubeconfig
from multusctl.config.secrets import fingerprint
from multusctl.gather.snapshot import KubeconfigFile, NodeSnapshot
from multusctl.layout.distros import paths_for
from multusctl.records import dataclass, replace

CREATE = "multusctl kubeconfig create"
EXPIRING_WITHIN = timedelta(days=7)
SHORT_LIVED = timedelta(hours=24)
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
    """A file a kubeconfig refers to, resolved to the node path client-go opens."""

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
    return snap.fs.read_or_none(path)


@dataclass(frozen=True)
class Token:
    """A token a kubeconfig presents, and where it comes from."""

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
            ev[key] = timestamp(when)
    if claims.bound_pod:
        ev["pod"] = claims.bound_pod
    return ev


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
    if _thick(snap) or (admin and snap.fs.is_file(admin)):
        return ""
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
