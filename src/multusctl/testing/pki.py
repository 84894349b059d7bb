"""A throwaway certificate authority for the test cluster.

Everything here is for tests: keys live in memory (PEM bytes), EC P-256 keys
are used because RSA generation costs ~50 ms per key and a suite issues dozens.

The shapes follow what kubeadm/k3s produce, because kubectl (Go's crypto/x509)
is strict about them: a CA needs ``basicConstraints CA:TRUE`` and
``keyCertSign``; a serving certificate needs its names in subjectAltName (Go
ignores the CN); client certificates carry the user in CN and the groups in O.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertificateAuthority",
    "client_identity",
    "load_certificate",
    "server_ssl_context",
]

# Backdating hides small clock differences between the test process and the
# client; kubeadm backdates by 5 minutes for the same reason.
_BACKDATE = _dt.timedelta(minutes=5)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # PKCS#8 ("BEGIN PRIVATE KEY") is what both Go and OpenSSL read without fuss.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _validity(
    not_before: _dt.datetime | None, not_after: _dt.datetime | None, days: int
) -> tuple[_dt.datetime, _dt.datetime]:
    start = not_before if not_before is not None else _now() - _BACKDATE
    end = not_after if not_after is not None else _now() + _dt.timedelta(days=days)
    if start >= end:
        # An expired certificate still needs notBefore < notAfter to be well formed.
        start = end - _dt.timedelta(days=1)
    return start, end


def load_certificate(data: bytes | str | x509.Certificate) -> x509.Certificate:
    """Accept a certificate as an object, PEM or DER."""
    if isinstance(data, x509.Certificate):
        return data
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN" in raw:
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


def client_identity(cert: x509.Certificate) -> tuple[str, list[str]]:
    """(CN, [O...]) the way kube-apiserver's x509 authenticator maps a subject to a user."""
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    cn = str(cns[0].value) if cns else ""
    return cn, [str(o.value) for o in orgs]


@dataclass
class CertificateAuthority:
    """A self-signed CA that issues serving and client certificates."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    @classmethod
    def create(
        cls,
        common_name: str = "multusctl-test-ca",
        *,
        days: int = 3650,
        not_before: _dt.datetime | None = None,
        not_after: _dt.datetime | None = None,
    ) -> CertificateAuthority:
        """Make a new CA; pass ``not_after`` in the past for an expired one."""
        key = _new_key()
        start, end = _validity(not_before, not_after, days)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert=cert, key=key)

    @classmethod
    def load(cls, cert_pem: bytes, key_pem: bytes) -> CertificateAuthority:
        """Rebuild a CA from PEM written earlier (e.g. a serve --dir that is reused)."""
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("only EC CA keys are supported")
        return cls(cert=x509.load_pem_x509_certificate(cert_pem), key=key)

    def _issue(
        self,
        subject: x509.Name,
        eku: x509.ObjectIdentifier,
        sans: x509.SubjectAlternativeName | None,
        days: int,
        not_before: _dt.datetime | None,
        not_after: _dt.datetime | None,
    ) -> tuple[bytes, bytes]:
        key = _new_key()
        start, end = _validity(not_before, not_after, days)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if sans is not None:
            builder = builder.add_extension(sans, critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    def issue_server_cert(
        self,
        sans: Sequence[str],
        *,
        common_name: str = "kube-apiserver",
        days: int = 365,
        not_before: _dt.datetime | None = None,
        not_after: _dt.datetime | None = None,
    ) -> tuple[bytes, bytes]:
        """Serving certificate; SANs that parse as IPs become IP SANs, the rest DNS SANs.

        Returns ``(cert_pem, key_pem)``. An empty ``sans`` gives a certificate no
        hostname matches, which is how tests provoke a name mismatch.
        """
        names: list[x509.GeneralName] = []
        for entry in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(entry)))
            except ValueError:
                names.append(x509.DNSName(entry))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        san_ext = x509.SubjectAlternativeName(names) if names else None
        return self._issue(
            subject, ExtendedKeyUsageOID.SERVER_AUTH, san_ext, days, not_before, not_after
        )

    def issue_client_cert(
        self,
        common_name: str,
        organizations: Iterable[str] = (),
        days: int = 365,
        *,
        not_before: _dt.datetime | None = None,
        not_after: _dt.datetime | None = None,
    ) -> tuple[bytes, bytes]:
        """Client certificate: CN is the username, each O a group (``system:masters`` = admin)."""
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        return self._issue(
            x509.Name(attrs), ExtendedKeyUsageOID.CLIENT_AUTH, None, days, not_before, not_after
        )


def server_ssl_context(
    cert_pem: bytes,
    key_pem: bytes,
    client_ca_pem: bytes | None = None,
) -> ssl.SSLContext:
    """A server-side ``SSLContext`` built from PEM bytes.

    With ``client_ca_pem`` the context requests an optional client certificate.
    kube-apiserver leaves judging that certificate to its authenticator (an
    expired or foreign one yields 401), but Python's ``ssl`` can only request a
    certificate when it also verifies it (``CERT_OPTIONAL``), so here a bad
    client certificate fails the TLS handshake instead. ``Authenticator``
    re-verifies anyway, which keeps the two paths consistent.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # ssl only loads chains from files; keep the key on disk for the shortest time.
    with tempfile.TemporaryDirectory(prefix="mctl-pki-") as tmp:
        cert_path = os.path.join(tmp, "tls.crt")
        key_path = os.path.join(tmp, "tls.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        with open(cert_path, "wb") as fh:
            fh.write(cert_pem)
        ctx.load_cert_chain(cert_path, key_path)
    if client_ca_pem is not None:
        ctx.load_verify_locations(cadata=client_ca_pem.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx
