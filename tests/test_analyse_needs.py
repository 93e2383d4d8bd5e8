"""`needs`: the merged list of missing certificates, and the command end to end
(real loopback SMTP server, real AIA HTTP server, bundle store)."""
import json

import pytest
from click.testing import CliRunner

from ibmi_trust.analyse import analyse_chain
from ibmi_trust.analyse.needs import collect_needs
from ibmi_trust.cli import cli
from ibmi_trust.fetch import Sourcing
from ibmi_trust.store.base import StoreEntry
from ibmi_trust.testing.aia_server import AiaServer
from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import MailServer

HOST = "mx.example.test"
# without --roots the command loads the system bundle, which holds roots with such serials
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")


def test_needs_are_merged_across_chains(pki):
    a = pki["A"]
    anchors = [StoreEntry(a["root"].cert, "#0")]
    reports = [analyse_chain([a["ec"].cert], anchors, HOST), analyse_chain([a["rsa"].cert], anchors, HOST),
               analyse_chain(a["ec"].chain(), anchors, HOST)]
    (need,) = collect_needs(reports)
    assert (need.subject, need.key_id, need.sha256) == (a["inter"].cert.subject, a["inter"].cert.ski, None)
    assert need.reason == "unknown-issuer" and need.chains == [1, 2]
    obtained = analyse_chain([a["ec"].cert], anchors, HOST, Sourcing(fetch=False, extra=[a["inter"].cert]))
    (need,) = collect_needs([obtained])
    assert need.sha256 == a["inter"].cert.sha256 and need.cert == a["inter"].cert
    assert need.to_json()["pem"] == a["inter"].cert.pem() and need.reason == "intermediate"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A leaf-only SMTP server whose leaf and CA name their issuers over AIA."""
    tmp = tmp_path_factory.mktemp("needs")
    aia = AiaServer().start()
    private_root = CA.root("Needs Private Root")
    inter = private_root.intermediate("Needs Issuing CA", aia_url=aia.url("/root.cer"))
    leaf = inter.leaf([HOST, "127.0.0.1"], aia_url=aia.url("/inter.cer"))
    aia.serve("/inter.cer", inter.cert.der)
    aia.serve("/root.cer", private_root.cert.der)
    server = MailServer("smtp", chains=(leaf.cert_pem(), leaf.key_pem()), name=HOST).start()
    with_root = tmp / "with-root.pem"
    with_root.write_bytes(private_root.cert_pem())
    empty = tmp / "other.pem"
    empty.write_bytes(CA.root("Unrelated Root").cert_pem())
    yield {"aia": aia, "server": server, "root": private_root, "inter": inter,
           "with_root": "bundle:%s" % with_root, "without_root": "bundle:%s" % empty}
    server.stop()
    aia.stop()


def run_needs(site, store, *extra):
    args = ["needs", "127.0.0.1:%d" % site["server"].port, "--protocol", "smtp", "--store", store,
            "--rounds", "1", "--rate", "500", "--timeout", "3"] + list(extra)
    return CliRunner().invoke(cli, args)


def test_needs_lists_the_intermediate_with_fingerprint_and_url(site, no_network_env):
    result = run_needs(site, site["with_root"], "--json")
    assert result.exit_code == 2, result.output
    doc = json.loads(result.output)
    (need,) = doc["needs"]
    assert need["sha256"] == site["inter"].cert.sha256 and need["reason"] == "intermediate"
    assert need["urls"] == [site["aia"].url("/inter.cer")] and need["obtained"] is True
    assert doc["chains"] >= 1 and doc["other_failures"] == []


def test_needs_offline_lists_what_to_fetch(site, no_network_env):
    before = len(site["aia"].requests)
    result = run_needs(site, site["with_root"], "--no-fetch")
    assert result.exit_code == 2
    assert site["inter"].cert.subject in result.output
    assert "unknown until obtained" in result.output
    assert "%s (AIA)" % site["aia"].url("/inter.cer") in result.output
    assert "curl -fsS -o issuer-1.crt %s" % site["aia"].url("/inter.cer") in result.output
    assert ("ibmi-trust fix 127.0.0.1:%d --store %s --protocol smtp --no-fetch --from issuer-1.crt"
            % (site["server"].port, site["with_root"])) in result.output
    assert len(site["aia"].requests) == before


def test_needs_names_a_private_root_for_approval(site, no_network_env):
    result = run_needs(site, site["without_root"], "--json", "--roots", site["without_root"][len("bundle:"):])
    doc = json.loads(result.output)
    reasons = {n["reason"]: n for n in doc["needs"]}
    assert set(reasons) == {"intermediate", "unapproved-root"}
    assert reasons["unapproved-root"]["sha256"] == site["root"].cert.sha256
    approved = run_needs(site, site["without_root"], "--json", "--roots", site["without_root"][len("bundle:"):],
                         "--trust-root", site["root"].cert.sha256)
    assert {n["reason"] for n in json.loads(approved.output)["needs"]} == {"intermediate", "root"}


def test_needs_nothing_when_the_store_is_complete(tmp_path, pki, no_network_env):
    a = pki["A"]
    store = tmp_path / "complete.pem"
    store.write_bytes(a["root"].cert_pem())
    with MailServer("smtp", chains=(a["ec"].chain_pem(), a["ec"].key_pem()), name=HOST) as server:
        result = CliRunner().invoke(cli, ["needs", "127.0.0.1:%d" % server.port, "--protocol", "smtp",
                                          "--store", "bundle:%s" % store, "--rounds", "1", "--rate", "500",
                                          "--no-fetch"])
    assert result.exit_code == 0, result.output
    assert "nothing is missing" in result.output
