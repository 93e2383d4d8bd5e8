"""One connection, one handshake, one chain: connect, run the plaintext
dialogue, handshake with the given offer, read the chain as sent.

Every capture is self-checked: the first certificate read must equal
getpeercert(binary_form=True). A method that fails the check is disabled for
the process and the connection is repeated with the next method (probe.methods).
"""
from typing import List, NamedTuple, Optional

from ibmi_trust.errors import HandshakeError, ProbeError
from ibmi_trust.probe import methods, offers, starttls
from ibmi_trust.probe.handshake import handshake
from ibmi_trust.probe.target import dialogue_of
from ibmi_trust.probe.wire import Wire


class Capture(NamedTuple):
    ders: List[bytes]               # DER certificates, in the order the server sent them
    method: str                     # "stdlib", "ctypes" or "sniff"
    tls_version: str                # e.g. "TLSv1.3"


def capture_offer(address: str, port: int, dialogue: Optional[str], *, sni: Optional[str],
                  offer: offers.Offer, ehlo: Optional[str], timeout: float,
                  deadline: Optional[float] = None) -> Capture:
    """The chain served to `offer` at address:port (dialogue: "smtp", "imap", "pop3" or None).
    `deadline` (time.monotonic()) ends the conversation when the whole probe's time is up."""
    reasons = []
    for method in methods.candidates():
        try:
            return _capture_once(method, address, port, dialogue, sni, offer, ehlo, timeout, deadline)
        except methods.Unusable as exc:
            methods.disable(method, str(exc))
            reasons.append("%s: %s" % (method, exc))
    raise ProbeError("cannot read the certificate chain in this Python (%s)" % ("; ".join(reasons) or "no method"))


def _capture_once(method, address, port, dialogue, sni, offer, ehlo, timeout, deadline=None) -> Capture:
    if method == "sniff":
        offer = offer.capped(methods.SNIFF_MAX_VERSION)
    ctx = offers.context_for(offer)
    with Wire(address, port, timeout, deadline) as wire:
        starttls.negotiate(wire, dialogue, ehlo)
        try:
            session = handshake(wire, ctx, sni, record=methods.needs_raw_bytes(method))
        except HandshakeError as exc:
            if method == "sniff" and "no TLS version in common" in exc.message:
                raise HandshakeError(exc.message + " (chain capture 'sniff' offers TLS 1.2 at most; "
                                     "the server may speak only TLS 1.3)") from None
            raise
        leaf = session.obj.getpeercert(binary_form=True)
        if not leaf:
            raise HandshakeError("%s presented no certificate" % wire.where)
        try:
            ders = methods.extract(method, session.obj, session.raw)
        except methods.Unusable as exc:
            if method == "sniff":
                raise HandshakeError("%s: %s" % (wire.where, exc)) from None
            raise
        if not ders or ders[0] != leaf:
            if method == "sniff":
                raise HandshakeError("%s: the Certificate message does not start with the peer certificate" % wire.where)
            raise methods.Unusable("the first certificate read does not match the peer certificate")
        result = Capture(ders, method, session.obj.version() or "")
        session.goodbye(wire)
    return result


def capture_chain(address: str, port: int, protocol: str, *, sni: Optional[str] = None, key_type: str = "ecdsa",
                  ehlo: Optional[str] = None, timeout: float = 10.0, tls_version: Optional[str] = None) -> List[bytes]:
    """DER certificates as sent by one server for one offer: the cheap single call."""
    return capture_offer(address, port, dialogue_of(protocol), sni=sni,
                         offer=offers.offer_for(key_type, tls_version), ehlo=ehlo, timeout=timeout).ders
