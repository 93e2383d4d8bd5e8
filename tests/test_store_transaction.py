"""The write protocol on both file stores: rollback, kills, locks, concurrency, backups."""
import os
import time

import pytest

from ibmi_trust.errors import EXIT_STORE, StoreError, StoreLocked, StoreWriteError
from ibmi_trust.store import lock as lock_module
from ibmi_trust.store.lock import StoreLock
from ibmi_trust.store.spec import StoreOptions, open_store
from ibmi_trust.store.transaction import FAIL_AT_ENV
from ibmi_trust.testing.pki import CA
from store_support import links_of, run_python, start_python, store_image

KINDS = ("capath", "bundle")


@pytest.fixture(scope="module")
def cas():
    """Eight small root CAs (cheap EC keys) to add in bulk."""
    return [CA.root("Bulk Root %02d" % i) for i in range(8)]


def make_store(kind, tmp_path, pki, **options):
    """A store of `kind` holding roots A and B, plus a foreign file or comment."""
    if kind == "capath":
        where = tmp_path / "certs"
        where.mkdir()
        (where / "README").write_text("kept by every write\n")
    else:
        where = tmp_path / "ca.pem"
        where.write_bytes(b"# my bundle\n")
    store = open_store("%s:%s" % (kind, where), StoreOptions(**options))
    store.add([pki["A"]["root"].cert, pki["B"]["root"].cert])
    return store, where


def image(kind, where):
    return store_image(where) if kind == "capath" else where.read_bytes()


def write_certs(tmp_path, cas):
    paths = []
    for index, ca in enumerate(cas):
        path = tmp_path / ("in%02d.pem" % index)
        path.write_bytes(ca.cert_pem())
        paths.append(str(path))
    return paths


# -- rollback on failure -------------------------------------------------------
# A bundle write has one mid-write point (before its rename); a CApath write one per file and link.
@pytest.mark.parametrize("kind, fail_at",
                         [(k, f) for k in KINDS for f in ("after-backup", "mid-write", "before-confirm")]
                         + [("capath", "mid-write@3"), ("capath", "mid-write@6")])
def test_failure_anywhere_rolls_back_byte_for_byte(kind, fail_at, pki, cas, tmp_path, monkeypatch):
    store, where = make_store(kind, tmp_path, pki)
    before = image(kind, where)
    backups_before = len(store.backups())
    monkeypatch.setenv(FAIL_AT_ENV, fail_at)

    with pytest.raises(StoreWriteError) as info:
        store.add([pki["A"]["inter"].cert] + [c.cert for c in cas[:3]])

    assert "rolled back" in info.value.message and info.value.exit_code == EXIT_STORE
    assert image(kind, where) == before
    assert len(store.backups()) == backups_before + 1
    assert lock_module.read_record(store.lock_path)["state"] == "idle"
    monkeypatch.delenv(FAIL_AT_ENV)
    assert len(store.list()) == 2 and not store.problems


@pytest.mark.parametrize("kind", KINDS)
def test_remove_failure_rolls_back(kind, pki, tmp_path, monkeypatch):
    store, where = make_store(kind, tmp_path, pki)
    before = image(kind, where)
    monkeypatch.setenv(FAIL_AT_ENV, "before-confirm")
    with pytest.raises(StoreWriteError):
        store.remove([pki["A"]["root"].cert.sha256])
    assert image(kind, where) == before


# -- a writer killed midway ------------------------------------------------------
KILLED_ADD = """
import sys
from ibmi_trust.certs import load_certificate_file
from ibmi_trust.store.spec import open_store
certs = [c for p in sys.argv[2:] for c in load_certificate_file(p)]
open_store(sys.argv[1]).add(certs)
print("finished")
"""


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_mid_write_leaves_the_previous_store(kind, pki, cas, tmp_path):
    store, where = make_store(kind, tmp_path, pki)
    before = image(kind, where)
    code = "import sys; sys.argv = ['x'] + %r\n%s" % ([store.spec] + write_certs(tmp_path, cas), KILLED_ADD)

    point = "mid-write@3:kill" if kind == "capath" else "mid-write:kill"
    child = run_python(code, env_extra={FAIL_AT_ENV: point})

    assert child.returncode == -9 and "finished" not in child.stdout
    if kind == "bundle":
        assert where.read_bytes() == before                   # one rename: never half-written
    store.list()
    assert any("did not finish" in p.reason for p in store.problems)

    report = store.add([pki["A"]["inter"].cert])              # the next writer rolls back first

    assert report.notes[0].startswith("rolled back an interrupted write")
    store.remove([pki["A"]["inter"].cert.sha256])
    assert image(kind, where) == before
    leftovers = os.listdir(str(where if kind == "capath" else where.parent))
    assert not [n for n in leftovers if n.startswith(".ibmi-trust-tmp")]


def test_kill_at_a_random_moment_leaves_old_or_new_store(pki, cas, tmp_path):
    """Real SIGKILLs from outside while a writer works, no test hook in the writer."""
    store, where = make_store("capath", tmp_path, pki)
    before = store_image(where)
    inputs = write_certs(tmp_path, cas)
    code = "import sys; sys.argv = ['x'] + %r\n%s" % ([store.spec] + inputs, KILLED_ADD)
    complete = None
    interrupted = 0
    for attempt in range(4):
        child = start_python(code)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            if lock_module.read_record(store.lock_path).get("state") == "writing":
                time.sleep(attempt * 0.003)
                break
            time.sleep(0.0005)
        child.kill()
        child.communicate(timeout=30)
        report = store.add([])                     # takes the lock: recovers if needed
        interrupted += any(n.startswith("rolled back an interrupted write") for n in report.notes)
        state = store_image(where)
        if state != before:                        # the kill came after the commit
            complete = complete or state
            assert state == complete and len(store.list()) == 2 + len(cas)
            store.remove([c.cert.sha256 for c in cas])
        assert store_image(where) == before
    assert interrupted >= 1


# -- locks ---------------------------------------------------------------------
HOLD_LOCK = """
import sys
from ibmi_trust.store.lock import StoreLock
with StoreLock(sys.argv[1], timeout=5, what="test"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_held_lock_names_its_holder(kind, pki, tmp_path):
    store, where = make_store(kind, tmp_path, pki, lock_timeout=0.3)
    holder = start_python("import sys; sys.argv = ['x', %r]\n%s" % (str(store.lock_path), HOLD_LOCK))
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreLocked) as info:
            store.add([pki["A"]["inter"].cert])
        assert 0.25 <= time.monotonic() - started < 5
        message = info.value.message
        assert "is locked by pid %d" % holder.pid in message and ", since 20" in message
        assert "waited 0.3s" in message and info.value.exit_code == EXIT_STORE
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    assert store.add([pki["A"]["inter"].cert]).changed      # a dead holder's lock is gone


def test_a_second_holder_in_the_same_process_is_refused(tmp_path):
    path = tmp_path / "lock"
    with StoreLock(path, timeout=0, what="capath:x"):
        with pytest.raises(StoreLocked, match="another write in this process"):
            with StoreLock(path, timeout=0.1, what="capath:x"):
                pass
    with StoreLock(path, timeout=0):
        pass


@pytest.mark.parametrize("kind", KINDS)
def test_threads_of_one_process_take_turns(kind, pki, cas, tmp_path):
    import threading

    store, _where = make_store(kind, tmp_path, pki)
    errors = []

    def add(ca):
        try:
            open_store(store.spec).add([ca.cert])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
    threads = [threading.Thread(target=add, args=(ca,)) for ca in cas[:4]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert {c.cert.sha256 for c in cas[:4]} <= {e.cert.sha256 for e in store.list()}
    assert not store.problems


CONCURRENT_ADD = """
import sys, time
from ibmi_trust.certs import load_certificate_file
from ibmi_trust.store.spec import StoreOptions, open_store
store = open_store(sys.argv[1], StoreOptions(lock_timeout=60))
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
for path in sys.argv[3:]:
    store.add(load_certificate_file(path))
print("done")
"""


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_writers_leave_a_consistent_store(kind, pki, cas, tmp_path):
    store, where = make_store(kind, tmp_path, pki)
    inputs = write_certs(tmp_path, cas)
    start_at = time.time() + 1.5
    writers = [start_python("import sys; sys.argv = ['x'] + %r\n%s"
                            % ([store.spec, repr(start_at)] + inputs[i::4], CONCURRENT_ADD))
               for i in range(4)]
    outputs = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, outputs
    entries = store.list()
    assert not store.problems
    assert sorted(e.cert.sha256 for e in entries) == sorted(
        [c.cert.sha256 for c in cas] + [pki["A"]["root"].cert.sha256, pki["B"]["root"].cert.sha256])
    assert all(e.enabled is not False for e in entries)
    if kind == "capath":
        assert len(links_of(where)) == len(entries)


# -- backup, restore, retention, recovery ---------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_backup_and_restore_round_trip(kind, pki, tmp_path):
    store, where = make_store(kind, tmp_path, pki)
    saved = store.backup()
    at_backup = image(kind, where)
    store.add([pki["A"]["inter"].cert])
    store.remove([pki["B"]["root"].cert.sha256])
    changed = image(kind, where)

    report = store.restore(saved.id)

    assert image(kind, where) == at_backup
    assert [e.cert.sha256 for e in report.added] == [pki["B"]["root"].cert.sha256]
    assert [e.cert.sha256 for e in report.removed] == [pki["A"]["inter"].cert.sha256]
    assert report.backup is not None and report.backup.id > saved.id
    again = store.restore()                          # newest: the state just before the restore
    assert image(kind, where) == changed and again.changed
    assert store.restore(saved.id).changed and not store.restore(saved.id).changed


def test_restore_of_an_unknown_backup_is_refused(pki, tmp_path):
    store, _where = make_store("bundle", tmp_path, pki)
    with pytest.raises(StoreError, match="no backup 1999"):
        store.restore("19990101T000000.000000Z")


@pytest.mark.parametrize("kind", KINDS)
def test_retention_keeps_the_newest(kind, pki, cas, tmp_path):
    store, _where = make_store(kind, tmp_path, pki, retention=3)
    ids = [store.backups()[0].id]
    for ca in cas[:4]:
        report = store.add([ca.cert])
        ids.append(report.backup.id)
    assert [b.id for b in store.backups()] == sorted(ids, reverse=True)[:3]
    assert any(n.startswith("retention: removed old backup") for n in report.notes)


def test_backups_go_to_the_chosen_directory(pki, tmp_path):
    chosen = tmp_path / "elsewhere"
    store, where = make_store("capath", tmp_path, pki, backup_dir=str(chosen))
    backup = store.backup()
    assert os.path.dirname(os.path.dirname(backup.location)).startswith(str(chosen))
    assert sorted(os.listdir(os.path.join(backup.location, "certs"))) == sorted(
        n for n in os.listdir(str(where)) if not n.startswith(".ibmi-trust"))
    assert not (tmp_path / "certs.ibmi-trust-backups").exists()


def test_an_interrupted_write_without_its_backup_stops_writers(pki, tmp_path):
    store, _where = make_store("bundle", tmp_path, pki)
    store.lock_path.write_text("pid=999999\nhost=x\nsince=2024-01-01T00:00:00Z\nstate=writing\nbackup=gone\n")
    with pytest.raises(StoreError, match="its backup gone is gone"):
        store.add([pki["A"]["inter"].cert])
