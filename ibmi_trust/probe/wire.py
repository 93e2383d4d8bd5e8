"""One TCP connection with a deadline and byte caps: the only place that reads
from or writes to the network during a probe.

Every network step (connect, each read, each write) waits at most `timeout`
seconds, and the whole conversation at most STEPS_PER_CONNECTION times that,
and never past the whole probe's deadline when one is given; plaintext lines
and the total plaintext and TLS byte counts are capped. So a hostile or
broken server can neither stall a probe (not even by trickling one byte at a
time) nor make it buffer without limit.
"""
import socket
import time
from typing import Optional

from ibmi_trust.errors import ConnectError, ConnectTimeout, ProbeDeadline, ProbeTimeout, StartTLSError

MAX_LINE = 8192                 # longest plaintext line accepted (SMTP allows 512; be generous)
MAX_PLAINTEXT = 256 * 1024      # all plaintext bytes before TLS
MAX_TLS_IN = 2 * 1024 * 1024    # TLS bytes read during one handshake
STEPS_PER_CONNECTION = 4         # whole-conversation cap, in units of `timeout`
_CHUNK = 16384


def _where(address: str, port: int) -> str:
    return "[%s]:%d" % (address, port) if ":" in address else "%s:%d" % (address, port)


class Wire:
    def __init__(self, address: str, port: int, timeout: float, deadline: Optional[float] = None):
        """`deadline`: the whole probe's end (time.monotonic()), if any."""
        self.address = address
        self.port = port
        self.where = _where(address, port)
        self.timeout = timeout
        self.deadline = time.monotonic() + STEPS_PER_CONNECTION * timeout
        self.probe_deadline = deadline
        if deadline is not None and deadline < self.deadline:
            self.deadline = deadline
        self.buffer = b""                   # plaintext received but not consumed yet
        self.plaintext_in = 0
        self.tls_in = 0
        self.sock = self._connect()

    # -- connection -------------------------------------------------------
    def _connect(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._remaining("connecting"))
            sock.connect((self.address, self.port))
        except socket.timeout:
            sock.close()
            self._check_probe_deadline("connecting")     # when that is what ran out
            raise ConnectTimeout("no TCP answer from %s within %gs" % (self.where, self.timeout)) from None
        except OSError as exc:
            sock.close()
            raise ConnectError("cannot connect to %s: %s" % (self.where, _reason(exc))) from None
        except BaseException:                       # the probe's deadline had already passed
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- raw I/O ----------------------------------------------------------
    def _check_probe_deadline(self, doing: str) -> None:
        if self.probe_deadline is not None and time.monotonic() >= self.probe_deadline:
            raise ProbeDeadline("%s: the probe's time limit ran out %s" % (self.where, doing))

    def _remaining(self, doing: str) -> float:
        self._check_probe_deadline(doing)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProbeTimeout("%s: conversation took longer than %gs, gave up %s"
                               % (self.where, STEPS_PER_CONNECTION * self.timeout, doing))
        return min(left, self.timeout)

    def send(self, data: bytes, doing: str) -> None:
        try:
            self.sock.settimeout(self._remaining(doing))
            self.sock.sendall(data)
        except socket.timeout:
            self._check_probe_deadline(doing)
            raise ProbeTimeout("%s: could not send within %gs %s" % (self.where, self.timeout, doing)) from None
        except OSError as exc:
            raise ConnectError("%s: connection lost %s: %s" % (self.where, doing, _reason(exc))) from None

    def recv(self, doing: str) -> bytes:
        """Some bytes, or b"" when the server closed the connection."""
        try:
            self.sock.settimeout(self._remaining(doing))
            return self.sock.recv(_CHUNK)
        except socket.timeout:
            self._check_probe_deadline(doing)
            raise ProbeTimeout("%s: no answer within %gs %s" % (self.where, self.timeout, doing)) from None
        except OSError as exc:
            raise ConnectError("%s: connection lost %s: %s" % (self.where, doing, _reason(exc))) from None

    # -- plaintext lines --------------------------------------------------
    def read_line(self, doing: str) -> bytes:
        """One CRLF- (or LF-) terminated line without its terminator,
        however the server split it into TCP segments."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 1:]
                if len(line) > MAX_LINE:
                    raise StartTLSError("%s sent a line longer than %d bytes %s" % (self.where, MAX_LINE, doing))
                return line.rstrip(b"\r")
            if len(self.buffer) > MAX_LINE:
                raise StartTLSError("%s sent a line longer than %d bytes %s" % (self.where, MAX_LINE, doing))
            data = self.recv(doing)
            if not data:
                raise StartTLSError("%s closed the connection %s" % (self.where, doing))
            self.plaintext_in += len(data)
            if self.plaintext_in > MAX_PLAINTEXT:
                raise StartTLSError("%s sent more than %d bytes of plaintext %s" % (self.where, MAX_PLAINTEXT, doing))
            self.buffer += data

    def expect_quiet(self, command: str) -> None:
        """After the go-ahead for TLS nothing may be buffered: bytes the server
        sent before our ClientHello would be a response-injection attempt."""
        if self.buffer:
            raise StartTLSError("%s sent %d unexpected bytes after accepting %s (possible response injection); "
                                "refusing to continue" % (self.where, len(self.buffer), command))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
