"""--history db2:LIBRARY: the Db2 for i history against the IBM i simulator.

The tables come from install-objects (sql/history_create_*.sql); every
statement the store sends is a file of sql/ that the simulator recognises
by its exact text (tests/sim_history_tables.py). Not IBM i itself: the live
suite (tests/live) runs the same cycle on a real system.
"""
import datetime
import json

import pytest
from click.testing import CliRunner

from history_writer import chains, make_run
from ibmi_simulator import Simulator, as_ibmi
from ibmi_trust.cli import cli
from ibmi_trust.history.db2_store import Db2History
from ibmi_trust.history.records import HistoryError, TargetKey
from ibmi_trust.ibmi.objects import Installer
from ibmi_trust.ibmi.session import IbmiSession

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
PYTHON = "/QOpenSys/ibmi-trust/venv/bin/python3.9"


@pytest.fixture
def db2(tmp_path):
    sim = Simulator(tmp_path / "ibmi")
    session = IbmiSession(connection=sim.connection())
    Installer(session, "ITRUST").install(PYTHON, data_dir=str(tmp_path / "data"))
    return sim, Db2History("itrust", session=session)


def test_a_run_round_trips_through_the_shipped_statements(db2):
    sim, store = db2
    chain_list = chains("DB")
    first = store.write_run(make_run("DB", 1, chain_list))
    second = store.write_run(make_run("DB", 2, chain_list))
    assert (first, second) == (1, 2)                              # GENERATED ALWAYS AS IDENTITY
    key = TargetKey("mx.db.test", 25, "smtp")
    rows = store.summary(key, EPOCH)
    assert sum(r.count for r in rows if r.chain) == 120 and {r.address for r in rows} == {"127.0.0.1", "127.0.0.2",
                                                                                       "127.0.0.3"}
    assert sorted(store.chain_certs({r.chain for r in rows}).values()) == sorted(chain_list)
    assert len(sim.history.rows("ITRUST", "ITRCERT")) == 3        # each certificate once, as DER
    assert [r.run_id for r in store.runs(key, EPOCH)] == [1, 2]
    target, run = store.run(2)
    assert target == key and run.handshakes == 60 and run.command == "verify"
    assert {c.verdict for c in store.run_chains(2)} == {"trusted"}
    assert store.targets()[0][:2] == (key, 2)
    used = {name for name, lib in sim.history.statements}
    shipped = {"history_%s.sql" % n for n in ("insert_run", "insert_handshake", "insert_run_chain",
                                              "insert_chain_cert", "insert_cert", "summary", "runs", "run",
                                              "run_chains", "chain_certs", "targets")}
    assert shipped <= used and {lib for _n, lib in sim.history.statements} == {"ITRUST"}


def test_retention_runs_the_five_deletes_in_order(db2):
    from ibmi_trust.history import retention

    sim, store = db2
    now = datetime.datetime.now(datetime.timezone.utc)
    store.write_run(make_run("OLD", 1, chains("OLD"), started=now - datetime.timedelta(days=100)))
    store.write_run(make_run("NEW", 1, chains("NEW"), started=now - datetime.timedelta(days=1)))
    retention.forget(store.location)
    start = len(sim.history.statements)
    retention.prune_once(store, now, 90)
    assert [n for n, _ in sim.history.statements[start:]] == [
        "history_prune_handshakes.sql", "history_prune_run_chains.sql", "history_prune_runs.sql",
        "history_prune_chain_certs.sql", "history_prune_certs.sql"]
    assert len(sim.history.rows("ITRUST", "ITRRUN")) == 1 and len(sim.history.rows("ITRUST", "ITRCERT")) == 3


def test_two_jobs_storing_the_same_certificate_is_not_an_error(db2):
    sim, store = db2
    chain_list = chains("RACE")
    store.write_run(make_run("RACE", 1, chain_list))
    sim.history.race_next_merge(3)                  # another job wins the MERGE race: SQL0803
    assert store.write_run(make_run("RACE", 2, chain_list)) == 2
    assert len(sim.history.rows("ITRUST", "ITRHSHK")) == 120


def test_missing_tables_say_how_to_make_them(tmp_path):
    sim = Simulator(tmp_path / "ibmi")
    store = Db2History("NOHIST", session=IbmiSession(connection=sim.connection()))
    with pytest.raises(HistoryError) as info:
        store.write_run(make_run("NT", 1, chains("NT")))
    assert "SQL0204" in info.value.message
    assert info.value.hint == "the history tables are created by `ibmi-trust install-objects --library NOHIST`"


def test_check_and_history_with_db2_on_simulated_ibm_i(tmp_path, monkeypatch):
    from ibmi_trust.testing.pki import CA
    from ibmi_trust.testing.servers import MailServer

    sim = Simulator(tmp_path / "ibmi")
    Installer(IbmiSession(connection=sim.connection()), "ITRUST").install(PYTHON, data_dir=str(tmp_path / "d"))
    as_ibmi(sim, monkeypatch)
    root = CA.root("Db2 History Root")
    leaf = root.intermediate("Db2 History CA").leaf(["mx.example.test"])
    store = tmp_path / "store.pem"
    store.write_text(root.cert.pem())
    with MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name="mx.example.test") as srv:
        target = "mx.example.test:%d" % srv.port
        args = ["check", target, "--protocol", "smtp", "--resolve", "mx.example.test:%d:127.0.0.1" % srv.port,
                "--store", "bundle:%s" % store, "--no-fetch", "--rate", "500", "--timeout", "3",
                "--history", "db2:ITRUST", "--json"]
        for night in range(2):
            result = CliRunner().invoke(cli, args, catch_exceptions=False)
            doc = json.loads(result.output)
            assert result.exit_code == 0 and doc["history"]["warnings"] == [], doc["history"]
            assert doc["history"]["run_id"] == night + 1 and doc["history"]["location"] == "db2:ITRUST"
        assert doc["history"]["guarantee"]["runs"] == 2
        out = CliRunner().invoke(cli, ["history", target, "--protocol", "smtp", "--history", "db2:ITRUST",
                                       "--store", "bundle:%s" % store, "--json"], catch_exceptions=False)
        history = json.loads(out.output)
        assert len(history["runs"]) == 2 and history["chains"][0]["trusted_now"] is True
        out = CliRunner().invoke(cli, ["diff", "--target", target, "--protocol", "smtp", "--history", "db2:ITRUST"],
                                 catch_exceptions=False)
        assert out.exit_code == 0 and "no change" in out.output


def test_db2_history_off_ibm_i_is_a_warning_not_a_failure(tmp_path):
    from ibmi_trust.testing.pki import CA
    from ibmi_trust.testing.servers import MailServer

    root = CA.root("Db2 Off Root")
    leaf = root.intermediate("Db2 Off CA").leaf(["mx.example.test"])
    store = tmp_path / "store.pem"
    store.write_text(root.cert.pem())
    with MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name="mx.example.test") as srv:
        result = CliRunner().invoke(cli, [
            "check", "mx.example.test:%d" % srv.port, "--protocol", "smtp", "--resolve",
            "mx.example.test:%d:127.0.0.1" % srv.port, "--store", "bundle:%s" % store, "--no-fetch", "--rate", "500",
            "--history", "db2:ITRUST"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "WARNING  history: history not read" in result.output and "only reachable on IBM i" in result.output
