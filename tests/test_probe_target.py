"""TARGET parsing, protocol inference, --resolve pins and address resolution."""
import socket
import subprocess
import sys

import pytest

from ibmi_trust.errors import ConfigError, ResolveError
from ibmi_trust.probe.resolve import addresses_for
from ibmi_trust.probe.target import Target, parse_resolve, pinned_addresses


@pytest.mark.parametrize("text,protocol,expect", [
    ("mx.example.test", None, ("mx.example.test", 25, "smtp")),
    ("MX.Example.Test.:587", None, ("mx.example.test", 587, "submission")),
    ("mail.example.test:465", None, ("mail.example.test", 465, "smtps")),
    ("imap.example.test:993", None, ("imap.example.test", 993, "imaps")),
    ("pop.example.test:110", None, ("pop.example.test", 110, "pop3")),
    ("pop.example.test:995", None, ("pop.example.test", 995, "pop3s")),
    ("www.example.test:443", None, ("www.example.test", 443, "https")),
    ("mx.example.test:2525", None, ("mx.example.test", 2525, "smtp")),
    ("mx.example.test", "imap", ("mx.example.test", 143, "imap")),
    ("127.0.0.1:10025", "smtps", ("127.0.0.1", 10025, "smtps")),
    ("[::1]:2525", None, ("::1", 2525, "smtp")),
    ("[::1]", "pop3s", ("::1", 995, "pop3s")),
    ("2001:db8::1", None, ("2001:db8::1", 25, "smtp")),
])
def test_parse(text, protocol, expect):
    target = Target.parse(text, protocol=protocol)
    assert (target.host, target.port, target.protocol) == expect


def test_dialogue_and_display():
    assert Target.parse("mx.example.test:25").dialogue == "smtp"
    assert Target.parse("mx.example.test:143").dialogue == "imap"
    assert Target.parse("mx.example.test:110").dialogue == "pop3"
    assert Target.parse("mx.example.test:993").dialogue is None
    assert Target.parse("[::1]:25").display() == "[::1]:25"
    assert Target.parse("::1").is_ip and not Target.parse("mx.example.test").is_ip


@pytest.mark.parametrize("text,protocol,words", [
    ("mx.example.test:10025", None, "cannot tell the protocol of port 10025"),
    ("mx.example.test:0", None, "bad port"),
    ("mx.example.test:99999", None, "bad port"),
    ("mx.example.test:smtp", None, "bad port"),
    ("", None, "empty target"),
    ("[::1", None, "unclosed"),
    ("[mx.example.test]:25", None, "not an IPv6 address"),
    ("user@mx.example.test", None, "not a host name"),
    ("mx.example.test", "ftp", "unknown protocol"),
])
def test_parse_errors(text, protocol, words):
    with pytest.raises(ConfigError) as info:
        Target.parse(text, protocol=protocol)
    assert words in info.value.message


def test_parse_unknown_port_hints_at_protocol_option():
    with pytest.raises(ConfigError) as info:
        Target.parse("mx.example.test:10025")
    assert "--protocol" in info.value.hint


def test_resolve_entries_curl_syntax():
    assert parse_resolve("mx.example.test:25:127.0.0.2,127.0.0.3") == {"mx.example.test:25": ["127.0.0.2", "127.0.0.3"]}
    assert parse_resolve("+MX.example.test:25:[::1],127.0.0.1") == {"mx.example.test:25": ["::1", "127.0.0.1"]}
    assert parse_resolve("*:587:[0:0::1]") == {"*:587": ["::1"]}
    assert parse_resolve("mx.example.test:25:::1") == {"mx.example.test:25": ["::1"]}   # brackets optional
    for bad in ("mx.example.test:25", "mx.example.test:25:not-an-ip", ":25:127.0.0.1", "mx:port:127.0.0.1"):
        with pytest.raises(ConfigError):
            parse_resolve(bad)


def test_pins_exact_before_wildcard_and_port_must_match():
    target = Target.parse("mx.example.test:25")
    pins = dict(parse_resolve("*:25:127.0.0.9"), **parse_resolve("mx.example.test:25:127.0.0.2"))
    assert pinned_addresses(target, pins) == ["127.0.0.2"]
    assert pinned_addresses(Target.parse("other.example.test:25"), pins) == ["127.0.0.9"]
    assert pinned_addresses(Target.parse("mx.example.test:587"), pins) is None
    assert addresses_for(target, pins) == ["127.0.0.2"]


def test_addresses_for_ip_literal_and_local_name():
    assert addresses_for(Target.parse("127.0.0.5:25")) == ["127.0.0.5"]
    expected = {info[4][0] for info in socket.getaddrinfo("localhost", 25, 0, socket.SOCK_STREAM)}
    got = addresses_for(Target.parse("localhost:25"))
    assert set(got) == expected and len(got) == len(expected)
    assert got == sorted(got, key=lambda a: ":" in a)              # IPv4 first


def test_name_that_cannot_resolve_is_resolve_error():
    # a 64-character label is refused by the resolver library itself: no packet leaves the machine
    target = Target.parse("%s.example.test:25" % ("x" * 64))
    with pytest.raises(ResolveError) as info:
        addresses_for(target)
    assert "does not resolve" in info.value.message and "--resolve" in info.value.hint
    assert info.value.exit_code == 3


# -- IP literals without importing ipaddress ------------------------------------------
def test_ip_literal_reader_is_ipaddress_s_answer():
    """is_ip_literal and ip_text answer the common cases (names, canonical IPv4)
    without ipaddress and must agree with it everywhere."""
    import ipaddress
    import random

    from ibmi_trust.probe.target import ip_text, is_ip_literal

    def expected(text):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return None

    samples = ["127.0.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5",
               "1..3.4", ".1.2.3", "1.2.3.4.", "", "-1.2.3.4", "+1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.\u0664",
               "\u0661.2.3.4", "1.2.3.4%eth0", "::1", "::", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:1.2.3.4",
               "fe80::1%eth0", "[::1]", "1:2:3:4:5:6:7:8:9", "mx.example.test", "localhost", "a.b.c.d", "1.2.3.a",
               "0000.0.0.1", "0.0.0.00", "999.1.1.1", "1.2.3.255", "1e1.2.3.4", "1_0.2.3.4"]
    rng = random.Random(13)
    alphabet = "0123456789.:abcdefABCDEF%[]x \u0663"
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(20000)]
    samples += [".".join(str(rng.randint(0, 300)).zfill(rng.choice((1, 1, 1, 2, 3))) for _ in range(4))
                for _ in range(5000)]
    for text in samples:
        assert ip_text(text) == expected(text), repr(text)
        assert is_ip_literal(text) == (expected(text) is not None), repr(text)


def test_a_name_or_a_canonical_ipv4_address_needs_no_ipaddress_module():
    code = ("import sys\nfrom ibmi_trust.probe.target import Target, parse_resolve\n"
            "Target.parse('mx.example.test:25'); Target.parse('127.0.0.1:25'); parse_resolve('mx:25:127.0.0.2')\n"
            "print('ipaddress' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
