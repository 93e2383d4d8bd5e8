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
import array
import datetime
from typing import List, NamedTuple, Optional, Tuple

from ibmi_trust.certs.der import DerError, der_encode, der_tlv


class Extension(NamedTuple):
    oid: bytes                    # OBJECT IDENTIFIER content octets
    critical: bool
    value: bytes                  # the extnValue OCTET STRING's content (the extension's own DER)


class Tbs:
    """Where each field of a certificate's to-be-signed part lies in its DER
    (read_tbs). The two names are kept as bytes (they are dictionary keys and
    compared often); every other field is sliced from the DER when asked for,
    so a store of thousands of certificates holds each byte once."""
    __slots__ = ("der", "version", "issuer", "subject", "_at")

    def __init__(self, der: bytes, version: int, issuer: bytes, subject: bytes, at: "array.array"):
        self.der = der
        self.version = version        # 0 = v1, 2 = v3
        self.issuer = issuer          # Name, whole TLV
        self.subject = subject
        self._at = at                 # serial, signature, notBefore, notAfter, spki, extensions, outer signature

    @property
    def serial(self) -> bytes:
        """INTEGER content octets."""
        return self.der[self._at[0]:self._at[1]]

    @property
    def signature(self) -> bytes:
        """The TBS signature AlgorithmIdentifier, whole."""
        return self.der[self._at[2]:self._at[3]]

    @property
    def not_before(self) -> Tuple[int, bytes]:
        """(tag, content)."""
        return self.der[self._at[4]], self.der[self._at[5]:self._at[6]]

    @property
    def not_after(self) -> Tuple[int, bytes]:
        return self.der[self._at[7]], self.der[self._at[8]:self._at[9]]

    @property
    def spki(self) -> bytes:
        """SubjectPublicKeyInfo, whole TLV."""
        return self.der[self._at[10]:self._at[11]]

    @property
    def extensions_at(self) -> Optional[Tuple[int, int]]:
        """[3] Extensions' content span in the DER (read by `extensions`), None without."""
        return (self._at[12], self._at[13]) if self._at[13] else None

    @property
    def outer_signature(self) -> bytes:
        """The Certificate's signatureAlgorithm, whole."""
        return self.der[self._at[14]:self._at[15]]


def children(data: bytes, start: int, end: int) -> List[Tuple[int, int, int]]:
    """(tag position, content start, content end) of each element in data[start:end]
    (der_tlv's rules, decoded inline: this loop reads every certificate of a store)."""
    out = []
    pos = start
    while pos < end:
        try:
            if data[pos] & 0x1F == 0x1F:
                raise DerError("multi-byte tags are not supported")
            first = data[pos + 1]
            if first < 0x80:
                head, length = pos + 2, first
            elif first == 0x81:
                head, length = pos + 3, data[pos + 2]
            elif first == 0x82:
                head, length = pos + 4, (data[pos + 2] << 8) | data[pos + 3]
            else:
                count = first & 0x7F
                if count == 0 or count > 4:
                    raise DerError("unsupported DER length")
                head = pos + 2 + count
                if head > len(data):
                    raise IndexError
                length = int.from_bytes(data[pos + 2:head], "big")
        except IndexError:
            raise DerError("truncated DER") from None
        cend = head + length
        if cend > end:
            raise DerError("truncated DER" if cend > len(data) else "element runs past its container")
        out.append((pos, head, cend))
        pos = cend
    return out


def read_tbs(der: bytes) -> Tbs:
    """The certificate's fields by position; DerError when it is not a certificate."""
    try:
        return _read_usual_tbs(der)
    except (_Unusual, IndexError):
        return _read_any_tbs(der)


class _Unusual(Exception):
    """Not the usual layout: the general reader decides."""


def _element(der: bytes, pos: int, limit: int, tag: Optional[int] = None) -> Tuple[int, int]:
    """(content start, end) of the element at `pos`, of tag `tag` (any one-byte tag
    when None), lengths of up to two bytes, ending within `limit`."""
    found = der[pos]
    if (found != tag) if tag is not None else (found & 0x1F == 0x1F):
        raise _Unusual
    first = der[pos + 1]
    if first < 0x80:
        start, end = pos + 2, pos + 2 + first
    elif first == 0x81:
        start, end = pos + 3, pos + 3 + der[pos + 2]
    elif first == 0x82:
        start, end = pos + 4, pos + 4 + ((der[pos + 2] << 8) | der[pos + 3])
    else:
        raise _Unusual
    if end > limit:
        raise _Unusual
    return start, end


def _read_usual_tbs(der: bytes) -> Tbs:
    """read_tbs for the layout nearly every certificate has (version [0] as
    `A0 03 02 01 v`, lengths of up to two bytes), without building lists; the
    same answer as _read_any_tbs (tests/test_fuzz_parsers.py), which takes
    anything else (_Unusual)."""
    size = len(der)
    start, end = _element(der, 0, size, 0x30)
    if end != size:
        raise _Unusual
    tbs_start, tbs_end = _element(der, start, end, 0x30)
    pos = tbs_start
    version = 0
    if der[pos] == 0xA0:
        if der[pos + 1:pos + 4] != b"\x03\x02\x01" or pos + 5 > tbs_end:
            raise _Unusual
        version = der[pos + 4]
        pos += 5
    serial_start, serial_end = _element(der, pos, tbs_end, 0x02)
    signature_at = serial_end
    _s, issuer_at = _element(der, signature_at, tbs_end)
    _s, validity_at = _element(der, issuer_at, tbs_end, 0x30)
    validity_start, subject_at = _element(der, validity_at, tbs_end, 0x30)
    before_start, after_at = _element(der, validity_start, subject_at)
    after_start, after_end = _element(der, after_at, subject_at)
    if after_end != subject_at:
        raise _Unusual
    _s, spki_at = _element(der, subject_at, tbs_end, 0x30)
    _s, spki_end = _element(der, spki_at, tbs_end, 0x30)
    extensions_at = (0, 0)
    pos = spki_end
    while pos < tbs_end:
        tag = der[pos]
        content_start, pos = _element(der, pos, tbs_end)
        if tag == 0xA3:
            extensions_at = (content_start, pos)
    _s, outer_end = _element(der, tbs_end, end, 0x30)
    _s, bits_end = _element(der, outer_end, end, 0x03)
    if bits_end != end:
        raise _Unusual
    at = array.array("I", (serial_start, serial_end, signature_at, issuer_at, validity_start, before_start,
                           after_at, after_at, after_start, after_end, spki_at, spki_end) + extensions_at
                     + (tbs_end, outer_end))
    return Tbs(der, version, der[issuer_at:validity_at], der[subject_at:spki_at], at)


def _read_any_tbs(der: bytes) -> Tbs:
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
    extensions_at = (0, 0)
    for field in fields[6:]:
        if der[field[0]] == 0xA3:
            extensions_at = (field[1], field[2])
    outer = parts[1]
    at = array.array("I", (serial[1], serial[2], signature[0], signature[2], times[0][0], times[0][1], times[0][2],
                           times[1][0], times[1][1], times[1][2], spki[0], spki[2]) + extensions_at
                     + (outer[0], outer[2]))
    return Tbs(der, version, der[issuer[0]:issuer[2]], der[subject[0]:subject[2]], at)


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
    if tag == 0x17 and len(raw) == 13:
        digits = raw[:12]
    elif tag == 0x18 and len(raw) == 15:
        digits = raw[:14]
    else:
        digits = b""
    if not digits or raw[-1:] != b"Z" or not digits.isdigit() or not digits.isascii():
        raise DerError("malformed time %r" % raw[:20])
    value = int(digits)
    value, second = divmod(value, 100)
    value, minute = divmod(value, 100)
    value, hour = divmod(value, 100)
    year, month, day = value // 10000, value // 100 % 100, value % 100
    if tag == 0x17:
        year += 2000 if year < 50 else 1900
    try:
        return datetime.datetime(year, month, day, hour, minute, second, tzinfo=_UTC)
    except ValueError:
        raise DerError("malformed time %r" % raw[:20]) from None


_UTC = datetime.timezone.utc


# -- names: OpenSSL's canonical encoding ---------------------------------------------------
# Tags whose values OpenSSL canonicalises (ASN1_MASK_CANON).
_UTF8, _PRINTABLE, _T61, _IA5, _VISIBLE, _UNIVERSAL, _BMP = 12, 19, 20, 22, 26, 28, 30
_CANON_TAGS = {_UTF8, _PRINTABLE, _T61, _IA5, _VISIBLE, _UNIVERSAL, _BMP}


class NameHashError(DerError):
    """The name cannot be canonicalised (malformed DER or an unconvertible string)."""


# RDNs recur across a store's CAs (C=US, O=DigiCert Inc, ...): each one's canonical
# form is made once (bounded: the cache starts again past its size).
_RDN_CACHE: dict = {}
_RDN_CACHE_SIZE = 4096


def canonical_name(name_der: bytes) -> bytes:
    """OpenSSL's canonical encoding of a Name (x509_name_canon); NameHashError
    when it cannot be made (malformed DER, a string invalid for its type)."""
    try:
        tag, start, end = der_tlv(name_der, 0)
        if tag != 0x30 or end != len(name_der):
            raise NameHashError("not a DER Name (SEQUENCE)")
        out = []
        for set_pos, set_start, set_end in children(name_der, start, end):
            rdn = name_der[set_pos:set_end]
            canonical = _RDN_CACHE.get(rdn)
            if canonical is None:
                if name_der[set_pos] != 0x31:
                    raise NameHashError("RDN is not a SET")
                canonical = _canonical_single_attribute(name_der, set_start, set_end)
                if canonical is None:
                    members = [_canonical_attribute(name_der, *attribute)
                               for attribute in children(name_der, set_start, set_end)]
                    if len(members) > 1:
                        members.sort()  # DER SET OF order: bytewise, shorter first on a tie (der_cmp)
                    canonical = der_encode(0x31, b"".join(members))
                if len(_RDN_CACHE) >= _RDN_CACHE_SIZE:
                    _RDN_CACHE.clear()
                _RDN_CACHE[rdn] = canonical
            out.append(canonical)
        return b"".join(out)
    except NameHashError:
        raise
    except DerError as exc:
        raise NameHashError(str(exc)) from None


def _canonical_single_attribute(data: bytes, start: int, end: int) -> Optional[bytes]:
    """The canonical RDN of the usual one: a single attribute, one-byte lengths,
    read without building lists; None for anything else (then the general code
    decides, with the same answer for this case)."""
    if end - start < 4 or data[start] != 0x30 or data[start + 1] != end - start - 2:
        return None
    oid_at = start + 2
    oid_length = data[oid_at + 1]
    if data[oid_at] != 0x06 or oid_length >= 0x80:
        return None
    value_at = oid_at + 2 + oid_length
    if value_at + 2 > end:
        return None
    value_tag, value_length = data[value_at], data[value_at + 1]
    if value_length >= 0x80 or value_at + 2 + value_length != end or value_tag & 0x1F == 0x1F:
        return None
    if value_tag in _CANON_TAGS:
        value = der_encode(_UTF8, _canonical_text(value_tag, data[value_at + 2:end]))
    else:
        value = data[value_at:end]
    return der_encode(0x31, der_encode(0x30, data[oid_at:value_at] + value))


def _canonical_attribute(data: bytes, pos: int, start: int, end: int) -> bytes:
    if data[pos] != 0x30:
        raise NameHashError("attribute is not a SEQUENCE")
    parts = children(data, start, end)
    if not parts or data[parts[0][0]] != 0x06:
        raise NameHashError("attribute type is not an OID")
    if len(parts) != 2:
        raise NameHashError("attribute has no value or trailing data")
    (_oid_pos, _oid_content, oid_end), (value_pos, value_start, value_end) = parts
    value_tag = data[value_pos]
    if value_tag in _CANON_TAGS:
        value = der_encode(_UTF8, _canonical_text(value_tag, data[value_start:value_end]))
    else:  # other types are copied as they are (tag and all)
        value = data[value_pos:value_end]
    return der_encode(0x30, data[start:oid_end] + value)


def _canonical_text(tag: int, raw: bytes) -> bytes:
    if raw.isascii() and tag != _BMP and tag != _UNIVERSAL:
        text = raw                               # ASCII is its own Latin-1 and UTF-8 reading
    else:
        text = to_utf8(tag, raw)
    if text is None:
        raise NameHashError("attribute value is not valid for its string type")
    # bytes.split() splits on exactly ossl_isspace's set (space, \t, \n, \v, \f, \r):
    # trimmed, inner runs collapsed to one space; bytes.lower() lowers ASCII letters only
    return b" ".join(text.split()).lower()


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


# -- public keys ------------------------------------------------------------------------------
class KeyInfo(NamedTuple):
    family: Optional[str]     # "RSA", "RSA-PSS", "EC", "ED25519", "ED448", "DSA"; None: not known here
    bits: Optional[int]       # RSA modulus / DSA p bits; EC group order bits
    explicit_ec: bool = False


KEY_ALGORITHMS = {
    oid("1.2.840.113549.1.1.1"): "RSA", oid("1.2.840.113549.1.1.10"): "RSA-PSS",
    oid("1.2.840.10045.2.1"): "EC", oid("1.3.101.112"): "ED25519", oid("1.3.101.113"): "ED448",
    oid("1.2.840.10040.4.1"): "DSA",
}
# named curves -> bits of the group order
CURVE_ORDER_BITS = {
    oid("1.2.840.10045.3.1.1"): 192, oid("1.3.132.0.33"): 224, oid("1.2.840.10045.3.1.7"): 256,
    oid("1.3.132.0.10"): 256, oid("1.3.132.0.34"): 384, oid("1.3.132.0.35"): 521,
    oid("1.3.36.3.3.2.8.1.1.7"): 256, oid("1.3.36.3.3.2.8.1.1.11"): 384, oid("1.3.36.3.3.2.8.1.1.13"): 512,
}


def public_key(spki: bytes) -> KeyInfo:
    """The key type and size of a SubjectPublicKeyInfo (whole TLV), read from the DER."""
    try:
        _tag, start, end = der_tlv(spki, 0)
        parts = children(spki, start, end)
        algorithm = children(spki, parts[0][1], parts[0][2])
        family = KEY_ALGORITHMS.get(spki[algorithm[0][1]:algorithm[0][2]])
        key = spki[parts[1][1] + 1:parts[1][2]]              # BIT STRING without its unused-bits byte
        if family in ("RSA", "RSA-PSS"):
            _seq, seq_start, seq_end = der_tlv(key, 0)        # RSAPublicKey ::= SEQUENCE { modulus, exponent }
            modulus = children(key, seq_start, seq_end)[0]
            return KeyInfo(family, int.from_bytes(key[modulus[1]:modulus[2]], "big").bit_length())
        if family == "EC":
            params = algorithm[1] if len(algorithm) > 1 else None
            if params is not None and spki[params[0]] == 0x06:
                bits = CURVE_ORDER_BITS.get(spki[params[1]:params[2]])
                return KeyInfo(family if bits else None, bits)
            if params is not None and spki[params[0]] == 0x30:    # explicit ECParameters: order is item 5
                items = children(spki, params[1], params[2])
                bits = int.from_bytes(spki[items[4][1]:items[4][2]], "big").bit_length() if len(items) > 4 else None
                return KeyInfo(family, bits, True)
            return KeyInfo(None, None)
        if family == "DSA":
            params = children(spki, algorithm[1][1], algorithm[1][2])
            return KeyInfo(family, int.from_bytes(spki[params[0][1]:params[0][2]], "big").bit_length())
        if family in ("ED25519", "ED448"):
            return KeyInfo(family, 256 if family == "ED25519" else 456)
        return KeyInfo(None, None)
    except (DerError, IndexError):
        return KeyInfo(None, None)
