"""The SQLite history: real files, real concurrency, real failures.

Figures these tests establish (printed with -s): rows written and rows lost
with verify's threads, with two processes, and with a writer killed by
SIGKILL in the middle of its writes (lost must be 0: a run is committed
whole or not at all, and a committed run is never lost).
"""
import datetime
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from history_writer import HANDSHAKES, chains, make_run
from ibmi_trust.history.records import HistoryError, TargetKey
from ibmi_trust.history.sqlite_store import SqliteHistory

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history_writer.py")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def counts(path):
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        out = {t: conn.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0]
               for t in ("runs", "handshakes", "run_chains", "chain_certs", "certs")}
        # every handshake's chain is there whole, every certificate of every chain too
        out["dangling"] = conn.execute(
            "SELECT COUNT(*) FROM handshakes h WHERE h.chain_sha256 IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM chain_certs c WHERE c.chain_sha256 = h.chain_sha256)").fetchone()[0]
        out["dangling"] += conn.execute("SELECT COUNT(*) FROM chain_certs c WHERE NOT EXISTS "
                                        "(SELECT 1 FROM certs x WHERE x.sha256 = c.cert_sha256)").fetchone()[0]
        out["partial_runs"] = conn.execute(
            "SELECT COUNT(*) FROM runs r WHERE r.attempts != (SELECT COUNT(*) FROM handshakes h "
            "WHERE h.run_id = r.run_id)").fetchone()[0]
        out["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return out
    finally:
        conn.close()


def test_a_run_round_trips_and_certificates_are_stored_once_as_der(tmp_path):
    path = str(tmp_path / "h.sqlite")
    store = SqliteHistory(path)
    chain_list = chains("RT")
    for n in range(3):
        store.write_run(make_run("RT", n, chain_list))
    got = counts(path)
    assert got["runs"] == 3 and got["handshakes"] == 3 * HANDSHAKES and got["journal_mode"] == "wal"
    distinct = {der for ders in chain_list for der in ders}
    assert got["certs"] == len(distinct) == 3          # two leaves and their CA: once each, whatever the runs
    key = TargetKey("mx.rt.test", 25, "smtp")
    rows = store.summary(key, EPOCH)
    assert sum(r.count for r in rows) == 3 * HANDSHAKES
    ders = store.chain_certs({r.chain for r in rows})
    assert sorted(ders.values()) == sorted(chain_list)      # the DER exactly as sent, in order
    assert [r.run_id for r in store.runs(key, EPOCH)] == [1, 2, 3]


def test_threads_write_concurrently_and_lose_nothing(tmp_path, capsys):
    path = str(tmp_path / "h.sqlite")
    store = SqliteHistory(path, busy_timeout=30.0)        # one object shared, as verify's threads share it
    chain_list = chains("TH")
    threads, per_thread, errors = 8, 25, []

    def work(tag):
        try:
            for n in range(per_thread):
                store.write_run(make_run("TH", n, chain_list))
        except Exception as exc:                          # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors
    got = counts(path)
    written = threads * per_thread
    with capsys.disabled():
        print("\n[history] threads: %d runs (%d handshake rows) written by %d threads, %d runs and %d rows in the "
              "file: %d lost" % (written, written * HANDSHAKES, threads, got["runs"], got["handshakes"],
                                 written * HANDSHAKES - got["handshakes"]))
    assert got["runs"] == written and got["handshakes"] == written * HANDSHAKES
    assert got["dangling"] == 0 and got["partial_runs"] == 0


def test_two_processes_write_at_once_and_lose_nothing(tmp_path, capsys):
    path = str(tmp_path / "h.sqlite")
    SqliteHistory(path).create()
    runs = 60
    procs = [subprocess.Popen([sys.executable, WRITER, path, str(runs), tag], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tag in ("PA", "PB")]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outputs]
    reported = sum(o[0].count("committed ") for o in outputs)
    got = counts(path)
    with capsys.disabled():
        print("\n[history] two processes: %d runs (%d rows) reported committed, %d runs (%d rows) in the file: "
              "%d lost" % (reported, reported * HANDSHAKES, got["runs"], got["handshakes"],
                           reported * HANDSHAKES - got["handshakes"]))
    assert reported == got["runs"] == 2 * runs and got["handshakes"] == 2 * runs * HANDSHAKES
    assert got["dangling"] == 0 and got["partial_runs"] == 0


def test_kill_9_in_the_middle_of_writing_loses_no_committed_run(tmp_path, capsys):
    """A writer is SIGKILLed at random moments while another keeps writing; every
    run it reported committed is in the file, no run is there in part."""
    path = str(tmp_path / "h.sqlite")
    SqliteHistory(path).create()
    rng = random.Random(14)
    steady = subprocess.Popen([sys.executable, WRITER, path, "100000", "STEADY"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    reported_killed, kills = 0, 5
    try:
        for round_ in range(kills):
            victim = subprocess.Popen([sys.executable, WRITER, path, "100000", "VICTIM%d" % round_],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            want = rng.randint(3, 15)
            committed = 0
            deadline = time.monotonic() + 120
            while committed < want and time.monotonic() < deadline:
                line = victim.stdout.readline()
                if not line:
                    break
                if line.startswith("committed "):
                    committed = int(line.split()[1])
            time.sleep(rng.uniform(0.0, 0.02))             # somewhere inside the next run's write
            victim.send_signal(signal.SIGKILL)
            victim.wait(30)
            rest = victim.stdout.read()                    # lines printed before the kill landed
            for line in rest.splitlines():
                if line.startswith("committed "):
                    committed = int(line.split()[1])
            victim.stdout.close()
            victim.stderr.close()
            assert victim.returncode == -signal.SIGKILL
            reported_killed += committed
    finally:
        steady.send_signal(signal.SIGTERM)
        steady_out, _err = steady.communicate(timeout=60)
    reported_steady = max([int(l.split()[1]) for l in steady_out.splitlines() if l.startswith("committed ")] or [0])
    got = counts(path)
    conn = sqlite3.connect(path)
    victims = conn.execute("SELECT COUNT(*) FROM runs WHERE host LIKE 'mx.victim%'").fetchone()[0]
    conn.close()
    with capsys.disabled():
        print("\n[history] kill -9: %d kills; killed writers reported %d runs committed, %d in the file; steady writer "
              "%d runs; %d handshake rows in the file for %d runs; lost: %d; partial runs: %d"
              % (kills, reported_killed, victims, reported_steady, got["handshakes"], got["runs"],
                 max(0, reported_killed - victims), got["partial_runs"]))
    # committed means kept; at most one run per kill may have committed after its last report
    assert reported_killed <= victims <= reported_killed + kills
    assert got["runs"] >= reported_killed + reported_steady
    assert got["handshakes"] == got["runs"] * HANDSHAKES
    assert got["dangling"] == 0 and got["partial_runs"] == 0


def test_retention_deletes_old_runs_and_what_only_they_referred_to(tmp_path):
    from ibmi_trust.history import retention

    path = str(tmp_path / "h.sqlite")
    store = SqliteHistory(path)
    now = datetime.datetime.now(datetime.timezone.utc)
    old_chains, new_chains = chains("OLD"), chains("NEW")
    store.write_run(make_run("OLD", 1, old_chains, started=now - datetime.timedelta(days=120)))
    store.write_run(make_run("NEW", 1, new_chains, started=now - datetime.timedelta(days=10)))
    retention.forget(store.location)
    note = retention.prune_once(store, now, 90)
    assert note and "1 run(s) older than 90 days" in note
    assert retention.prune_once(store, now, 90) is None           # once per process
    got = counts(path)
    assert got["runs"] == 1 and got["handshakes"] == HANDSHAKES
    assert got["certs"] == 3                                        # the old run's certificates went with it
    assert store.summary(TargetKey("mx.old.test", 25, "smtp"), EPOCH) == []


# -- a history that cannot be used never fails a check -------------------------------------
def test_a_corrupt_file_is_a_clear_error_with_the_next_step(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not a database, it was overwritten by mistake\n" * 100)
    store = SqliteHistory(str(path))
    with pytest.raises(HistoryError) as info:
        store.write_run(make_run("CO", 1, chains("CO")))
    assert "not a database" in info.value.message
    assert "mv %s %s.damaged" % (path, path) in info.value.hint
    with pytest.raises(HistoryError):
        store.summary(TargetKey("mx.co.test", 25, "smtp"), EPOCH)


def test_a_locked_history_waits_then_gives_up_with_a_clear_error(tmp_path):
    path = str(tmp_path / "h.sqlite")
    SqliteHistory(path).create()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")                        # another writer holds the write lock
    try:
        store = SqliteHistory(path, busy_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(HistoryError) as info:
            store.write_run(make_run("LK", 1, chains("LK")))
        waited = time.monotonic() - started
        assert "locked" in info.value.message and 0.4 < waited < 10
        assert store.summary(TargetKey("mx.lk.test", 25, "smtp"), EPOCH) == []    # reading still works (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.write_run(make_run("LK", 1, chains("LK")))          # and writing works once the lock is gone
    assert counts(path)["runs"] == 1
