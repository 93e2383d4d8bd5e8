"""End to end: analyse_chain sourcing issuers over AIA from a loopback HTTP server."""
import datetime
import subprocess
import time

import pytest

from ibmi_trust.analyse import analyse_chain
from ibmi_trust.fetch import RootProgram, Sourcing
from ibmi_trust.store.base import StoreEntry
from ibmi_trust.testing.aia_server import CONTENT_TYPES, AiaServer
from ibmi_trust.testing.pki import CA

HOST = "mx.example.test"


@pytest.fixture
def server(no_network_env):
    with AiaServer() as srv:
        yield srv


def store(*certs):
    return [StoreEntry(c, "#%d" % i) for i, c in enumerate(certs)]


def pkcs7(tmp_path, *certs, outform="DER") -> bytes:
    """A certs-only PKCS#7 (.p7c) made by the openssl binary."""
    pem = tmp_path / "bundle.pem"
    pem.write_bytes(b"".join(c.pem().encode("ascii") for c in certs))
    return subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(pem), "-outform", outform],
                          check=True, capture_output=True).stdout


def leaf_pointing_at(url, root=None, cn="AIA Issuing CA"):
    """(root, inter, leaf) with the leaf's AIA naming `url`."""
    root = root or CA.root("AIA Root")
    inter = root.intermediate(cn)
    return root, inter, inter.leaf([HOST], aia_url=url)


@pytest.mark.filterwarnings("ignore:PKCS#7 certificates could not be parsed as DER")  # openssl's SET order
@pytest.mark.parametrize("form", ["der", "pem", "p7c", "p7c-pem", "redirect"])
def test_leaf_only_server_is_completed_over_aia(server, tmp_path, form):
    root, inter, leaf = leaf_pointing_at(server.url("/issuer"))
    if form == "der":
        server.serve("/issuer", inter.cert.der)
    elif form == "pem":
        server.serve("/issuer", inter.cert_pem(), CONTENT_TYPES["pem"])
    elif form == "p7c":
        server.serve("/issuer", pkcs7(tmp_path, inter.cert), CONTENT_TYPES["p7c"])
    elif form == "p7c-pem":
        server.serve("/issuer", pkcs7(tmp_path, inter.cert, root.cert, outform="PEM"), CONTENT_TYPES["p7c"])
    else:
        server.serve("/moved/issuer.cer", inter.cert.der)
        server.redirect("/issuer", "/moved/issuer.cer", status=301)
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=5))
    assert report.verdict == "fixable", report.codes()
    assert [(s.cert, s.role, s.provenance) for s in report.to_add] == [
        (inter.cert, "intermediate", "aia:" + server.url("/issuer"))]
    assert {"missing-issuer", "incomplete-chain"} <= set(report.codes())
    assert report.anchor == root.cert


def test_missing_intermediate_and_root_follow_aia_to_the_root_program(server):
    root = CA.root("Program Root")
    inter = root.intermediate("Issuing CA", aia_url=server.url("/root.cer"))
    leaf = inter.leaf([HOST], aia_url=server.url("/inter.cer"))
    server.serve("/inter.cer", inter.cert.der)
    server.serve("/root.cer", root.cert.der)
    sourcing = Sourcing(timeout=5, root_program=RootProgram("mozilla-like", "(memory)", [root.cert]))
    report = analyse_chain([leaf.cert], [], HOST, sourcing)
    assert report.verdict == "fixable"
    assert [(s.cert, s.role, s.provenance) for s in report.to_add] == [
        (inter.cert, "intermediate", "aia:" + server.url("/inter.cer")),
        (root.cert, "root", "root-program:mozilla-like")]


def test_aia_chain_of_two_intermediates_is_followed(server):
    root = CA.root("Deep AIA Root")
    upper = root.intermediate("Upper CA", path_length=1)
    lower = upper.intermediate("Lower CA", aia_url=server.url("/upper.cer"))
    leaf = lower.leaf([HOST], aia_url=server.url("/lower.cer"))
    server.serve("/lower.cer", lower.cert.der)
    server.serve("/upper.cer", upper.cert.der)
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=5))
    assert report.verdict == "fixable"
    assert [s.cert for s in report.to_add] == [lower.cert, upper.cert]


def test_root_fetched_over_aia_needs_approval(server):
    root = CA.root("Private Root")
    inter = root.intermediate("Private CA", aia_url=server.url("/root.cer"))
    leaf = inter.leaf([HOST], aia_url=server.url("/inter.cer"))
    server.serve("/inter.cer", inter.cert.der)
    server.serve("/root.cer", root.cert.der)
    sourcing = Sourcing(timeout=5)
    report = analyse_chain([leaf.cert], [], HOST, sourcing)
    assert report.verdict == "untrusted" and report.to_add == []
    unapproved = next(f for f in report.findings if f.code == "unapproved-root")
    assert unapproved.sha256 == root.cert.sha256
    assert [(m.sha256, m.reason) for m in report.missing] == [(inter.cert.sha256, "intermediate"),
                                                              (root.cert.sha256, "unapproved-root")]
    approved = Sourcing(timeout=5, approved_roots={root.cert.sha256})
    report = analyse_chain([leaf.cert], [], HOST, approved)
    assert report.verdict == "fixable"
    assert [(s.cert, s.role) for s in report.to_add] == [(inter.cert, "intermediate"), (root.cert, "root")]
    assert report.to_add[1].provenance == "approved:" + root.cert.sha256


def test_aia_pointing_at_an_unrelated_certificate_is_rejected(server, pki):
    root, inter, leaf = leaf_pointing_at(server.url("/issuer.cer"))
    server.serve("/issuer.cer", pki["B"]["inter"].cert.der)
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=5))
    assert report.verdict == "untrusted" and report.to_add == []
    finding = next(f for f in report.findings if f.code == "aia-unrelated-certificate")
    assert finding.sha256 == pki["B"]["inter"].cert.sha256 and finding.detail["url"] == server.url("/issuer.cer")
    assert report.missing[0].sources == []      # that URL is no source


def test_aia_certificate_that_fails_the_gate_is_not_used(server):
    root = CA.root("Gate Root")
    inter = root.intermediate("Expired CA")
    expired = inter.reissue(not_before=datetime.datetime(2001, 1, 1), days=30)
    leaf = inter.leaf([HOST], aia_url=server.url("/expired.cer"))
    server.serve("/expired.cer", expired.cert.der)
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=5))
    assert report.verdict == "untrusted"
    rejected = next(f for f in report.findings if f.code == "sourced-certificate-rejected")
    assert "expired" in rejected.message and rejected.sha256 == expired.cert.sha256


def test_expired_intermediate_in_store_with_renewal_over_aia(server):
    root = CA.root("Renewal Root")
    inter = root.intermediate("Renewed CA")
    old = inter.reissue(not_before=datetime.datetime(2001, 1, 1), days=30)
    leaf = inter.leaf([HOST], aia_url=server.url("/renewed.cer"))
    server.serve("/renewed.cer", inter.cert.der)
    report = analyse_chain([leaf.cert], store(old.cert, root.cert), HOST, Sourcing(timeout=5))
    assert report.verdict == "fixable"
    assert [s.cert for s in report.to_add] == [inter.cert]
    assert {"ca-expired-in-store", "renewed-ca-available"} <= set(report.codes())


@pytest.mark.parametrize("hostile, reason", [
    ("huge", "too-large"), ("slow", "timeout"), ("loop", "redirect-loop"), ("html", "not-a-certificate"),
])
def test_hostile_aia_gives_a_finding_not_a_crash(server, hostile, reason):
    url = server.url("/bad.cer")
    if hostile == "huge":
        server.huge("/bad.cer", 6 * 1024 * 1024)
    elif hostile == "slow":
        server.drip("/bad.cer", b"0" * 400, delay=0.05)
    elif hostile == "loop":
        server.loop("/bad.cer")
    else:
        server.serve("/bad.cer", b"<html><body>Sorry</body></html>", "text/html")
    root, inter, leaf = leaf_pointing_at(url)
    start = time.monotonic()
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=1.0))
    assert time.monotonic() - start < 4
    assert report.verdict == "untrusted"
    failed = next(f for f in report.findings if f.code == "aia-fetch-failed")
    assert failed.detail == {"url": url, "reason": reason} and failed.severity == "warning"
    assert report.missing[0].sources == ["aia:" + url]     # still worth a try from a PC


@pytest.mark.parametrize("url", ["file:///etc/ssl/certs/issuer.pem", "ldap://ldap.example.test/cn=CA?cACertificate"])
def test_aia_with_other_schemes_is_reported_not_followed(server, url):
    root, inter, leaf = leaf_pointing_at(url)
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=1.0))
    finding = next(f for f in report.findings if f.code == "aia-not-followed")
    assert finding.detail["url"] == url and finding.severity == "info"
    assert report.verdict == "untrusted" and server.requests == []


def test_no_url_is_fetched_twice_per_run(server):
    root, inter, leaf = leaf_pointing_at(server.url("/shared.cer"))
    other_leaf = inter.leaf(["localhost"], key_type="rsa", aia_url=server.url("/shared.cer"))
    server.serve("/shared.cer", inter.cert.der)
    sourcing = Sourcing(timeout=5)
    first = analyse_chain([leaf.cert], store(root.cert), HOST, sourcing)
    second = analyse_chain([other_leaf.cert], store(root.cert), "localhost", sourcing)
    assert first.verdict == second.verdict == "fixable"
    assert server.requests == ["/shared.cer"]


def test_fetch_disabled_lists_the_url_instead(server):
    root, inter, leaf = leaf_pointing_at(server.url("/issuer.cer"))
    server.serve("/issuer.cer", inter.cert.der)
    report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(fetch=False))
    assert report.verdict == "untrusted" and server.requests == []
    (missing,) = report.missing
    assert missing.sources == ["aia:" + server.url("/issuer.cer")] and missing.subject == inter.cert.subject


def test_trusted_chain_never_touches_the_network(server, pki):
    a = pki["A"]
    sourcing = Sourcing(timeout=1.0)
    report = analyse_chain(a["ec"].chain(), store(a["root"].cert), HOST, sourcing)
    assert report.verdict == "trusted" and server.requests == [] and sourcing.aia.fetches == 0


def test_https_aia_works_without_verifying_the_transport(pki, no_network_env):
    """The TLS certificate of the AIA host is from nowhere; the fetched CA is still checked by signature."""
    web = CA.root("Untrusted Web Root").leaf(["127.0.0.1"])
    with AiaServer(tls=(web.chain_pem(), web.key_pem())) as https:
        root, inter, leaf = leaf_pointing_at(https.url("/issuer.cer"))
        assert https.url("/issuer.cer").startswith("https://127.0.0.1:")
        https.serve("/issuer.cer", inter.cert.der)
        report = analyse_chain([leaf.cert], store(root.cert), HOST, Sourcing(timeout=5))
        assert report.verdict == "fixable"
        assert report.to_add[0].provenance == "aia:" + https.url("/issuer.cer")
        https.serve("/issuer.cer", pki["B"]["inter"].cert.der)     # a lie over https is still a lie
        other = leaf_pointing_at(https.url("/issuer.cer"), cn="Other CA")[2]
        report = analyse_chain([other.cert], store(root.cert), HOST, Sourcing(timeout=5))
        assert report.verdict == "untrusted" and "aia-unrelated-certificate" in report.codes()
