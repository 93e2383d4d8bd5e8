"""The peer's chain straight from OpenSSL, through ctypes, for Pythons whose
ssl module exposes no chain (3.9).

We call the OpenSSL that `_ssl` itself loaded (ctypes.CDLL(_ssl.__file__)
resolves libssl's symbols through _ssl's own dependencies), so no second
copy of OpenSSL is ever mapped. SSL_get_peer_cert_chain() on the client side
returns the whole chain as sent, leaf first.

The SSL* pointer is not exposed by Python: it is read from the PySSLSocket
struct (PyObject_HEAD, Socket weakref, SSL*, PySSLContext*, ...), located by
finding the word that equals id(context) and taking the word before it. It is
then confirmed with SSL_get_SSL_CTX() against the SSL_CTX* held by the
context object, before anything else touches it; the caller additionally
checks that the first certificate equals getpeercert(binary_form=True).
"""
import ctypes
import threading
from typing import List, Optional

_WORDS = 8                      # how far into PySSLSocket we look for the context pointer


class Unavailable(Exception):
    """This process cannot read the chain this way."""


class _OpenSSL:
    def __init__(self):
        import _ssl

        lib = ctypes.CDLL(_ssl.__file__)
        vp = ctypes.c_void_p
        self.get_chain = self._fn(lib, ["SSL_get_peer_cert_chain"], vp, [vp])
        self.get_ctx = self._fn(lib, ["SSL_get_SSL_CTX"], vp, [vp])
        self.sk_num = self._fn(lib, ["OPENSSL_sk_num", "sk_num"], ctypes.c_int, [vp])        # 1.1/3.x, 1.0
        self.sk_value = self._fn(lib, ["OPENSSL_sk_value", "sk_value"], vp, [vp, ctypes.c_int])
        self.i2d = self._fn(lib, ["i2d_X509"], ctypes.c_int, [vp, ctypes.POINTER(vp)])

    @staticmethod
    def _fn(lib, names, restype, argtypes):
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype, fn.argtypes = restype, argtypes
                return fn
        raise Unavailable("OpenSSL symbol %s not found through _ssl" % " / ".join(names))


_LIB: Optional[_OpenSSL] = None
_LIB_ERROR: Optional[str] = None
_LOCK = threading.Lock()


def _lib() -> _OpenSSL:
    global _LIB, _LIB_ERROR
    with _LOCK:
        if _LIB is None and _LIB_ERROR is None:
            try:
                _LIB = _OpenSSL()
            except (OSError, AttributeError, ImportError, Unavailable) as exc:
                _LIB_ERROR = str(exc) or type(exc).__name__
        if _LIB is None:
            raise Unavailable(_LIB_ERROR)
        return _LIB


def available() -> bool:
    try:
        _lib()
    except Unavailable:
        return False
    return True


def _ssl_pointer(lib: _OpenSSL, sslobj) -> int:
    inner = sslobj._sslobj                          # _ssl._SSLSocket (PySSLSocket)
    context = inner.context
    words = (ctypes.c_void_p * _WORDS).from_address(id(inner))
    ctx_words = (ctypes.c_void_p * 3).from_address(id(context))   # PyObject_HEAD, SSL_CTX*
    for index in range(3, _WORDS):                  # after PyObject_HEAD and the Socket weakref
        if words[index] == id(context) and words[index - 1]:
            candidate = words[index - 1]
            if ctx_words[2] and lib.get_ctx(candidate) == ctx_words[2]:
                return candidate
            break
    raise Unavailable("could not locate the SSL* of this connection")


def peer_chain(sslobj) -> List[bytes]:
    """DER certificates as the server sent them (client side: leaf first)."""
    lib = _lib()
    stack = lib.get_chain(_ssl_pointer(lib, sslobj))
    if not stack:
        return []
    out = []
    for index in range(lib.sk_num(stack)):
        x509 = lib.sk_value(stack, index)
        size = lib.i2d(x509, None)
        if size <= 0:
            raise Unavailable("i2d_X509 failed")
        buf = ctypes.create_string_buffer(size)
        cursor = ctypes.c_void_p(ctypes.addressof(buf))
        if lib.i2d(x509, ctypes.byref(cursor)) != size:
            raise Unavailable("i2d_X509 wrote an unexpected length")
        out.append(buf.raw)
    return out
