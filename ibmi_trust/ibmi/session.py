"""IbmiSession: one way in to IBM i for the whole package.

- SQL: pyodbc to the local database, `DSN=*LOCAL;CCSID=1208` (ref 21.1),
  autocommit; `query()` runs a statement from sql/*.sql (or given text) and
  returns rows as dicts keyed by upper-case column name.
- Program calls and CL: itoolkit over XMLSERVICE (ref 19), by default the
  DatabaseTransport over the SAME pyodbc connection (`call
  QXMLSERV.iPLUGR512K(?,?,?)`), or in-process DirectTransport on request
  (transport="direct" or IBMI_TRUST_TRANSPORT=direct), e.g. for profiles
  with PASSWORD(*NONE) that cannot use *CURRENT over ODBC (ref 21.1).
- Every failure becomes an IbmiApiError naming the API and the IBM message
  id (ibmi_trust.ibmi.failures). Connection and transport are created
  lazily; tests inject a PEP 249 connection (tests/ibmi_simulator.py).

Settings (environment): IBMI_TRUST_ODBC (connection string, default
"DSN=*LOCAL;CCSID=1208"), IBMI_TRUST_TRANSPORT ("database" | "direct"),
IBMI_TRUST_XMLSERVICE_SCHEMA (default "QXMLSERV").
"""
import os
from typing import List, Optional, Sequence

from ibmi_trust.errors import ConfigError, IbmiApiError
from ibmi_trust.ibmi import apiparm, failures
from ibmi_trust.ibmi.sql_text import statement
from ibmi_trust.platform import is_ibmi

DEFAULT_CONNECT = "DSN=*LOCAL;CCSID=1208"
TRANSPORTS = ("database", "direct")


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
                     func: Optional[str] = None) -> None:
        """Call an OPM program (or, with func=, an ILE service program export).

        `params` are itoolkit iData/iDS objects for every parameter except
        the error code: an ERRC0100 with bytes provided > 0 is appended here
        and a returned exception id raises IbmiApiError(api=, message_id=).
        Nothing is returned: XMLSERVICE's reply echoes every input parameter,
        passwords included, so it never leaves this method.
        """
        from itoolkit import iPgm, iSrvPgm

        options = {"lib": lib, "error": "fast"}
        pgm = iSrvPgm("api", name, func, options) if func else iPgm("api", name, options)
        for param in params:
            pgm.addParm(param, {"io": "in"})
        pgm.addParm(apiparm.errc0100(), {"io": "both"})
        reply = self._run(api, pgm, "api")
        exception_id = apiparm.exception_id(reply)
        del reply
        if exception_id:
            raise failures.api_exception(api, exception_id)

    def run_cl(self, command: str) -> None:
        """Run one CL command; a failure raises IbmiApiError with its CPF id.

        exec='system' makes XMLSERVICE return the CPF id of a failing
        command in <error> (IBM/xmlservice docs/functions.rst, "call CMD").
        """
        from itoolkit import iCmd

        verb = (command.split() or ["CL"])[0].upper()
        self._run(verb, iCmd("cl", command, {"exec": "system"}), "cl")

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
