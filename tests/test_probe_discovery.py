"""Variant discovery: addresses, SNI, key types, the stopping rule, the
minority chain, partial and total failure, rate limits, --like-system."""
import json
import math
import socket
import threading
import time

import pytest

from peers import creds, dual
from ibmi_trust.errors import ConfigError, NoStartTLS, ProbeError
from ibmi_trust.probe import ProbeOptions, Target, like_system, probe, ratelimit, render, stopping
from ibmi_trust.testing.servers import ChainPlan, MailServer

FAST = dict(rate=1000.0, concurrency=4, timeout=5.0)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_stopping_rule_maths():
    assert stopping.handshakes_needed(0.05, 0.95) == 59
    assert stopping.handshakes_needed(0.2, 0.95) == 14
    assert stopping.handshakes_needed(0.01, 0.99) == 459
    assert stopping.rounds_needed(59, 8) == 8 and stopping.rounds_needed(59, 1) == 59 and stopping.rounds_needed(3, 8) == 1
    assert stopping.confidence_reached(59, 0.05) >= 0.95 > stopping.confidence_reached(58, 0.05)
    assert stopping.statement(0.05, 0.95398) == ("a chain served on >= 5% of connections would have been seen "
                                                 "with probability >= 95.3%")


def test_chains_per_address_under_one_name(pki):
    a, b = pki["A"], pki["B"]
    plan = ChainPlan(dual(pki), by_address={"127.0.0.3": creds(b["rsa"])})
    with MailServer("smtp", host=["127.0.0.2", "127.0.0.3"], chains=plan) as srv:
        target = Target.parse("mx.example.test:%d" % srv.port, "smtp")
        result = probe(target, ProbeOptions(resolve=srv.resolve_map(), seed=1, **FAST))
    assert result.addresses == ["127.0.0.2", "127.0.0.3"]
    assert len(result.combos) == 8                               # 2 addresses x SNI on/off x ecdsa/rsa
    assert result.rounds == 8 and result.handshakes == result.attempts == 64 and not result.failures
    by_leaf = {v.certificates[0].der: v for v in result.chains}
    assert set(by_leaf) == {a["rsa"].cert.der, a["ec"].cert.der, b["rsa"].cert.der}
    chain_b = by_leaf[b["rsa"].cert.der]
    assert {c.address for c in chain_b.combos} == {"127.0.0.3"} and chain_b.count == 32
    assert math.isclose(chain_b.share, 0.5)
    assert {(c.address, c.key_type) for c in by_leaf[a["ec"].cert.der].combos} == {("127.0.0.2", "ecdsa")}
    assert {c.sni for c in chain_b.combos} == {"mx.example.test", None}
    assert [c.der for c in chain_b.certificates] == [b["rsa"].cert.der, b["inter"].cert.der]
    g = result.guarantee
    assert g["met"] and g["handshakes"] == 64 and g["combinations_covered"] == 8 and g["probability"] > 0.96
    assert srv.sni_seen.count("mx.example.test") == srv.sni_seen.count(None) == 32


def test_minority_chain_on_five_percent_of_connections_is_found(pki):
    """Default discovery against a server that serves a second chain on 5% of
    connections, over 20 seeded runs: the rule promises >= 95% per run."""
    odd = pki["B"]["rsa"]
    found, runs, handshakes = 0, 20, []
    started = time.monotonic()
    for seed in range(runs):
        plan = ChainPlan(creds(pki["A"]["rsa"]), minority=creds(odd), minority_share=0.05)
        with MailServer("smtp", chains=plan, seed=seed) as srv:
            result = probe(Target.parse("mx.example.test:%d" % srv.port, "smtp"),
                           ProbeOptions(resolve=srv.resolve_map(), seed=seed, **FAST))
        leaves = {v.certificates[0].der for v in result.chains}
        found += odd.cert.der in leaves
        handshakes.append(result.handshakes)
        assert srv.served.count("minority") == (odd.cert.der in leaves) * sum(
            v.count for v in result.chains if v.certificates[0].der == odd.cert.der)
    elapsed = time.monotonic() - started
    print("\nminority (5%%) chain found in %d of %d seeded runs (%.0f%%), %d handshakes each, %.1fs"
          % (found, runs, 100.0 * found / runs, handshakes[0], elapsed))
    assert set(handshakes) == {60}                               # 4 combinations x 15 rounds
    assert found >= 15


def test_one_address_down_is_reported_and_the_rest_tops_up(pki):
    with MailServer("smtp", host="127.0.0.2", chains=dual(pki)) as srv:
        pins = {"mx.example.test:%d" % srv.port: ["127.0.0.2", "127.0.0.4"]}      # nothing listens on .4
        result = probe(Target.parse("mx.example.test:%d" % srv.port, "smtp"), ProbeOptions(resolve=pins, seed=2, **FAST))
    down = [f for f in result.failures if f.address == "127.0.0.4"]
    assert len(down) == 4 and all("Connection refused" in f.reason for f in down)
    assert set(result.abandoned) == {c for c in result.combos if c.address == "127.0.0.4"}
    assert all(result.failure_counts[f] == 2 for f in down)          # abandoned after two failures
    assert result.handshakes >= 59 and result.guarantee["met"]
    assert result.guarantee["combinations_covered"] == 4 and result.guarantee["combinations"] == 8
    assert "combination abandoned" in render.text(result)


def test_all_handshakes_failing_raises_the_reason(pki):
    with MailServer("smtp", chains=dual(pki), misbehave="no-starttls") as srv:
        with pytest.raises(NoStartTLS) as info:
            probe(Target.parse("127.0.0.1:%d" % srv.port, "smtp"), ProbeOptions(**FAST))
    message = info.value.message
    assert message.startswith("127.0.0.1:%d does not offer STARTTLS" % srv.port)   # callers add "could not probe X"
    assert srv.connections == 4                                  # 2 combinations, abandoned after 2 failures each


def test_ip_target_sends_no_sni_and_says_so(pki):
    with MailServer("imaps", chains=dual(pki)) as srv:
        result = probe(Target.parse("127.0.0.1:%d" % srv.port, "imaps"), ProbeOptions(rounds=2, **FAST))
    assert {c.sni for c in result.combos} == {None} and set(srv.sni_seen) == {None}
    assert any("no SNI" in note for note in result.notes)
    assert result.handshakes == 4 and not result.guarantee["met"]
    assert result.guarantee["statement"].endswith("probability >= 18.5%")


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1) here")
def test_ipv4_and_ipv6_addresses_are_both_probed(pki):
    with MailServer("pop3", host=["127.0.0.1", "::1"], chains=dual(pki)) as srv:
        pins = {"mx.example.test:%d" % srv.port: ["::1", "127.0.0.1"]}
        result = probe(Target.parse("mx.example.test:%d" % srv.port, "pop3"),
                       ProbeOptions(resolve=pins, rounds=1, key_types=("ecdsa",), **FAST))
    assert {c.address for v in result.chains for c in v.combos} == {"::1", "127.0.0.1"}


def test_key_type_and_sni_choices_shape_the_combinations(pki):
    with MailServer("smtp", chains=dual(pki)) as srv:
        target = Target.parse("localhost:%d" % srv.port, "smtp")
        result = probe(target, ProbeOptions(sni=("off",), key_types=("rsa",), rounds=3,
                                            resolve=srv.resolve_map("localhost"), **FAST))
        only13 = probe(target, ProbeOptions(tls_version="1.3", rounds=1, resolve=srv.resolve_map("localhost"), **FAST))
    assert [tuple(c) for c in result.combos] == [("127.0.0.1", None, "rsa")]
    assert len(result.chains) == 1 and result.chains[0].certificates[0].der == pki["A"]["rsa"].cert.der
    assert {c.key_type for c in only13.combos} == {"ecdsa"} and dict(only13.tls_versions) == {"TLSv1.3": 2}
    assert any("RSA-only offer needs TLS 1.2" in n for n in only13.notes)


def test_progress_reports_every_attempt(pki):
    seen = []
    with MailServer("smtps", chains=dual(pki)) as srv:
        probe(Target.parse("127.0.0.1:%d" % srv.port, "smtps"),
              ProbeOptions(rounds=3, **FAST), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(n, 6) for n in range(1, 7)]


def test_json_contract(pki):
    with MailServer("smtp", chains=dual(pki)) as srv:
        result = probe(Target.parse("mx.example.test:%d" % srv.port, "smtp"),
                       ProbeOptions(resolve=srv.resolve_map(), rounds=1, **FAST))
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["schema_version"] == 1 and doc["handshakes"] == 4 and isinstance(doc["handshakes"], int)
    assert doc["target"] == {"host": "mx.example.test", "port": srv.port, "protocol": "smtp", "starttls": True}
    for chain in doc["chains"]:
        assert chain["count"] == sum(s["count"] for s in chain["served_to"])
        for cert in chain["certificates"]:
            assert cert["sha256"] == cert["sha256"].lower() and len(cert["sha256"]) == 64
            assert cert["pem"].startswith("-----BEGIN CERTIFICATE-----")
    leaves = [c["certificates"][0]["sha256"] for c in doc["chains"]]
    assert sorted(leaves) == sorted([pki["A"]["rsa"].cert.sha256, pki["A"]["ec"].cert.sha256])


def test_human_summary_has_the_facts(pki):
    inter = pki["A"]["root"].intermediate("AIA Issuing CA", aia_url="http://127.0.0.1:9/aia/root.der")
    leaf = inter.leaf(["mx.example.test"], aia_url="http://127.0.0.1:9/aia/inter.der")
    with MailServer("smtp", chains=creds(leaf)) as srv:
        result = probe(Target.parse("mx.example.test:%d" % srv.port, "smtp"),
                       ProbeOptions(resolve=srv.resolve_map(), rounds=1, key_types=("ecdsa",), **FAST))
    text = render.text(result)
    for needle in ("1 distinct chain in 2 handshakes", "served to: 127.0.0.1 sni=mx.example.test ecdsa (1)",
                   "127.0.0.1 no-sni ecdsa (1)", "subject  CN=mx.example.test", "issuer   CN=AIA Issuing CA",
                   "AIA      http://127.0.0.1:9/aia/inter.der", "seen in 2 of 2 handshakes (100.0%)",
                   "sha256   " + leaf.cert.sha256, "days left",
                   "below the 95% asked for"):
        assert needle in text, needle


def test_rate_limit_spaces_handshakes(pki):
    with MailServer("smtps", chains=dual(pki)) as srv:
        started = time.monotonic()
        probe(Target.parse("127.0.0.1:%d" % srv.port, "smtps"),
              ProbeOptions(rounds=4, rate=20.0, concurrency=4, timeout=5.0))
        elapsed = time.monotonic() - started
    assert elapsed >= 7 / 20.0 - 0.02                             # 8 handshakes, 7 gaps of 50 ms


def test_limiter_is_shared_per_host_and_bounds_concurrency():
    assert ratelimit.limiter_for("MX.example.test", 5, 2) is ratelimit.limiter_for("mx.example.test.", 5.0, 2)
    limiter = ratelimit.HostLimiter(rate=1000.0, concurrency=2)
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def work():
        with limiter.slot():
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.03)
            with lock:
                state["now"] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert state["max"] == 2


def test_a_slot_is_given_back_when_the_handshake_fails_or_the_wait_is_interrupted(monkeypatch):
    limiter = ratelimit.HostLimiter(rate=1000.0, concurrency=1)
    with pytest.raises(ProbeError):
        with limiter.slot():
            raise ProbeError("refused")
    with limiter.slot():                          # the only slot is free again
        assert not limiter._slots.acquire(blocking=False)

    def interrupted(seconds):
        raise KeyboardInterrupt

    slow = ratelimit.HostLimiter(rate=0.5, concurrency=1)
    with slow.slot():
        pass                                      # the next start is 2 s away: the next slot sleeps
    monkeypatch.setattr(ratelimit.time, "sleep", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with slow.slot():
            pytest.fail("the body ran although the wait was interrupted")
    assert slow._slots.acquire(blocking=False)


@pytest.mark.parametrize("kwargs", [dict(min_share=0), dict(min_share=1.0), dict(rounds=0), dict(sni=("maybe",)),
                                    dict(key_types=("dsa",)), dict(tls_version="1.4"), dict(rate=0),
                                    dict(tls_version="1.3", key_types=("rsa",))])
def test_bad_options(kwargs):
    with pytest.raises(ConfigError):
        ProbeOptions(**kwargs)


# -- --like-system -----------------------------------------------------------
IBMI_75_DEFAULT = {
    "QSSLPCL": ["*TLSV1.3", "*TLSV1.2"],
    "QSSLCSL": ["*AES_128_GCM_SHA256", "*AES_256_GCM_SHA384", "*CHACHA20_POLY1305_SHA256",
                "*ECDHE_ECDSA_AES_128_GCM_SHA256", "*ECDHE_ECDSA_AES_256_GCM_SHA384",
                "*ECDHE_RSA_AES_128_GCM_SHA256", "*ECDHE_RSA_AES_256_GCM_SHA384",
                "*ECDHE_ECDSA_CHACHA20_POLY1305_SHA256", "*ECDHE_RSA_CHACHA20_POLY1305_SHA256"],
}


def test_like_system_mapping_of_the_default_lists():
    offer, notes = like_system.offer_from_system_values(IBMI_75_DEFAULT)
    assert (offer.key_type, offer.min_version, offer.max_version) == ("system", "1.2", "1.3")
    assert offer.ciphers == ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                             "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                             "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:@SECLEVEL=0")
    assert any("TLS 1.3 suites cannot be restricted" in n for n in notes)


def test_like_system_mapping_edge_cases():
    offer, notes = like_system.offer_from_system_values(
        {"QSSLPCL": "*TLSV1.3 *TLSV1.2 *TLSV1 *SSLV3", "QSSLCSL": "*RSA_AES_128_CBC_SHA *RSA_DES_CBC_MD5 *NEW_SUITE"})
    assert (offer.min_version, offer.max_version) == ("1.0", "1.2")          # no 1.3 suite listed
    assert offer.ciphers == "AES128-SHA:@SECLEVEL=0"
    text = " | ".join(notes)
    for needle in ("*SSLV3 cannot be offered", "leaves out TLS 1.1", "*RSA_DES_CBC_MD5", "*NEW_SUITE",
                   "no TLS 1.3 suite"):
        assert needle in text, needle
    offer, notes = like_system.offer_from_system_values({"QSSLPCL": ["*OPSYS"], "QSSLCSL": ["*AES_128_GCM_SHA256"]})
    assert (offer.min_version, offer.max_version) == ("1.3", "1.3") and "*OPSYS" in notes[0]
    with pytest.raises(ConfigError):
        like_system.offer_from_system_values({"QSSLPCL": ["*TLSV1.2"], "QSSLCSL": ["*RSA_RC2_CBC_128_MD5"]})
    with pytest.raises(ConfigError):
        like_system.offer_from_system_values({"QSSLPCL": ["*SSLV3"], "QSSLCSL": []})


def test_like_system_only_on_ibmi(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    with pytest.raises(ConfigError) as info:
        like_system.system_offer()
    assert "only on IBM i" in info.value.message and "--no-sni" in info.value.hint


def test_like_system_unreadable_system_values_is_a_config_error(monkeypatch):
    from ibmi_trust.errors import IbmiApiError

    def fail():
        raise IbmiApiError("SQL0204 SYSTEM_VALUE_INFO not found", api="SYSTEM_VALUE_INFO")

    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    monkeypatch.setattr(like_system, "read_system_values", fail)
    with pytest.raises(ConfigError) as info:
        like_system.system_offer()
    assert info.value.exit_code == 3 and "could not read QSSLPCL/QSSLCSL: SQL0204" in info.value.message


def test_like_system_probe_offers_what_the_system_values_allow(pki, monkeypatch):
    """As on an IBM i allowing only TLS 1.2 ECDHE_RSA suites: no SNI, and the
    dual-certificate server has to present its RSA certificate."""
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    monkeypatch.setattr(like_system, "read_system_values", lambda: {
        "QSSLPCL": ["*TLSV1.2"], "QSSLCSL": ["*ECDHE_RSA_AES_256_GCM_SHA384", "*ECDHE_RSA_AES_128_GCM_SHA256"]})
    with MailServer("smtp", chains=dual(pki)) as srv:
        result = probe(Target.parse("mx.example.test:%d" % srv.port, "smtp"),
                       ProbeOptions(like_system=True, resolve=srv.resolve_map(), rounds=2, **FAST))
    assert [tuple(c) for c in result.combos] == [("127.0.0.1", None, "system")]
    assert set(srv.sni_seen) == {None}
    assert [v.certificates[0].der for v in result.chains] == [pki["A"]["rsa"].cert.der]
    assert dict(result.tls_versions) == {"TLSv1.2": 2}
    assert result.notes[0].startswith("like-system offer: TLS 1.2..1.2, ciphers ECDHE-RSA-AES256-GCM-SHA384")


def test_probe_error_is_a_probe_error_with_exit_3():
    with pytest.raises(ProbeError) as info:
        probe(Target.parse("127.0.0.1:1", "smtp"), ProbeOptions(rounds=1, **FAST))
    assert info.value.exit_code == 3 and "Connection refused" in info.value.message
