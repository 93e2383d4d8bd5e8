"""The plaintext dialogues and every way a server can get them wrong, against
real loopback servers (ibmi_trust.testing.servers) and a raw socket peer."""
import socket
import threading
import time

import pytest

from peers import creds, dual
from ibmi_trust.errors import (BadGreeting, ConnectError, HandshakeError, NoStartTLS, ProbeTimeout, StartTLSError,
                               StartTLSRefused)
from ibmi_trust.probe.capture import capture_chain
from ibmi_trust.testing.servers import MailServer

STARTTLS = ("smtp", "submission", "imap", "pop3")


@pytest.mark.parametrize("protocol", STARTTLS)
def test_replies_split_into_many_tcp_writes_are_read_whole(pki, protocol):
    with MailServer(protocol, chains=dual(pki), split_replies=True) as srv:
        ders = capture_chain("127.0.0.1", srv.port, protocol, key_type="rsa", timeout=5)
    assert ders == [pki["A"]["rsa"].cert.der, pki["A"]["inter"].cert.der]


def test_ehlo_name_is_configurable_and_defaults_to_a_valid_name(pki):
    with MailServer("smtp", chains=dual(pki)) as srv:
        capture_chain("127.0.0.1", srv.port, "smtp", ehlo="probe.example.test", timeout=5)
        capture_chain("127.0.0.1", srv.port, "smtp", timeout=5)
    ehlos = [c for c in srv.commands if c.upper().startswith("EHLO ")]
    assert ehlos[0] == "EHLO probe.example.test"
    default = ehlos[1][5:]
    assert default == socket.gethostname() and "." in default or default == "[127.0.0.1]"
    assert srv.commands.count("STARTTLS") == 2


@pytest.mark.parametrize("protocol,words", [
    ("smtp", "does not offer STARTTLS (EHLO lists: PIPELINING"),
    ("imap", "does not offer STARTTLS (capabilities: IMAP4REV1"),
    ("pop3", "does not offer STLS (CAPA lists: PIPELINING"),
])
def test_no_starttls_advertised(pki, protocol, words):
    with MailServer(protocol, chains=dual(pki), misbehave="no-starttls") as srv:
        with pytest.raises(NoStartTLS) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=5)
    assert words in info.value.message and info.value.exit_code == 3


@pytest.mark.parametrize("protocol,words", [
    ("smtp", "refused STARTTLS with 454 4.7.0 TLS not available"),
    ("imap", "refused STARTTLS with NO"),
    ("pop3", "refused STLS with '-ERR TLS not available'"),
])
def test_starttls_refused(pki, protocol, words):
    with MailServer(protocol, chains=dual(pki), misbehave="starttls-454") as srv:
        with pytest.raises(StartTLSRefused) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=5)
    assert words in info.value.message


@pytest.mark.parametrize("protocol,words", [
    ("smtp", "greeted with 554 mx.example.test no SMTP service here 5.3.2 go away"),
    ("imap", "greeted with '* BYE"),
    ("pop3", "greeted with '-ERR"),
])
def test_error_greeting(pki, protocol, words):
    with MailServer(protocol, chains=dual(pki), misbehave="error-greeting") as srv:
        with pytest.raises(BadGreeting) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=5)
    assert words in info.value.message


@pytest.mark.parametrize("protocol,words", [
    ("smtp", "does not speak SMTP (greeting: '?HELLO? this is not a mail server')"),
    ("imap", "does not speak IMAP (greeting: 'HTTP/1.1 400 Bad Request')"),
    ("pop3", "does not speak POP3 (greeting: 'SSH-2.0-OpenSSH_9.2')"),
])
def test_garbage_banner(pki, protocol, words):
    with MailServer(protocol, chains=dual(pki), misbehave="garbage-banner") as srv:
        with pytest.raises(BadGreeting) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=5)
    assert words in info.value.message


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
def test_bytes_after_the_go_ahead_are_refused(pki, protocol):
    with MailServer(protocol, chains=dual(pki), misbehave="inject-after-starttls") as srv:
        with pytest.raises(StartTLSError) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=5)
    assert "response injection" in info.value.message
    assert srv.handshakes == 0


@pytest.mark.parametrize("protocol", ["smtp", "smtps"])
def test_close_during_handshake(pki, protocol):
    with MailServer(protocol, chains=dual(pki), misbehave="close-in-handshake") as srv:
        with pytest.raises(HandshakeError) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=5)
    assert "closed the connection during the TLS handshake" in info.value.message


@pytest.mark.parametrize("protocol", ["smtp", "imaps"])
def test_server_that_never_answers_times_out_quickly(pki, protocol):
    with MailServer(protocol, chains=dual(pki), misbehave="silent") as srv:
        started = time.monotonic()
        with pytest.raises(ProbeTimeout) as info:
            capture_chain("127.0.0.1", srv.port, protocol, timeout=0.4)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed
    assert "no answer within 0.4s" in info.value.message


def test_starttls_dialogue_against_an_implicit_tls_port_hints_at_the_protocol(pki):
    with MailServer("smtps", chains=dual(pki)) as srv:
        with pytest.raises(ProbeTimeout) as info:
            capture_chain("127.0.0.1", srv.port, "smtp", timeout=0.4)
    assert "waiting for the SMTP greeting" in info.value.message and "smtps" in info.value.hint


def test_implicit_tls_against_a_starttls_port_says_plaintext(pki):
    with MailServer("smtp", chains=dual(pki)) as srv:
        with pytest.raises(HandshakeError) as info:
            capture_chain("127.0.0.1", srv.port, "smtps", timeout=5)
    assert "answered in plaintext, not TLS (b'220 mx.example.test" in info.value.message
    assert "STARTTLS port" in info.value.hint


def test_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                   # nothing listens there now
    with pytest.raises(ConnectError) as info:
        capture_chain("127.0.0.1", port, "smtp", timeout=2)
    assert "cannot connect to 127.0.0.1:%d" % port in info.value.message


class RawPeer:
    """A socket that sends fixed bytes to whoever connects, then waits for
    the client (hold) or hangs up."""

    def __init__(self, payload: bytes, hold: bool):
        self.payload = payload
        self.hold = hold
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        conn, _ = self.sock.accept()
        with conn:
            try:
                conn.sendall(self.payload)
                conn.settimeout(3)
                if self.hold:
                    conn.recv(1024)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.mark.parametrize("payload,hold,words", [
    (b"220 " + b"x" * 20000 + b"\r\n", True, "line longer than 8192 bytes"),
    (b"220-first\r\n250 second\r\n", True, "not an SMTP reply"),
    (b"220-only half a reply\r\n", False, "closed the connection reading the greeting"),
])
def test_hostile_or_broken_plaintext(payload, hold, words):
    peer = RawPeer(payload, hold)
    try:
        with pytest.raises(StartTLSError) as info:
            capture_chain("127.0.0.1", peer.port, "smtp", timeout=2)
    finally:
        peer.close()
    assert words in info.value.message


def test_leaf_only_server_on_every_starttls_protocol(pki):
    leaf = pki["A"]["ec"]
    for protocol in STARTTLS:
        with MailServer(protocol, chains=creds(leaf, leaf.cert)) as srv:
            assert capture_chain("127.0.0.1", srv.port, protocol, timeout=5) == [leaf.cert.der]
