"""Certificate signatures checked by the OpenSSL that Python's `ssl` already
loaded, through ctypes: X509_verify(child, X509_get0_pubkey(issuer)), the
very call OpenSSL's own internal_verify makes.

Why: it keeps cryptography (about 12 MiB and 50-100 ms to import) out of a
`check` against a CApath or bundle store, and it is exactly OpenSSL's
answer (RSA-PSS parameters, explicit EC curves and all), which is what the
OpenSSL validator models. The library is reached through `_ssl`'s own
dependencies (ctypes.CDLL(_ssl.__file__)), as probe/openssl_chain.py does,
so no second OpenSSL is mapped.

On first use a self-check verifies a known certificate and a copy with one
signature bit flipped (True, then False); anything unexpected, a missing
symbol, or IBMI_TRUST_SIGNATURES=cryptography, and `verify` answers None:
the caller falls back to cryptography.
"""
import base64
import ctypes
import os
import threading
from typing import Optional

ENV = "IBMI_TRUST_SIGNATURES"       # "auto" (default) or "cryptography"
# A self-signed P-256 certificate (CN=ibmi-trust self-check), for the self-check.
_KNOWN = base64.b64decode(
    "MIIBQDCB6KADAgECAgEBMAoGCCqGSM49BAMCMCAxHjAcBgNVBAMMFWlibWktdHJ1c3Qgc2VsZi1jaGVjazAeFw0yNjAxMDEw"
    "MDAwMDBaFw0zNjAxMDEwMDAwMDBaMCAxHjAcBgNVBAMMFWlibWktdHJ1c3Qgc2VsZi1jaGVjazBZMBMGByqGSM49AgEGCCqG"
    "SM49AwEHA0IABAlkJ7yIZG72IZcISF6fRBQ/iBI9T50VTnd7V7kfTgDiZMnq1jYjiwuwtRLazLDUZpdEveP1qEnDIBxEyH+h"
    "Q2OjEzARMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgYGm3E7kRmCLLw1KzMxsjHmaqzRAuTC00VvFuIlaC"
    "KSMCICPrzwd1uobk/cQzfqWyKovFSgPKxfp4ODOgp7t0b6Jf")


class _Lib:
    def __init__(self):
        import _ssl

        lib = ctypes.CDLL(_ssl.__file__)
        vp = ctypes.c_void_p
        self.d2i = _fn(lib, "d2i_X509", vp, [vp, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long])
        self.free = _fn(lib, "X509_free", None, [vp])
        self.pubkey = _fn(lib, "X509_get0_pubkey", vp, [vp])
        self.verify = _fn(lib, "X509_verify", ctypes.c_int, [vp, vp])
        self.clear = _fn(lib, "ERR_clear_error", None, [])

    def check(self, child: bytes, issuer: bytes) -> Optional[bool]:
        child_x = self._load(child)
        if not child_x:
            return None
        issuer_x = self._load(issuer)
        try:
            if not issuer_x:
                return None
            key = self.pubkey(issuer_x)
            if not key:
                return False                         # a key OpenSSL cannot decode verifies nothing
            return self.verify(child_x, key) == 1
        finally:
            self.free(child_x)
            if issuer_x:
                self.free(issuer_x)
            self.clear()

    def _load(self, der: bytes):
        cursor = ctypes.c_char_p(der)
        return self.d2i(None, ctypes.byref(cursor), len(der))


def _fn(lib, name, restype, argtypes):
    fn = getattr(lib, name)                          # AttributeError when the symbol is missing
    fn.restype, fn.argtypes = restype, argtypes
    return fn


_LIB = None
_STATE = "unknown"                                 # "unknown", "ready", "unusable"
_LOCK = threading.Lock()


def _ready() -> Optional[_Lib]:
    global _LIB, _STATE
    if _STATE == "ready":
        return _LIB
    if _STATE == "unusable":
        return None
    with _LOCK:
        if _STATE == "unknown":
            _STATE = "unusable"
            if os.environ.get(ENV, "auto").strip().lower() != "cryptography":
                try:
                    lib = _Lib()
                    flipped = bytearray(_KNOWN)
                    flipped[-5] ^= 0x01                  # one bit of the signature
                    if lib.check(_KNOWN, _KNOWN) is True and lib.check(bytes(flipped), _KNOWN) is False:
                        _LIB, _STATE = lib, "ready"
                except (OSError, AttributeError, ImportError, ValueError):
                    pass
    return _LIB


def verify(child_der: bytes, issuer_der: bytes) -> Optional[bool]:
    """Does `issuer`'s key verify `child`'s signature? None when this way is not
    available (or OpenSSL cannot parse one of them): ask cryptography."""
    lib = _ready()
    return lib.check(child_der, issuer_der) if lib is not None else None


def available() -> bool:
    return _ready() is not None
