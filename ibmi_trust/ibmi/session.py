"""IbmiSession: one way in to IBM i for the whole package.

- SQL: pyodbc to the local database, `DSN=*LOCAL;CCSID=1208` (ref 21.1),
  autocommit; `query()` runs a statement from sql/*.sql (or given text) and
  returns rows as dicts keyed by upper-case column name.
- CL: the QSYS2.QCMDEXC procedure on that same connection (sql/qcmdexc.sql;
  IBM: https://ibm.com/support/knowledgecenter/ssw_ibm_i_75/rzajq/rzajqprocqcmdexc.htm),
  so a CL command needs no XMLSERVICE. A failing command ends the CALL with
  an SQL error; its CPF id comes from the error text or, when the text does
  not carry it, from the job log (sql/cl_escape_message.sql, QSYS2.JOBLOG_INFO).
  IBMI_TRUST_CL_RUNNER=xmlservice runs CL through XMLSERVICE instead.
- Program calls (the key-store and trust-list APIs only): itoolkit over
  XMLSERVICE (ref 19), by default the DatabaseTransport over the SAME pyodbc
  connection (`call QXMLSERV.iPLUGR512K(?,?,?)`), or in-process
  DirectTransport on request (transport="direct" or IBMI_TRUST_TRANSPORT=direct).
  XMLSERVICE (library QXMLSERV) ships with IBM HTTP Server for i, 5770-DG1,
  and is updated by its PTFs (IBM/python-itoolkit: "QXMLSERV -- IBM PTF
  library (DG1 PTFs)"); doctor checks for it.
- Every failure becomes an IbmiApiError naming the API and the IBM message
  id (ibmi_trust.ibmi.failures). Connection and transport are created
  lazily; tests inject a PEP 249 connection (tests/ibmi_simulator.py).

Settings (environment): IBMI_TRUST_ODBC (connection string, default
"DSN=*LOCAL;CCSID=1208"), IBMI_TRUST_TRANSPORT ("database" | "direct"),
IBMI_TRUST_XMLSERVICE_SCHEMA (default "QXMLSERV"), IBMI_TRUST_CL_RUNNER
("qcmdexc" | "xmlservice").
"""
import os
from typing import List, Optional, Sequence

from ibmi_trust.errors import ConfigError, IbmiApiError
from ibmi_trust.ibmi import apiparm, failures
from ibmi_trust.ibmi.sql_text import statement
from ibmi_trust.platform import is_ibmi

DEFAULT_CONNECT = "DSN=*LOCAL;CCSID=1208"
TRANSPORTS = ("database", "direct")
CL_RUNNERS = ("qcmdexc", "xmlservice")


class _Borrowed:
    """A connection handed to itoolkit without letting it close it.

    DatabaseTransport.close() (also run from __del__) closes its connection;
    the session owns the connection and shares it with the transport.
    """

    def __init__(self, conn):
        self._conn = conn

    def cursor(self):
        return self._conn.cursor()

    def close(self):
        pass


class IbmiSession:
    def __init__(self, connection=None, *, transport: Optional[str] = None,
                 connect_string: Optional[str] = None):
        self._conn = connection
        self._owns_connection = connection is None
        self._transport = None
        self.transport_kind = (transport or os.environ.get("IBMI_TRUST_TRANSPORT") or "database").lower()
        if self.transport_kind not in TRANSPORTS:
            raise ConfigError("unknown transport %r: use one of %s" % (self.transport_kind, ", ".join(TRANSPORTS)))
        self.connect_string = connect_string or os.environ.get("IBMI_TRUST_ODBC") or DEFAULT_CONNECT
        self.cl_runner = (os.environ.get("IBMI_TRUST_CL_RUNNER") or "qcmdexc").strip().lower()
        if self.cl_runner not in CL_RUNNERS:
            raise ConfigError("IBMI_TRUST_CL_RUNNER must be one of %s, not %r" % (", ".join(CL_RUNNERS), self.cl_runner))
        if connection is None and not is_ibmi():
            raise ConfigError("IBM i services are only reachable on IBM i",
                              hint="on this machine use --store capath:DIR or bundle:FILE")

    # -- connection ------------------------------------------------------
    @property
    def connection(self):
        if self._conn is None:
            import pyodbc

            try:
                self._conn = pyodbc.connect(self.connect_string, autocommit=True)
            except pyodbc.Error as exc:
                raise failures.from_db_error(exc, "connect (%s)" % _data_source(self.connect_string)) from None
        return self._conn

    def close(self) -> None:
        if self._transport is not None and self.transport_kind == "direct":
            self._transport.close()
        self._transport = None
        if self._conn is not None and self._owns_connection:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- SQL ---------------------------------------------------------------
    def query(self, name_or_sql: str, params: Sequence = ()) -> List[dict]:
        """Rows of a statement: a file name from sql/ ("x.sql") or SQL text."""
        if name_or_sql.endswith(".sql"):
            text, label = statement(name_or_sql), name_or_sql
        else:
            text, label = name_or_sql, " ".join(name_or_sql.split()[:4])
        db_error = _db_error_class(self.connection)
        cursor = self.connection.cursor()
        try:
            if params:
                cursor.execute(text, tuple(params))
            else:
                cursor.execute(text)
            if not cursor.description:
                return []
            names = [str(col[0]).upper() for col in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        except db_error as exc:
            raise failures.from_db_error(exc, label) from None
        finally:
            _close_quietly(cursor)

    # -- XMLSERVICE --------------------------------------------------------
    @property
    def transport(self):
        if self._transport is None:
            if self.transport_kind == "direct":
                from itoolkit.transport import DirectTransport

                self._transport = DirectTransport()
            else:
                from itoolkit.transport import DatabaseTransport

                schema = os.environ.get("IBMI_TRUST_XMLSERVICE_SCHEMA", "QXMLSERV")
                self._transport = DatabaseTransport(_Borrowed(self.connection), schema=schema)
        return self._transport

    def call_program(self, api: str, name: str, params: Sequence, *, lib: str = "QSYS",
                     func: Optional[str] = None, outputs: Sequence[str] = ()) -> dict:
        """Call an OPM program (or, with func=, an ILE service program export).

        `params` are itoolkit iData/iDS objects for every parameter except
        the error code: an ERRC0100 with bytes provided > 0 is appended here
        and a returned exception id raises IbmiApiError(api=, message_id=).
        `outputs` names the parameters (by their var) that the API fills in;
        only those are returned: XMLSERVICE's reply echoes every input
        parameter, passwords included, so the rest never leaves this method.
        """
        from itoolkit import iPgm, iSrvPgm

        options = {"lib": lib, "error": "fast"}
        pgm = iSrvPgm("api", name, func, options) if func else iPgm("api", name, options)
        wanted = set(outputs)
        for param in params:
            pgm.addParm(param, {"io": "both" if getattr(param, "opt", {}).get("i") in wanted else "in"})
        pgm.addParm(apiparm.errc0100(), {"io": "both"})
        reply = self._run(api, pgm, "api")
        exception_id = apiparm.exception_id(reply)
        out = {var: reply.get(var) for var in wanted}
        del reply
        if exception_id:
            raise failures.api_exception(api, exception_id)
        return out

    def run_cl(self, command: str) -> None:
        """Run one CL command; a failure raises IbmiApiError with its CPF id."""
        verb = (command.split() or ["CL"])[0].upper()
        if self.cl_runner == "xmlservice":
            # exec='system' makes XMLSERVICE return the CPF id of a failing
            # command in <error> (IBM/xmlservice docs/functions.rst, "call CMD").
            from itoolkit import iCmd

            self._run(verb, iCmd("cl", command, {"exec": "system"}), "cl")
            return
        try:
            self.query("qcmdexc.sql", (command,))
        except IbmiApiError as exc:
            raise self._cl_failure(verb, exc) from None

    def _cl_failure(self, verb: str, exc: IbmiApiError) -> IbmiApiError:
        """The CPF id of a failed QCMDEXC call: from the SQL error, else the job log."""
        message_id = next((i for i in failures.message_ids(exc.message) if not i.startswith("SQL")), "")
        if not message_id:
            try:
                rows = self.query("cl_escape_message.sql")
            except IbmiApiError:
                rows = []
            message_id = str((rows[0].get("MESSAGE_ID") if rows else "") or "").strip()
        if not message_id:
            return IbmiApiError("%s failed: %s" % (verb, exc.message), api=verb, message_id=exc.message_id,
                                hint=exc.hint)
        known = failures.DCM_API_MESSAGES.get(message_id, "")
        return IbmiApiError("%s failed: %s%s" % (verb, message_id, (" " + known) if known else ""),
                            api=verb, message_id=message_id, hint=failures.hint_for(message_id))

    def _run(self, api: str, action, key: str) -> dict:
        from itoolkit import iToolKit

        toolkit = iToolKit()
        toolkit.add(action)
        db_error = _db_error_class(self._conn)
        try:
            toolkit.call(self.transport)
        except db_error as exc:
            raise failures.from_db_error(exc, "%s via XMLSERVICE" % api) from None
        except RuntimeError as exc:  # DirectTransport off IBM i or without XMLSERVICE 2.0.1
            raise IbmiApiError("%s failed: %s" % (api, str(exc).splitlines()[0]), api=api,
                               hint="use the database transport (IBMI_TRUST_TRANSPORT=database)") from None
        failure = failures.xmlservice_failure(api, toolkit.xml_out(), key)
        if failure is not None:
            raise failure
        return toolkit.dict_out(key)


def _data_source(connect_string: str) -> str:
    """DSN=... or DRIVER=... of a connection string (never UID/PWD)."""
    for part in connect_string.split(";"):
        if part.strip().upper().startswith(("DSN=", "DRIVER=")):
            return part.strip()
    return "ODBC"


def _db_error_class(connection):
    """The driver's base exception: `connection.Error` (PEP 249 extension) or pyodbc.Error."""
    cls = getattr(connection, "Error", None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    try:
        import pyodbc
    except ImportError:
        return ()
    return pyodbc.Error


def _close_quietly(cursor) -> None:
    try:
        cursor.close()
    except Exception:  # a failed statement may leave the cursor unusable
        pass
