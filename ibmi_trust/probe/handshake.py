"""The TLS handshake, driven by hand through ssl.MemoryBIO + SSLObject.

One path for every capture method: our own loop moves bytes between the
socket and OpenSSL, so timeouts, the byte cap and the recording of the raw
server bytes (for the sniff method) stay under our control.
"""
import ssl
from typing import Optional

from ibmi_trust.errors import HandshakeError, ProbeError
from ibmi_trust.probe.wire import MAX_TLS_IN, Wire

# OpenSSL reason codes -> words an operator understands.
_REASONS = {
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server refused our offer (handshake_failure: no common cipher, "
                                     "or no certificate for this key type)",
    "TLSV1_ALERT_PROTOCOL_VERSION": "no TLS version in common",
    "UNSUPPORTED_PROTOCOL": "no TLS version in common",
    "NO_PROTOCOLS_AVAILABLE": "no TLS version in common",
    "WRONG_VERSION_NUMBER": "the server did not answer with TLS",
    "RECORD_LAYER_FAILURE": "the server did not answer with TLS",
    "PACKET_LENGTH_TOO_LONG": "the server did not answer with TLS",
    "TLSV1_UNRECOGNIZED_NAME": "the server does not know the SNI name we sent",
    "TLSV1_ALERT_INTERNAL_ERROR": "the server reported an internal error",
    "UNEXPECTED_EOF_WHILE_READING": "the server closed the connection during the TLS handshake",
}


def _describe(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):      # only when the context verifies (a proof)
        return "certificate verify failed: error %s: %s" % (getattr(exc, "verify_code", "?"),
                                                            getattr(exc, "verify_message", "") or exc)
    reason = getattr(exc, "reason", None)
    if reason in _REASONS:
        return "%s [%s]" % (_REASONS[reason], reason)
    return reason or str(exc) or type(exc).__name__


def _flush(wire: Wire, outgoing: ssl.MemoryBIO) -> None:
    data = outgoing.read()
    if data:
        wire.send(data, "during the TLS handshake")


def _looks_like_plaintext(data: bytes) -> bool:
    """A banner (`220 `, `* OK`, `+OK`, `HTTP/`) where a TLS record (type 20-23) should start."""
    return data[:1].isalnum() or data[:1] in (b"*", b"+", b"-")


class Session:
    """A completed client handshake: the SSLObject and the raw server bytes."""

    def __init__(self, obj: ssl.SSLObject, outgoing: ssl.MemoryBIO, raw: bytes):
        self.obj = obj
        self.outgoing = outgoing
        self.raw = raw

    def goodbye(self, wire: Wire) -> None:
        """Best-effort close_notify; the connection is closed right after."""
        try:
            self.obj.unwrap()
        except ssl.SSLError:
            pass
        try:
            _flush(wire, self.outgoing)
        except ProbeError:
            pass


def handshake(wire: Wire, ctx: ssl.SSLContext, sni: Optional[str], record: bool) -> Session:
    """Complete a client handshake over `wire`. With `record`, keep every byte
    the server sent during it (Session.raw), for the sniff method."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=sni)
    raw = bytearray()
    first = True
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            _flush(wire, outgoing)
            data = wire.recv("during the TLS handshake")
            if not data:
                raise HandshakeError("%s closed the connection during the TLS handshake" % wire.where)
            if first and _looks_like_plaintext(data):
                raise HandshakeError("%s answered in plaintext, not TLS (%r...)" % (wire.where, data[:24]),
                                     hint="is this a STARTTLS port? try --protocol smtp, imap or pop3")
            first = False
            wire.tls_in += len(data)
            if wire.tls_in > MAX_TLS_IN:
                raise HandshakeError("%s sent more than %d bytes during the handshake" % (wire.where, MAX_TLS_IN))
            if record:
                raw += data
            incoming.write(data)
        except ssl.SSLError as exc:
            try:
                _flush(wire, outgoing)            # our alert, if OpenSSL queued one
            except ProbeError:
                pass
            error = HandshakeError("%s: TLS handshake failed: %s" % (wire.where, _describe(exc)))
            error.verify_code = getattr(exc, "verify_code", None)   # set by a verifying context
            raise error from None
    _flush(wire, outgoing)
    return Session(obj, outgoing, bytes(raw))
