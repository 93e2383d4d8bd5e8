"""The history in Db2 for i tables (`--history db2:LIBRARY`, IBM i only).

The tables (ITRRUN, ITRHSHK, ITRRUNCHN, ITRCHNCRT, ITRCERT) are created by
`ibmi-trust install-objects` (sql/history_create_*.sql); every statement
run here is a file in sql/ (history_*.sql), with ITRLIB standing for the
library (ibmi_trust.ibmi.sql_text.statement_in). Operators can query the
history with SQL from the usual IBM i tools.

Writes go through the session's autocommit connection, statement by
statement (the tables are not journaled, so there is no commitment
control; docs/verify-on-your-system.md). A run is written run row first,
then its handshakes and verdicts, then its chains and certificates: a job
ended part-way leaves a run with fewer handshakes, never a handshake
without its run, and a reader skips a chain whose certificates are not
all there yet. Two writers storing the same certificate: the second MERGE
fails with SQL0803 (duplicate key), which means "already there".

pyodbc connections are not shared between threads (threadsafety 1), so
one lock serialises the calls of verify's threads on the one session.
"""
import threading
from typing import Dict, Iterable, List, Optional

from ibmi_trust.errors import IbmiTrustError
from ibmi_trust.history.records import (HistoryError, RunChainRow, RunRecord, RunRow, SummaryRow, TargetKey, cert_id,
                                        from_iso, utc)

TABLES = ("ITRRUN", "ITRHSHK", "ITRRUNCHN", "ITRCHNCRT", "ITRCERT")
# install-objects creates these, in this order (the indexes after their tables)
CREATE_STATEMENTS = (("ITRRUN", "history_create_runs.sql"), ("ITRHSHK", "history_create_handshakes.sql"),
                     ("ITRRUNCHN", "history_create_run_chains.sql"), ("ITRCHNCRT", "history_create_chain_certs.sql"),
                     ("ITRCERT", "history_create_certs.sql"), ("ITRHSHKIX", "history_create_handshakes_index.sql"),
                     ("ITRRUNIX", "history_create_runs_index.sql"))
DUPLICATE_KEY = "SQL0803"
NOT_FOUND = "SQL0204"


class Db2History:
    kind = "db2"

    def __init__(self, library: str, *, session=None):
        from ibmi_trust.ibmi.objects import check_library_name

        self.library = check_library_name(library)
        self._session = session
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return "db2:%s" % self.library

    # -- plumbing -------------------------------------------------------------------
    @property
    def session(self):
        if self._session is None:
            from ibmi_trust.ibmi.session import IbmiSession

            self._session = IbmiSession()
        return self._session

    def _run(self, name: str, params=(), *, duplicates_ok: bool = False) -> List[dict]:
        from ibmi_trust.ibmi.sql_text import statement_in

        try:
            return self.session.query(statement_in(name, self.library), tuple(params))
        except IbmiTrustError as exc:
            message_id = getattr(exc, "message_id", "") or ""
            if duplicates_ok and (message_id == DUPLICATE_KEY or DUPLICATE_KEY in exc.message):
                return []
            raise self._error(name, exc) from None

    def _error(self, name: str, exc: IbmiTrustError) -> HistoryError:
        missing = getattr(exc, "message_id", "") == NOT_FOUND or NOT_FOUND in exc.message
        hint = ("the history tables are created by `ibmi-trust install-objects --library %s`" % self.library
                if missing else exc.hint or "use --history PATH for an SQLite file, or --no-history")
        return HistoryError("history db2:%s (%s): %s" % (self.library, name, exc.message), hint=hint)

    # -- writing ---------------------------------------------------------------------
    def create(self) -> None:
        """The tables are install-objects' job; here only a check that they are there."""
        with self._lock:
            self._run("history_targets.sql")

    def write_run(self, run: RunRecord) -> int:
        t = run.target
        with self._lock:
            rows = self._run("history_insert_run.sql", (t.host, t.port, t.protocol, _naive(run.started_at),
                                                        run.command, run.successes, len(run.handshakes), run.status,
                                                        run.store[:1024]))
            run_id = int(rows[0]["RUN_ID"])
            for h in run.handshakes:
                self._run("history_insert_handshake.sql", (run_id, t.host, t.port, t.protocol, _naive(h.at), h.address,
                                                           h.sni, h.key_type, h.tls_version, h.outcome, h.chain))
            for chain, (verdict, old) in run.verdicts.items():
                self._run("history_insert_run_chain.sql", (run_id, chain, verdict, 1 if old else 0))
            for chain, ders in run.chains.items():
                for position, der in enumerate(ders):
                    self._run("history_insert_chain_cert.sql", (chain, position, cert_id(der)), duplicates_ok=True)
                for der in ders:
                    self._run("history_insert_cert.sql", (cert_id(der), bytes(der)), duplicates_ok=True)
            return run_id

    def prune(self, before) -> Optional[int]:
        """Delete runs started before `before` (and what only they referred to); the
        count is not known here (the session returns no row count)."""
        cutoff = _naive(before)
        with self._lock:
            for name in ("history_prune_handshakes.sql", "history_prune_run_chains.sql", "history_prune_runs.sql"):
                self._run(name, (cutoff,))
            self._run("history_prune_chain_certs.sql")
            self._run("history_prune_certs.sql")
        return None

    # -- reading -----------------------------------------------------------------------
    def summary(self, target: TargetKey, since) -> List[SummaryRow]:
        with self._lock:
            rows = self._run("history_summary.sql", tuple(target) + (_naive(since),))
        return [_summary(r) for r in rows]

    def run_summary(self, run_id: int) -> List[SummaryRow]:
        with self._lock:
            rows = self._run("history_run_summary.sql", (run_id,))
        return [_summary(r) for r in rows]

    def runs(self, target: TargetKey, since) -> List[RunRow]:
        with self._lock:
            rows = self._run("history_runs.sql", tuple(target) + (_naive(since),))
        return [_run_row(r) for r in rows]

    def run(self, run_id: int) -> Optional[tuple]:
        with self._lock:
            rows = self._run("history_run.sql", (run_id,))
        if not rows:
            return None
        r = rows[0]
        return TargetKey(_text(r["HOST"]), int(r["PORT"]), _text(r["PROTOCOL"])), _run_row(r)

    def run_chains(self, run_id: int) -> List[RunChainRow]:
        with self._lock:
            rows = self._run("history_run_chains.sql", (run_id,))
        return [RunChainRow(_text(r["CHAIN_SHA256"]), _text(r["VERDICT"]), bool(r["FROM_HISTORY"])) for r in rows]

    def chain_certs(self, chains: Iterable[str]) -> Dict[str, List[bytes]]:
        out: Dict[str, List[bytes]] = {}
        with self._lock:
            for chain in chains:
                rows = self._run("history_chain_certs.sql", (chain,))
                if rows and [int(r["CERT_POSITION"]) for r in rows] == list(range(len(rows))):
                    out[chain] = [bytes(r["DER"]) for r in rows]
        return out

    def targets(self) -> List[tuple]:
        with self._lock:
            rows = self._run("history_targets.sql")
        return [(TargetKey(_text(r["HOST"]), int(r["PORT"]), _text(r["PROTOCOL"])), int(r["RUNS"]),
                 from_iso(r["LAST_RUN"])) for r in rows]


def _naive(when):
    """A TIMESTAMP parameter: UTC without a zone (Db2 for i TIMESTAMPs have none)."""
    return utc(when).replace(tzinfo=None)


def _text(value) -> str:
    return str(value).rstrip() if value is not None else ""


def _opt(value) -> Optional[str]:
    return _text(value) or None if value is not None else None


def _summary(r: dict) -> SummaryRow:
    chain = _opt(r["CHAIN_SHA256"])
    return SummaryRow(chain, _text(r["ADDRESS"]), _opt(r["SNI"]), _text(r["KEY_TYPE"]), int(r["HANDSHAKES"]),
                      from_iso(r["FIRST_AT"]), from_iso(r["LAST_AT"]))


def _run_row(r: dict) -> RunRow:
    return RunRow(int(r["RUN_ID"]), from_iso(r["STARTED_AT"]), _text(r["RUN_COMMAND"]), int(r["HANDSHAKES"]),
                  int(r["ATTEMPTS"]), _text(r["RUN_STATUS"]), _text(r["STORE_SPEC"]))
