"""Read the server's Certificate message out of the raw bytes of a TLS 1.2
(or older) handshake, as the server sent them.

Before ChangeCipherSpec every TLS <= 1.2 handshake message travels in
plaintext records, so the certificate_list can be read without any crypto
(RFC 5246 6.2 and 7.4.2). Handshake messages may be split across records and
records across TCP segments; both are reassembled. TLS 1.3 encrypts the
Certificate message, so the caller caps the offer at TLS 1.2.
"""
from typing import List

_HANDSHAKE, _CHANGE_CIPHER_SPEC, _ALERT = 22, 20, 21
_SERVER_HELLO, _CERTIFICATE = 2, 11
_SUPPORTED_VERSIONS = 43


class NotFound(ValueError):
    """The bytes hold no complete, well-formed TLS 1.2 Certificate message."""


def _u(data: bytes, pos: int, size: int) -> int:
    if pos + size > len(data):
        raise NotFound("truncated")
    return int.from_bytes(data[pos:pos + size], "big")


def handshake_stream(records: bytes) -> bytes:
    """The concatenated plaintext handshake bytes, up to ChangeCipherSpec."""
    pos, out = 0, bytearray()
    while pos + 5 <= len(records):
        ctype, length = records[pos], _u(records, pos + 3, 2)
        body = records[pos + 5:pos + 5 + length]
        if len(body) < length or ctype in (_CHANGE_CIPHER_SPEC, _ALERT):
            break
        if ctype != _HANDSHAKE:
            raise NotFound("record type %d before ChangeCipherSpec" % ctype)
        out += body
        pos += 5 + length
    return bytes(out)


def certificates(records: bytes) -> List[bytes]:
    """The DER certificates of the server's Certificate message, in order sent."""
    stream = handshake_stream(records)
    pos = 0
    while pos + 4 <= len(stream):
        mtype, length = stream[pos], _u(stream, pos + 1, 3)
        body = stream[pos + 4:pos + 4 + length]
        if len(body) < length:
            break
        if mtype == _SERVER_HELLO and _is_tls13(body):
            raise NotFound("the server chose TLS 1.3: its Certificate message is encrypted")
        if mtype == _CERTIFICATE:
            return _certificate_list(body)
        pos += 4 + length
    raise NotFound("no Certificate message before ChangeCipherSpec")


def _certificate_list(body: bytes) -> List[bytes]:
    total = _u(body, 0, 3)
    if total + 3 != len(body):
        raise NotFound("certificate_list length does not match the message")
    pos, out = 3, []
    while pos < len(body):
        size = _u(body, pos, 3)
        der = body[pos + 3:pos + 3 + size]
        if len(der) != size or size == 0:
            raise NotFound("truncated certificate in certificate_list")
        out.append(der)
        pos += 3 + size
    return out


def _is_tls13(server_hello: bytes) -> bool:
    """ServerHello carrying supported_versions = 0x0304 (RFC 8446 4.2.1)."""
    try:
        pos = 2 + 32                                 # legacy_version, random
        pos += 1 + _u(server_hello, pos, 1)          # legacy_session_id
        pos += 2 + 1                                 # cipher_suite, compression
        if pos >= len(server_hello):
            return False
        end = pos + 2 + _u(server_hello, pos, 2)
        pos += 2
        while pos + 4 <= end:
            etype, elen = _u(server_hello, pos, 2), _u(server_hello, pos + 2, 2)
            if etype == _SUPPORTED_VERSIONS and elen == 2:
                return _u(server_hello, pos + 4, 2) == 0x0304
            pos += 4 + elen
    except NotFound:
        return False
    return False
