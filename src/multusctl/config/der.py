"""A strict, minimal reader of PEM/DER X.509 certificates, for the few fields multusctl reads.

Why: `import cryptography.x509` costs ~40 ms, a third of `multusctl check` on a healthy node, where
the only certificate to read is the kubeconfig's CA. This reader takes the common, well-formed case
(RSA/ECDSA/Ed25519, the usual CA and client-certificate extensions) and returns None for anything it
does not fully understand, so `config.certs.parse_pem_certs` then takes the full `cryptography` path
and its verdict (and error message) stays the reference. It never raises.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from typing import Any

from multusctl.config.secrets import fingerprint


class _Unsure(Exception):
    """Not a certificate this reader fully understands: let `cryptography` decide."""


_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----")

# Known AlgorithmIdentifier encodings (complete TLVs): signature algorithms, and key algorithms.
_SIG_ALGS = {bytes.fromhex(h) for h in (
    "300d06092a864886f70d01010b0500",  # sha256WithRSAEncryption
    "300d06092a864886f70d01010c0500",  # sha384WithRSAEncryption
    "300d06092a864886f70d01010d0500",  # sha512WithRSAEncryption
    "300a06082a8648ce3d040302",  # ecdsa-with-SHA256
    "300a06082a8648ce3d040303",  # ecdsa-with-SHA384
    "300a06082a8648ce3d040304",  # ecdsa-with-SHA512
    "300506032b6570",  # Ed25519
)}
_KEY_ALGS = {bytes.fromhex(h) for h in (
    "300d06092a864886f70d0101010500",  # rsaEncryption
    "301306072a8648ce3d020106082a8648ce3d030107",  # id-ecPublicKey, P-256
    "301006072a8648ce3d020106052b81040022",  # id-ecPublicKey, P-384
    "301006072a8648ce3d020106052b81040023",  # id-ecPublicKey, P-521
    "300506032b6570",  # Ed25519
)}
_CN = bytes.fromhex("550403")
_O = bytes.fromhex("55040a")
_EXT_BASIC_CONSTRAINTS = bytes.fromhex("551d13")
_EXT_KEY_USAGE = bytes.fromhex("551d0f")
_EXT_SUBJECT_KEY_ID = bytes.fromhex("551d0e")
_EXT_AUTHORITY_KEY_ID = bytes.fromhex("551d23")
_EXT_EXT_KEY_USAGE = bytes.fromhex("551d25")
_EXT_SUBJECT_ALT_NAME = bytes.fromhex("551d11")
_PRINTABLE = re.compile(rb"[A-Za-z0-9 '()+,\-./:=?]*")

SEQ, SET, INT, BITS, OCTETS, OID, BOOL, UTC_TIME, GEN_TIME = 0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0x01, 0x17, 0x18


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`."""
    if pos + 2 > end:
        raise _Unsure
    tag, n = buf[pos], buf[pos + 1]
    if tag & 0x1F == 0x1F:
        raise _Unsure  # high tag numbers never occur in the fields read here
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > end or buf[pos] == 0:
            raise _Unsure  # indefinite, absurd or non-minimal length: not DER
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
        if n < 0x80:
            raise _Unsure
    if pos + n > end:
        raise _Unsure
    return tag, pos, pos + n


def _items(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, s, e = _tlv(buf, start, end)
        out.append((tag, s, e))
        start = e
    return out


def _expect(item: tuple[int, int, int], tag: int) -> tuple[int, int]:
    if item[0] != tag:
        raise _Unsure
    return item[1], item[2]


def _integer(buf: bytes, s: int, e: int) -> int:
    if e <= s or (e - s > 1 and ((buf[s] == 0 and buf[s + 1] < 0x80) or (buf[s] == 0xFF and buf[s + 1] >= 0x80))):
        raise _Unsure  # empty or non-minimal
    return int.from_bytes(buf[s:e], "big", signed=True)


def _oid(buf: bytes, item: tuple[int, int, int]) -> bytes:
    """The content of an OBJECT IDENTIFIER, checked: no empty one, no padded or unfinished arc."""
    s, e = _expect(item, OID)
    raw = buf[s:e]
    if not raw or raw[-1] & 0x80:
        raise _Unsure
    for i, b in enumerate(raw):
        if b == 0x80 and (i == 0 or not raw[i - 1] & 0x80):
            raise _Unsure
    return raw


def _bits(buf: bytes, item: tuple[int, int, int]) -> None:
    """A DER BIT STRING: unused-bit count 0-7, none when empty, and the unused bits zero."""
    s, e = _expect(item, BITS)
    if e - s < 1 or buf[s] > 7 or (e - s == 1 and buf[s]) or (buf[s] and buf[e - 1] & ((1 << buf[s]) - 1)):
        raise _Unsure


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x0C:  # UTF8String
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unsure from None
    if tag == 0x13 and _PRINTABLE.fullmatch(raw):  # PrintableString
        return raw.decode("ascii")
    if tag == 0x16 and raw.isascii():  # IA5String
        return raw.decode("ascii")
    raise _Unsure  # Teletex, BMP, Universal, bad characters: rare, let cryptography decode them


def _name(buf: bytes, s: int, e: int) -> list[tuple[bytes, str]]:
    """(attribute OID bytes, value) in order, for a Name (SEQUENCE OF SET OF AttributeTypeAndValue)."""
    out = []
    for rdn in _items(buf, s, e):
        rs, re_ = _expect(rdn, SET)
        atvs = _items(buf, rs, re_)
        if not atvs:
            raise _Unsure
        for atv in atvs:
            parts = _items(buf, *_expect(atv, SEQ))
            if len(parts) != 2:
                raise _Unsure
            out.append((_oid(buf, parts[0]), _string(parts[1][0], buf[parts[1][1]:parts[1][2]])))
    return out


def _time(buf: bytes, item: tuple[int, int, int]) -> datetime:
    tag, s, e = item
    raw = buf[s:e]
    if tag == UTC_TIME and len(raw) == 13:
        yy = int(raw[:2]) if raw[:12].isdigit() else -1
        if yy < 0:
            raise _Unsure
        year, rest = (1900 + yy if yy >= 50 else 2000 + yy), raw[2:]
    elif tag == GEN_TIME and len(raw) == 15 and raw[:14].isdigit():
        year, rest = int(raw[:4]), raw[4:]
    else:
        raise _Unsure
    if not rest.endswith(b"Z") or not rest[:-1].isdigit():
        raise _Unsure
    try:
        return datetime(year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]), int(rest[8:10]),
                        tzinfo=UTC)
    except ValueError:
        raise _Unsure from None


def _ext_value(oid: bytes, buf: bytes, s: int, e: int) -> bool | None:
    """Check the value of a known extension; returns cA for basicConstraints."""
    items = _items(buf, s, e)
    if len(items) != 1:
        raise _Unsure
    if oid == _EXT_BASIC_CONSTRAINTS:
        parts = _items(buf, *_expect(items[0], SEQ))
        is_ca = False
        if parts and parts[0][0] == BOOL:
            if parts[0][2] - parts[0][1] != 1 or buf[parts[0][1]] != 0xFF:
                raise _Unsure  # DER: cA FALSE is omitted, TRUE is 0xff
            is_ca, parts = True, parts[1:]
        if parts and (len(parts) != 1 or _integer(buf, *_expect(parts[0], INT)) < 0):
            raise _Unsure
        return is_ca
    if oid == _EXT_KEY_USAGE:
        _bits(buf, items[0])
    elif oid == _EXT_SUBJECT_KEY_ID:
        _expect(items[0], OCTETS)
    elif oid == _EXT_AUTHORITY_KEY_ID:
        parts = _items(buf, *_expect(items[0], SEQ))
        if [p[0] for p in parts] != [0x80]:
            raise _Unsure  # only keyIdentifier, the form every Kubernetes CA writes
    elif oid == _EXT_EXT_KEY_USAGE:
        parts = _items(buf, *_expect(items[0], SEQ))
        if not parts:
            raise _Unsure
        for part in parts:
            _oid(buf, part)
    elif oid == _EXT_SUBJECT_ALT_NAME:
        parts = _items(buf, *_expect(items[0], SEQ))
        for tag_, ps, pe in parts:
            if tag_ in (0x82, 0x86):  # dNSName, URI: IA5String
                if not buf[ps:pe].isascii():
                    raise _Unsure
            elif tag_ == 0x87:  # iPAddress
                if pe - ps not in (4, 16):
                    raise _Unsure
            else:
                raise _Unsure
        if not parts:
            raise _Unsure
    else:
        raise _Unsure
    return None


def _extensions(buf: bytes, s: int, e: int) -> bool:
    """Validate the extensions block; returns basicConstraints' cA (False when absent)."""
    wrapper = _items(buf, s, e)
    if len(wrapper) != 1:
        raise _Unsure
    exts = _items(buf, *_expect(wrapper[0], SEQ))
    if not exts:
        raise _Unsure
    seen: set[bytes] = set()
    is_ca = False
    for ext in exts:
        parts = _items(buf, *_expect(ext, SEQ))
        if len(parts) == 3:
            if parts[1][0] != BOOL or parts[1][2] - parts[1][1] != 1 or buf[parts[1][1]] != 0xFF:
                raise _Unsure  # critical FALSE must be omitted in DER
            parts = [parts[0], parts[2]]
        if len(parts) != 2:
            raise _Unsure
        oid = _oid(buf, parts[0])
        if oid in seen:
            raise _Unsure  # duplicate extension: cryptography has its own error for it
        seen.add(oid)
        vs, ve = _expect(parts[1], OCTETS)
        ca = _ext_value(oid, buf, vs, ve)
        if ca is not None:
            is_ca = ca
    return is_ca


def _first(attrs: list[tuple[bytes, str]], oid: bytes) -> str | None:
    return next((v for o, v in attrs if o == oid), None)


def read_der_cert(der: bytes) -> dict[str, Any]:
    """The fields of `config.certs.CertInfo` for one DER certificate; raises _Unsure."""
    tag, s, e = _tlv(der, 0, len(der))
    if tag != SEQ or e != len(der):
        raise _Unsure
    cert = _items(der, s, e)
    if [c[0] for c in cert] != [SEQ, SEQ, BITS]:
        raise _Unsure
    sig_alg = der[_header_start(der, cert[1]):cert[1][2]]
    if sig_alg not in _SIG_ALGS:
        raise _Unsure
    _bits(der, cert[2])
    tbs = _items(der, cert[0][1], cert[0][2])
    i = 0
    version = 0
    if tbs and tbs[0][0] == 0xA0:
        inner = _items(der, tbs[0][1], tbs[0][2])
        if len(inner) != 1:
            raise _Unsure
        version = _integer(der, *_expect(inner[0], INT))
        if version != 2:
            raise _Unsure  # v3 is the only version written explicitly in DER; v2 is not supported
        i = 1
    if len(tbs) < i + 6:
        raise _Unsure
    serial_s, serial_e = _expect(tbs[i], INT)
    if _integer(der, serial_s, serial_e) <= 0:
        raise _Unsure
    if der[_header_start(der, tbs[i + 1]):tbs[i + 1][2]] != sig_alg:
        raise _Unsure
    issuer = _name(der, *_expect(tbs[i + 2], SEQ))
    validity = _items(der, *_expect(tbs[i + 3], SEQ))
    if len(validity) != 2:
        raise _Unsure
    not_before, not_after = _time(der, validity[0]), _time(der, validity[1])
    subject = _name(der, *_expect(tbs[i + 4], SEQ))
    spki = _items(der, *_expect(tbs[i + 5], SEQ))
    if len(spki) != 2 or der[_header_start(der, spki[0]):spki[0][2]] not in _KEY_ALGS:
        raise _Unsure
    _bits(der, spki[1])
    rest = tbs[i + 6:]
    is_ca = False
    if rest:
        if len(rest) != 1 or rest[0][0] != 0xA3 or version != 2:
            raise _Unsure  # issuer/subject unique ids, or extensions on a v1 certificate
        is_ca = _extensions(der, rest[0][1], rest[0][2])
    return {
        "subject_cn": _first(subject, _CN),
        "organizations": tuple(v for o, v in subject if o == _O),
        "issuer_cn": _first(issuer, _CN),
        "not_before": not_before,
        "not_after": not_after,
        "is_ca": is_ca,
        "sha256": fingerprint(der),
    }


def _header_start(buf: bytes, item: tuple[int, int, int]) -> int:
    """Where the TLV whose content starts at item[1] begins (its tag byte)."""
    s = item[1]
    length = item[2] - s
    header = 2 if length < 0x80 else 2 + (length.bit_length() + 7) // 8
    return s - header


def read_pem_certs(data: bytes) -> list[dict[str, Any]] | None:
    """CertInfo fields for every certificate of a PEM bundle made only of CERTIFICATE blocks, or None
    when anything in it is unusual (then the caller uses `cryptography`, which has the last word)."""
    try:
        blocks = list(_PEM.finditer(data))
        if not blocks:
            return None
        # Nothing but whitespace around and between the blocks (no headers, no other PEM types).
        pos = 0
        for m in blocks:
            if data[pos:m.start()].strip():
                return None
            pos = m.end()
        if data[pos:].strip():
            return None
        return [read_der_cert(binascii.a2b_base64(b"".join(m.group(1).split()), strict_mode=True))
                for m in blocks]
    except Exception:  # anything unexpected here only means: take the full path
        return None
