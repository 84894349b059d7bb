"""Real credentials for kubeconfig tests: X.509 certificates and keys made with `cryptography`, and JWTs
shaped like the ones kube-apiserver issues.

- `ca()`: a CA like k3s's `k3s-server-ca` / `k3s-client-ca` (EC P-256, as k3s generates them);
  `expired_ca()`: the same, expired 30 days before NOW.
- `client_cert(ca, cn, orgs)`: a client certificate signed by `ca`; `ADMIN` mirrors k3s's admin user
  (`CN=system:admin, O=system:masters`), `KUBEADM_ADMIN` kubeadm >= 1.29's (`O=kubeadm:cluster-admins`).
- `bound_token(...)`: a TokenRequest / projected token (`kubernetes.io` claim with namespace,
  serviceaccount, optional pod and `warnafter`); `legacy_token()`: a Secret-based token without `exp`.
  Tokens are signed with a real RSA key (RS256) though multusctl only reads the claims.
- `kubeconfig(...)`: kubeconfig YAML text in the shape `kubectl config view --raw` prints.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from multusctl.testing.pki import CertificateAuthority

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Pair:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )

    @property
    def cert_b64(self) -> str:
        return base64.b64encode(self.cert_pem).decode()

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.key_pem).decode()


def _pair(cert_pem: bytes, key_pem: bytes) -> Pair:
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Pair(x509.load_pem_x509_certificate(cert_pem), key)


def make_ca(cn: str = "k3s-client-ca@1700000000", *, days_valid: int = 3650, ended_days_ago: int | None = None) -> Pair:
    # The test cluster's CA factory makes them; this module only picks k3s's names and validity windows.
    if ended_days_ago is None:
        nb, na = NOW - timedelta(days=1), NOW + timedelta(days=days_valid)
    else:
        na = NOW - timedelta(days=ended_days_ago)
        nb = na - timedelta(days=days_valid)
    made = CertificateAuthority.create(cn, not_before=nb, not_after=na)
    return Pair(made.cert, made.key)


def client_cert(ca: Pair, cn: str, orgs: tuple[str, ...] = (), *, days_valid: int = 365) -> Pair:
    issuer = CertificateAuthority(cert=ca.cert, key=ca.key)
    return _pair(*issuer.issue_client_cert(cn, orgs, not_before=NOW - timedelta(days=1),
                                           not_after=NOW + timedelta(days=days_valid)))


@cache
def ca() -> Pair:
    return make_ca()


@cache
def server_ca() -> Pair:
    return make_ca("k3s-server-ca@1700000000")


@cache
def expired_ca() -> Pair:
    return make_ca("k3s-server-ca@1600000000", days_valid=3650, ended_days_ago=30)


@cache
def admin() -> Pair:
    """k3s's admin client certificate (what k3s.yaml embeds)."""
    return client_cert(ca(), "system:admin", ("system:masters",))


@cache
def kubeadm_admin() -> Pair:
    return client_cert(ca(), "kubernetes-admin", ("kubeadm:cluster-admins",))


@cache
def plain_client() -> Pair:
    """A least-privilege client certificate (multus's per-node certificate shape)."""
    return client_cert(ca(), "system:multus:node1", ("system:multus",))


# ------------------------------------------------------------------------------------------------ JWT


@cache
def _sa_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt(claims: dict[str, Any]) -> str:
    header = {"alg": "RS256", "kid": "k3s-sa-key-" + "a" * 20}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    sig = _sa_signing_key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(sig)}"


def bound_token(*, issued: datetime | None = None, lifetime: timedelta = timedelta(days=365),
                pod: str | None = None, warn_after: timedelta | None = None, namespace: str = "kube-system",
                sa: str = "multus") -> str:
    """A TokenRequest token as kube-apiserver issues it (k3s audiences)."""
    iat = issued or NOW - timedelta(hours=1)
    k8s: dict[str, Any] = {
        "namespace": namespace,
        "serviceaccount": {"name": sa, "uid": str(uuid.uuid4())},
    }
    if pod:
        k8s["pod"] = {"name": pod, "uid": str(uuid.uuid4())}
        k8s["node"] = {"name": "node1", "uid": str(uuid.uuid4())}
    if warn_after is not None:
        k8s["warnafter"] = int((iat + warn_after).timestamp())
    claims = {
        "aud": ["https://kubernetes.default.svc.cluster.local", "k3s"],
        "exp": int((iat + lifetime).timestamp()),
        "iat": int(iat.timestamp()),
        "iss": "https://kubernetes.default.svc.cluster.local",
        "jti": str(uuid.uuid4()),
        "kubernetes.io": k8s,
        "nbf": int(iat.timestamp()),
        "sub": f"system:serviceaccount:{namespace}:{sa}",
    }
    return sign_jwt(claims)


def kubelet_token(pod: str = "kube-multus-ds-x7k2p") -> str:
    """A projected token the kubelet asked for (3607 s) that the apiserver extended to a year."""
    return bound_token(lifetime=timedelta(days=365), pod=pod, warn_after=timedelta(seconds=3607))


def legacy_token(namespace: str = "kube-system", sa: str = "multus") -> str:
    """A token the token controller writes into a kubernetes.io/service-account-token Secret: no exp."""
    return sign_jwt({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": f"{sa}-token",
        "kubernetes.io/serviceaccount/service-account.name": sa,
        "kubernetes.io/serviceaccount/service-account.uid": str(uuid.uuid4()),
        "sub": f"system:serviceaccount:{namespace}:{sa}",
    })


# ----------------------------------------------------------------------------------------- kubeconfig


def kubeconfig(server: str = "https://10.43.0.1:443", *, ca_pem: bytes | None = None, token: str | None = None,
               cert: Pair | None = None, names: tuple[str, str, str] = ("local", "multus", "multus-context"),
               cluster_extra: dict[str, Any] | None = None, user_extra: dict[str, Any] | None = None,
               current_context: str | None = "") -> str:
    """Kubeconfig YAML. Defaults to the upstream thin entrypoint's shape with a long-lived token."""
    cluster_name, user_name, context_name = names
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    elif not (cluster_extra and "certificate-authority" in cluster_extra):
        cluster["certificate-authority-data"] = base64.b64encode(server_ca().cert_pem).decode()
    cluster.update(cluster_extra or {})
    user: dict[str, Any] = {}
    if cert is not None:
        user["client-certificate-data"] = cert.cert_b64
        user["client-key-data"] = cert.key_b64
    elif token is not None:
        user["token"] = token
    user.update(user_extra or {})
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": context_name, "context": {"cluster": cluster_name, "user": user_name}}],
        "current-context": context_name if current_context == "" else current_context,
        "preferences": {},
    }
    if doc["current-context"] is None:
        del doc["current-context"]
    return yaml.safe_dump(doc, sort_keys=False)


def k3s_yaml() -> str:
    """/etc/rancher/k3s/k3s.yaml as k3s writes it: admin client cert, loopback server, names `default`."""
    return kubeconfig("https://127.0.0.1:6443", cert=admin(), names=("default", "default", "default"))
