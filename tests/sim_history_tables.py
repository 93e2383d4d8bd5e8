"""The Db2 for i history tables, as the IBM i simulator (tests/ibmi_simulator.py) runs them.

Each statement of sql/history_*.sql is recognised by its EXACT text, with
ITRLIB standing for any library name (ibmi_trust/ibmi/sql_text.statement_in),
and carried out on in-memory tables with Db2's behaviour where it matters
to the package:
- a table or index that does not exist: SQL0204 (-204), "... type *FILE not found";
- CREATE of one that exists: SQL0601 (-601);
- a duplicate primary key: SQL0803 (-803), also for the INSERT branch of a
  MERGE that lost a race (`race_next_merge()`);
- a value longer than its VARCHAR/CHAR column: SQL0404 (-404);
- TIMESTAMP parameters are naive datetimes (Db2 for i has no time zone);
  a zone-aware one is drift;
- GENERATED ALWAYS AS IDENTITY hands out 1, 2, 3, ... per table.
https://www.ibm.com/docs/en/i/7.5?topic=codes-listing-sql-messages
This is a simulator of the documented behaviour, not Db2.
"""
import datetime
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Tuple

from ibmi_trust.ibmi.sql_text import LIBRARY_PLACEHOLDER, statement

LIBRARY = r"([A-Z$#@][A-Z0-9$#@_]{0,9})"
COLUMNS = {
    "ITRRUN": (("RUN_ID", None), ("HOST", 253), ("PORT", None), ("PROTOCOL", 16), ("STARTED_AT", None),
               ("RUN_COMMAND", 16), ("HANDSHAKES", None), ("ATTEMPTS", None), ("RUN_STATUS", 8),
               ("STORE_SPEC", 1024)),
    "ITRHSHK": (("RUN_ID", None), ("HOST", 253), ("PORT", None), ("PROTOCOL", 16), ("HANDSHAKE_AT", None),
                ("ADDRESS", 45), ("SNI", 253), ("KEY_TYPE", 8), ("TLS_VERSION", 16), ("OUTCOME", 512),
                ("CHAIN_SHA256", 64)),
    "ITRRUNCHN": (("RUN_ID", None), ("CHAIN_SHA256", 64), ("VERDICT", 16), ("FROM_HISTORY", None)),
    "ITRCHNCRT": (("CHAIN_SHA256", 64), ("CERT_POSITION", None), ("CERT_SHA256", 64)),
    "ITRCERT": (("SHA256", 64), ("DER", 1024 * 1024)),
}
INDEXES = {"ITRHSHKIX": "ITRHSHK", "ITRRUNIX": "ITRRUN"}
OBJECTS = set(COLUMNS) | set(INDEXES)


class HistoryTables:
    def __init__(self, error: Callable[[str, int, str], Exception], drift: Callable[[str], Exception]):
        self._error = error                      # (message id, sqlcode, text) -> the driver's exception
        self._drift = drift
        self.tables: Dict[Tuple[str, str], List[dict]] = {}
        self.indexes = set()
        self.identity: Dict[Tuple[str, str], int] = {}
        self.statements: List[Tuple[str, str]] = []          # (file name, library) in order
        self._races = 0
        self._handlers = OrderedDict()
        for name in ("history_create_runs", "history_create_handshakes", "history_create_run_chains",
                     "history_create_chain_certs", "history_create_certs", "history_create_handshakes_index",
                     "history_create_runs_index", "history_insert_run", "history_insert_handshake",
                     "history_insert_run_chain", "history_insert_chain_cert", "history_insert_cert",
                     "history_summary", "history_run_summary", "history_runs", "history_run", "history_run_chains",
                     "history_chain_certs", "history_targets", "history_prune_handshakes", "history_prune_run_chains",
                     "history_prune_runs", "history_prune_chain_certs", "history_prune_certs"):
            text = statement(name)
            pattern = re.escape(text).replace(re.escape(LIBRARY_PLACEHOLDER + "."), LIBRARY + r"\.")
            self._handlers[name + ".sql"] = (re.compile(pattern + r"\Z"), getattr(self, "_" + name[len("history_"):]))

    # -- the simulator's entry points ----------------------------------------------
    def match(self, sql: str):
        """(file name, handler(params)) for a history statement, else None."""
        for name, (pattern, handler) in self._handlers.items():
            found = pattern.match(sql)
            if found:
                libraries = set(found.groups())
                if len(libraries) != 1:
                    raise self._drift("%s names two libraries: %s" % (name, sorted(libraries)))
                library = libraries.pop()
                return name, lambda params, lib=library, n=name, h=handler: self._call(n, lib, h, params)
        return None

    def exists(self, library: str, name: str) -> bool:
        return (library, name) in self.tables or (library, name) in self.indexes

    def rows(self, library: str, table: str) -> List[dict]:
        return self.tables[(library, table)]

    def drop_library(self, library: str) -> None:
        """DLTLIB: everything in the library goes."""
        self.tables = {k: v for k, v in self.tables.items() if k[0] != library}
        self.indexes = {k for k in self.indexes if k[0] != library}

    def race_next_merge(self, times: int = 1) -> None:
        """The next MERGE(s) find the key missing, but another job inserts it first (SQL0803)."""
        self._races += times

    def _call(self, name, library, handler, params):
        self.statements.append((name, library))
        return handler(library, tuple(params))

    # -- helpers -------------------------------------------------------------------------
    def _table(self, library: str, name: str) -> List[dict]:
        if (library, name) not in self.tables:
            raise self._error("SQL0204", -204, "%s in %s type *FILE not found." % (name, library))
        return self.tables[(library, name)]

    def _row(self, table: str, values: tuple) -> dict:
        row = {}
        columns = COLUMNS[table][1:] if table == "ITRRUN" else COLUMNS[table]      # RUN_ID is generated
        for (column, width), value in zip(columns, values):
            if isinstance(value, datetime.datetime) and value.tzinfo is not None:
                raise self._drift("%s.%s: a TIMESTAMP parameter must be naive (Db2 for i has no zone)" % (table, column))
            if width is not None and value is not None and len(value) > width:
                raise self._error("SQL0404", -404, "Value for column or variable %s too long." % column)
            row[column] = value
        return row

    def _params(self, name: str, params: tuple, kinds: tuple) -> None:
        if len(params) != len(kinds):
            raise self._drift("%s takes %d parameters, got %d" % (name, len(kinds), len(params)))
        for index, (value, kind) in enumerate(zip(params, kinds), 1):
            if value is None and kind in (str, "str?"):
                if kind == str:
                    raise self._drift("%s parameter %d may not be null" % (name, index))
                continue
            want = str if kind == "str?" else kind
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise self._drift("%s parameter %d should be %s, got %r" % (name, index, getattr(want, "__name__", want),
                                                                           value))

    def _create(self, library: str, table: str):
        if (library, table) in self.tables:
            raise self._error("SQL0601", -601, "%s in %s type *FILE already exists." % (table, library))
        self.tables[(library, table)] = []
        return None, []

    def _create_index(self, library: str, index: str):
        self._table(library, INDEXES[index])
        if (library, index) in self.indexes:
            raise self._error("SQL0601", -601, "%s in %s type *FILE already exists." % (index, library))
        self.indexes.add((library, index))
        return None, []

    # -- CREATE --------------------------------------------------------------------------
    def _create_runs(self, lib, params):
        return self._create(lib, "ITRRUN")

    def _create_handshakes(self, lib, params):
        return self._create(lib, "ITRHSHK")

    def _create_run_chains(self, lib, params):
        return self._create(lib, "ITRRUNCHN")

    def _create_chain_certs(self, lib, params):
        return self._create(lib, "ITRCHNCRT")

    def _create_certs(self, lib, params):
        return self._create(lib, "ITRCERT")

    def _create_handshakes_index(self, lib, params):
        return self._create_index(lib, "ITRHSHKIX")

    def _create_runs_index(self, lib, params):
        return self._create_index(lib, "ITRRUNIX")

    # -- INSERT / MERGE ----------------------------------------------------------------------
    def _insert_run(self, lib, params):
        self._params("history_insert_run", params,
                     (str, int, str, datetime.datetime, str, int, int, str, str))
        rows = self._table(lib, "ITRRUN")
        row = self._row("ITRRUN", params)
        run_id = self.identity.get((lib, "ITRRUN"), 0) + 1
        self.identity[(lib, "ITRRUN")] = run_id
        row["RUN_ID"] = run_id
        rows.append(row)
        return ["RUN_ID"], [[run_id]]

    def _insert_handshake(self, lib, params):
        self._params("history_insert_handshake", params,
                     (int, str, int, str, datetime.datetime, str, "str?", str, "str?", str, "str?"))
        self._table(lib, "ITRHSHK").append(self._row("ITRHSHK", params))
        return None, []

    def _insert_run_chain(self, lib, params):
        self._params("history_insert_run_chain", params, (int, str, str, int))
        rows = self._table(lib, "ITRRUNCHN")
        if any(r["RUN_ID"] == params[0] and r["CHAIN_SHA256"] == params[1] for r in rows):
            raise self._error("SQL0803", -803, "Duplicate key value specified.")
        rows.append(self._row("ITRRUNCHN", params))
        return None, []

    def _merge(self, lib, table, params, key):
        rows = self._table(lib, table)
        row = self._row(table, params)
        if any(all(r[k] == row[k] for k in key) for r in rows):
            if self._races:                      # a race can only be lost when the key is really there
                self._races -= 1
                raise self._error("SQL0803", -803, "Duplicate key value specified.")
            return None, []
        rows.append(row)
        return None, []

    def _insert_chain_cert(self, lib, params):
        self._params("history_insert_chain_cert", params, (str, int, str))
        return self._merge(lib, "ITRCHNCRT", params, ("CHAIN_SHA256", "CERT_POSITION"))

    def _insert_cert(self, lib, params):
        self._params("history_insert_cert", params, (str, bytes))
        return self._merge(lib, "ITRCERT", params, ("SHA256",))

    # -- SELECT ------------------------------------------------------------------------------
    @staticmethod
    def _grouped(rows) -> Tuple[List[str], list]:
        groups: "OrderedDict[tuple, list]" = OrderedDict()
        for r in rows:
            groups.setdefault((r["CHAIN_SHA256"], r["ADDRESS"], r["SNI"], r["KEY_TYPE"]), []).append(r)
        cols = ["CHAIN_SHA256", "ADDRESS", "SNI", "KEY_TYPE", "HANDSHAKES", "FIRST_AT", "LAST_AT"]
        return cols, [list(k) + [len(v), min(r["HANDSHAKE_AT"] for r in v), max(r["HANDSHAKE_AT"] for r in v)]
                      for k, v in groups.items()]

    def _target_rows(self, lib, table, params, time_column):
        self._params(table, params, (str, int, str, datetime.datetime))
        host, port, protocol, since = params
        return [r for r in self._table(lib, table) if (r["HOST"], r["PORT"], r["PROTOCOL"]) == (host, port, protocol)
                and r[time_column] >= since]

    def _summary(self, lib, params):
        return self._grouped(self._target_rows(lib, "ITRHSHK", params, "HANDSHAKE_AT"))

    def _run_summary(self, lib, params):
        self._params("history_run_summary", params, (int,))
        return self._grouped([r for r in self._table(lib, "ITRHSHK") if r["RUN_ID"] == params[0]])

    RUN_COLS = ["RUN_ID", "STARTED_AT", "RUN_COMMAND", "HANDSHAKES", "ATTEMPTS", "RUN_STATUS", "STORE_SPEC"]

    def _runs(self, lib, params):
        rows = sorted(self._target_rows(lib, "ITRRUN", params, "STARTED_AT"),
                      key=lambda r: (r["STARTED_AT"], r["RUN_ID"]))
        return self.RUN_COLS, [[r[c] for c in self.RUN_COLS] for r in rows]

    def _run(self, lib, params):
        self._params("history_run", params, (int,))
        cols = ["HOST", "PORT", "PROTOCOL"] + self.RUN_COLS
        return cols, [[r[c] for c in cols] for r in self._table(lib, "ITRRUN") if r["RUN_ID"] == params[0]]

    def _run_chains(self, lib, params):
        self._params("history_run_chains", params, (int,))
        cols = ["CHAIN_SHA256", "VERDICT", "FROM_HISTORY"]
        return cols, [[r[c] for c in cols] for r in self._table(lib, "ITRRUNCHN") if r["RUN_ID"] == params[0]]

    def _chain_certs(self, lib, params):
        self._params("history_chain_certs", params, (str,))
        certs = {r["SHA256"]: r["DER"] for r in self._table(lib, "ITRCERT")}
        rows = sorted((r for r in self._table(lib, "ITRCHNCRT") if r["CHAIN_SHA256"] == params[0]
                       and r["CERT_SHA256"] in certs), key=lambda r: r["CERT_POSITION"])
        return ["CERT_POSITION", "DER"], [[r["CERT_POSITION"], certs[r["CERT_SHA256"]]] for r in rows]

    def _targets(self, lib, params):
        self._params("history_targets", params, ())
        groups: Dict[tuple, list] = {}
        for r in self._table(lib, "ITRRUN"):
            groups.setdefault((r["HOST"], r["PORT"], r["PROTOCOL"]), []).append(r)
        return ["HOST", "PORT", "PROTOCOL", "RUNS", "LAST_RUN"], [
            list(k) + [len(v), max(r["STARTED_AT"] for r in v)] for k, v in sorted(groups.items())]

    # -- DELETE --------------------------------------------------------------------------------
    def _old_runs(self, lib, params) -> set:
        self._params("history_prune", params, (datetime.datetime,))
        return {r["RUN_ID"] for r in self._table(lib, "ITRRUN") if r["STARTED_AT"] < params[0]}

    def _keep(self, lib, table, keep) -> None:
        rows = self._table(lib, table)
        rows[:] = [r for r in rows if keep(r)]

    def _prune_handshakes(self, lib, params):
        old = self._old_runs(lib, params)
        self._keep(lib, "ITRHSHK", lambda r: r["RUN_ID"] not in old)
        return None, []

    def _prune_run_chains(self, lib, params):
        old = self._old_runs(lib, params)
        self._keep(lib, "ITRRUNCHN", lambda r: r["RUN_ID"] not in old)
        return None, []

    def _prune_runs(self, lib, params):
        old = self._old_runs(lib, params)
        self._keep(lib, "ITRRUN", lambda r: r["RUN_ID"] not in old)
        return None, []

    def _prune_chain_certs(self, lib, params):
        self._params("history_prune_chain_certs", params, ())
        used = {r["CHAIN_SHA256"] for r in self._table(lib, "ITRHSHK") if r["CHAIN_SHA256"] is not None}
        used |= {r["CHAIN_SHA256"] for r in self._table(lib, "ITRRUNCHN")}
        self._keep(lib, "ITRCHNCRT", lambda r: r["CHAIN_SHA256"] in used)
        return None, []

    def _prune_certs(self, lib, params):
        self._params("history_prune_certs", params, ())
        used = {r["CERT_SHA256"] for r in self._table(lib, "ITRCHNCRT")}
        self._keep(lib, "ITRCERT", lambda r: r["SHA256"] in used)
        return None, []
