"""The test cluster's CA: certificates that real TLS stacks accept (and reject) as intended."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from multusctl.testing.pki import CertificateAuthority, client_identity, load_certificate, server_ssl_context

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create()


def _client_ctx(ca_pem: bytes, cert: tuple[bytes, bytes] | None = None, tmp: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=ca_pem.decode())
    if cert is not None:
        assert tmp is not None
        (tmp / "c.crt").write_bytes(cert[0])
        (tmp / "c.key").write_bytes(cert[1])
        ctx.load_cert_chain(tmp / "c.crt", tmp / "c.key")
    return ctx


@contextmanager
def _tls_server(ctx: ssl.SSLContext) -> Iterator[tuple[int, dict]]:
    """One-shot TLS server on loopback; ``result`` gets the peer cert DER or the handshake error."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)
    result: dict = {}

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            result["error"] = exc
            return
        conn.settimeout(TIMEOUT)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                result["peer"] = tls.getpeercert(binary_form=True)
                tls.sendall(b"ok")
        except (OSError, ssl.SSLError) as exc:
            result["error"] = exc

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], result
    finally:
        thread.join(TIMEOUT)
        listener.close()


def _connect(port: int, ctx: ssl.SSLContext, server_hostname: str) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        return tls.recv(2)


def test_ca_is_a_self_signed_ec_ca(ca: CertificateAuthority) -> None:
    cert = x509.load_pem_x509_certificate(ca.cert_pem)
    assert cert == ca.cert
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "multusctl-test-ca"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    cert.verify_directly_issued_by(cert)
    assert b"BEGIN PRIVATE KEY" in ca.key_pem


def test_server_cert_sans_split_into_ip_and_dns(ca: CertificateAuthority) -> None:
    cert_pem, key_pem = ca.issue_server_cert(["127.0.0.1", "::1", "localhost", "kubernetes.default.svc"])
    cert = load_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "kubernetes.default.svc"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cert.verify_directly_issued_by(ca.cert)
    assert b"BEGIN PRIVATE KEY" in key_pem


def test_client_cert_subject_carries_user_and_groups(ca: CertificateAuthority) -> None:
    cert_pem, _ = ca.issue_client_cert("admin", ["system:masters", "ops"])
    cert = load_certificate(cert_pem)
    assert client_identity(cert) == ("admin", ["system:masters", "ops"])
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    cert.verify_directly_issued_by(ca.cert)


def test_validity_window_and_expired_certificates(ca: CertificateAuthority) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = load_certificate(ca.issue_client_cert("u", days=3)[0])
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc
    assert dt.timedelta(days=2) < cert.not_valid_after_utc - now <= dt.timedelta(days=3)
    expired = load_certificate(ca.issue_client_cert("u", not_after=now - dt.timedelta(hours=1))[0])
    assert expired.not_valid_after_utc < now
    assert expired.not_valid_before_utc < expired.not_valid_after_utc
    old_ca = CertificateAuthority.create(not_after=now - dt.timedelta(days=1))
    assert old_ca.cert.not_valid_after_utc < now


def test_load_round_trip(ca: CertificateAuthority) -> None:
    again = CertificateAuthority.load(ca.cert_pem, ca.key_pem)
    assert again.cert == ca.cert
    load_certificate(again.issue_client_cert("x")[0]).verify_directly_issued_by(ca.cert)
    assert load_certificate(ca.cert_pem.decode()) == ca.cert
    from cryptography.hazmat.primitives.serialization import Encoding

    assert load_certificate(ca.cert.public_bytes(Encoding.DER)) == ca.cert


def test_real_tls_handshake_with_ip_and_dns_names(ca: CertificateAuthority) -> None:
    server = server_ssl_context(*ca.issue_server_cert(["127.0.0.1", "localhost"]))
    for name in ("127.0.0.1", "localhost"):
        with _tls_server(server) as (port, result):
            assert _connect(port, _client_ctx(ca.cert_pem), name) == b"ok"
        assert "error" not in result


def test_name_mismatch_is_rejected(ca: CertificateAuthority) -> None:
    server = server_ssl_context(*ca.issue_server_cert(["wrong.example"]))
    with _tls_server(server) as (port, _), pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _connect(port, _client_ctx(ca.cert_pem), "127.0.0.1")


def test_wrong_ca_is_rejected(ca: CertificateAuthority) -> None:
    other = CertificateAuthority.create("someone-else")
    server = server_ssl_context(*ca.issue_server_cert(["127.0.0.1"]))
    unknown = r"unable to get local issuer"
    with _tls_server(server) as (port, _), pytest.raises(ssl.SSLCertVerificationError, match=unknown):
        _connect(port, _client_ctx(other.cert_pem), "127.0.0.1")


def test_expired_serving_cert_is_rejected(ca: CertificateAuthority) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    server = server_ssl_context(*ca.issue_server_cert(["127.0.0.1"], not_after=past))
    with _tls_server(server) as (port, _), pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _connect(port, _client_ctx(ca.cert_pem), "127.0.0.1")


def test_expired_ca_is_rejected() -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    old = CertificateAuthority.create(not_before=past - dt.timedelta(days=10), not_after=past)
    server = server_ssl_context(*old.issue_server_cert(["127.0.0.1"]))
    with _tls_server(server) as (port, _), pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _connect(port, _client_ctx(old.cert_pem), "127.0.0.1")


def test_mutual_tls_hands_the_client_cert_to_the_server(ca: CertificateAuthority, tmp_path: Path) -> None:
    server = server_ssl_context(*ca.issue_server_cert(["127.0.0.1"]), client_ca_pem=ca.cert_pem)
    client = ca.issue_client_cert("alice", ["devs"])
    with _tls_server(server) as (port, result):
        assert _connect(port, _client_ctx(ca.cert_pem, client, tmp_path), "127.0.0.1") == b"ok"
    assert client_identity(load_certificate(result["peer"])) == ("alice", ["devs"])
    # Without a client certificate the handshake still succeeds: the request is anonymous.
    with _tls_server(server) as (port, result):
        assert _connect(port, _client_ctx(ca.cert_pem), "127.0.0.1") == b"ok"
    assert result.get("peer") is None
