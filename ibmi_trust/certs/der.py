"""Just enough DER to read a certificate's parts exactly as encoded.

cryptography re-encodes parsed names on old versions (3.4 turns a T61String
into other bytes) and cannot load some keys (explicit EC curves). Name
matching, OpenSSL's subject hash and key fingerprints need the original
bytes, so they are cut from the DER here.
"""
from typing import List, Tuple


class DerError(ValueError):
    """Bytes that are not the DER this module expects."""


def der_tlv(data: bytes, pos: int) -> Tuple[int, int, int]:
    """(tag, content start, end) of the DER element at `pos`."""
    try:
        tag = data[pos]
        if tag & 0x1F == 0x1F:
            raise DerError("multi-byte tags are not supported")
        first = data[pos + 1]
        head = pos + 2
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0 or count > 4:
                raise DerError("unsupported DER length")
            length = int.from_bytes(data[head:head + count], "big")
            head += count
    except IndexError:
        raise DerError("truncated DER") from None
    end = head + length
    if end > len(data):
        raise DerError("truncated DER")
    return tag, head, end


def der_encode(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def signed_fields(der: bytes) -> List[Tuple[int, int]]:
    """(start, end) of each element inside the "to be signed" SEQUENCE of a
    signed object (certificate or CRL)."""
    tag, start, _end = der_tlv(der, 0)
    tbs_tag, pos, tbs_end = der_tlv(der, start) if tag == 0x30 else (0, 0, 0)
    if tbs_tag != 0x30:
        raise DerError("not a signed X.509 object")
    fields = []
    while pos < tbs_end:
        end = der_tlv(der, pos)[2]
        fields.append((pos, end))
        pos = end
    return fields


def certificate_parts(der: bytes) -> Tuple[bytes, bytes, bytes]:
    """(issuer Name, subject Name, SubjectPublicKeyInfo) exactly as encoded."""
    fields = signed_fields(der)
    if fields and der[fields[0][0]] == 0xA0:          # [0] EXPLICIT version
        fields = fields[1:]
    if len(fields) < 6:                               # serial, signature, issuer, validity, subject, spki
        raise DerError("not a certificate")
    (i0, i1), (s0, s1), (k0, k1) = fields[2], fields[4], fields[5]
    return der[i0:i1], der[s0:s1], der[k0:k1]


# -- names as text, for messages about names that cannot be decoded ---------
_SHORT_NAMES = {
    "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L",
    "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "title",
    "2.5.4.42": "GN", "2.5.4.97": "organizationIdentifier", "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "emailAddress",
}
_ASCII_TAGS = {18: "NumericString", 19: "PrintableString", 22: "IA5String", 26: "VisibleString"}
_UTF8, _T61, _UNIVERSAL, _BMP = 12, 20, 28, 30


def oid_text(content: bytes) -> str:
    """Dotted text of an OBJECT IDENTIFIER's content octets."""
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def printable(text: str) -> str:
    """`text` with every non-printable character escaped (\\x1b, \\n, \\u2028)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def name_text(name_der: bytes) -> Tuple[str, List[str]]:
    """(the Name as RFC 4514-like text, [what is wrong with its values]).

    Values that are not valid for their string type are shown with the bad
    bytes escaped (`CN=Bad\\xffName`); so are non-printable characters.
    Never raises: what cannot be walked is shown as hex.
    """
    defects: List[str] = []
    rdns: List[str] = []
    try:
        tag, pos, end = der_tlv(name_der, 0)
        if tag != 0x30:
            raise DerError("not a SEQUENCE")
        while pos < end:
            _set_tag, inner, set_end = der_tlv(name_der, pos)
            parts = []
            while inner < set_end:
                _seq, attr, attr_end = der_tlv(name_der, inner)
                _oid_tag, oid_start, oid_end = der_tlv(name_der, attr)
                value_tag, value_start, value_end = der_tlv(name_der, oid_end)
                oid = oid_text(name_der[oid_start:oid_end])
                text = _value_text(value_tag, name_der[value_start:value_end], name_der[oid_end:value_end], defects)
                parts.append("%s=%s" % (_SHORT_NAMES.get(oid, oid), text))
                inner = attr_end
            rdns.append("+".join(parts))
            pos = set_end
    except DerError:
        return "#" + name_der[:64].hex() + ("..." if len(name_der) > 64 else ""), ["not a DER Name"]
    return ",".join(reversed(rdns)), defects


def _value_text(tag: int, raw: bytes, whole: bytes, defects: List[str]) -> str:
    if tag == _UTF8:
        return _decoded(raw, "utf-8", "a UTF8String that is not valid UTF-8", defects)
    if tag in _ASCII_TAGS:
        return _decoded(raw, "ascii", "a %s with bytes outside ASCII" % _ASCII_TAGS[tag], defects)
    if tag == _T61:
        return printable(raw.decode("latin-1"))
    if tag == _BMP:
        return _decoded(raw, "utf-16-be", "a BMPString that is not valid UTF-16", defects)
    if tag == _UNIVERSAL:
        return _decoded(raw, "utf-32-be", "a UniversalString that is not valid UTF-32", defects)
    return "#" + whole.hex()


def _decoded(raw: bytes, codec: str, defect: str, defects: List[str]) -> str:
    try:
        return printable(raw.decode(codec))
    except UnicodeDecodeError:
        defects.append(defect)
        if codec == "utf-8" or codec == "ascii":
            return printable(raw.decode(codec, "backslashreplace"))
        return "#" + raw.hex()
