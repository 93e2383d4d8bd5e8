"""A history that cannot be used never fails a check: corrupt, locked, read-only,
full. Each case runs the real `ibmi-trust check` (in a child process where the
failure needs one) against a loopback server and a real SQLite file, and the
check must end exactly as without history, with a warning that names the
problem and the next step.

How the failures are made:
- corrupt: the file overwritten with text;
- locked: another connection holds SQLite's write lock (BEGIN IMMEDIATE) past
  the busy timeout (IBMI_TRUST_HISTORY_TIMEOUT=0.5);
- read-only: file and directory made read-only (mode 0444/0555); as root the
  child also drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from
  its bounding set (prctl PR_CAPBSET_DROP), so the modes bind it;
- full: (a) a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) in the child:
  every write beyond 8 KiB fails with EFBIG, which SQLite reports as a disk
  I/O error; (b) where a private mount namespace is allowed (unshare -m), a
  256 KiB tmpfs filled up: a real ENOSPC, "database or disk is full".
"""
import ctypes
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import MailServer

HOST = "mx.example.test"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    root = CA.root("History Failure Root")
    leaf = root.intermediate("History Failure CA").leaf([HOST])
    store = tmp / "store.pem"
    store.write_text(root.cert.pem())
    with MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST) as srv:
        yield {"port": srv.port, "store": str(store)}


def check_args(served, history):
    return ["check", "%s:%d" % (HOST, served["port"]), "--protocol", "smtp", "--resolve",
            "%s:%d:127.0.0.1" % (HOST, served["port"]), "--store", "bundle:" + served["store"], "--no-fetch",
            "--rate", "500", "--timeout", "3", "--min-share", "0.2", "--json", "--history", str(history)]


def run(args, env=None, preexec_fn=None, prefix=()):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    return subprocess.run(list(prefix) + [sys.executable, "-m", "ibmi_trust"] + args, capture_output=True, text=True,
                          env=env, preexec_fn=preexec_fn, timeout=120, cwd=ROOT)


def outcome(proc):
    assert proc.stdout.strip(), proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    return proc.returncode, doc["status"], doc["history"]


def test_without_trouble_the_run_is_recorded(served, tmp_path):
    code, status, history = outcome(run(check_args(served, tmp_path / "h.sqlite")))
    assert (code, status) == (0, "OK") and history["run_id"] == 1 and history["warnings"] == []


def test_a_corrupt_history_is_a_warning_and_the_check_runs(served, tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"overwritten by an editor\n" * 200)
    code, status, history = outcome(run(check_args(served, path)))
    assert (code, status) == (0, "OK")
    assert history["read"] is False and history["run_id"] is None
    assert any("not a database" in w and "mv %s" % path in w for w in history["warnings"]), history["warnings"]
    assert path.read_bytes().startswith(b"overwritten")            # left as it was, for the operator


def test_a_locked_history_is_a_warning_and_the_check_runs(served, tmp_path):
    path = tmp_path / "h.sqlite"
    run(check_args(served, path))                                  # a history with one run
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        proc = run(check_args(served, path), env={"IBMI_TRUST_HISTORY_TIMEOUT": "0.5"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    code, status, history = outcome(proc)
    assert (code, status) == (0, "OK")
    assert history["read"] is True and history["earlier_runs_in_window"] == 1   # read while locked (WAL)
    assert history["run_id"] is None
    assert any("not written" in w and "locked" in w for w in history["warnings"]), history["warnings"]


def _drop_root_overrides():
    """Root bypasses file modes through CAP_DAC_OVERRIDE and friends; drop them from
    the bounding set so the child (still uid 0) obeys the modes after exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):                        # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, cap, 0, 0, 0) != 0:    # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_history_is_a_warning_and_the_check_runs(served, tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "h.sqlite"
    run(check_args(served, path))
    os.chmod(str(path), 0o444)
    os.chmod(str(directory), 0o555)
    try:
        probe = run(["--version"], preexec_fn=_drop_root_overrides if os.geteuid() == 0 else None)
        if probe.returncode != 0:
            pytest.skip("cannot drop root's file-permission override here: %s" % probe.stderr[-200:])
        proc = run(check_args(served, path), preexec_fn=_drop_root_overrides if os.geteuid() == 0 else None)
    finally:
        os.chmod(str(directory), 0o755)
        os.chmod(str(path), 0o644)
    code, status, history = outcome(proc)
    assert (code, status) == (0, "OK")
    assert history["run_id"] is None and history["warnings"], history
    assert any("readonly" in w or "read-only" in w or "unable to open" in w for w in history["warnings"])
    assert any("write access" in w for w in history["warnings"])        # the next step
    conn = sqlite3.connect(str(path))
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1   # untouched
    conn.close()


FSIZE_CHILD = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
               "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192)); "
               "from ibmi_trust.cli import main; main(sys.argv[1:])")


def test_a_history_that_cannot_grow_is_a_warning_and_the_check_runs(served, tmp_path):
    path = tmp_path / "h.sqlite"
    run(check_args(served, path))
    size = path.stat().st_size
    assert size > 8192
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", FSIZE_CHILD] + check_args(served, path), capture_output=True,
                          text=True, env=env, timeout=120, cwd=ROOT)
    code, status, history = outcome(proc)
    assert (code, status) == (0, "OK")
    assert history["run_id"] is None
    assert any("not written" in w and ("I/O error" in w or "full" in w) for w in history["warnings"]), history
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    conn.close()


def test_a_history_on_a_full_file_system_is_a_warning_and_the_check_runs(served, tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1)")
    mount = tmp_path / "small"
    mount.mkdir()
    path = mount / "h.sqlite"
    out = tmp_path / "second.json"
    args = " ".join("'%s'" % a for a in check_args(served, path))
    script = ("set -e; mount -t tmpfs -o size=256k tmpfs '{m}'; {py} -m ibmi_trust {a} > /dev/null || true; "
              "dd if=/dev/zero of='{m}/filler' bs=4k 2>/dev/null || true; "
              "{py} -m ibmi_trust {a} > '{o}' || true; rm -f '{m}/filler'; "
              "{py} -c \"import sqlite3; c=sqlite3.connect('{p}'); "
              "print(c.execute('PRAGMA integrity_check').fetchone()[0], c.execute('SELECT COUNT(*) FROM runs')"
              ".fetchone()[0])\"").format(m=mount, py=sys.executable, a=args, o=out, p=path)
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env,
                          timeout=180, cwd=ROOT)
    if "mount" in proc.stderr and ("permission" in proc.stderr.lower() or "not permitted" in proc.stderr):
        pytest.skip("no private tmpfs mount here: %s" % proc.stderr[-200:])
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert doc["status"] == "OK" and doc["history"]["run_id"] is None
    assert any("not written" in w and "full" in w for w in doc["history"]["warnings"]), doc["history"]
    assert any("free space" in w for w in doc["history"]["warnings"]), doc["history"]["warnings"]
    assert proc.stdout.split() == ["ok", "1"]                 # the first run kept, the file sound
