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
