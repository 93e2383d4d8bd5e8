"""fetch.http: one bounded GET against a real loopback HTTP server."""
import socket
import time

import pytest

from ibmi_trust.fetch.http import FetchFailed, fetch
from ibmi_trust.testing.aia_server import AiaServer


@pytest.fixture
def server(no_network_env):
    with AiaServer() as srv:
        yield srv


def _reason(url, **bounds):
    with pytest.raises(FetchFailed) as info:
        fetch(url, **bounds)
    return info.value.reason, str(info.value)


def test_plain_get_returns_body_and_type(server, pki):
    der = pki["A"]["inter"].cert.der
    url = server.serve("/inter.cer", der)
    response = fetch(url, timeout=5)
    assert response.body == der
    assert response.content_type == "application/pkix-cert"
    assert response.final_url == url


def test_redirects_are_followed_up_to_the_limit(server, pki):
    der = pki["A"]["inter"].cert.der
    target = server.serve("/real.cer", der)
    server.redirect("/r1", "/real.cer", status=301)
    server.redirect("/r2", "/r1", status=302)
    server.redirect("/r3", "/r2", status=307)
    server.redirect("/r4", "/r3", status=308)
    assert fetch(server.url("/r1"), max_redirects=3).final_url == target
    assert fetch(server.url("/r3"), max_redirects=3).body == der
    assert _reason(server.url("/r4"), max_redirects=3)[0] == "too-many-redirects"


def test_redirect_loop_is_named(server):
    server.loop("/loop.cer")
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    assert _reason(server.url("/loop.cer"))[0] == "redirect-loop"
    assert _reason(server.url("/a"))[0] == "redirect-loop"


@pytest.mark.parametrize("announce", [True, False])
def test_huge_answers_are_cut_at_the_cap(server, announce):
    server.huge("/huge.cer", 8 * 1024 * 1024, announce=announce)
    start = time.monotonic()
    reason, message = _reason(server.url("/huge.cer"), max_bytes=1024 * 1024, timeout=10)
    assert reason == "too-large" and "1048576" in message
    assert time.monotonic() - start < 5


def test_slow_drip_stops_at_the_total_deadline(server, pki):
    der = pki["A"]["inter"].cert.der
    server.drip("/slow.cer", der, delay=0.05, chunk=1)   # about 20 s for the whole body
    start = time.monotonic()
    assert _reason(server.url("/slow.cer"), timeout=1.0)[0] == "timeout"
    assert time.monotonic() - start < 2.5


def test_slow_drip_that_finishes_in_time_is_fine(server):
    server.drip("/ok.cer", b"x" * 20, delay=0.01, chunk=4)
    assert fetch(server.url("/ok.cer"), timeout=5).body == b"x" * 20


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ldap://ldap.example.test/cn=CA?cACertificate",
                                 "ftp://example.test/ca.cer", "/relative/only.cer"])
def test_other_schemes_are_not_followed(url):
    assert _reason(url)[0] == "unsupported-scheme"


def test_redirect_to_file_scheme_is_refused(server):
    server.redirect("/to-file", "file:///etc/passwd")
    assert _reason(server.url("/to-file"))[0] == "unsupported-scheme"


def test_http_errors_and_refused_connections(server):
    server.status("/gone.cer", 404)
    reason, message = _reason(server.url("/gone.cer"))
    assert reason == "http-status" and "404" in message
    assert _reason(server.url("/never-configured"))[0] == "http-status"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                  # nobody listens there now
    assert _reason("http://127.0.0.1:%d/x.cer" % port, timeout=3)[0] == "connection"


def test_http_proxy_from_the_environment_is_used(server, pki, monkeypatch):
    der = pki["B"]["inter"].cert.der
    server.serve("/via-proxy.cer", der)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % server.port)
    monkeypatch.setenv("no_proxy", "")
    response = fetch("http://aia.example.invalid/via-proxy.cer", timeout=5)
    assert response.body == der
    assert server.requests[-1] == "/via-proxy.cer"
