"""PEM certificates in kubeconfigs: who they name and whether they are still valid."""

from __future__ import annotations

from datetime import datetime

from multusctl.config.errors import ParseError, first_line
from multusctl.config.secrets import fingerprint
from multusctl.records import dataclass


@dataclass(frozen=True)
class CertInfo:
    """The fields of an X.509 certificate that the checks and inspect report."""

    subject_cn: str | None
    organizations: tuple[str, ...]
    issuer_cn: str | None
    not_before: datetime
    not_after: datetime
    is_ca: bool
    sha256: str  # fingerprint of the DER (`sha256:` + 8 hex, as for secrets), safe to print

    @property
    def subject(self) -> str:
        """`CN=..., O=...` as openssl and kubectl users read it."""
        parts = [f"CN={self.subject_cn}"] if self.subject_cn else []
        parts += [f"O={o}" for o in self.organizations]
        return ", ".join(parts) or "(empty subject)"


def parse_pem_certs(data: bytes) -> list[CertInfo]:
    """Every certificate in a PEM bundle; ParseError when there is none or one is malformed."""
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ParseError("no PEM certificate found")
    # The common well-formed case without importing `cryptography.x509` (~40 ms, a third of a
    # `multusctl check`); whatever the small reader does not fully understand takes the full path.
    from multusctl.config.der import read_pem_certs

    fast = read_pem_certs(data)
    if fast is not None:
        return [CertInfo(**f) for f in fast]

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
    try:
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        raise ParseError(f"malformed PEM certificate: {first_line(exc, 'invalid')}") from None

    def attr(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
        return [str(a.value) for a in name.get_attributes_for_oid(oid)]

    out = []
    for c in certs:
        try:
            try:
                bc = c.extensions.get_extension_for_class(x509.BasicConstraints).value
                is_ca = bool(bc.ca)
            except x509.ExtensionNotFound:
                is_ca = False
            cn = attr(c.subject, NameOID.COMMON_NAME)
            icn = attr(c.issuer, NameOID.COMMON_NAME)
            out.append(
                CertInfo(
                    subject_cn=cn[0] if cn else None,
                    organizations=tuple(attr(c.subject, NameOID.ORGANIZATION_NAME)),
                    issuer_cn=icn[0] if icn else None,
                    not_before=c.not_valid_before_utc,
                    not_after=c.not_valid_after_utc,
                    is_ca=is_ca,
                    sha256=fingerprint(c.public_bytes(serialization.Encoding.DER)),
                )
            )
        except Exception as exc:  # DuplicateExtension, UnsupportedGeneralNameType, ... are no ValueError
            # The Rust parser is lazy: a bad extension or name only fails when it is read.
            raise ParseError(f"malformed certificate: {first_line(exc, type(exc).__name__)}") from None
    return out
