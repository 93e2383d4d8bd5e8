"""One bounded HTTP(S) GET, for AIA caIssuers URLs.

Bounds (all enforced here, whatever the server does):
- http and https only; anything else is refused before a socket is opened;
- one total deadline per URL, redirects included: a watchdog shuts the
  socket down when it passes, so a server that drips one byte at a time
  cannot keep us waiting (a per-read timeout would never fire);
- a body cap (Content-Length checked first, then counted while reading);
- at most `max_redirects` redirects, a loop is reported as a loop.

TLS of an https AIA URL is not verified: what is fetched is a certificate
whose signature the caller checks against the certificate that named the
URL, so the transport adds no trust (and RFC 5280 4.2.2.1 expects plain
http for caIssuers, because verifying https could need the very issuer
being fetched). docs/analysis.md records this decision.

A plain-http AIA URL goes through the proxy named by http_proxy / no_proxy
when one is set (urllib's rules); https AIA URLs connect directly.
"""
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from typing import NamedTuple, Optional

from ibmi_trust import __version__
from ibmi_trust.errors import FetchError

REDIRECT_CODES = (301, 302, 303, 307, 308)
ACCEPT = ("application/pkix-cert, application/pkcs7-mime, application/x-x509-ca-cert, "
          "application/x-pem-file, */*;q=0.1")
_CHUNK = 16384


class FetchFailed(FetchError):
    """A fetch that did not give a body; `reason` is a stable short code.

    reason: unsupported-scheme, bad-url, timeout, too-large, too-many-redirects,
    redirect-loop, http-status, connection.
    """

    def __init__(self, reason: str, message: str, url: str):
        super().__init__(message)
        self.reason = reason
        self.url = url


class Response(NamedTuple):
    url: str            # the URL asked for
    final_url: str      # after redirects
    content_type: str
    body: bytes


def fetch(url: str, *, timeout: float = 10.0, max_bytes: int = 1024 * 1024,
          max_redirects: int = 3) -> Response:
    """GET `url` within the bounds above; raises FetchFailed."""
    deadline = time.monotonic() + timeout
    seen = [url]
    current = url
    while True:
        status, location, content_type, body = _get_once(current, deadline, max_bytes)
        if status in REDIRECT_CODES:
            if not location:
                raise FetchFailed("http-status", "HTTP %d without a Location header" % status, url)
            target = urllib.parse.urljoin(current, location)
            if target in seen:
                raise FetchFailed("redirect-loop", "redirect loop at %s" % target, url)
            if len(seen) > max_redirects:
                raise FetchFailed("too-many-redirects", "more than %d redirects" % max_redirects, url)
            seen.append(target)
            current = target
            continue
        if status != 200:
            raise FetchFailed("http-status", "HTTP %d from %s" % (status, current), url)
        return Response(url, current, content_type, body)


def scheme_of(url: str) -> str:
    return urllib.parse.urlsplit(url).scheme.lower()


def _get_once(url: str, deadline: float, max_bytes: int):
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchFailed("unsupported-scheme", "%s: URLs are not followed" % (scheme or "scheme-less"), url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = None
    if not host:
        raise FetchFailed("bad-url", "no host in %s" % url, url)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailed("timeout", "time limit reached before %s" % url, url)
    conn, request_target = _connection(scheme, host, port, parts, remaining)
    watchdog = _Watchdog(conn, remaining)
    try:
        conn.request("GET", request_target, headers={
            "User-Agent": "ibmi-trust/%s" % __version__, "Accept": ACCEPT, "Connection": "close"})
        response = conn.getresponse()
        if response.status in REDIRECT_CODES:
            return response.status, response.getheader("Location"), "", b""
        if response.status != 200:
            return response.status, None, "", b""
        declared = response.getheader("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > max_bytes:
            raise FetchFailed("too-large", "%s bytes announced, limit %d" % (declared.strip(), max_bytes), url)
        body = _read_capped(response, max_bytes, deadline, url)
        return 200, None, response.getheader("Content-Type", "") or "", body
    except FetchFailed:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if watchdog.fired or time.monotonic() >= deadline:
            raise FetchFailed("timeout", "no complete answer within the time limit", url) from None
        raise FetchFailed("connection", _describe(exc), url) from None
    finally:
        watchdog.cancel()
        conn.close()


def _connection(scheme, host, port, parts, timeout):
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if scheme == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE   # see the module docstring
        return http.client.HTTPSConnection(host, port or 443, timeout=timeout, context=context), path
    proxy = _http_proxy(host)
    if proxy is not None:
        p = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        absolute = urllib.parse.urlunsplit(("http", parts.netloc, parts.path or "/", parts.query, ""))
        return http.client.HTTPConnection(p.hostname, p.port or 80, timeout=timeout), absolute
    return http.client.HTTPConnection(host, port or 80, timeout=timeout), path


def _http_proxy(host: str) -> Optional[str]:
    proxy = urllib.request.getproxies().get("http")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


def _read_capped(response, max_bytes: int, deadline: float, url: str) -> bytes:
    chunks = []
    total = 0
    while True:
        if time.monotonic() >= deadline:
            raise FetchFailed("timeout", "no complete answer within the time limit", url)
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise FetchFailed("too-large", "answer larger than %d bytes" % max_bytes, url)
        chunks.append(chunk)


class _Watchdog:
    """Shuts the connection's socket down when the deadline passes."""

    def __init__(self, conn, seconds: float):
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self):
        self.fired = True
        sock = getattr(self._conn, "sock", None)
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self):
        self._timer.cancel()


def _describe(exc: Exception) -> str:
    if isinstance(exc, socket.gaierror):
        return "name does not resolve (%s)" % (exc.strerror or exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]
