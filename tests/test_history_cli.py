"""check, fix, verify, history and diff with a real history file, through the
command line, against loopback servers (tests/scenarios.py).

The load-balancer story: night 1 the name has two backends, 127.0.0.2 (chain A,
trusted) and 127.0.0.3 (chain B, whose root the store lacks); night 2 the
backend at .3 is down. Without memory night 2 would say OK; with the history
chain B is still judged (CRITICAL, "from the history"), fix plans for it and
proves it on the chain as captured.
"""
import json
import os

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from scenarios import HOST, Scenario

SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "schema")


def validate(doc, name):
    import jsonschema

    with open(os.path.join(SCHEMAS, name)) as handle:
        jsonschema.validate(doc, json.load(handle))


@pytest.fixture
def lb(tmp_path):
    """Night 1 served; the history holds it; returns a function that takes backend .3 down."""
    with Scenario("addresses", tmp_path) as sc:
        with open(sc.store_path, "a") as handle:
            handle.write(sc.root_a.cert.pem())                     # chain A is trusted, chain B is not
        sc.history = str(tmp_path / "h.sqlite")

        def night_two():
            port = sc.server.port
            sc.server.stop()
            from ibmi_trust.testing.servers import ChainPlan
            a = sc.inter_a.leaf(["mx.example.test", "127.0.0.2"])
            sc.night_two_leaf = a
            sc.add_server(ChainPlan(default=(a.chain_pem(), a.key_pem())), ["127.0.0.2"], port=port)
        sc.night_two = night_two
        yield sc


def run(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.output


def check(sc, *extra):
    return run(["check"] + sc.cli_args("--history", sc.history, *extra))


def test_a_chain_seen_on_an_earlier_night_is_still_judged(lb):
    code, out = check(lb, "--json")
    first = json.loads(out)
    assert code == 2 and len(first["chains"]) == 2
    assert first["history"]["run_id"] == 1 and first["history"]["new"]["compared_with_runs"] == 0
    b_sha = next(c["chain_sha256"] for c in first["chains"] if c["verdict"] != "trusted")
    lb.night_two()
    code, out = check(lb, "--json")
    doc = json.loads(out)
    validate(doc, "check-history.schema.json")
    assert code == 2 and doc["status"] == "CRITICAL"
    by_source = {c["source"]: c for c in doc["chains"]}
    historic = by_source["history"]
    assert historic["chain_sha256"] == b_sha and historic["verdict"] == "fixable"
    assert historic["history"]["served_by"][0]["address"] == "127.0.0.3"
    assert historic["history"]["last_seen"][:10] == first["checked_at"][:10]
    assert historic["history"]["last_seen"] >= first["checked_at"]          # its last handshake, in night 1
    assert doc["history"]["from_history"] == [b_sha]
    # chain A, renewed on .2 tonight (A'), was on every handshake of .2: its miss is no chance,
    # so it is retired, not judged
    a_sha = next(c["chain_sha256"] for c in first["chains"] if c["verdict"] == "trusted")
    assert [r["chain_sha256"] for r in doc["history"]["retired"]] == [a_sha]
    assert doc["history"]["guarantee"]["runs"] == 2
    assert doc["history"]["guarantee"]["statement"].startswith("over 2 runs and ")
    # the address that did not answer tonight was still tried (it was in the --resolve pin); the
    # new chain A' (a renewed leaf) on .2 is new: reported, not alarmed
    tonight = by_source["tonight"]
    assert tonight["verdict"] == "trusted" and tonight["status"] == "OK"
    new = [f for f in tonight["findings"] if f["code"] == "new-chain"]
    assert new and new[0]["severity"] == "info"
    assert doc["history"]["new"]["chains"] == [tonight["chain_sha256"]]
    assert doc["history"]["new"]["issuers"] == []                      # same issuing CA as before
    # text: says which chain came from the history and when it was last seen
    code, text = check(lb)
    assert "from the history (not served in this run's handshakes)" in text
    assert "history: over 3 runs and" in text
    assert "last seen %s" % first["checked_at"][:10] in text


def test_a_new_untrusted_chain_is_critical_and_names_its_new_issuer(lb):
    check(lb)
    port = lb.server.port
    lb.server.stop()
    from ibmi_trust.testing.pki import CA
    from ibmi_trust.testing.servers import ChainPlan

    rogue = CA.root("Night Rogue Root").intermediate("Night Rogue CA").leaf(["mx.example.test", "127.0.0.2"])
    lb.add_server(ChainPlan(default=(rogue.chain_pem(), rogue.key_pem())), ["127.0.0.2", "127.0.0.3"], port=port)
    code, out = check(lb, "--json")
    doc = json.loads(out)
    assert code == 2
    fresh = [c for c in doc["chains"] if c["source"] == "tonight"]
    assert len(fresh) == 1
    codes = {f["code"]: f for f in fresh[0]["findings"]}
    assert codes["new-chain"]["severity"] == "critical"
    issuers = [f["detail"]["issuer"] for f in fresh[0]["findings"] if f["code"] == "new-issuer"]
    assert issuers == ["CN=Night Rogue CA,O=ibmi-trust test", "CN=Night Rogue Root,O=ibmi-trust test"]
    assert "CN=Night Rogue CA,O=ibmi-trust test" in doc["history"]["new"]["issuers"]
    # both old chains were served on exactly these addresses, 30 times each: their misses are no
    # chance, so they are retired (renewed or withdrawn), not judged
    assert len(doc["history"]["retired"]) == 2 and doc["history"]["from_history"] == []


def test_fix_plans_for_a_chain_from_the_history_and_proves_it_with_openssl_verify(lb):
    check(lb)
    lb.night_two()
    code, out = run(["fix"] + lb.cli_args("--history", lb.history, "--yes", "--json"))
    doc = json.loads(out)
    assert code == 0 and doc["outcome"] == "fixed", doc.get("error")
    historic = [c for c in doc["before"]["chains"] if c["source"] == "history"]
    assert len(historic) == 1
    index = historic[0]["index"]
    assert index in doc["plan"]["add"][0]["variants"]
    assert lb.root_b.cert.sha256 in {item["sha256"] for item in doc["plan"]["add"]}
    proven = doc["proof"]["proven"][str(index)]
    assert proven.startswith("openssl verify of the chain as captured (from the history, last seen ")
    assert doc["after"]["status"] == "OK"
    assert {c["source"] for c in doc["after"]["chains"]} == {"tonight", "history"}
    assert lb.openssl_verifies(lb.sent_chains[1])            # the real openssl, independently


def test_history_and_diff_commands(lb, tmp_path):
    code, out = check(lb, "--json")
    (tmp_path / "night1.json").write_text(out)
    lb.night_two()
    code, out = check(lb, "--json")
    (tmp_path / "night2.json").write_text(out)
    target = lb.target_text
    # history: both chains, first/last seen, share, served by, trusted now
    code, out = run(["history", target, "--protocol", "smtp", "--history", lb.history, "--store",
                     "bundle:" + lb.store_path, "--json"])
    assert code == 0
    doc = json.loads(out)
    validate(doc, "history.schema.json")
    assert len(doc["runs"]) == 2 and [r["command"] for r in doc["runs"]] == ["check", "check"]
    by_trust = {c["trusted_now"]: c for c in doc["chains"]}
    assert set(by_trust) == {True, False} and len(doc["chains"]) == 3       # A, B, and A' (renewed leaf)
    assert by_trust[False]["served_by"][0]["address"] == "127.0.0.3"
    assert doc["next"][0].startswith("ibmi-trust fix %s --protocol smtp --store bundle:" % target)
    assert {a["address"] for a in doc["addresses"]} == {"127.0.0.2", "127.0.0.3"}
    dead = next(a for a in doc["addresses"] if a["address"] == "127.0.0.3")
    assert dead["failures"] > 0
    code, text = run(["history", target, "--protocol", "smtp", "--history", lb.history, "--store",
                      "bundle:" + lb.store_path])
    assert "NOT TRUSTED now by the store alone (missing: CN=Scenario Root B" in text and "next: ibmi-trust fix" in text
    code, out = run(["history", "--history", lb.history, "--json"])
    validate(json.loads(out), "history-targets.schema.json")
    # diff of the last two runs in the history
    code, out = run(["diff", "--target", target, "--protocol", "smtp", "--history", lb.history, "--json"])
    assert code == 1
    diff = json.loads(out)
    validate(diff, "diff.schema.json")
    t = diff["targets"][0]
    assert t["addresses_removed"] == ["127.0.0.3"] and len(t["chains_added"]) == 1
    assert [(c["old"], c["new"]) for c in t["sources_changed"]] == [("tonight", "history")]   # B: backend down
    assert t["chains_added"][0]["verdict"] == "trusted"
    assert t["chains_removed"][0]["verdict"] == "trusted"          # A was replaced by A' on .2
    # diff of the two reports gives the same changes
    code, out = run(["diff", str(tmp_path / "night1.json"), str(tmp_path / "night2.json"), "--json"])
    reports = json.loads(out)
    validate(reports, "diff.schema.json")
    r = reports["targets"][0]
    assert code == 1 and r["addresses_removed"] == ["127.0.0.3"]
    assert [c["certificates"] for c in r["chains_added"]] == [c["certificates"] for c in t["chains_added"]]
    code, text = run(["diff", "run:1", "run:2", "--history", lb.history])
    assert code == 1 and "- address 127.0.0.3" in text and "next: ibmi-trust history" in text
    assert "served -> judged from the history only" in text
    code, text = run(["diff", "run:1", "run:1", "--history", lb.history])
    assert code == 0 and "no change" in text


def test_diff_and_history_errors_are_one_line(tmp_path):
    code, out = run(["diff", str(tmp_path / "nope.json"), str(tmp_path / "nope.json")])
    assert code == 3 and "cannot read" in out and "Traceback" not in out
    (tmp_path / "x.json").write_text("{\"kind\": \"probe\"}")
    code, out = run(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")])
    assert code == 3 and "not a check, fix or verify" in out
    code, out = run(["diff", "run:7", "run:8", "--history", str(tmp_path / "empty.sqlite")])
    assert code == 3 and "run 7 is not in the history" in out
    code, out = run(["history", "mx.example.test:25", "--no-check-name", "--history", "off"])
    assert code == 3 and "no history to read" in out
    (tmp_path / "bad.sqlite").write_bytes(b"garbage" * 1000)
    code, out = run(["history", "mx.example.test:25", "--history", str(tmp_path / "bad.sqlite")])
    assert code == 3 and "not a database" in out and "hint:" in out


def test_verify_threads_write_one_history_without_losing_a_run(tmp_path):
    from ibmi_trust.testing.pki import CA
    from ibmi_trust.testing.servers import MailServer

    root = CA.root("Verify History Root")
    leaf = root.intermediate("Verify History CA").leaf([HOST])
    store = tmp_path / "store.pem"
    store.write_text(root.cert.pem())
    servers = [MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST).start() for _ in range(8)]
    try:
        lines = ["[defaults]", "store = bundle:%s" % store, "protocol = smtp", ""]
        for i, srv in enumerate(servers):
            lines += ["[t%d]" % i, "host = %s" % HOST, "port = %d" % srv.port,
                      "resolve = %s:%d:127.0.0.1" % (HOST, srv.port), ""]
        config = tmp_path / "targets.ini"
        config.write_text("\n".join(lines))
        history = tmp_path / "h.sqlite"
        for night in range(2):
            code, out = run(["verify", "--config", str(config), "--no-fetch", "--rate", "500", "--timeout", "3",
                             "--workers", "8", "--history", str(history), "--json"])
            doc = json.loads(out)
            assert code == 0, out[-2000:]
            assert all(t["check"]["history"]["run_id"] and not t["check"]["history"]["warnings"]
                       for t in doc["targets"])
        import sqlite3

        conn = sqlite3.connect(str(history))
        runs, commands = conn.execute("SELECT COUNT(*), COUNT(DISTINCT command) FROM runs").fetchone()
        rows = conn.execute("SELECT COUNT(*) FROM handshakes").fetchone()[0]
        attempts = conn.execute("SELECT SUM(attempts) FROM runs").fetchone()[0]
        conn.close()
        assert runs == 16 and commands == 1 and rows == attempts
        # a history that cannot be used: one warning line for the whole run, every target still checked
        bad = tmp_path / "bad.sqlite"
        bad.write_bytes(b"not sqlite" * 500)
        code, text = run(["verify", "--config", str(config), "--no-fetch", "--rate", "500", "--timeout", "3",
                          "--history", str(bad)])
        assert code == 0 and text.startswith("OK: 8 target(s): 8 OK")
        warnings = [line for line in text.splitlines() if "WARNING  history:" in line]
        assert 2 <= len(warnings) <= 3 and all("not a database" in w for w in warnings)   # once each, not per target
    finally:
        for srv in servers:
            srv.stop()


def test_fix_of_system_proves_a_chain_from_the_history_with_the_gskit_model(tmp_path, monkeypatch):
    """*SYSTEM (IBM i simulator): the proof re-probes what the server serves now and
    judges the chain remembered from an earlier night with the GSKit model, as captured."""
    import datetime

    from ibmi_simulator import Simulator, system_store
    from ibmi_trust.history import location
    from ibmi_trust.history.journal import HistorySettings, Journal
    from ibmi_trust.jobs.check import run_check
    from ibmi_trust.jobs.fix import run_fix
    from ibmi_trust.testing.servers import ChainPlan

    history = str(tmp_path / "h.sqlite")
    start = datetime.datetime(2026, 5, 1, 2, 0, tzinfo=datetime.timezone.utc)

    def options_for(sc, night):
        options = sc.check_options()
        when = start + datetime.timedelta(days=night)
        options.history = Journal.open(HistorySettings(location=location.Location("sqlite", history, "test"),
                                                       clock=lambda: when))
        return options

    with Scenario("addresses", tmp_path) as sc:
        sim = Simulator(tmp_path / "ibmi")
        sim.ca_status_column = "CERTIFICATE_STATUS"
        monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
        sim.add_certificate(sc.root_a.cert, "SCENARIO ROOT A")
        store = system_store(sim, monkeypatch, tmp_path)
        first = run_check(sc.target(), options_for(sc, 0), store=store)
        assert first.status == "CRITICAL" and len(first.variants) == 2
        port = sc.server.port
        sc.server.stop()
        a = sc.inter_a.leaf(["mx.example.test", "127.0.0.2"])
        sc.add_server(ChainPlan(default=(a.chain_pem(), a.key_pem())), ["127.0.0.2"], port=port)
        result = run_fix(sc.target(), options_for(sc, 1), store=store, confirm=None)
        assert result.outcome == "fixed" and result.proof.kind == "GSKit model", result.error
        historic = [v for v in result.before.variants if v.source == "history"]
        assert len(historic) == 1 and historic[0].variant.certificates[0].sha256 == sc.sent_chains[1][0].sha256
        assert result.proof.proven[historic[0].index] == "GSKit model on the chain as captured (from the history)"
        assert sc.root_b.cert.sha256 in {e.cert.sha256 for e in result.change.added}
        assert result.after is not None and result.after.status == "OK"
        assert any(v.source == "history" and v.report.verdict == "trusted" for v in result.after.variants)
