"""`config.der`, the small certificate reader that spares `multusctl check` the import of
`cryptography.x509`: whatever it accepts, `cryptography` accepts too and reads the same fields; on
anything else it steps aside (None) and `parse_pem_certs` takes the full path."""

from __future__ import annotations

import base64
import glob
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.config.certs import CertInfo, parse_pem_certs
from multusctl.config.der import read_pem_certs
from tests import certs
from tests.fuzzkit import examples

PAIRS = ["ca", "server_ca", "expired_ca", "admin", "kubeadm_admin", "plain_client"]


def _full(data: bytes) -> list[tuple[Any, ...]]:
    """What the `cryptography` path reads, field by field (raises where it would fail)."""
    out = []
    for c in x509.load_pem_x509_certificates(data):
        try:
            is_ca = c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        cn = [str(a.value) for a in c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
        icn = [str(a.value) for a in c.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
        orgs = tuple(str(a.value) for a in c.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME))
        out.append((cn[0] if cn else None, orgs, icn[0] if icn else None, c.not_valid_before_utc,
                    c.not_valid_after_utc, is_ca, "sha256:" + c.fingerprint(hashes.SHA256()).hex()[:8]))
    return out


def _fields(infos: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("subject_cn", "organizations", "issuer_cn", "not_before", "not_after", "is_ca", "sha256")
    return [tuple(i[k] for k in keys) for i in infos]


def _pem(der: bytes) -> bytes:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


def _der(name: str) -> bytes:
    pem = getattr(certs, name)().cert_pem
    return base64.b64decode(b"".join(pem.splitlines()[1:-1]))


@pytest.mark.parametrize("name", PAIRS)
def test_fast_path_reads_what_cryptography_reads(name: str) -> None:
    pem = getattr(certs, name)().cert_pem
    fast = read_pem_certs(pem)
    assert fast is not None, "the certificates Kubernetes distributions write take the fast path"
    assert _fields(fast) == _full(pem)
    assert parse_pem_certs(pem) == [CertInfo(**f) for f in fast]


def test_bundle_and_surrounding_whitespace() -> None:
    pem = b"\n" + certs.ca().cert_pem + b"\r\n" + certs.server_ca().cert_pem + b"  \n"
    fast = read_pem_certs(pem.replace(b"\r\n", b"\n"))
    assert fast is not None and _fields(fast) == _full(pem)


@pytest.mark.parametrize("data", [
    b"",
    b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    b"junk before\n" + certs.ca().cert_pem,
    certs.ca().cert_pem + certs.ca().key_pem,  # another PEM type in the bundle: cryptography decides
    certs.ca().cert_pem.replace(b"\n-----END", b"!!\n-----END"),
], ids=["empty", "no-body", "junk-before", "with-key", "bad-base64"])  # stable ids: the certs are random
def test_unusual_input_steps_aside(data: bytes) -> None:
    assert read_pem_certs(data) is None


def test_system_ca_bundle_agrees() -> None:
    paths = sorted(glob.glob("/etc/ssl/certs/*.pem"))[:400]
    if not paths:
        pytest.skip("no system CA certificates on this machine")
    taken = 0
    for path in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        fast = read_pem_certs(data)
        if fast is not None:
            taken += 1
            assert _fields(fast) == _full(data), path
    assert taken  # most public CAs are plain RSA/ECDSA certificates


MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("drop"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
)


def _mutate(der: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(der)
    for op, at, value in ops:
        if not buf:
            break
        i = at % len(buf)
        if op == "flip":
            buf[i] = value
        elif op == "cut":
            del buf[i:]
        elif op == "drop":
            del buf[i]
        else:
            buf.insert(i, value)
    return bytes(buf)


@settings(max_examples=examples(300), deadline=None)
@given(name=st.sampled_from(PAIRS), ops=st.lists(MUTATIONS, min_size=1, max_size=3))
def test_whatever_the_fast_path_accepts_cryptography_accepts_alike(name: str, ops: list[tuple[str, int, int]]) -> None:
    pem = _pem(_mutate(_der(name), ops))
    fast = read_pem_certs(pem)
    if fast is None:
        return
    try:
        full = _full(pem)
    except Exception as exc:  # the fast path must not accept what the full path rejects
        raise AssertionError(f"fast path accepted a certificate cryptography rejects: {exc!r}") from None
    assert _fields(fast) == full
