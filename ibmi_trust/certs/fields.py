"""A certificate's fields, read from its DER exactly as encoded, in pure Python.

One linear walk of the to-be-signed structure gives the positions of every
field (`read_tbs`); each field is decoded only when asked for. This is what
`Cert` is built on (no cryptography needed to list a store or show a chain)
and what the OpenSSL emulation reads (analyse/openssl/facts.py), so both see
the same bytes OpenSSL sees:

- names: `canonical_name` is OpenSSL's canonical encoding (x509_name_canon,
  asn1_string_canon in crypto/x509/x_name.c): string values as UTF-8 with
  white space trimmed and collapsed and ASCII lower-cased, re-tagged
  UTF8String; other types as they are; each RDN a DER SET; the SETs
  concatenated. X509_NAME_cmp compares these bytes, and X509_NAME_hash hashes
  them (store/rehash.py);
- extensions: the raw list (OID, critical, value); decoders for the ones the
  stages read (basicConstraints, keyUsage, extendedKeyUsage, key ids,
  subjectAltName, nameConstraints, authorityInfoAccess). A decoder raises
  DerError on a malformed value; what that means is the caller's business.
"""
import datetime
from typing import List, NamedTuple, Optional, Tuple

from ibmi_trust.certs.der import DerError, der_encode, der_tlv


class Extension(NamedTuple):
    oid: bytes                    # OBJECT IDENTIFIER content octets
    critical: bool
    value: bytes                  # the extnValue OCTET STRING's content (the extension's own DER)


class Tbs(NamedTuple):
    version: int                  # 0 = v1, 2 = v3
    serial: bytes                 # INTEGER content octets
    signature: bytes              # the TBS signature AlgorithmIdentifier, whole
    issuer: bytes                 # Name, whole TLV
    not_before: Tuple[int, bytes]  # (tag, content)
    not_after: Tuple[int, bytes]
    subject: bytes
    spki: bytes                   # SubjectPublicKeyInfo, whole TLV
    extensions_at: Optional[Tuple[int, int]]   # [3] Extensions' content span in the DER (read by `extensions`)
    outer_signature: bytes        # the Certificate's signatureAlgorithm, whole


def children(data: bytes, start: int, end: int) -> List[Tuple[int, int, int]]:
    """(tag position, content start, content end) of each element in data[start:end]."""
    out = []
    pos = start
    while pos < end:
        _tag, cstart, cend = der_tlv(data, pos)
        if cend > end:
            raise DerError("element runs past its container")
        out.append((pos, cstart, cend))
        pos = cend
    return out


def read_tbs(der: bytes) -> Tbs:
    """The certificate's fields by position; DerError when it is not a certificate."""
    tag, start, end = der_tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise DerError("not a DER certificate (SEQUENCE)")
    parts = children(der, start, end)
    if len(parts) != 3 or der[parts[0][0]] != 0x30 or der[parts[1][0]] != 0x30 or der[parts[2][0]] != 0x03:
        raise DerError("not a certificate: tbsCertificate, signatureAlgorithm, signature expected")
    _tbs_pos, tbs_start, tbs_end = parts[0]
    fields = children(der, tbs_start, tbs_end)
    version = 0
    if fields and der[fields[0][0]] == 0xA0:
        inner = children(der, fields[0][1], fields[0][2])
        if len(inner) != 1 or der[inner[0][0]] != 0x02:
            raise DerError("malformed version")
        version = int.from_bytes(der[inner[0][1]:inner[0][2]], "big")
        fields = fields[1:]
    if len(fields) < 6:
        raise DerError("not a certificate: fields missing")
    serial, signature, issuer, validity, subject, spki = fields[:6]
    if der[serial[0]] != 0x02 or der[issuer[0]] != 0x30 or der[validity[0]] != 0x30 or der[subject[0]] != 0x30 \
            or der[spki[0]] != 0x30:
        raise DerError("not a certificate: unexpected field types")
    times = children(der, validity[1], validity[2])
    if len(times) != 2:
        raise DerError("validity holds no notBefore/notAfter pair")
    extensions_at = None
    for field in fields[6:]:
        if der[field[0]] == 0xA3:
            extensions_at = (field[1], field[2])
    return Tbs(version, der[serial[1]:serial[2]], der[signature[0]:signature[2]], der[issuer[0]:issuer[2]],
               (der[times[0][0]], der[times[0][1]:times[0][2]]), (der[times[1][0]], der[times[1][1]:times[1][2]]),
               der[subject[0]:subject[2]], der[spki[0]:spki[2]], extensions_at, der[parts[1][0]:parts[1][2]])


def extensions(der: bytes, tbs: Tbs) -> Tuple[Extension, ...]:
    """The extension list (OID, critical, value); DerError when it is malformed."""
    if tbs.extensions_at is None:
        return ()
    start, end = tbs.extensions_at
    outer = children(der, start, end)
    if len(outer) != 1 or der[outer[0][0]] != 0x30:
        raise DerError("extensions are not one SEQUENCE")
    out = []
    for _t, start, end in children(der, outer[0][1], outer[0][2]):
        parts = children(der, start, end)
        if len(parts) not in (2, 3) or der[parts[0][0]] != 0x06 or der[parts[-1][0]] != 0x04:
            raise DerError("malformed extension")
        critical = len(parts) == 3 and der[parts[1][0]] == 0x01 and der[parts[1][1]:parts[1][2]] != b"\x00"
        out.append(Extension(der[parts[0][1]:parts[0][2]], critical, der[parts[-1][1]:parts[-1][2]]))
    return tuple(out)


def name_defect_possible(name_der: bytes) -> bool:
    """False when no value of this Name can be invalid for its string type: every
    byte is ASCII and there is no BMPString or UniversalString (the usual case)."""
    return not name_der.isascii() or b"\x1e" in name_der or b"\x1c" in name_der


# -- times ----------------------------------------------------------------------------
def parse_time(tag: int, raw: bytes) -> datetime.datetime:
    """UTCTime (YYMMDDHHMMSSZ, 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), aware UTC."""
    try:
        text = raw.decode("ascii")
        if not text.endswith("Z") or not text[:-1].isdigit():
            raise ValueError
        if tag == 0x17 and len(text) == 13:
            year = int(text[:2])
            year += 2000 if year < 50 else 1900
            rest = text[2:-1]
        elif tag == 0x18 and len(text) == 15:
            year, rest = int(text[:4]), text[4:-1]
        else:
            raise ValueError
        return datetime.datetime(year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]),
                                 int(rest[8:10]), tzinfo=datetime.timezone.utc)
    except ValueError:
        raise DerError("malformed time %r" % raw[:20]) from None


# -- names: OpenSSL's canonical encoding ---------------------------------------------------
# Tags whose values OpenSSL canonicalises (ASN1_MASK_CANON).
_UTF8, _PRINTABLE, _T61, _IA5, _VISIBLE, _UNIVERSAL, _BMP = 12, 19, 20, 22, 26, 28, 30
_CANON_TAGS = {_UTF8, _PRINTABLE, _T61, _IA5, _VISIBLE, _UNIVERSAL, _BMP}
_SPACE = b" \t\n\v\f\r"  # ossl_isspace


class NameHashError(DerError):
    """The name cannot be canonicalised (malformed DER or an unconvertible string)."""


def canonical_name(name_der: bytes) -> bytes:
    """OpenSSL's canonical encoding of a Name (x509_name_canon)."""
    tag, start, end = der_tlv(name_der, 0)
    if tag != 0x30 or end != len(name_der):
        raise NameHashError("not a DER Name (SEQUENCE)")
    out = []
    pos = start
    while pos < end:
        set_tag, set_start, set_end = der_tlv(name_der, pos)
        if set_tag != 0x31:
            raise NameHashError("RDN is not a SET")
        members = []
        inner = set_start
        while inner < set_end:
            members.append(_canonical_attribute(name_der, inner))
            inner = der_tlv(name_der, inner)[2]
        members.sort()  # DER SET OF order: bytewise, shorter first on a tie (der_cmp)
        out.append(der_encode(0x31, b"".join(members)))
        pos = set_end
    return b"".join(out)


def _canonical_attribute(data: bytes, pos: int) -> bytes:
    tag, start, end = der_tlv(data, pos)
    if tag != 0x30:
        raise NameHashError("attribute is not a SEQUENCE")
    oid_tag, _oid_content, oid_end = der_tlv(data, start)
    if oid_tag != 0x06:
        raise NameHashError("attribute type is not an OID")
    value_tag, value_start, value_end = der_tlv(data, oid_end)
    if value_end != end:
        raise NameHashError("trailing data in attribute")
    oid = data[start:oid_end]
    if value_tag in _CANON_TAGS:
        value = der_encode(_UTF8, _canonical_text(value_tag, data[value_start:value_end]))
    else:  # other types are copied as they are (tag and all)
        value = data[oid_end:value_end]
    return der_encode(0x30, oid + value)


def _canonical_text(tag: int, raw: bytes) -> bytes:
    text = to_utf8(tag, raw)
    if text is None:
        raise NameHashError("attribute value is not valid for its string type")
    text = text.strip(_SPACE)
    if not any(b in _SPACE for b in text):
        return text.lower()                                      # bytes.lower(): ASCII letters only
    out = bytearray()
    i = 0
    while i < len(text):
        byte = text[i]
        if byte in _SPACE:
            out.append(0x20)
            while i < len(text) and text[i] in _SPACE:
                i += 1
            continue
        out.append(byte + 32 if 0x41 <= byte <= 0x5A else byte)  # ASCII only
        i += 1
    return bytes(out)


def to_utf8(tag: int, raw: bytes) -> Optional[bytes]:
    """ASN1_STRING_to_UTF8: one-byte string types are read as Latin-1; None when invalid."""
    try:
        if tag == _UTF8:
            raw.decode("utf-8")
            return raw
        if tag == _BMP:
            return raw.decode("utf-16-be").encode("utf-8")
        if tag == _UNIVERSAL:
            return raw.decode("utf-32-be").encode("utf-8")
        return raw.decode("latin-1").encode("utf-8")
    except UnicodeError:
        return None


def attributes(name_der: bytes) -> List[Tuple[bytes, int, bytes]]:
    """(type OID content, value tag, value content) of every attribute, in order."""
    out = []
    _tag, start, end = der_tlv(name_der, 0)
    for _s, rdn_start, rdn_end in children(name_der, start, end):
        for _a, atv_start, atv_end in children(name_der, rdn_start, rdn_end):
            parts = children(name_der, atv_start, atv_end)
            if len(parts) != 2 or name_der[parts[0][0]] != 0x06:
                raise DerError("malformed attribute")
            out.append((name_der[parts[0][1]:parts[0][2]], name_der[parts[1][0]],
                        name_der[parts[1][1]:parts[1][2]]))
    return out


# -- extension decoders ---------------------------------------------------------------------
def oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER given as dotted text."""
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


EXT_SUBJECT_KEY_ID = oid("2.5.29.14")
EXT_KEY_USAGE = oid("2.5.29.15")
EXT_SUBJECT_ALT_NAME = oid("2.5.29.17")
EXT_BASIC_CONSTRAINTS = oid("2.5.29.19")
EXT_NAME_CONSTRAINTS = oid("2.5.29.30")
EXT_AUTHORITY_KEY_ID = oid("2.5.29.35")
EXT_EXT_KEY_USAGE = oid("2.5.29.37")
EXT_AUTHORITY_INFO_ACCESS = oid("1.3.6.1.5.5.7.1.1")
ACCESS_CA_ISSUERS = oid("1.3.6.1.5.5.7.48.2")
OID_COMMON_NAME = oid("2.5.4.3")

# GeneralName CHOICE (RFC 5280 4.2.1.6): the tag each alternative must carry
GEN_OTHERNAME, GEN_EMAIL, GEN_DNS, GEN_X400, GEN_DIRNAME, GEN_EDIPARTY, GEN_URI, GEN_IPADD, GEN_RID = range(9)
_GENERAL_NAME_TAGS = {0xA0: GEN_OTHERNAME, 0x81: GEN_EMAIL, 0x82: GEN_DNS, 0xA3: GEN_X400, 0xA4: GEN_DIRNAME,
                      0xA5: GEN_EDIPARTY, 0x86: GEN_URI, 0x87: GEN_IPADD, 0x88: GEN_RID}


def find(extensions, ext_oid: bytes) -> Optional[Extension]:
    for ext in extensions:
        if ext.oid == ext_oid:
            return ext
    return None


def basic_constraints(value: bytes) -> Tuple[bool, Optional[int]]:
    """(cA, pathLenConstraint or None); a negative pathLen raises."""
    _tag, start, end = der_tlv(value, 0)
    ca, pathlen = False, None
    for pos, s, e in children(value, start, end):
        if value[pos] == 0x01:
            ca = value[s:e] != b"\x00"
        elif value[pos] == 0x02:
            raw = value[s:e]
            if not raw or raw[0] & 0x80:
                raise DerError("negative pathLenConstraint")
            pathlen = int.from_bytes(raw, "big")
    return ca, pathlen


def bit_string_flags(value: bytes) -> int:
    """A short BIT STRING (keyUsage, Netscape cert type) as OpenSSL keeps it: byte 0 | byte 1 << 8."""
    tag, start, end = der_tlv(value, 0)
    if tag != 0x03 or end <= start:
        raise DerError("not a BIT STRING")
    data = value[start + 1:end]
    return (data[0] if data else 0) | ((data[1] << 8) if len(data) > 1 else 0)


def octet_string(value: bytes) -> bytes:
    tag, start, end = der_tlv(value, 0)
    if tag != 0x04:
        raise DerError("not an OCTET STRING")
    return value[start:end]


def oid_list(value: bytes) -> List[bytes]:
    _tag, start, end = der_tlv(value, 0)
    out = []
    for pos, s, e in children(value, start, end):
        if value[pos] != 0x06:
            raise DerError("not an OID")
        out.append(value[s:e])
    return out


def general_name(data: bytes, item) -> Tuple[int, bytes]:
    """(GEN_* kind, raw content) of one GeneralName; a directoryName's content is its Name TLV."""
    pos, start, end = item
    kind = _GENERAL_NAME_TAGS.get(data[pos])
    if kind is None:
        raise DerError("not a GeneralName (tag 0x%02x)" % data[pos])
    if kind == GEN_DIRNAME:
        inner = children(data, start, end)
        if len(inner) != 1 or data[inner[0][0]] != 0x30:
            raise DerError("directoryName holds no single Name")
        return kind, data[inner[0][0]:inner[0][2]]
    return kind, data[start:end]


def general_names(value: bytes) -> List[Tuple[int, bytes]]:
    _tag, start, end = der_tlv(value, 0)
    return [general_name(value, item) for item in children(value, start, end)]


def authority_key_id(value: bytes) -> Tuple[Optional[bytes], Optional[bytes], Optional[int]]:
    """(keyIdentifier, first directoryName of authorityCertIssuer as a Name TLV, serial)."""
    _tag, start, end = der_tlv(value, 0)
    keyid = dirname = serial = None
    for pos, s, e in children(value, start, end):
        kind = value[pos] & 0x1F
        if kind == 0:
            keyid = value[s:e]
        elif kind == 1:
            for item in children(value, s, e):
                name_kind, raw = general_name(value, item)
                if name_kind == GEN_DIRNAME and dirname is None:
                    dirname = raw
        elif kind == 2:
            serial = int.from_bytes(value[s:e], "big", signed=True)
    return keyid, dirname, serial


def ca_issuer_urls(value: bytes) -> List[str]:
    """The caIssuers URIs of an authorityInfoAccess value."""
    _tag, start, end = der_tlv(value, 0)
    urls = []
    for _p, s, e in children(value, start, end):
        parts = children(value, s, e)
        if len(parts) != 2 or value[parts[0][0]] != 0x06:
            raise DerError("malformed AccessDescription")
        if value[parts[0][1]:parts[0][2]] == ACCESS_CA_ISSUERS:
            kind, raw = general_name(value, parts[1])
            if kind == GEN_URI:
                urls.append(raw.decode("ascii", "replace"))
    return urls
