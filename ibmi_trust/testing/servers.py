"""Loopback TLS mail servers (stdlib only) for the test suite and `selftest`.

    plan = ChainPlan(default=[(rsa_chain_pem, rsa_key_pem), (ec_chain_pem, ec_key_pem)],
                     by_address={"127.0.0.3": (other_chain_pem, other_key_pem)},
                     by_sni={"other.example.test": (sni_chain_pem, sni_key_pem)},
                     minority=(odd_chain_pem, odd_key_pem), minority_share=0.05)
    with MailServer("smtp", host=["127.0.0.2", "127.0.0.3"], chains=plan, seed=1) as srv:
        srv.port, srv.addresses, srv.resolve_map("mx.example.test")

- Protocols: smtp/submission (STARTTLS), smtps (implicit), imap (STARTTLS),
  imaps, pop3 (STLS), pop3s, https (implicit; answers one request).
- Chains are (chain_pem, key_pem) pairs loaded with load_cert_chain from a
  file holding exactly the given bytes, so a server sends them verbatim
  (leaf-only, misordered, extra or duplicate certificates). Several pairs in
  one set (RSA + EC) make a dual-certificate server: OpenSSL picks by the
  client's offer.
- One set per listening address, per SNI name, and a "minority" set served
  on a seeded random share of connections (chosen per connection, in accept
  order, so a seed fixes the sequence).
- Misbehaviours (`misbehave=`): "no-starttls", "starttls-454",
  "garbage-banner", "error-greeting" (554), "close-in-handshake", "silent"
  (accepts and never answers), "inject-after-starttls" (extra bytes after
  the go-ahead); `split_replies=True` writes every reply in small pieces.
- Stalling after a while (`stall_after=N`): the first N connections are
  served, every later one stalls: silent, or with `trickle_every=S` one
  byte of the greeting every S seconds (a per-read timeout never fires).
  N = the client's combinations gives "one handshake per connection kind,
  then stalls".
- Quiet (client aborts are expected, never printed) and prompt to stop: the
  context manager's exit closes every socket and joins every thread within 2 s.
"""
import os
import random
import shutil
import socket
import ssl
import tempfile
import threading
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

Creds = Union[Tuple[bytes, bytes], Sequence[Tuple[bytes, bytes]]]

IMPLICIT = {"smtps", "imaps", "pop3s", "https"}
DIALOGUE = {"smtp": "smtp", "submission": "smtp", "smtps": "smtp", "imap": "imap", "imaps": "imap",
            "pop3": "pop3", "pop3s": "pop3", "https": "https"}
MISBEHAVIOURS = {None, "no-starttls", "starttls-454", "garbage-banner", "error-greeting",
                 "close-in-handshake", "silent", "inject-after-starttls"}
IO_TIMEOUT = 5.0
MAX_COMMANDS = 1000               # per connection and phase
STOP_BUDGET = 2.0
GRACE = 0.5                     # of STOP_BUDGET, for connections to finish by themselves


def _pairs(creds: Creds) -> List[Tuple[bytes, bytes]]:
    if isinstance(creds, tuple) and len(creds) == 2 and isinstance(creds[0], (bytes, str)):
        return [creds]
    return list(creds)


class ChainPlan:
    """Which certificate set the server presents, by address, SNI and chance."""

    def __init__(self, default: Creds, *, by_address: Optional[Dict[str, Creds]] = None,
                 by_sni: Optional[Dict[str, Creds]] = None, minority: Optional[Creds] = None,
                 minority_share: float = 0.0):
        if minority is not None and not 0.0 < minority_share < 1.0:
            raise ValueError("minority_share must be between 0 and 1")
        self.default = _pairs(default)
        self.by_address = {k: _pairs(v) for k, v in (by_address or {}).items()}
        self.by_sni = {k.lower(): _pairs(v) for k, v in (by_sni or {}).items()}
        self.minority = _pairs(minority) if minority is not None else None
        self.minority_share = minority_share


class MailServer:
    def __init__(self, protocol: str, host: Union[str, Sequence[str]] = "127.0.0.1", port: int = 0, *,
                 chains: Union[ChainPlan, Creds], misbehave: Optional[str] = None, split_replies: bool = False,
                 seed: int = 0, tls_versions: Optional[Tuple[ssl.TLSVersion, ssl.TLSVersion]] = None,
                 name: str = "mx.example.test", stall_after: Optional[int] = None,
                 trickle_every: Optional[float] = None):
        if protocol not in DIALOGUE:
            raise ValueError("unknown protocol %r" % protocol)
        if misbehave not in MISBEHAVIOURS:
            raise ValueError("unknown misbehaviour %r" % misbehave)
        self.protocol = protocol
        self.addresses = [host] if isinstance(host, str) else list(host)
        self.plan = chains if isinstance(chains, ChainPlan) else ChainPlan(chains)
        self.misbehave = misbehave
        self.split_replies = split_replies
        self.stall_after = stall_after
        self.trickle_every = trickle_every
        self.stalled = 0                     # connections made to stall
        self.name = name
        self.port = port
        self.connections = 0                 # accepted
        self.handshakes = 0                  # completed
        self.served: List[str] = []          # which set each completed handshake used
        self.sni_seen: List[Optional[str]] = []
        self.commands: List[str] = []        # plaintext commands received before TLS
        self.errors: List[str] = []          # swallowed handler errors, for debugging a failing test
        self._tls_versions = tls_versions
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listeners: List[socket.socket] = []
        self._threads: List[threading.Thread] = []
        self._conns = set()
        self._contexts = {}

    # -- lifecycle ----------------------------------------------------------
    def __enter__(self) -> "MailServer":
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> "MailServer":
        directory = tempfile.mkdtemp(prefix="ibmi-trust-srv-")
        try:
            self._contexts = self._build_contexts(directory)     # the PEM files are read here, then removed
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        try:
            self._bind()
        except BaseException:
            self.stop()
            raise
        for listener in self._listeners:
            self._spawn(self._accept_loop, listener)
        return self

    def stop(self) -> None:
        """Stop accepting, let connections end on their own for a moment (so
        counters are final), then close what is left; all within STOP_BUDGET."""
        self._stop.set()
        deadline = time.monotonic() + STOP_BUDGET
        grace = time.monotonic() + GRACE
        for thread in list(self._threads):
            thread.join(max(0.0, grace - time.monotonic()))
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _hard_close(conn)
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        for listener in self._listeners:
            _hard_close(listener)
        self._listeners = []

    def resolve_map(self, name: Optional[str] = None) -> Dict[str, List[str]]:
        """{"name:port": [addresses]}: a --resolve pin pointing `name` at this server."""
        return {"%s:%d" % (name or self.name, self.port): list(self.addresses)}

    # -- setup --------------------------------------------------------------
    def _context(self, pairs, label, directory) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # security level 0: a test server serves whatever chain it is given (SHA-1,
        # RSA-1024), verbatim; judging it is the client's business
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        if self._tls_versions:
            ctx.minimum_version, ctx.maximum_version = self._tls_versions
        for index, (chain_pem, key_pem) in enumerate(pairs):
            base = os.path.join(directory, "%s-%d" % (label, index))
            for suffix, data in ((".pem", chain_pem), (".key", key_pem)):
                with open(base + suffix, "wb") as fh:
                    fh.write(data if isinstance(data, bytes) else data.encode("ascii"))
            ctx.load_cert_chain(base + ".pem", base + ".key")
        ctx.sni_callback = self._on_sni
        return ctx

    def _build_contexts(self, directory):
        plan = self.plan
        out = {"default": self._context(plan.default, "default", directory)}
        for index, (addr, pairs) in enumerate(plan.by_address.items()):
            out["address:" + addr] = self._context(pairs, "address%d" % index, directory)
        for index, (sni, pairs) in enumerate(plan.by_sni.items()):
            out["sni:" + sni] = self._context(pairs, "sni%d" % index, directory)
        if plan.minority is not None:
            out["minority"] = self._context(plan.minority, "minority", directory)
        return out

    def _bind(self) -> None:
        for attempt in range(20):
            try:
                port = self.port
                for addr in self.addresses:
                    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    self._listeners.append(sock)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((addr, port))
                    sock.listen(64)
                    sock.settimeout(0.1)
                    port = sock.getsockname()[1]
                self.port = port
                return
            except OSError:
                for sock in self._listeners:
                    sock.close()
                self._listeners = []
                if self.port or attempt == 19:
                    raise

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    # -- per connection -----------------------------------------------------
    def _accept_loop(self, listener: socket.socket) -> None:
        local = listener.getsockname()[0]
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.add(conn)
                stall = self.stall_after is not None and self.connections > self.stall_after
                self.stalled += stall
            if stall:
                self._spawn(self._stall, conn)
                continue
            label, ctx = self._pick(local)              # here, so the seeded draws follow accept order
            self._spawn(self._serve, conn, label, ctx)

    def _stall(self, conn: socket.socket) -> None:
        """Hold the connection without finishing anything (see stall_after)."""
        try:
            # what the client waits for first: a banner, or a TLS record it never gets the end of
            greeting = (b"\x16\x03\x03\x40\x00" if self.protocol in IMPLICIT else b"220 ") + b"x" * 4096
            for index in range(len(greeting)):
                if self._stop.wait(self.trickle_every or 60):
                    return
                if self.trickle_every:
                    conn.sendall(greeting[index:index + 1])
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            _hard_close(conn)

    def _pick(self, local: str) -> Tuple[str, ssl.SSLContext]:
        label = "address:" + local if "address:" + local in self._contexts else "default"
        if "minority" in self._contexts:
            with self._lock:
                if self._rng.random() < self.plan.minority_share:
                    label = "minority"
        return label, self._contexts[label]

    def _on_sni(self, sslobj, server_name, _ctx):
        name = server_name.lower() if server_name else None
        with self._lock:
            self.sni_seen.append(name)
        if name and "sni:" + name in self._contexts:
            sslobj.context = self._contexts["sni:" + name]
            sslobj._ibmi_trust_label = "sni:" + name
        return None

    def _serve(self, conn: socket.socket, label: str, ctx: ssl.SSLContext) -> None:
        sockets = [conn]
        try:
            if self._stop.is_set():
                return
            conn.settimeout(IO_TIMEOUT)
            dialogue = DIALOGUE[self.protocol]
            if self.misbehave == "silent":
                self._stop.wait(60)
                return
            if self.protocol not in IMPLICIT:
                if not _PLAINTEXT[dialogue](self, _LineIO(conn, self.split_replies, self.commands)):
                    return
            if self.misbehave == "close-in-handshake":
                conn.recv(4096)                       # the ClientHello, then hang up
                return
            tls = ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            sockets.append(tls)
            with self._lock:
                self._conns.add(tls)
            tls.do_handshake()
            with self._lock:
                self.handshakes += 1
                self.served.append(getattr(tls, "_ibmi_trust_label", label))
            _AFTER_TLS[dialogue](self, _LineIO(tls, False))
        except Exception as exc:                        # quiet: clients abort on purpose
            with self._lock:
                self.errors.append("%s: %s" % (type(exc).__name__, exc))
        finally:
            with self._lock:
                self._conns.difference_update(sockets)
            for sock in reversed(sockets):
                _hard_close(sock)


class _LineIO:
    def __init__(self, sock, split: bool, log: Optional[List[str]] = None):
        self.sock = sock
        self.split = split
        self.log = log
        self.buf = b""

    def send(self, text: str) -> None:
        data = text.encode("ascii")
        if not self.split:
            self.sock.sendall(data)
            return
        for start in range(0, len(data), 7):          # pieces that cut through lines and CRLFs
            self.sock.sendall(data[start:start + 7])
            time.sleep(0.002)

    def line(self) -> Optional[str]:
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                return None
            self.buf += data
            if len(self.buf) > 65536:
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode("ascii", "replace")
        if self.log is not None:
            self.log.append(text)
        return text


# -- plaintext dialogues: return True to continue with TLS -----------------
def _smtp_plain(srv: MailServer, io: _LineIO) -> bool:
    if srv.misbehave == "garbage-banner":
        io.send("\x7fHELLO? this is not a mail server\r\n")
        io.line()
        return False
    if srv.misbehave == "error-greeting":
        io.send("554-%s no SMTP service here\r\n554 5.3.2 go away\r\n" % srv.name)
        io.line()
        return False
    io.send("220 %s ESMTP ibmi-trust test server\r\n" % srv.name)
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if line is None:
            return False
        verb = line.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            caps = ["PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES"]
            if srv.misbehave != "no-starttls":
                caps.append("STARTTLS")
            caps.append("8BITMIME")
            lines = [srv.name] + caps
            io.send("".join("250%s%s\r\n" % ("-" if i < len(lines) - 1 else " ", text)
                            for i, text in enumerate(lines)))
        elif verb == "STARTTLS":
            if srv.misbehave == "no-starttls":
                io.send("502 5.5.1 command not implemented\r\n")
            elif srv.misbehave == "starttls-454":
                io.send("454 4.7.0 TLS not available due to local problem\r\n")
            elif srv.misbehave == "inject-after-starttls":
                io.send("220 2.0.0 Ready to start TLS\r\n250 injected\r\n")
                return True
            else:
                io.send("220 2.0.0 Ready to start TLS\r\n")
                return True
        elif verb == "QUIT":
            io.send("221 2.0.0 bye\r\n")
            return False
        elif verb == "NOOP":
            io.send("250 2.0.0 ok\r\n")
        else:
            io.send("530 5.7.0 Must issue a STARTTLS command first\r\n")
    return False


def _imap_plain(srv: MailServer, io: _LineIO) -> bool:
    if srv.misbehave == "garbage-banner":
        io.send("HTTP/1.1 400 Bad Request\r\n\r\n")
        io.line()
        return False
    if srv.misbehave == "error-greeting":
        io.send("* BYE ibmi-trust test server unavailable\r\n")
        return False
    starttls = "" if srv.misbehave == "no-starttls" else " STARTTLS"
    io.send("* OK [CAPABILITY IMAP4rev1%s LOGINDISABLED] ibmi-trust test server ready\r\n" % starttls)
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if line is None:
            return False
        tag, _, rest = line.partition(" ")
        verb = rest.split(" ", 1)[0].upper()
        if verb == "CAPABILITY":
            io.send("* CAPABILITY IMAP4rev1%s LOGINDISABLED\r\n%s OK CAPABILITY completed\r\n" % (starttls, tag))
        elif verb == "STARTTLS":
            if srv.misbehave in ("no-starttls", "starttls-454"):
                io.send("%s NO STARTTLS unavailable\r\n" % tag)
            elif srv.misbehave == "inject-after-starttls":
                io.send("%s OK Begin TLS negotiation now\r\n* OK injected\r\n" % tag)
                return True
            else:
                io.send("%s OK Begin TLS negotiation now\r\n" % tag)
                return True
        elif verb == "LOGOUT":
            io.send("* BYE logging out\r\n%s OK LOGOUT completed\r\n" % tag)
            return False
        else:
            io.send("%s BAD command unknown or not allowed before STARTTLS\r\n" % tag)
    return False


def _pop3_plain(srv: MailServer, io: _LineIO) -> bool:
    if srv.misbehave == "garbage-banner":
        io.send("SSH-2.0-OpenSSH_9.2\r\n")
        io.line()
        return False
    if srv.misbehave == "error-greeting":
        io.send("-ERR ibmi-trust test server unavailable\r\n")
        return False
    io.send("+OK ibmi-trust test server ready\r\n")
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if line is None:
            return False
        verb = line.split(" ", 1)[0].upper()
        if verb == "CAPA":
            stls = "" if srv.misbehave == "no-starttls" else "STLS\r\n"
            io.send("+OK Capability list follows\r\nTOP\r\nUIDL\r\n%sPIPELINING\r\n.\r\n" % stls)
        elif verb == "STLS":
            if srv.misbehave in ("no-starttls", "starttls-454"):
                io.send("-ERR TLS not available\r\n")
            elif srv.misbehave == "inject-after-starttls":
                io.send("+OK Begin TLS negotiation\r\n+OK injected\r\n")
                return True
            else:
                io.send("+OK Begin TLS negotiation\r\n")
                return True
        elif verb == "QUIT":
            io.send("+OK bye\r\n")
            return False
        else:
            io.send("-ERR command not allowed before STLS\r\n")
    return False


# -- after the handshake: enough of each protocol to end politely ----------
def _smtp_tls(srv: MailServer, io: _LineIO) -> None:
    if srv.protocol == "smtps":
        io.send("220 %s ESMTP ibmi-trust test server\r\n" % srv.name)
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if line is None:
            return
        verb = line.split(" ", 1)[0].upper()
        if verb == "QUIT":
            io.send("221 2.0.0 bye\r\n")
            return
        io.send("250 %s\r\n" % ("%s hello" % srv.name if verb in ("EHLO", "HELO") else "2.0.0 ok"))


def _imap_tls(srv: MailServer, io: _LineIO) -> None:
    if srv.protocol == "imaps":
        io.send("* OK ibmi-trust test server ready\r\n")
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if line is None:
            return
        tag, _, rest = line.partition(" ")
        if rest.upper().startswith("LOGOUT"):
            io.send("* BYE logging out\r\n%s OK LOGOUT completed\r\n" % tag)
            return
        io.send("%s OK done\r\n" % tag)


def _pop3_tls(srv: MailServer, io: _LineIO) -> None:
    if srv.protocol == "pop3s":
        io.send("+OK ibmi-trust test server ready\r\n")
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if line is None:
            return
        if line.upper().startswith("QUIT"):
            io.send("+OK bye\r\n")
            return
        io.send("+OK\r\n")


def _https_tls(srv: MailServer, io: _LineIO) -> None:
    for _ in range(MAX_COMMANDS):
        line = io.line()
        if not line:
            break
    io.send("HTTP/1.0 204 No Content\r\nServer: ibmi-trust test server\r\n\r\n")


_PLAINTEXT = {"smtp": _smtp_plain, "imap": _imap_plain, "pop3": _pop3_plain}
_AFTER_TLS = {"smtp": _smtp_tls, "imap": _imap_tls, "pop3": _pop3_tls, "https": _https_tls}


def _hard_close(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass
    try:
        sock.close()
    except OSError:
        pass
