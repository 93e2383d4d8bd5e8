"""How the presented chain is read after (or during) the handshake.

- "stdlib": the ssl module's own chain API: public SSLObject.get_unverified_chain()
  on 3.13+, the private _sslobj.get_unverified_chain() on 3.10-3.12;
- "ctypes": OpenSSL's SSL_get_peer_cert_chain() through ctypes (probe.openssl_chain),
  the way on 3.9, which has no chain API;
- "sniff": TLS 1.2 at most, and the Certificate message parsed from the raw
  handshake bytes (probe.tls12); works anywhere, but not with TLS-1.3-only servers.

`auto` tries them in that order, skipping what this interpreter lacks; a method
whose self-check fails (first certificate != getpeercert(True)) is disabled for
the rest of the process and the handshake is repeated with the next one.
IBMI_TRUST_CHAIN_CAPTURE=auto|stdlib|ctypes|sniff forces a choice.

A method is looked at only when the ones before it are out: where the stdlib
reads the chain (3.10+), ctypes is never imported.
"""
import os
import ssl
import threading
from typing import Iterator, List, Optional

from ibmi_trust.errors import ConfigError

ENV = "IBMI_TRUST_CHAIN_CAPTURE"
ORDER = ("stdlib", "ctypes", "sniff")
SNIFF_MAX_VERSION = "1.2"

_DISABLED = {}                  # method -> reason, process-wide
_LOCK = threading.Lock()


class Unusable(Exception):
    """The method cannot read the chain of this connection (self-check failed)."""


def _stdlib_present() -> bool:
    import _ssl

    return hasattr(ssl.SSLObject, "get_unverified_chain") or hasattr(_ssl._SSLSocket, "get_unverified_chain")


def supported(method: str) -> Optional[str]:
    """None when `method` can run in this interpreter, else why not."""
    if method == "stdlib":
        return None if _stdlib_present() else "Python %s has no chain API" % _py()
    if method == "ctypes":
        from ibmi_trust.probe import openssl_chain

        try:
            openssl_chain._lib()
        except openssl_chain.Unavailable as exc:
            return str(exc)
        return None
    if method == "sniff":
        return None
    raise ConfigError("%s=%s: unknown chain capture method (auto, %s)" % (ENV, method, ", ".join(ORDER)))


def candidates() -> Iterator[str]:
    """The methods to try, best first (one when forced); each is checked
    (supported, not disabled) only when the caller gets to it."""
    forced = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if forced != "auto":
        why = supported(forced)
        if why:
            raise ConfigError("%s=%s cannot run here: %s" % (ENV, forced, why))
        return iter([forced])
    return _usable(ORDER)


def _usable(order) -> Iterator[str]:
    for method in order:
        with _LOCK:
            disabled = method in _DISABLED
        if not disabled and supported(method) is None:
            yield method


def disable(method: str, reason: str) -> None:
    with _LOCK:
        _DISABLED[method] = reason


def needs_raw_bytes(method: str) -> bool:
    return method == "sniff"


def extract(method: str, sslobj, raw: Optional[bytes]) -> List[bytes]:
    """DER certificates in the order sent; raises Unusable when the method fails here."""
    if method == "stdlib":
        public = getattr(sslobj, "get_unverified_chain", None)        # 3.13+: DER bytes
        if public is not None:
            return [bytes(der) for der in (public() or ())]
        chain = sslobj._sslobj.get_unverified_chain() or ()           # 3.10-3.12: _ssl.Certificate
        import _ssl

        return [cert.public_bytes(_ssl.ENCODING_DER) for cert in chain]
    if method == "ctypes":
        from ibmi_trust.probe import openssl_chain

        try:
            return openssl_chain.peer_chain(sslobj)
        except openssl_chain.Unavailable as exc:
            raise Unusable(str(exc)) from None
    from ibmi_trust.probe import tls12

    try:
        return tls12.certificates(raw or b"")
    except tls12.NotFound as exc:
        raise Unusable("TLS 1.2 Certificate message not readable: %s" % exc) from None


def _py() -> str:
    import sys

    return "%d.%d" % sys.version_info[:2]
