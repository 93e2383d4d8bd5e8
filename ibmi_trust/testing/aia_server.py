"""A quiet loopback HTTP server for AIA tests and the selftest.

    with AiaServer() as srv:                      # 127.0.0.1, ephemeral port
        url = srv.serve("/inter.cer", inter.cert.der)
        srv.redirect("/old.cer", "/inter.cer")
        srv.huge("/huge.cer", 5 * 1024 * 1024)
        srv.drip("/slow.cer", inter.cert.der, delay=0.2)
        srv.loop("/loop.cer")
        srv.serve("/page.cer", b"<html>...</html>", "text/html")
        srv.requests                                # paths asked for, in order

`AiaServer(tls=(chain_pem, key_pem))` serves https instead. Also answers
proxy-style requests (absolute URL in the request line), so a
test can point http_proxy at it. Stdlib only (http.server, threaded);
stopping joins every thread, drips included, within about a second.
"""
import http.server
import os
import ssl
import tempfile
import threading
import urllib.parse
from typing import Dict, List, Optional, Tuple

CONTENT_TYPES = {
    "der": "application/pkix-cert",
    "pem": "application/x-pem-file",
    "p7c": "application/pkcs7-mime",
}


class AiaServer:
    """Routes path -> behaviour; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: Optional[Tuple[bytes, bytes]] = None):
        """tls: (chain_pem, key_pem) to serve https instead of http."""
        self._routes: Dict[str, Tuple] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.requests: List[str] = []
        server = _Server((host, port), _Handler)
        server.owner = self
        self.scheme = "http"
        if tls is not None:
            server.socket = _tls_context(*tls).wrap_socket(server.socket, server_side=True,
                                                          do_handshake_on_connect=False)
            self.scheme = "https"
        self._server = server
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle -----------------------------------------------------
    def start(self) -> "AiaServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="aia-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(2.0)

    def __enter__(self) -> "AiaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        host = self._server.server_address[0]
        host = "[%s]" % host if ":" in host else host
        return "%s://%s:%d%s" % (self.scheme, host, self.port, path)

    # -- routes --------------------------------------------------------
    def serve(self, path: str, body: bytes, content_type: str = CONTENT_TYPES["der"]) -> str:
        return self._add(path, ("body", bytes(body), content_type))

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self._add(path, ("redirect", location, status))

    def loop(self, path: str) -> str:
        """A redirect to itself."""
        return self.redirect(path, path)

    def huge(self, path: str, size: int, announce: bool = False) -> str:
        """`size` bytes of junk; Content-Length only when `announce`."""
        return self._add(path, ("huge", size, announce))

    def drip(self, path: str, body: bytes, delay: float = 0.2, chunk: int = 1) -> str:
        """`body` sent `chunk` bytes at a time, `delay` seconds apart."""
        return self._add(path, ("drip", bytes(body), delay, chunk))

    def status(self, path: str, code: int) -> str:
        return self._add(path, ("status", code))

    def _add(self, path: str, route: Tuple) -> str:
        with self._lock:
            self._routes[path] = route
        return self.url(path)

    def _route(self, path: str):
        with self._lock:
            self.requests.append(path)
            return self._routes.get(path)


def _tls_context(chain_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = os.path.join(folder, "chain.pem"), os.path.join(folder, "key.pem")
        with open(cert_file, "wb") as handle:
            handle.write(chain_pem)
        with open(key_file, "wb") as handle:
            handle.write(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return context


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: AiaServer

    def handle_error(self, request, client_address):  # clients that hang up are normal here
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        owner: AiaServer = self.server.owner
        path = urllib.parse.urlsplit(self.path).path or "/"
        route = owner._route(path)
        try:
            if route is None:
                self._simple(404, b"not found", "text/plain")
            else:
                getattr(self, "_" + route[0])(owner, *route[1:])
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError):
            pass

    def _simple(self, code: int, body: bytes, content_type: str):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self, owner, body, content_type):
        self._simple(200, body, content_type)

    def _status(self, owner, code):
        self._simple(code, b"error", "text/plain")

    def _redirect(self, owner, location, status):
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _huge(self, owner, size, announce):
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES["der"])
        if announce:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"\x00" * 65536
        sent = 0
        while sent < size and not owner._stop.is_set():
            part = block[:min(len(block), size - sent)]
            self.wfile.write(part)
            sent += len(part)

    def _drip(self, owner, body, delay, chunk):
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES["der"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for start in range(0, len(body), chunk):
            if owner._stop.wait(delay):
                return
            self.wfile.write(body[start:start + chunk])
            self.wfile.flush()
