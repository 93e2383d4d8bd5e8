"""The history in an SQLite file (Python's sqlite3; PASE's Python has it too).

Concurrency: WAL journal (readers never block the writer), a busy timeout
(a writer waits for another instead of failing at once), and every write
is one `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so
two writers never deadlock on a read-then-write upgrade). Each call opens
its own connection, so verify's threads and several processes can write at
once. synchronous=FULL: a committed run survives a crash of the process
(and, with WAL, of the machine). A run is written in one transaction: a
process killed mid-write leaves the previous state, never part of a run.

Where WAL cannot be used (a file system without shared memory for the
`-shm` file), `IBMI_TRUST_HISTORY_JOURNAL=delete` selects SQLite's
rollback journal instead (docs/verify-on-your-system.md).

Every failure is a HistoryError saying what happened and what to do; the
journal (history.journal) turns it into a warning.
"""
import os
import sqlite3
from typing import Dict, Iterable, List, Optional

from ibmi_trust.history.records import (SCHEMA_VERSION, HistoryError, RunChainRow, RunRecord, RunRow, SummaryRow,
                                        TargetKey, cert_id, from_iso, iso)

ENV_JOURNAL = "IBMI_TRUST_HISTORY_JOURNAL"
DEFAULT_BUSY_TIMEOUT = 10.0              # seconds a writer waits for another

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # AUTOINCREMENT: a run id is never given again after retention deleted it (diff run:N stays exact)
    "CREATE TABLE IF NOT EXISTS runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, host TEXT NOT NULL, "
    "port INTEGER NOT NULL, protocol TEXT NOT NULL, started_at TEXT NOT NULL, command TEXT NOT NULL, "
    "handshakes INTEGER NOT NULL, attempts INTEGER NOT NULL, status TEXT NOT NULL, store TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS runs_target ON runs (host, port, protocol, started_at)",
    "CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at)",
    "CREATE TABLE IF NOT EXISTS handshakes (run_id INTEGER NOT NULL, host TEXT NOT NULL, port INTEGER NOT NULL, "
    "protocol TEXT NOT NULL, at TEXT NOT NULL, address TEXT NOT NULL, sni TEXT, key_type TEXT NOT NULL, "
    "tls_version TEXT, outcome TEXT NOT NULL, chain_sha256 TEXT)",
    "CREATE INDEX IF NOT EXISTS handshakes_target ON handshakes (host, port, protocol, at)",
    "CREATE INDEX IF NOT EXISTS handshakes_run ON handshakes (run_id)",
    "CREATE INDEX IF NOT EXISTS handshakes_chain ON handshakes (chain_sha256)",
    "CREATE TABLE IF NOT EXISTS run_chains (run_id INTEGER NOT NULL, chain_sha256 TEXT NOT NULL, "
    "verdict TEXT NOT NULL, from_history INTEGER NOT NULL, PRIMARY KEY (run_id, chain_sha256))",
    "CREATE INDEX IF NOT EXISTS run_chains_chain ON run_chains (chain_sha256)",
    "CREATE TABLE IF NOT EXISTS chain_certs (chain_sha256 TEXT NOT NULL, position INTEGER NOT NULL, "
    "cert_sha256 TEXT NOT NULL, PRIMARY KEY (chain_sha256, position))",
    "CREATE INDEX IF NOT EXISTS chain_certs_cert ON chain_certs (cert_sha256)",
    "CREATE TABLE IF NOT EXISTS certs (sha256 TEXT PRIMARY KEY, der BLOB NOT NULL)",
)
TARGET_WHERE = "host = ? AND port = ? AND protocol = ?"
SUMMARY_COLUMNS = "chain_sha256, address, sni, key_type, COUNT(*), MIN(at), MAX(at)"
RUN_COLUMNS = "run_id, started_at, command, handshakes, attempts, status, store"


class SqliteHistory:
    kind = "sqlite"

    def __init__(self, path: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.busy_timeout = busy_timeout
        self.journal_mode = (os.environ.get(ENV_JOURNAL) or "wal").strip().lower()
        self._ready = False

    @property
    def location(self) -> str:
        return self.path

    # -- connections -------------------------------------------------------------
    def _connect(self, *, create: bool) -> sqlite3.Connection:
        if not create and not os.path.exists(self.path):
            raise _NoFile()
        if create:
            directory = os.path.dirname(self.path)
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                raise HistoryError("cannot create the history directory %s: %s" % (directory, exc.strerror or exc),
                                   hint=_hint_for(str(exc), self.path)) from None
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            conn.execute("PRAGMA synchronous = FULL")
            if not self._ready:
                self._prepare(conn, create)
        except sqlite3.Error as exc:
            conn.close()
            raise self._error(exc) from None
        except HistoryError:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection, create: bool) -> None:
        """Journal mode and tables, once per process (both persist in the file)."""
        if create:
            mode = conn.execute("PRAGMA journal_mode = %s" % ("delete" if self.journal_mode == "delete" else "wal")
                                ).fetchone()[0]
            self.journal_mode = str(mode).lower()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise HistoryError("%s was written by a newer ibmi-trust (history layout %d; this one knows %d)"
                                   % (self.path, version, SCHEMA_VERSION),
                                   hint="upgrade ibmi-trust, or point --history at another file")
        if create and not {"runs", "handshakes", "run_chains", "chain_certs", "certs", "meta"} <= tables:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self._ready = create or "runs" in tables

    def _error(self, exc: Exception) -> HistoryError:
        text = str(exc)
        return HistoryError("history %s: %s" % (self.path, text), hint=_hint_for(text, self.path))

    def _read(self, sql: str, params: Iterable = ()) -> List[tuple]:
        try:
            conn = self._connect(create=False)
        except _NoFile:
            return []
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return []                                   # a file made by someone else, not yet set up
            raise self._error(exc) from None
        finally:
            conn.close()

    # -- writing -------------------------------------------------------------------
    def create(self) -> None:
        """Create the file and its tables now (install-objects does, to set authorities)."""
        self._connect(create=True).close()

    def write_run(self, run: RunRecord) -> int:
        """Write one run in one transaction; returns its run id."""
        return self._transaction(lambda conn: self._insert(conn, run))

    def _transaction(self, work):
        """work(conn) inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any failure)."""
        conn = self._connect(create=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                out = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return out
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            conn.close()

    @staticmethod
    def _insert(conn: sqlite3.Connection, run: RunRecord) -> int:
        t = run.target
        cursor = conn.execute(
            "INSERT INTO runs (host, port, protocol, started_at, command, handshakes, attempts, status, store) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (t.host, t.port, t.protocol, iso(run.started_at), run.command, run.successes, len(run.handshakes),
             run.status, run.store))
        run_id = cursor.lastrowid
        conn.executemany(
            "INSERT INTO handshakes (run_id, host, port, protocol, at, address, sni, key_type, tls_version, outcome, "
            "chain_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, t.host, t.port, t.protocol, iso(h.at), h.address, h.sni, h.key_type, h.tls_version, h.outcome,
              h.chain) for h in run.handshakes])
        conn.executemany("INSERT OR REPLACE INTO run_chains (run_id, chain_sha256, verdict, from_history) "
                         "VALUES (?, ?, ?, ?)",
                         [(run_id, chain, verdict, int(old)) for chain, (verdict, old) in run.verdicts.items()])
        for chain, ders in run.chains.items():
            conn.executemany("INSERT OR IGNORE INTO chain_certs (chain_sha256, position, cert_sha256) "
                             "VALUES (?, ?, ?)", [(chain, pos, cert_id(der)) for pos, der in enumerate(ders)])
            conn.executemany("INSERT OR IGNORE INTO certs (sha256, der) VALUES (?, ?)",
                             [(cert_id(der), sqlite3.Binary(der)) for der in ders])
        return run_id

    def prune(self, before) -> int:
        """Delete runs started before `before` and what only they referred to; returns runs deleted."""
        if not os.path.exists(self.path):
            return 0
        return self._transaction(lambda conn: self._delete_before(conn, iso(before)))

    @staticmethod
    def _delete_before(conn: sqlite3.Connection, cutoff: str) -> int:
        old = "SELECT run_id FROM runs WHERE started_at < ?"
        conn.execute("DELETE FROM handshakes WHERE run_id IN (%s)" % old, (cutoff,))
        conn.execute("DELETE FROM run_chains WHERE run_id IN (%s)" % old, (cutoff,))
        deleted = conn.execute("DELETE FROM runs WHERE started_at < ?", (cutoff,)).rowcount
        conn.execute("DELETE FROM chain_certs WHERE chain_sha256 NOT IN (SELECT chain_sha256 FROM handshakes "
                     "WHERE chain_sha256 IS NOT NULL) AND chain_sha256 NOT IN (SELECT chain_sha256 FROM run_chains)")
        conn.execute("DELETE FROM certs WHERE sha256 NOT IN (SELECT cert_sha256 FROM chain_certs)")
        return deleted

    # -- reading --------------------------------------------------------------------
    def summary(self, target: TargetKey, since) -> List[SummaryRow]:
        rows = self._read("SELECT %s FROM handshakes WHERE %s AND at >= ? GROUP BY chain_sha256, address, sni, "
                          "key_type" % (SUMMARY_COLUMNS, TARGET_WHERE), tuple(target) + (iso(since),))
        return [_summary(row) for row in rows]

    def run_summary(self, run_id: int) -> List[SummaryRow]:
        rows = self._read("SELECT %s FROM handshakes WHERE run_id = ? GROUP BY chain_sha256, address, sni, key_type"
                          % SUMMARY_COLUMNS, (run_id,))
        return [_summary(row) for row in rows]

    def runs(self, target: TargetKey, since) -> List[RunRow]:
        rows = self._read("SELECT %s FROM runs WHERE %s AND started_at >= ? ORDER BY started_at, run_id"
                          % (RUN_COLUMNS, TARGET_WHERE), tuple(target) + (iso(since),))
        return [_run(row) for row in rows]

    def run(self, run_id: int) -> Optional[tuple]:
        """(TargetKey, RunRow) of one run, or None."""
        rows = self._read("SELECT host, port, protocol, %s FROM runs WHERE run_id = ?" % RUN_COLUMNS, (run_id,))
        if not rows:
            return None
        row = rows[0]
        return TargetKey(row[0], int(row[1]), row[2]), _run(row[3:])

    def run_chains(self, run_id: int) -> List[RunChainRow]:
        rows = self._read("SELECT chain_sha256, verdict, from_history FROM run_chains WHERE run_id = ?", (run_id,))
        return [RunChainRow(r[0], r[1], bool(r[2])) for r in rows]

    def chain_certs(self, chains: Iterable[str]) -> Dict[str, List[bytes]]:
        out: Dict[str, List[bytes]] = {}
        for chain in chains:
            rows = self._read("SELECT cc.position, c.der FROM chain_certs cc JOIN certs c ON c.sha256 = cc.cert_sha256 "
                              "WHERE cc.chain_sha256 = ? ORDER BY cc.position", (chain,))
            if rows and [r[0] for r in rows] == list(range(len(rows))):
                out[chain] = [bytes(r[1]) for r in rows]
        return out

    def targets(self) -> List[tuple]:
        """(TargetKey, runs, last started_at) of every target in the history."""
        rows = self._read("SELECT host, port, protocol, COUNT(*), MAX(started_at) FROM runs "
                          "GROUP BY host, port, protocol ORDER BY host, port, protocol")
        return [(TargetKey(r[0], int(r[1]), r[2]), int(r[3]), from_iso(r[4])) for r in rows]


class _NoFile(Exception):
    """Nothing written yet: reads give nothing."""


def _summary(row) -> SummaryRow:
    return SummaryRow(row[0], row[1], row[2], row[3], int(row[4]), from_iso(row[5]), from_iso(row[6]))


def _run(row) -> RunRow:
    return RunRow(int(row[0]), from_iso(row[1]), row[2], int(row[3]), int(row[4]), row[5], row[6])


def _hint_for(text: str, path: str) -> str:
    """The next step for a history that cannot be used."""
    low = text.lower()
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return ("move the damaged file aside (mv %s %s.damaged); the next run starts a new history there"
                % (path, path))
    if "locked" in low or "busy" in low:
        return "another ibmi-trust is writing it; the next run writes again (or raise IBMI_TRUST_HISTORY_TIMEOUT)"
    if "readonly" in low or "read-only" in low or "permission" in low or "unable to open" in low:
        return ("give this user write access to %s and its directory (on IBM i: ibmi-trust install-objects "
                "--history-user PROFILE), or use --history PATH / --no-history" % path)
    if "full" in low or "no space" in low or "too large" in low:
        return "free space where %s lives (or lower --history-retention), or use --history PATH elsewhere" % path
    if "i/o error" in low:
        return ("the file system holding %s may be full or failing: free space there (or lower --history-retention), "
                "or use --history PATH elsewhere" % path)
    return "use --history PATH for another file, or --no-history"
