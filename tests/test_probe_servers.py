"""ibmi_trust.testing.servers itself: it is also `selftest`'s peer, so it must
bind as asked, stop promptly and never print."""
import socket
import time

import pytest

from peers import creds, dual
from ibmi_trust.probe.capture import capture_chain
from ibmi_trust.testing.servers import ChainPlan, MailServer


def test_one_port_number_on_several_addresses(pki):
    with MailServer("pop3s", host=["127.0.0.2", "127.0.0.3"], chains=dual(pki)) as srv:
        assert srv.resolve_map("pop.example.test") == {"pop.example.test:%d" % srv.port: ["127.0.0.2", "127.0.0.3"]}
        for address in srv.addresses:
            assert capture_chain(address, srv.port, "pop3s")[0] == pki["A"]["ec"].cert.der


def test_stops_within_two_seconds_with_clients_hanging_on(pki):
    srv = MailServer("smtp", chains=dual(pki)).start()
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]   # greeted, then silent
    for sock in idle:
        sock.recv(100)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 2.0
    for sock in idle:
        sock.settimeout(2)
        assert sock.recv(100) == b""                                             # closed by the server
        sock.close()


def test_quiet_when_clients_abort(pki, capfd):
    with MailServer("smtps", chains=dual(pki)) as srv:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", srv.port)) as sock:
                sock.sendall(b"\x16\x03\x01\x00\x05hello")                       # a broken ClientHello
        capture_chain("127.0.0.1", srv.port, "smtps")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert srv.connections == 4 and srv.handshakes == 1
    assert sum("UNEXPECTED_MESSAGE" in e for e in srv.errors) == 3           # swallowed, kept for debugging


def test_minority_share_is_drawn_per_connection_and_seeded(pki):
    plan = ChainPlan(creds(pki["A"]["rsa"]), minority=creds(pki["B"]["rsa"]), minority_share=0.2)
    runs = []
    for _ in range(2):
        with MailServer("smtps", chains=plan, seed=7) as srv:
            leaves = [capture_chain("127.0.0.1", srv.port, "smtps")[0] for _ in range(50)]
        runs.append(leaves)
        assert leaves.count(pki["B"]["rsa"].cert.der) == srv.served.count("minority")
    assert runs[0] == runs[1]                                                     # same seed, same sequence
    assert 3 <= runs[0].count(pki["B"]["rsa"].cert.der) <= 20                     # about 10 of 50


def test_rejects_unknown_settings(pki):
    with pytest.raises(ValueError):
        MailServer("ftp", chains=dual(pki))
    with pytest.raises(ValueError):
        MailServer("smtp", chains=dual(pki), misbehave="sometimes")
    with pytest.raises(ValueError):
        ChainPlan(dual(pki), minority=creds(pki["B"]["rsa"]), minority_share=1.5)
