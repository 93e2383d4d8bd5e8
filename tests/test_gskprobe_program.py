"""GSKPROBE (cl/gskprobe.c), compiled with gcc against the OpenSSL stand-in of
the gsk_* calls, against the suite's loopback servers: every dialogue, SNI,
untrusted and expired chains, GSKit environment errors, refusals, stalls,
hostile servers and bad requests. The stand-in is a model of GSKit: these
tests check the program and the Python side that reads it, not GSKit's
decisions (docs/testing.md)."""
import datetime
import json
import socket
import threading

import pytest

from gskit_support import LocalRunner
from ibmi_trust.errors import ConfigError
from ibmi_trust.ibmi.gskprobe import ProbeRequest, code_words, parse_result, request_text
from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import ChainPlan, MailServer

NAMES = ["mx.example.test", "127.0.0.1"]
DIALOGUE = {"smtp": "smtp", "submission": "smtp", "imap": "imap", "pop3": "pop3"}


@pytest.fixture(scope="module")
def pki():
    root_a, root_b = CA.root("Probe Root A"), CA.root("Probe Root B")
    inter_a, inter_b = root_a.intermediate("Probe CA A"), root_b.intermediate("Probe CA B")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return {"root_a": root_a, "inter_a": inter_a, "a": inter_a.leaf(NAMES), "b": inter_b.leaf(NAMES),
            "expired": inter_a.leaf(NAMES, not_before=now - datetime.timedelta(days=400), days=30),
            "future": inter_a.leaf(NAMES, not_before=now + datetime.timedelta(days=10), days=30)}


@pytest.fixture
def runner(gskprobe_binary, tmp_path, pki):
    run = LocalRunner(gskprobe_binary, str(tmp_path / "stores"))
    run.write_store("SYSTEM.pem", [pki["root_a"].cert])
    return run


def creds(issued):
    return issued.chain_pem(), issued.key_pem()


def request(server, rid="p1", sni=None, store="*SYSTEM", timeout=3, diagnose=True, **kw):
    dialogue = kw.pop("dialogue", DIALOGUE.get(server.protocol) if server is not None else "smtp")
    return ProbeRequest(rid, kw.pop("address", "127.0.0.1"), kw.pop("port", server.port if server else 1),
                        dialogue, sni, store, timeout=timeout, diagnose=diagnose, ehlo="probe.example.test", **kw)


def one(runner, req):
    run = runner.run([req])
    assert run.complete and not run.errors and len(run.handshakes) == 1, run
    return run.handshakes[0]


@pytest.mark.parametrize("protocol", ["smtp", "submission", "imap", "pop3", "smtps", "imaps", "pop3s", "https"])
def test_each_dialogue_then_gskit_accepts_a_chain_to_a_trusted_root(runner, pki, protocol):
    with MailServer(protocol, chains=creds(pki["a"])) as server:
        h = one(runner, request(server, sni="mx.example.test"))
    assert h.ok and h.decision == "accepts" and h.gsk_rc == 0 and h.stage == "handshake"
    assert h.certificates == [pki["a"].cert.der]          # GSK_PARTNER_CERT_INFO: the partner's certificate
    assert h.protocol.startswith("TLSV") and h.cipher
    assert server.handshakes == 1 and h.sni_sent and server.sni_seen == ["mx.example.test"]
    if DIALOGUE.get(protocol) == "smtp":
        assert server.commands[:2] == ["EHLO probe.example.test", "STARTTLS"]


def test_an_untrusted_chain_is_6000_with_its_ssl_api_twin_and_a_labelled_diagnostic(runner, pki):
    with MailServer("smtp", chains=creds(pki["b"])) as server:
        h = one(runner, request(server))
        assert server.handshakes == 1                      # the diagnostic's handshake; the first failed
        quiet = one(runner, request(server, rid="p2", diagnose=False))
    assert not h.ok and h.decision == "rejects" and h.gsk_rc == 6000 and h.certificates == []
    described = h.to_json()["gsk"]
    assert described["constant"] == "GSK_IBMI_ERROR_NOT_TRUSTED_ROOT"
    assert described["ssl_api"] == {"code": -23, "constant": "SSL_ERROR_NOT_TRUSTED_ROOT", "confirmed": False}
    assert code_words(6000) == "6000 GSK_IBMI_ERROR_NOT_TRUSTED_ROOT (SSL_ -23 SSL_ERROR_NOT_TRUSTED_ROOT?)"
    diag = h.diagnostic
    assert "never the verdict" in diag["label"] and diag["server_auth"] == "GSK_SERVER_AUTH_PASSTHRU"
    assert diag["validation_code"] == 6000 and h.diagnostic_certificates == [pki["b"].cert.der]
    assert quiet.gsk_rc == 6000 and quiet.diagnostic is None


def test_sni_decides_which_chain_gskit_meets(runner, pki, gskprobe_binary):
    plan = ChainPlan(default=creds(pki["a"]), by_sni={"other.example.test": creds(pki["b"])})
    with MailServer("smtp", chains=plan) as server:
        run = runner.run([request(server, "named", sni="other.example.test"), request(server, "plain")])
        named, plain = run.handshakes
        assert named.gsk_rc == 6000 and named.sni_sent and named.diagnostic_certificates == [pki["b"].cert.der]
        assert plain.ok and not plain.sni_sent and plain.certificates == [pki["a"].cert.der]
        # a release without GSK_SSL_EXTN_SERVERNAME_REQUEST (701): reported, handshake made without SNI
        old = LocalRunner(gskprobe_binary, runner.stores, no_sni=True)
        h = one(old, request(server, "old", sni="other.example.test"))
        assert h.ok and not h.sni_sent and h.certificates == [pki["a"].cert.der]
    assert server.sni_seen == ["other.example.test", "other.example.test", None, None]


def test_partner_certificate_info_with_the_whole_chain(gskprobe_binary, runner, pki):
    chained = LocalRunner(gskprobe_binary, runner.stores, partner_chain=True)
    with MailServer("smtp", chains=creds(pki["a"])) as server:
        h = one(chained, request(server))
    assert h.certificates == [pki["a"].cert.der, pki["inter_a"].cert.der]


@pytest.mark.parametrize("leaf, code, constant, twin", [
    ("expired", 107, "GSK_KEYFILE_CERT_EXPIRED", -24),
    ("future", 401, "GSK_ERROR_BAD_DATE", -25),
])
def test_validity_failures_have_their_own_codes(runner, pki, leaf, code, constant, twin):
    with MailServer("smtp", chains=creds(pki[leaf])) as server:
        h = one(runner, request(server))
    assert h.gsk_rc == code and h.decision == "rejects"
    assert h.to_json()["gsk"]["constant"] == constant and h.to_json()["gsk"]["ssl_api"]["code"] == twin
    assert h.diagnostic["validation_code"] == code


def test_environment_errors_stop_before_any_connection(gskprobe_binary, tmp_path, pki):
    empty = LocalRunner(gskprobe_binary, str(tmp_path / "none"))
    with MailServer("smtp", chains=creds(pki["a"])) as server:
        cases = [(empty, "*SYSTEM", None, 202),
                 (empty, "app:QIBM_NOT_THERE", None, 6002),
                 (LocalRunner(gskprobe_binary, str(tmp_path / "none"), no_access=True), "*SYSTEM", None, 6003),
                 (empty, "/home/me/trust.kdb", None, 201),
                 (empty, "/home/me/trust.kdb", "/home/me/trust.sth", 202)]
        for run, store, stash, code in cases:
            h = one(run, request(server, store=store, stash=stash))
            assert (h.stage, h.decision, h.gsk_rc) == ("environment", "environment", code), (store, h)
            assert "gsk_environment_init" in h.detail
        assert server.connections == 0
    assert one(empty, request(None, store="app:X", port=1)).to_json()["gsk"]["ssl_api"]["code"] == -1009


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refusals_misbehaviours_and_stalls_are_data_and_bounded_in_time(runner, pki):
    servers = {}
    try:
        for name, protocol, kw in (("silent", "smtp", {"misbehave": "silent"}),
                                   ("454", "smtp", {"misbehave": "starttls-454"}),
                                   ("nostarttls", "smtp", {"misbehave": "no-starttls"}),
                                   ("garbage", "smtp", {"misbehave": "garbage-banner"}),
                                   ("554", "smtp", {"misbehave": "error-greeting"}),
                                   ("imapbye", "imap", {"misbehave": "error-greeting"}),
                                   ("poperr", "pop3", {"misbehave": "no-starttls"}),
                                   ("inject", "smtp", {"misbehave": "inject-after-starttls"}),
                                   ("hangup", "smtp", {"misbehave": "close-in-handshake"}),
                                   ("split", "smtp", {"split_replies": True}),
                                   ("tlsstall", "smtps", {"stall_after": 0, "trickle_every": 0.3})):
            servers[name] = MailServer(protocol, chains=creds(pki["a"]), **kw).start()
        requests = [request(s, name, timeout=1) for name, s in servers.items()]
        requests.append(request(None, "refused", port=_closed_port(), timeout=1))
        run = runner.run(requests)
    finally:
        for s in servers.values():
            s.stop()
    got = {h.id: h for h in run.handshakes}
    assert run.complete and set(got) == {r.id for r in requests}
    expect = {"silent": ("dialogue", "timeout"), "454": ("dialogue", "starttls-refused"),
              "nostarttls": ("dialogue", "no-starttls"), "garbage": ("dialogue", "bad-greeting"),
              "554": ("dialogue", "bad-greeting"), "imapbye": ("dialogue", "bad-greeting"),
              "poperr": ("dialogue", "starttls-refused"), "inject": ("dialogue", "protocol-error"),
              "hangup": ("handshake", "gsk-error"), "split": ("handshake", "ok"),
              "tlsstall": ("handshake", "timeout"), "refused": ("connect", "refused")}
    assert {k: (h.stage, h.result) for k, h in got.items()} == expect
    assert "454 4.7.0" in got["454"].detail and "after the go-ahead" in got["inject"].detail
    assert got["tlsstall"].gsk_rc == 6011 and got["hangup"].gsk_rc == 420
    assert got["refused"].errno != 0 and got["refused"].gsk_rc is None
    assert {h.decision for k, h in got.items() if k != "split"} == {"no-handshake"}
    for h in got.values():                                          # each probe: at most 4 x its timeout
        assert h.elapsed_ms <= 4 * 1000 + 500, (h.id, h.elapsed_ms)


class RawServer:
    """Accepts connections and sends `payload` (bytes), then waits: a hostile server."""

    def __init__(self, payload: bytes):
        self.payload = payload
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.sendall(self.payload)
                self.stop.wait(5)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(6)
        self.sock.close()


def test_hostile_servers_meet_length_limits(runner):
    endless = RawServer(b"2" * 6000)                                 # no end of line at all
    chatty = RawServer(b"".join(b"220-line %d\r\n" % i for i in range(1200)))
    try:
        run = runner.run([ProbeRequest("endless", "127.0.0.1", endless.port, "smtp", None, "*SYSTEM", timeout=2),
                          ProbeRequest("chatty", "127.0.0.1", chatty.port, "smtp", None, "*SYSTEM", timeout=2)])
    finally:
        endless.close()
        chatty.close()
    endless_h, chatty_h = run.handshakes
    assert endless_h.result == "protocol-error" and "longer than 4096" in endless_h.detail
    assert chatty_h.result == "protocol-error" and "more than 1000 lines" in chatty_h.detail


def test_bad_request_lines_are_refused_one_by_one(runner, tmp_path):
    good = "ok1 127.0.0.1 %d smtp - *SYSTEM - 1 0 -" % _closed_port()
    lines = ["# a comment", "", "only three fields",
             "id;x 127.0.0.1 25 smtp - *SYSTEM - 1 0 -",                 # bad id
             "a 127.0.0.1 25 smtp - *SYSTEM - 999 0 -",                  # timeout out of range
             "a 127.0.0.1 25 ftp - *SYSTEM - 1 0 -",                     # unknown dialogue
             "a 127.0.0.1 25 smtp - app:QIBM@X - 1 0 -",                 # @ is not invariant
             "a 127.0.0.1 25 smtp - ../etc - 1 0 -",                     # not a store
             "a mx.example.test 25 smtp - *SYSTEM - 1 0 -",              # a name, not an address
             "x" * 2000,
             good]
    code, data = runner.run_raw("\n".join(lines) + "\n", str(tmp_path))
    assert code == 0
    run = parse_result(data)
    assert run.complete and [h.id for h in run.handshakes] == ["ok1"]
    assert len(run.errors) == 8 and "longer than 1023" in " ".join(run.errors)
    assert "a name" not in " ".join(run.errors) and "bad address" in " ".join(run.errors)
    many = "".join("p%d 127.0.0.1 1 smtp - *SYSTEM - 1 0 -\n" % i for i in range(300))
    code, data = runner.run_raw(many, str(tmp_path))
    capped = parse_result(data)
    assert len(capped.handshakes) == 256 and any("more than 256" in e for e in capped.errors)


def test_the_python_side_builds_only_lines_the_program_takes():
    ok = ProbeRequest("c1-1", "::1", 587, "smtp", "mx.example.test", "app:QIBM_QTMS_SMTP_CLIENT", ehlo="[::1]")
    assert ok.line() == "c1-1 ::1 587 smtp mx.example.test app:QIBM_QTMS_SMTP_CLIENT - 10 1 [::1]"
    assert request_text([ok]).startswith("#gskprobe 1\n")
    for bad in (dict(sni="bad name"), dict(store="app:QIBM#1"), dict(address="mx.example.test"),
                dict(timeout=0), dict(ehlo="a b"), dict(store="relative.kdb")):
        fields = dict(id="c1", address="127.0.0.1", port=25, dialogue="smtp", sni=None, store="*SYSTEM")
        fields.update(bad)
        with pytest.raises(ConfigError):
            ProbeRequest(**fields).line()


def test_an_existing_result_file_is_never_overwritten_and_a_missing_request_is_said(gskprobe_binary, tmp_path):
    import subprocess

    result = tmp_path / "result"
    result.write_bytes(b"keep me")
    proc = subprocess.run([gskprobe_binary, str(tmp_path / "request") + " ", str(result) + " "], timeout=30)
    assert proc.returncode == 3 and result.read_bytes() == b"keep me"
    fresh = tmp_path / "fresh"
    proc = subprocess.run([gskprobe_binary, str(tmp_path / "missing") + " ", str(fresh) + " "], timeout=30)
    run = parse_result(fresh.read_bytes())
    assert proc.returncode == 4 and run.complete and run.errors == ["the request file cannot be read"]


def test_result_parsing_trusts_nothing():
    lines = [b'{"kind":"header","implementation":"x"}', b"not json", b"[1,2]",
             json.dumps({"kind": "probe", "id": "a", "ok": 1, "gsk_rc": True, "stage": "handshake",
                         "partner_certificates": ["!!", 5, "AAAA"]}).encode()]
    run = parse_result(b"\n".join(lines))
    assert not run.complete and len(run.errors) == 2
    h = run.handshakes[0]
    assert h.ok is False and h.gsk_rc is None and h.certificates == [b"\0\0\0"] and h.decision == "no-handshake"
    assert parse_result(b"").errors == ["the result has no header line"]


def test_the_job_ccsid_table_is_the_invariant_set_of_every_ebcdic_ccsid():
    """What crosses to GSKit and the sockets APIs on IBM i: the program's table
    against the EBCDIC codecs Python has (37 US, 273 Germany, 500 international,
    1140 US with euro)."""
    import re

    from gskit_support import packaged_source

    with open(packaged_source(), encoding="ascii") as handle:
        text = handle.read()
    literal = r'"(?:[^"\\]|\\.)*"'
    strings = re.search(r"INVARIANT\[\] =\s*((?:%s\s*)+);" % literal, text).group(1)
    chars = "".join(part[1:-1] for part in re.findall(literal, strings))
    invariant = chars.encode("ascii").decode("unicode_escape")
    table = bytes(int(h, 16) for h in re.findall(r"0x([0-9A-F]{2})", re.search(
        r"EBCDIC\[\] = \{(.*?)\};", text, re.S).group(1)))
    assert len(invariant) == len(table) == 82 and len(set(table)) == 82
    for codec in ("cp037", "cp273", "cp500", "cp1140"):
        assert invariant.encode(codec) == table, codec
