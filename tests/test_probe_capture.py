"""Chain capture: every protocol, every capture method this interpreter has,
chains kept verbatim, key type and SNI choices, and agreement with
`openssl s_client -showcerts`."""
import re
import ssl
import subprocess
import sys

import pytest

from peers import creds, dual
from ibmi_trust.certs import load_certificates
from ibmi_trust.errors import ConfigError, HandshakeError
from ibmi_trust.probe import methods, offers, tls12
from ibmi_trust.probe.capture import capture_chain, capture_offer
from ibmi_trust.probe.handshake import handshake
from ibmi_trust.probe.target import dialogue_of
from ibmi_trust.probe.wire import Wire
from ibmi_trust.testing.servers import ChainPlan, MailServer

PROTOCOLS = ("smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s", "https")


def method_param(name):
    why = methods.supported(name)
    return pytest.param(name, marks=pytest.mark.skipif(bool(why), reason="%s: %s" % (name, why)), id=name)


METHODS = [method_param(m) for m in methods.ORDER]


@pytest.fixture
def use_method(monkeypatch):
    def use(name):
        monkeypatch.setenv(methods.ENV, name)
    return use


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocol_with_every_method(pki, protocol, method, use_method):
    use_method(method)
    a = pki["A"]
    with MailServer(protocol, chains=dual(pki)) as srv:
        rsa = capture_offer("127.0.0.1", srv.port, dialogue_of(protocol), sni="mx.example.test",
                            offer=offers.offer_for("rsa"), ehlo=None, timeout=5)
        ec = capture_offer("127.0.0.1", srv.port, dialogue_of(protocol), sni=None,
                           offer=offers.offer_for("ecdsa"), ehlo=None, timeout=5)
    assert rsa.method == ec.method == method
    assert rsa.ders == [a["rsa"].cert.der, a["inter"].cert.der]
    assert ec.ders == [a["ec"].cert.der, a["inter"].cert.der]
    assert rsa.tls_version == "TLSv1.2"
    assert ec.tls_version == ("TLSv1.2" if method == "sniff" else "TLSv1.3")


@pytest.mark.parametrize("method", METHODS)
def test_chains_are_kept_verbatim(pki, method, use_method):
    use_method(method)
    a, b = pki["A"], pki["B"]
    leaf, inter, root = a["ec"], a["inter"].cert, a["root"].cert
    cases = {
        "leaf-only": [leaf.cert],
        "misordered": [leaf.cert, root, inter],
        "extra-and-duplicate": [leaf.cert, inter, b["inter"].cert, inter, root],
    }
    for name, certs in cases.items():
        with MailServer("smtp", chains=creds(leaf, *certs)) as srv:
            ders = capture_chain("127.0.0.1", srv.port, "smtp", timeout=5)
        assert ders == [c.der for c in certs], name


def test_rsa_and_ecdsa_offers_pick_the_two_certificates_of_a_dual_server(pki):
    a = pki["A"]
    with MailServer("smtp", chains=dual(pki)) as srv:
        assert capture_chain("127.0.0.1", srv.port, "smtp", key_type="rsa")[0] == a["rsa"].cert.der
        assert capture_chain("127.0.0.1", srv.port, "smtp", key_type="ecdsa")[0] == a["ec"].cert.der
    with MailServer("smtp", chains=[creds(a["ec"])]) as srv:          # ECDSA only: the RSA offer fails
        with pytest.raises(HandshakeError) as info:
            capture_chain("127.0.0.1", srv.port, "smtp", key_type="rsa")
    assert "handshake_failure" in info.value.message


def test_sni_selects_the_certificate(pki):
    other = pki["A"]["inter"].leaf(["other.example.test"], key_type="rsa")
    plan = ChainPlan(dual(pki), by_sni={"other.example.test": creds(other)})
    with MailServer("imap", chains=plan) as srv:
        with_sni = capture_chain("127.0.0.1", srv.port, "imap", sni="other.example.test")
        without = capture_chain("127.0.0.1", srv.port, "imap", sni=None)
    assert with_sni[0] == other.cert.der and without[0] == pki["A"]["ec"].cert.der
    assert srv.sni_seen == ["other.example.test", None]


def test_tls_version_pin(pki):
    with MailServer("smtps", chains=dual(pki)) as srv:
        capture = capture_offer("127.0.0.1", srv.port, None, sni=None, offer=offers.offer_for("ecdsa", "1.2"),
                                ehlo=None, timeout=5)
    assert capture.tls_version == "TLSv1.2" and capture.ders[0] == pki["A"]["ec"].cert.der
    with pytest.raises(ConfigError):
        offers.offer_for("rsa", "1.3")


def test_sniff_against_a_tls13_only_server_says_why(pki, use_method):
    use_method("sniff")
    tls13 = (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
    with MailServer("smtp", chains=dual(pki), tls_versions=tls13) as srv:
        with pytest.raises(HandshakeError) as info:
            capture_chain("127.0.0.1", srv.port, "smtp")
    assert "no TLS version in common" in info.value.message and "TLS 1.3" in info.value.message
    with pytest.raises(ConfigError):
        capture_chain("127.0.0.1", srv.port, "smtp", tls_version="1.3")


def test_auto_picks_the_best_method_here():
    best = next(methods.candidates())
    assert best == ("ctypes" if sys.version_info < (3, 10) else "stdlib")
    assert methods.supported("sniff") is None
    with pytest.raises(ConfigError):
        methods.supported("pyopenssl")


def test_a_method_failing_its_self_check_is_disabled_and_the_next_one_used(pki, monkeypatch):
    from ibmi_trust.probe import openssl_chain

    monkeypatch.setattr(methods, "ORDER", ("ctypes", "sniff"))
    monkeypatch.setattr(methods, "_DISABLED", {})
    monkeypatch.setattr(openssl_chain, "peer_chain", lambda sslobj: [b"not the peer certificate"])
    with MailServer("smtp", chains=dual(pki)) as srv:
        first = capture_offer("127.0.0.1", srv.port, "smtp", sni=None, offer=offers.offer_for("rsa"), ehlo=None, timeout=5)
        second = capture_offer("127.0.0.1", srv.port, "smtp", sni=None, offer=offers.offer_for("rsa"), ehlo=None, timeout=5)
    assert first.method == second.method == "sniff"
    assert first.ders[0] == pki["A"]["rsa"].cert.der
    assert "ctypes" in methods._DISABLED and srv.handshakes == 3, srv.errors   # ctypes tried once, then never again


@pytest.mark.parametrize("protocol,starttls", [("smtp", "smtp"), ("imap", "imap"), ("pop3", "pop3"), ("smtps", None)])
def test_same_chain_as_openssl_s_client(pki, protocol, starttls):
    a = pki["A"]
    certs = [a["ec"].cert, a["root"].cert, a["inter"].cert]           # misordered: both must keep the order
    with MailServer(protocol, chains=[creds(a["ec"], *certs), creds(a["rsa"])]) as srv:
        ours = capture_chain("127.0.0.1", srv.port, protocol, sni="mx.example.test")
        cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-showcerts",
               "-servername", "mx.example.test"] + (["-starttls", starttls] if starttls else [])
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=20).stdout
    theirs = [c.der for c in load_certificates(b"".join(re.findall(
        rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", out, re.S)))]
    assert ours == theirs == [c.der for c in certs]


def _recorded_records(pki):
    """The raw server bytes of a real TLS 1.2 handshake."""
    ctx = offers.context_for(offers.offer_for("rsa"))
    with MailServer("smtps", chains=dual(pki)) as srv:
        with Wire("127.0.0.1", srv.port, 5) as wire:
            session = handshake(wire, ctx, None, record=True)
            leaf = session.obj.getpeercert(True)
    return session.raw, leaf


def _records(kind: int, payload: bytes, size: int) -> bytes:
    return b"".join(bytes([kind, 3, 3]) + len(payload[i:i + size]).to_bytes(2, "big") + payload[i:i + size]
                    for i in range(0, len(payload), size))


def test_tls12_parser_reassembles_messages_split_across_records(pki):
    raw, leaf = _recorded_records(pki)
    certs = tls12.certificates(raw)
    assert certs[0] == leaf and certs[1] == pki["A"]["inter"].cert.der
    stream = tls12.handshake_stream(raw)
    for size in (1, 7, 300):                                         # re-fragment the same handshake
        assert tls12.certificates(_records(22, stream, size) + b"\x14\x03\x03\x00\x01\x01") == certs


@pytest.mark.parametrize("mangle,words", [
    (lambda raw: b"", "no Certificate message"),
    (lambda raw: raw[:60], "no Certificate message"),
    (lambda raw: b"\x17\x03\x03\x00\x02ab" + raw, "record type 23"),
    (lambda raw: _records(22, b"\x0b\x00\x00\x06\x00\x00\x09\x00\x00\x05", 100), "does not match"),
])
def test_tls12_parser_rejects_broken_input(pki, mangle, words):
    raw, _ = _recorded_records(pki)
    with pytest.raises(tls12.NotFound) as info:
        tls12.certificates(mangle(raw))
    assert words in str(info.value)
