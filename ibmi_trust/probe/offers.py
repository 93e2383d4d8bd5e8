"""What the probe offers in its ClientHello, and the SSLContext for each offer.

- "ecdsa": an ECDSA-capable offer (OpenSSL's defaults, TLS 1.3 allowed), so a
  dual-certificate server may present its ECDSA certificate;
- "rsa": TLS 1.2 at most and only RSA-authenticated suites, so a
  dual-certificate server must present its RSA certificate (the stdlib has no
  signature-algorithms API; in TLS 1.2 the suite decides);
- "system": what IBM i's System TLS allows (probe.like_system).

We capture, we do not verify: CERT_NONE, no host name check, no CA loading,
security level 0 (weak keys and old versions must still show their chain),
no session reuse (a resumed handshake carries no certificates). Contexts are
built once per distinct offer and shared by all threads.
"""
import ssl
import threading
import warnings
from typing import Dict, NamedTuple, Optional

from ibmi_trust.errors import ConfigError

KEY_TYPES = ("ecdsa", "rsa")
TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
RSA_ONLY_CIPHERS = "aRSA:!aNULL:!eNULL:@SECLEVEL=0"
DEFAULT_CIPHERS = "DEFAULT:!aNULL:!eNULL:@SECLEVEL=0"


class Offer(NamedTuple):
    key_type: str                   # "ecdsa", "rsa" or "system"
    min_version: str                # "1.0" .. "1.3"
    max_version: str
    ciphers: str                    # OpenSSL cipher string (TLS <= 1.2 suites)

    def capped(self, max_version: str) -> "Offer":
        """The same offer with at most `max_version` (the sniff capture needs TLS 1.2)."""
        if float(self.max_version) <= float(max_version):
            return self
        if float(self.min_version) > float(max_version):
            raise ConfigError("offer %s needs TLS %s or newer; this chain capture method reads TLS %s at most"
                              % (self.key_type, self.min_version, max_version))
        return self._replace(max_version=max_version)


def offer_for(key_type: str, tls_version: Optional[str] = None) -> Offer:
    """The offer for a key type, optionally pinned to one TLS version."""
    if tls_version is not None and tls_version not in TLS_VERSIONS:
        raise ConfigError("unknown TLS version %r (one of %s)" % (tls_version, ", ".join(TLS_VERSIONS)))
    if key_type == "ecdsa":
        low, high = tls_version or "1.0", tls_version or "1.3"
        return Offer("ecdsa", low, high, DEFAULT_CIPHERS)
    if key_type == "rsa":
        if tls_version == "1.3":
            raise ConfigError("the RSA-only offer needs TLS 1.2 or older (TLS 1.3 suites do not name the key type)")
        low, high = tls_version or "1.0", tls_version or "1.2"
        return Offer("rsa", low, high, RSA_ONLY_CIPHERS)
    raise ConfigError("unknown key type %r (one of %s)" % (key_type, ", ".join(KEY_TYPES)))


_CONTEXTS: Dict[Offer, ssl.SSLContext] = {}
_LOCK = threading.Lock()


def context_for(offer: Offer) -> ssl.SSLContext:
    with _LOCK:
        ctx = _CONTEXTS.get(offer)
        if ctx is None:
            ctx = _CONTEXTS[offer] = _build(offer)
        return ctx


def _build(offer: Offer) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.options |= ssl.OP_NO_TICKET
    try:
        ctx.set_ciphers(offer.ciphers)
    except ssl.SSLError:
        raise ConfigError("this OpenSSL (%s) supports none of the ciphers %r"
                          % (ssl.OPENSSL_VERSION, offer.ciphers)) from None
    # "1.0" as the floor means "as old as this OpenSSL goes"; naming TLSv1/1.1
    # explicitly is deprecated in 3.10+ but still what --tls-version 1.0 asks for.
    low = ssl.TLSVersion.MINIMUM_SUPPORTED if offer.min_version == "1.0" else TLS_VERSIONS[offer.min_version]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = low
            ctx.maximum_version = TLS_VERSIONS[offer.max_version]
    except (ValueError, ssl.SSLError) as exc:
        raise ConfigError("this OpenSSL (%s) cannot offer TLS %s..%s: %s"
                          % (ssl.OPENSSL_VERSION, offer.min_version, offer.max_version, exc)) from None
    return ctx
