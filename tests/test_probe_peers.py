"""The probe against real third-party servers: Postfix and Dovecot private
instances (tests/peers.py) and aiosmtpd."""
import re
import ssl
import subprocess

import pytest

from peers import free_port
from ibmi_trust.certs import load_certificates
from ibmi_trust.probe import ProbeOptions, Target, probe
from ibmi_trust.probe.capture import capture_chain

FAST = dict(rate=1000.0, concurrency=4, timeout=5.0)


def chain_of(files, name):
    issued = files[name]["issued"]
    return [c.der for c in issued.chain()]


def s_client(port, starttls, *extra):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-showcerts"] + list(extra)
    if starttls:
        cmd += ["-starttls", starttls]
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=20).stdout
    pems = b"".join(re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", out, re.S))
    return [c.der for c in load_certificates(pems)]


@pytest.mark.postfix
def test_postfix_every_listener(postfix):
    f = postfix.files
    p = postfix.ports
    assert capture_chain("127.0.0.1", p["smtp"], "smtp", key_type="rsa") == chain_of(f, "A/rsa")
    assert capture_chain("127.0.0.1", p["smtp"], "smtp", key_type="ecdsa") == chain_of(f, "A/ec")
    assert capture_chain("127.0.0.1", p["submission"], "submission", key_type="rsa") == chain_of(f, "A/rsa")
    assert capture_chain("127.0.0.1", p["smtps"], "smtps", key_type="ecdsa") == chain_of(f, "A/ec")
    assert capture_chain("127.0.0.1", p["smtp"], "smtp", sni="other.example.test") == chain_of(f, "A/other")


@pytest.mark.postfix
def test_postfix_same_as_openssl_s_client(postfix):
    port = postfix.ports["smtp"]
    assert capture_chain("127.0.0.1", port, "smtp", sni="mx.example.test") == s_client(
        port, "smtp", "-servername", "mx.example.test")
    assert capture_chain("127.0.0.3", port, "smtp") == s_client(port, "smtp", "-connect", "127.0.0.3:%d" % port)


@pytest.mark.postfix
def test_postfix_two_backends_under_one_name(postfix):
    port = postfix.ports["smtp"]
    result = probe(Target.parse("mx.example.test:%d" % port, "smtp"),
                   ProbeOptions(resolve={"mx.example.test:%d" % port: ["127.0.0.2", "127.0.0.3"]}, seed=3, **FAST))
    f = postfix.files
    by_leaf = {v.certificates[0].der: v for v in result.chains}
    assert set(by_leaf) == {f["A/rsa"]["issued"].cert.der, f["B/rsa"]["issued"].cert.der}
    assert {c.address for c in by_leaf[f["B/rsa"]["issued"].cert.der].combos} == {"127.0.0.3"}
    assert [c.der for c in by_leaf[f["B/rsa"]["issued"].cert.der].certificates] == chain_of(f, "B/rsa")
    assert result.guarantee["met"] and not result.failures


@pytest.mark.dovecot
def test_dovecot_every_listener(dovecot):
    f, p = dovecot.files, dovecot.ports
    assert capture_chain("127.0.0.1", p["imap"], "imap", key_type="rsa") == chain_of(f, "A/rsa")
    assert capture_chain("127.0.0.1", p["imap"], "imap", key_type="ecdsa") == chain_of(f, "A/ec")
    assert capture_chain("127.0.0.1", p["imaps"], "imaps", key_type="rsa") == chain_of(f, "A/rsa")
    assert capture_chain("127.0.0.1", p["pop3"], "pop3", key_type="ecdsa") == chain_of(f, "A/ec")
    assert capture_chain("127.0.0.1", p["pop3s"], "pop3s", key_type="rsa") == chain_of(f, "A/rsa")
    assert capture_chain("127.0.0.3", p["imap"], "imap") == chain_of(f, "B/rsa")
    assert capture_chain("127.0.0.1", p["imaps"], "imaps", sni="other.example.test") == chain_of(f, "A/other")


@pytest.mark.dovecot
def test_dovecot_same_as_openssl_s_client(dovecot):
    for name in ("imap", "pop3"):
        port = dovecot.ports[name]
        assert capture_chain("127.0.0.1", port, name, sni="mx.example.test") == s_client(
            port, name, "-servername", "mx.example.test")


@pytest.mark.dovecot
def test_dovecot_probe_imap_both_backends(dovecot):
    port = dovecot.ports["imap"]
    result = probe(Target.parse("mail.example.test:%d" % port, "imap"),
                   ProbeOptions(resolve={"mail.example.test:%d" % port: ["127.0.0.2", "127.0.0.3"]}, **FAST))
    assert len(result.chains) == 3 and result.guarantee["met"]     # A/rsa + A/ec on .2, B/rsa on .3


def test_aiosmtpd_starttls(pki):
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Sink

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    a = pki["A"]
    import tempfile, os                                                # noqa: E401
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("rsa", "ec"):
            chain, key = os.path.join(tmp, kind + ".pem"), os.path.join(tmp, kind + ".key")
            with open(chain, "wb") as fh:
                fh.write(a[kind].chain_pem())
            with open(key, "wb") as fh:
                fh.write(a[kind].key_pem())
            ctx.load_cert_chain(chain, key)
    port = free_port()
    controller = controller_mod.Controller(Sink(), hostname="127.0.0.1", port=port, tls_context=ctx,
                                           require_starttls=True, server_hostname="mx.example.test")
    controller.start()
    try:
        result = probe(Target.parse("mx.example.test:%d" % port, "smtp"),
                       ProbeOptions(resolve={"mx.example.test:%d" % port: ["127.0.0.1"]}, rounds=2, **FAST))
    finally:
        controller.stop()
    leaves = {v.certificates[0].der: v for v in result.chains}
    assert set(leaves) == {a["rsa"].cert.der, a["ec"].cert.der} and result.handshakes == 8
    assert {c.key_type for c in leaves[a["rsa"].cert.der].combos} == {"rsa"}
