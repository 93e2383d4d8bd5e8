"""Addresses over time, with a resolver override (never the real DNS).

A load-balanced name answers with different address sets from one query to
the next: the probe asks again before every round (bounded), and a check
with a history also probes every address seen in the window. The servers
are real loopback servers on 127.0.0.2 (chain A) and 127.0.0.3 (chain B).
"""
import json
import socket
import threading
import time

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.probe import resolve
from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import ChainPlan, MailServer

HOST = "mx.example.test"


class FakeDns:
    """getaddrinfo's shape; answers from a script of address sets, never the network."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, host, port, family=0, type=0, *rest):
        assert host == HOST, "only the test name is ever resolved: %r" % host
        with self.lock:
            answer = self.answers[min(self.calls, len(self.answers) - 1)]
            self.calls += 1
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]


@pytest.fixture
def backends(tmp_path):
    root = CA.root("Addresses Root")
    inter = root.intermediate("Addresses CA")
    a = inter.leaf([HOST])
    b = CA.root("Addresses Other Root").intermediate("Addresses Other CA").leaf([HOST])
    store = tmp_path / "store.pem"
    store.write_text(root.cert.pem())
    plan = ChainPlan(default=(a.chain_pem(), a.key_pem()), by_address={"127.0.0.3": (b.chain_pem(), b.key_pem())})
    servers = [MailServer("smtp", host=["127.0.0.2", "127.0.0.3"], chains=plan, name=HOST).start()]

    def only_two():
        port = servers[0].port
        servers[0].stop()
        servers.append(MailServer("smtp", host=["127.0.0.2"], port=port,
                                  chains=ChainPlan(default=(a.chain_pem(), a.key_pem())), name=HOST).start())
    yield {"port": servers[0].port, "store": str(store), "history": str(tmp_path / "h.sqlite"), "a": a, "b": b,
           "only_two": only_two}
    for srv in servers:
        srv.stop()


def check(env, dns, *extra):
    args = ["check", "%s:%d" % (HOST, env["port"]), "--protocol", "smtp", "--store", "bundle:" + env["store"],
            "--no-fetch", "--rate", "500", "--timeout", "3", "--history", env["history"], "--json"] + list(extra)
    with resolve.resolver_override(dns):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def served_leaves(doc, source="tonight"):
    return {c["certificates"][0]["sha256"] for c in doc["chains"] if c["source"] == source}


def test_an_address_that_appears_during_a_run_is_probed_from_the_next_round(backends):
    dns = FakeDns(["127.0.0.2"], ["127.0.0.2"], ["127.0.0.2", "127.0.0.3"])
    code, doc = check(backends, dns)
    probe = doc["probe"]
    assert probe["addresses"] == ["127.0.0.2", "127.0.0.3"]
    assert any(n.startswith("round 3: the name now also resolves to 127.0.0.3") for n in probe["notes"]), probe["notes"]
    assert served_leaves(doc) == {backends["a"].cert.sha256, backends["b"].cert.sha256}
    assert code == 2                                     # chain B (from .3) is not trusted
    # bounded: once per round, never more than the cap
    assert dns.calls == probe["resolutions"] <= probe["rounds"] + 1
    assert probe["resolutions"] <= 1 + 32


def test_an_address_gone_from_the_dns_is_still_probed_when_the_history_saw_it(backends):
    code, first = check(backends, FakeDns(["127.0.0.2", "127.0.0.3"]))
    assert code == 2 and first["probe"]["addresses"] == ["127.0.0.2", "127.0.0.3"]
    code, doc = check(backends, FakeDns(["127.0.0.2"]))            # the DNS no longer lists .3
    assert doc["probe"]["addresses"] == ["127.0.0.2", "127.0.0.3"]
    assert any("also probed, from earlier runs: 127.0.0.3" in n for n in doc["probe"]["notes"])
    assert served_leaves(doc) == {backends["a"].cert.sha256, backends["b"].cert.sha256}   # .3 still answers
    assert code == 2


def test_an_address_that_no_longer_answers_costs_nothing_and_its_chain_stays_judged(backends):
    check(backends, FakeDns(["127.0.0.2", "127.0.0.3"]))
    backends["only_two"]()                                          # backend .3 is gone
    code, doc = check(backends, FakeDns(["127.0.0.2"]))
    assert doc["status"] == "CRITICAL" and code == 2                # not UNKNOWN: .2 answered
    assert served_leaves(doc) == {backends["a"].cert.sha256}
    assert served_leaves(doc, "history") == {backends["b"].cert.sha256}
    assert any(c["address"] == "127.0.0.3" for c in doc["probe"]["abandoned"])
    assert doc["history"]["retired"] == []                         # its combinations did not answer: no verdict


def test_a_name_that_stops_resolving_mid_run_keeps_the_addresses_known(backends):
    dns = FakeDns(["127.0.0.2", "127.0.0.3"], None)
    code, doc = check(backends, dns, "--no-history")
    assert doc["probe"]["addresses"] == ["127.0.0.2", "127.0.0.3"] and doc["probe"]["handshakes"] >= 60
    assert dns.calls >= 2


def test_a_pinned_name_is_never_resolved():
    from ibmi_trust.probe.target import Target

    target = Target.parse("%s:25" % HOST)

    def no_dns(*args):
        raise AssertionError("resolved despite the pin")

    with resolve.resolver_override(no_dns):
        assert resolve.reresolve(target, {"%s:25" % HOST: ["127.0.0.2"]}, 1.0) is None
        assert resolve.reresolve(Target.parse("127.0.0.2:25"), None, 1.0) is None


def test_a_stuck_resolver_is_given_up_on_in_time():
    from ibmi_trust.probe.target import Target

    release = threading.Event()

    def stuck(*args):
        release.wait(5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.9", 25))]

    with resolve.resolver_override(stuck):
        started = time.monotonic()
        assert resolve.reresolve(Target.parse("%s:25" % HOST), None, 0.2) is None
        assert time.monotonic() - started < 1.0
    release.set()
