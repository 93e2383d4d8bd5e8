"""A simulator of the documented IBM i interfaces, at the transport boundary.

`Simulator(tmp_path).connection()` is a PEP 249 connection object. The real
`IbmiSession` and the real itoolkit `DatabaseTransport` use it unchanged:

- `cursor.execute(sql, params)` recognises the EXACT text of each statement
  in sql/*.sql (as ibmi_trust.ibmi.sql_text sends it) and returns rows in the
  documented shape. Unknown SQL raises SimulatorDrift (an AssertionError), so
  a statement that drifts from the shipped files fails the test loudly.
  Db2 for i cannot type a bare parameter marker in a SELECT (a named
  argument of a table function, a comparison): such a statement fails with
  SQL0418, so the shipped statements CAST every marker.
- `CALL QSYS2.QCMDEXC(?)` runs a CL command (recorded in `cl_log`; fails per a
  small rule table). A failing command ends the CALL with SQL0443 whose text
  does NOT carry the CPF id; the id is in the job log (JOBLOG_INFO), which
  is the unpleasant shape the package must handle.
- `call QXMLSERV.iPLUGR512K(?,?,?)` (what itoolkit sends over pyodbc, which
  has no callproc; ref 19.2) parses the XMLSERVICE input and emulates:
  <cmd> (same rules), the OPM programs QYKMIMPK / QYKMEXPK, the ILE exports
  QycdAddCACertTrust and QsoRtvTLSA, and ibmi-trust's own ITRCATRST (the
  CL wrapper around QycdCheckCACertTrust, whose list-of-pointers parameter
  XMLSERVICE cannot build); it replies with XML in the success and error
  shapes itoolkit parses (ref 19.3; IBM/python-itoolkit tests/test_pgm.py,
  test_pgm_error.py, test_cmd_error.py). A request that does not match an
  API's documented parameter list raises SimulatorDrift. Without XMLSERVICE
  (`xmlservice_installed = False`) the CALL fails with SQL0204.

What IBM documents and the simulator therefore models (each is a knob):
- a CA trust list that is defined but empty trusts every ENABLED CA in
  *SYSTEM (DCM "Defining a CA trust list for an application"); a disabled
  CA is trusted by nobody (`disable_ca`); QycdCheckCACertTrust answers per
  label (indicator codes UNCONFIRMED: CHECK_INDICATORS);
- the database server job's library list does not hold the install
  library: `SNDPGMMSG ... MSGF(*LIBL/ITRMSGF)` fails with CPF2407;
- *LOCAL signs on as the current user, which fails with CWBSY0003 /
  SQLSTATE 28000 for a PASSWORD(*NONE) profile (`add_profile`, `connect`);
- QYKMEXPK may write legacy RC2-40 encryption (`export_encryption`);
- a job CCSID of 65535 (`job_ccsid`): CRTPF/CRTSRCPF without CCSID() get
  65535 and CPYFRMSTMF copies into them unconverted (`unconverted`);
- QSYS2.SERVICES_INFO rows (`services`, `remove_service`);
- the history tables of `--history db2:LIB` (sql/history_*.sql, in any
  library: `sim.history`, tests/sim_history_tables.py): SQL0204 for a
  missing table, SQL0601 for one created twice, SQL0803 for a duplicate
  key (`sim.history.race_next_merge()`: a MERGE losing a race), SQL0404 for
  a value too long; CHKOBJ LIB/ITRRUN *FILE finds the tables it made.

The simulated certificate stores are real files in the temp dir (so backup
and restore by file copy are real). Their content format is the simulator's
own (JSON holding DER certificates, labels and a password hash); a `.RDB`
companion file is created beside each `.KDB` (ref 10: *SYSTEM is the pair
DEFAULT.KDB + DEFAULT.RDB).

Message ids the simulator returns for API errors come from DCM-tools
(MessageLookerUpper.java) and are UNCONFIRMED against IBM's message file;
the SQL error for a wrong CERTIFICATE_INFO password is UNCONFIRMED too.

Minimal API (also used by the install-objects tests):
    sim = Simulator(tmp_path); conn = sim.connection()
    sim.cl_log -> list of CL command strings, in order
    sim.fail_cl(prefix, msgid)        commands starting with prefix fail with msgid
    sim.on_cl(prefix, handler)        handler(command) -> None (success) or a msgid
    sim.on_sql(sql_file_name, handler)  handler(params) -> (column names, rows)
More knobs: fail_sql(name, msgid, sqlcode), fail_program(name, msgid),
before_program(name, callback), missing_programs, add_application(...),
add_certificate(cert, label, path=), create_store(path, password),
disable_ca(label), ca_status_column, certificate_info_columns, nopwd_stores,
apis_accept_nopwd, system_values, tls_attributes, installed_library,
job_ccsid, export_encryption, xmlservice_installed, add_profile(...),
current_user, services / remove_service(name), now; logs: sql_log,
xml_log, program_log, trust_lists, joblog, unconverted.
`system_store(sim, monkeypatch, tmp_path, ...)` builds a real SystemStore on it.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from ibmi_trust.certs import Cert, load_certificates
from ibmi_trust.ibmi.sql_text import statement
from sim_history_tables import OBJECTS as HISTORY_OBJECTS, HistoryTables

XMLSERVICE_CALL = "call QXMLSERV.iPLUGR512K(?,?,?)"
XMLSERVICE_ROW = 3000   # iPLUGRxxx return result-set rows that the caller concatenates

# ref 1.4: attested CERTIFICATE_INFO column names. The full list is
# UNCONFIRMED; tests may replace `sim.certificate_info_columns`.
ATTESTED_CERTIFICATE_INFO_COLUMNS = (
    "CERTIFICATE_LABEL", "VALIDITY_START", "VALIDITY_END", "KEY_SIZE",
    "SUBJECT_COMMON_NAME", "ISSUER_COMMON_NAME", "SERIAL_NUMBER",
)

# DCM API exception ids (ThePrez/DCM-tools MessageLookerUpper.java; UNCONFIRMED).
STORE_NOT_FOUND = "CPFB002"
BAD_STORE_PASSWORD = "CPFB003"
EXPORT_FILE_EXISTS = "CPFB005"
GENERAL_ERROR = "CPFB006"
NOT_AUTHORIZED_TO_FILE = "CPFB007"
BAD_STORE_FORMAT = "CPFB008"
BAD_FILE_FORMAT = "CPFB009"
IMPORT_FILE_MISSING = "CPFB010"
BAD_IMPORT_PASSWORD = "CPFB011"

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

# QycdCheckCACertTrust return indicator (https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/apis/qycdchct.htm).
# The page names the cases ("trusted", "not trusted", the application manages its own
# list, it does not support client authentication); the one-character codes below are
# UNCONFIRMED and kept apart from the package's table on purpose.
CHECK_INDICATORS = {"trusted": "1", "not_trusted": "0", "own_list": "2", "no_client_auth": "3"}
# Message ids (UNCONFIRMED, like DCM-tools' list): CPF2407 message file not found
# (IBM CL reference, SNDPGMMSG errors); CPF9810 library not found.
MSGF_NOT_FOUND = "CPF2407"
LIBRARY_NOT_FOUND = "CPF9810"

# QsoRtvTLSA TLSA0100 receiver as the simulator writes it: the SAME assumed layout the
# package parses (ibmi_trust/ibmi/tls_attributes.py), written out independently here.
# IBM's page names the lists (supported / eligible default / default protocols, cipher
# suites, signature algorithms; "Unused array elements will contain hexadecimal
# zeros"); the offsets and value codes are UNCONFIRMED.
TLSA_COUNTS = (("protocols", 10), ("cipher_suites", 64), ("signature_algorithms", 32))
TLSA_KINDS = ("supported", "eligible_default", "default")
PREINSTALLED_LABEL = "Simulated Preinstalled Root CA"
_PREINSTALLED: List[Cert] = []


def preinstalled_ca() -> Cert:
    if not _PREINSTALLED:
        from ibmi_trust.testing.pki import CA

        _PREINSTALLED.append(CA.root("Simulated Preinstalled Root CA").cert)
    return _PREINSTALLED[0]


class SimulatorDrift(AssertionError):
    """The package sent something the documented interfaces do not describe."""


# pyodbc's exception classes (ref 21.2), re-created because pyodbc cannot be
# imported without unixODBC; exposed as SimConnection.Error etc. (the PEP 249
# "Connection.Error" extension), which is how IbmiSession finds them.
class Error(Exception):
    pass


class DatabaseError(Error):
    pass


class InterfaceError(Error):
    pass


class ProgrammingError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


def db_error(cls, sqlstate: str, message_id: str, sqlcode: int, text: str):
    """A pyodbc error shaped as the IBM i ODBC driver reports it (ref 21.2)."""
    return cls(sqlstate, "[%s] [IBM][System i Access ODBC Driver][DB2 for i5/OS]%s - %s (%d) (SQLExecDirectW)"
               % (sqlstate, message_id, text, sqlcode))


def _require_typed_markers(sql: str) -> None:
    """Db2 for i types a parameter marker from its context; a marker that is a named
    argument of a table function (or a bare comparison operand) has none: SQL0418
    (https://www.ibm.com/docs/en/i/7.5?topic=codes-listing-sql-messages). CALL
    parameters are typed by the procedure's parameters."""
    if sql.lstrip().upper().startswith("CALL"):
        return
    bare = re.sub(r"CAST\(\s*\?\s+AS\s", "", sql, flags=re.IGNORECASE).count("?")
    if bare:
        raise db_error(ProgrammingError, "42000", "SQL0418", -418,
                       "A statement contains a use of a parameter marker that is not valid.")


# -- the simulated certificate stores ----------------------------------------
class SimStore:
    """One .KDB file (plus its .RDB) in the simulator's own format."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def rdb(self) -> Path:
        return self.path.with_suffix(".RDB" if self.path.suffix.isupper() else ".rdb")

    def exists(self) -> bool:
        return self.path.is_file() and self._read() is not None

    def create(self, password: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write({"format": "ibmi-trust-simulated-kdb", "password_sha256": _pw_hash(password), "entries": []})
        self.rdb.write_bytes(b"simulated request database\n")

    def password_ok(self, password: str) -> bool:
        data = self._read()
        return data is not None and data["password_sha256"] == _pw_hash(password)

    def entries(self) -> List[Tuple[str, Cert, bool]]:
        data = self._read() or {"entries": []}
        return [(e["label"], Cert(base64.b64decode(e["der"])), e.get("has_key", False)) for e in data["entries"]]

    def enabled(self, label: str) -> Optional[bool]:
        """A CA's status in DCM (enabled unless disabled); None when not in the store."""
        data = self._read() or {"entries": []}
        found = [e for e in data["entries"] if e["label"] == label]
        return found[0].get("enabled", True) if found else None

    def set_enabled(self, label: str, enabled: bool) -> None:
        data = self._read()
        for entry in data["entries"]:
            if entry["label"] == label:
                entry["enabled"] = enabled
        self._write(data)

    def add(self, label: str, cert: Cert, has_key: bool = False) -> None:
        data = self._read()
        data["entries"].append({"label": label, "der": base64.b64encode(cert.der).decode("ascii"), "has_key": has_key})
        self._write(data)

    def _read(self) -> Optional[dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == "ibmi-trust-simulated-kdb" else None

    def _write(self, data: dict) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(str(tmp), str(self.path))


def _pw_hash(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


# -- PEP 249 objects ------------------------------------------------------------
class SimConnection:
    Error = Error
    InterfaceError = InterfaceError
    ProgrammingError = ProgrammingError
    OperationalError = OperationalError

    def __init__(self, sim: "Simulator"):
        self.sim = sim
        self.closed = False

    def cursor(self):
        if self.closed:
            raise ProgrammingError("HY000", "Attempt to use a closed connection.")
        return SimCursor(self.sim)

    def commit(self):
        pass

    def rollback(self):
        pass

    def close(self):
        self.closed = True


class SimCursor:
    """pyodbc-like: execute() / description / fetchall(); no callproc (ref 21.1)."""

    def __init__(self, sim: "Simulator"):
        self.sim = sim
        self.description = None
        self._rows: List[tuple] = []

    def execute(self, sql: str, params=()):
        if isinstance(params, (list, tuple)) and len(params) == 1 and isinstance(params[0], (list, tuple)):
            params = params[0]
        columns, rows = self.sim.execute(sql, tuple(params))
        self.description = None if columns is None else [(name, str, None, None, None, None, True) for name in columns]
        self._rows = [tuple(r) for r in rows]
        return self

    def fetchall(self):
        rows, self._rows = self._rows, []
        return rows

    def close(self):
        pass


# -- the simulator ------------------------------------------------------------------
class Simulator:
    def __init__(self, root, *, store_password: str = "sim-store-password"):
        self.root = Path(root)
        self.system_kdb = self.root / "QIBM" / "UserData" / "ICSS" / "Cert" / "Server" / "DEFAULT.KDB"
        self.store_password = store_password
        if not self.store(self.system_kdb).exists():   # else: reopen (another process's simulator)
            self.store(self.system_kdb).create(store_password)
            # *SYSTEM ships with well-known CAs; one stands in for them.
            self.add_certificate(preinstalled_ca(), PREINSTALLED_LABEL)
        self.cl_log: List[str] = []
        self.sql_log: List[Tuple[str, tuple]] = []
        self.xml_log: List[str] = []
        self.program_log: List[Tuple[str, list]] = []
        self.certificate_info_columns = list(ATTESTED_CERTIFICATE_INFO_COLUMNS)
        # ref 1.2: *NOPWD uses the stashed password. Which stores have a
        # stash is UNCONFIRMED; the simulator assumes *SYSTEM only.
        self.nopwd_stores = {str(self.system_kdb)}
        # ref 4.4: whether QYKMIMPK/QYKMEXPK accept *SYSTEM / *NOPWD is UNCONFIRMED; off by default.
        self.apis_accept_nopwd = False
        self.applications: List[dict] = []
        self.trust_lists: Dict[str, List[str]] = {}
        self.system_values = {"QSSLPCL": "*OPSYS", "QSSLCSL": "*AES_128_GCM_SHA256 *ECDHE_RSA_AES_128_GCM_SHA256",
                              "QSSLCSLCTL": "*OPSYS"}
        self.missing_programs = set()
        self.now = None  # datetime for "CURRENT TIMESTAMP"; None = real clock
        # DCM: a disabled CA stays in the store; CERTIFICATE_INFO shows the status only
        # through this column, if set (no status column is documented: UNCONFIRMED).
        self.ca_status_column: Optional[str] = None
        self.installed_library: Optional[str] = None    # where install-objects put ITRCATRST, ITRMSGF
        self.job_ccsid = 37                             # the database server job's CCSID
        self.file_ccsids: Dict[str, int] = {}           # LIB/FILE -> CCSID of files created by CL
        self.unconverted: List[str] = []                # members CPYFRMSTMF filled without conversion
        self.export_encryption = "3des"                 # or "rc2-40": what QYKMEXPK writes
        self.xmlservice_installed = True                # library QXMLSERV (5770-DG1)
        self.current_user = "SIMUSER"
        self.profiles: Dict[str, dict] = {"SIMUSER": {"password_none": False, "status": "*ENABLED"}}
        # GSKPROBE (cl/gskprobe.c): the ILE C compiler (CRTBNDC, 5770-WDS) and the system
        # include files (QSYSINC, 5770-SS1 option 13) may be missing; CRTBNDC hands the source
        # stream file to `gskprobe_builder` (the tests compile it with gcc against the OpenSSL
        # stand-in of the gsk_* calls, tests/gskit_standin/) and the program's CALL runs that
        # binary against the CAs this simulator's *SYSTEM (or an application) trusts.
        self.c_compiler_installed = True
        self.qsysinc_installed = True
        self.gskprobe_builder: Optional[Callable[[str], Optional[str]]] = None
        self.programs: Dict[str, Optional[str]] = {}    # "LIB/NAME" -> binary of a compiled C program
        self.gskit_no_access = False                    # GSKit may not read the store (6003)
        self.gskit_partner_chain = False                # GSK_PARTNER_CERT_INFO lists the whole chain
        self.gskit_no_sni = False                       # a release without GSK_SSL_EXTN_SERVERNAME_REQUEST
        self.program_calls: List[Tuple[str, List[str]]] = []
        self.joblog: List[dict] = []                    # the database server job's messages
        self.services = {name: {"SQL_OBJECT_TYPE": kind, "EARLIEST_POSSIBLE_RELEASE": "V7R3M0",
                                "INITIAL_DB2_GROUP_LEVEL": level, "LATEST_DB2_GROUP_LEVEL": level}
                         for name, kind, level in (("CERTIFICATE_INFO", "TABLE FUNCTION", 18),
                                                   ("CERTIFICATE_USAGE_INFO", "VIEW", 24),
                                                   ("SYSTEM_VALUE_INFO", "VIEW", None),
                                                   ("QCMDEXC", "PROCEDURE", None),
                                                   ("JOBLOG_INFO", "TABLE FUNCTION", None),
                                                   ("USER_INFO", "VIEW", None))}
        # what QsoRtvTLSA reports: IANA codes (protocol version, cipher suite, signature scheme)
        self.tls_attributes = {
            "supported_protocols": [0x0304, 0x0303, 0x0302, 0x0301],
            "eligible_default_protocols": [0x0304, 0x0303, 0x0302, 0x0301],
            "default_protocols": [0x0304, 0x0303],
            "supported_cipher_suites": [0x1301, 0x1302, 0x1303, 0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009C],
            "eligible_default_cipher_suites": [0x1301, 0x1302, 0x1303, 0xC02F, 0xC030, 0xC02B, 0xC02C],
            "default_cipher_suites": [0x1301, 0x1302, 0xC02F, 0xC030],
            "supported_signature_algorithms": [0x0804, 0x0805, 0x0401, 0x0501, 0x0403, 0x0503],
            "eligible_default_signature_algorithms": [0x0804, 0x0805, 0x0401, 0x0403],
            "default_signature_algorithms": [0x0804, 0x0401, 0x0403],
        }
        self._cl_rules: List[Tuple[str, Callable[[str], Optional[str]]]] = []
        self._sql_failures: Dict[str, Exception] = {}
        self._program_failures: Dict[str, List[str]] = {}
        self._before_program: Dict[str, List[Callable[[], None]]] = {}
        handlers = {
            "certificate_info": (self._certificate_info, "CERTIFICATE_INFO"),
            "expiring_cas": (self._expiring_cas, "CERTIFICATE_INFO"),
            "certificate_usage_info": (self._certificate_usage_info, "CERTIFICATE_USAGE_INFO"),
            "tls_system_values": (self._tls_system_values, "SYSTEM_VALUE_INFO"),
            "qcmdexc": (self._qcmdexc, "QCMDEXC"),
            "cl_escape_message": (self._cl_escape_message, "JOBLOG_INFO"),
            "services_info": (self._services_info, None),
            "user_profile": (self._user_profile, "USER_INFO"),
        }
        self._sql_handlers = {statement(name): handler for name, (handler, _service) in handlers.items()}
        # sql/history_*.sql: the Db2 for i history tables (tests/sim_history_tables.py)
        self.history = HistoryTables(lambda msgid, code, text: db_error(ProgrammingError if code == -204 else Error,
                                                                        "42S02" if code == -204 else "23505"
                                                                        if code == -803 else "HY000", msgid, code,
                                                                        text),
                                     SimulatorDrift)
        self._sql_services = {statement(name): service for name, (_h, service) in handlers.items()}
        self._sql_names = {statement(name): name + ".sql" for name in handlers}

    # -- public set-up -------------------------------------------------------
    def connection(self) -> SimConnection:
        return SimConnection(self)

    def connect(self, connect_string: str = "DSN=*LOCAL;CCSID=1208") -> SimConnection:
        """pyodbc.connect as the IBM i Access driver answers it: DSN=*LOCAL signs on as
        *CURRENT, which needs a profile with a password (IBM/ibmi-oss-issues#77)."""
        profile = self.profiles.get(self.current_user, {})
        if "*LOCAL" in connect_string.upper() and profile.get("password_none"):
            raise InterfaceError("28000", "[28000] [IBM][System i Access ODBC Driver]Communication link failure. "
                                 "comm rc=8003 - CWBSY0003 - Password for user %s on system LOCALHOST is not "
                                 "correct, Password length = 0, Prompt Mode = Never (8003) (SQLDriverConnect)"
                                 % self.current_user)
        return SimConnection(self)

    def add_profile(self, name: str, *, password_none: bool, status: str = "*ENABLED") -> None:
        self.profiles[name.upper()] = {"password_none": password_none, "status": status}

    def remove_service(self, name: str) -> None:
        """The service is not on this system (its PTF group level is too low)."""
        self.services.pop(name.upper(), None)

    def disable_ca(self, label: str, path=None) -> None:
        self.store(path).set_enabled(label, False)

    def store(self, path=None) -> SimStore:
        return SimStore(Path(path) if path is not None else self.system_kdb)

    def create_store(self, path, password: str) -> Path:
        self.store(path).create(password)
        return Path(path)

    def add_certificate(self, cert: Cert, label: str, *, path=None, has_key: bool = False) -> None:
        self.store(path).add(label, cert, has_key)

    def entries(self, path=None) -> List[Tuple[str, Cert]]:
        return [(label, cert) for label, cert, _key in self.store(path).entries()]

    def add_application(self, app_id: str, *, managed: bool, app_type: str = "CLIENT",
                        description: str = "", store: str = "*SYSTEM", trust_list=(),
                        client_auth: bool = True) -> None:
        """A DCM application definition. `managed`: MANAGED_CA_TRUSTS (DCM keeps a CA
        trust list for it); `trust_list`: the CAs on that list (empty = every enabled CA)."""
        self.applications.append({"APPLICATION_ID": app_id, "APPLICATION_TYPE": app_type,
                                  "DESCRIPTION": description, "CERTIFICATE_STORE": store,
                                  "MANAGED_CA_TRUSTS": "YES" if managed else "NO", "client_auth": client_auth})
        self.trust_lists.setdefault(app_id, list(trust_list))

    def ca_trusted_by(self, app_id: str, label: str) -> Optional[str]:
        """What QycdCheckCACertTrust says for one label: an indicator key of CHECK_INDICATORS,
        or None when the application or the label is unknown."""
        app = next((a for a in self.applications if a["APPLICATION_ID"] == app_id), None)
        enabled = self.store().enabled(label)
        if app is None or enabled is None:
            return None
        if app["MANAGED_CA_TRUSTS"] != "YES":
            return "own_list"
        if not app["client_auth"]:
            return "no_client_auth"
        if not enabled:
            return "not_trusted"
        listed = self.trust_lists.get(app_id, [])
        return "trusted" if not listed or label in listed else "not_trusted"

    def fail_cl(self, prefix: str, msgid: str) -> None:
        self.on_cl(prefix, lambda command: msgid)

    def on_cl(self, prefix: str, handler: Callable[[str], Optional[str]]) -> None:
        self._cl_rules.append((prefix.upper(), handler))

    def on_sql(self, sql_file_name: str, handler: Callable[[tuple], Tuple[List[str], list]]) -> None:
        text = statement(sql_file_name)
        self._sql_handlers[text] = lambda params: handler(params)
        self._sql_names[text] = sql_file_name

    def fail_sql(self, sql_file_name: str, message_id: str, sqlcode: int, *, sqlstate: str = "HY000",
                 text: str = "simulated failure", cls=Error) -> None:
        """The next run of that statement fails (history statements: in any library)."""
        key = sql_file_name if sql_file_name.startswith("history_") else statement(sql_file_name)
        if sql_file_name.startswith("history_") and not key.endswith(".sql"):
            key += ".sql"
        self._sql_failures[key] = db_error(cls, sqlstate, message_id, sqlcode, text)

    def fail_program(self, name: str, message_id: str, times: int = 1) -> None:
        """The next `times` calls of program/export `name` return `message_id` in ERRC0100."""
        self._program_failures.setdefault(name.upper(), []).extend([message_id] * times)

    def before_program(self, name: str, callback: Callable[[], None]) -> None:
        """Run callback() just before the next call of `name` (e.g. a concurrent DCM user)."""
        self._before_program.setdefault(name.upper(), []).append(callback)

    # -- SQL ---------------------------------------------------------------------
    def execute(self, sql: str, params: tuple):
        self.sql_log.append((sql, params))
        if sql == "call %s(?,?,?)" % "QXMLSERV.iPLUGR512K":
            if not self.xmlservice_installed:
                raise db_error(ProgrammingError, "42S02", "SQL0204", -204, "IPLUGR512K in QXMLSERV type *N not found.")
            if len(params) != 3:
                raise SimulatorDrift("XMLSERVICE takes (ipc, ctl, xmlin), got %d parameters" % len(params))
            reply = self._xmlservice(params[2])
            chunks = [reply[i:i + XMLSERVICE_ROW] for i in range(0, len(reply), XMLSERVICE_ROW)] or [""]
            return ["OUT151"], [(chunk,) for chunk in chunks]
        handler = self._sql_handlers.get(sql)
        name = self._sql_names.get(sql)
        if handler is None:
            found = self.history.match(sql)              # sql/history_*.sql, in any library
            if found is None:
                raise SimulatorDrift("SQL not in sql/*.sql (or not simulated): %r" % sql[:300])
            name, handler = found
        _require_typed_markers(sql)
        service = self._sql_services.get(sql)
        if service and service not in self.services:
            raise db_error(ProgrammingError, "42S02", "SQL0204", -204, "%s in QSYS2 type *N not found." % service)
        failure = self._sql_failures.pop(sql, None) or self._sql_failures.pop(name, None)
        if failure is not None:
            raise failure
        return handler(params)

    def _clock(self) -> datetime.datetime:
        return self.now or datetime.datetime.now()

    def _resolve_store(self, name: str) -> Optional[SimStore]:
        """*SYSTEM or an IFS path (ref 1.2); anything else is no store."""
        if name == "*SYSTEM":
            return self.store()
        if name.startswith("/"):
            candidate = self.store(name)
            return candidate if candidate.exists() else None
        return None

    def _open_for_sql(self, password: str, store_name: str) -> Optional[SimStore]:
        # https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzajq/rzajqudfcertificateinfo.htm
        # A path that is not a certificate store returns no rows (no error).
        store = self._resolve_store(store_name)
        if store is None:
            return None
        if password == "*NOPWD":
            ok = str(store.path) in self.nopwd_stores
        else:
            ok = store.password_ok(password)
        if not ok:
            # UNCONFIRMED: the SQL error a wrong password gives (assumed SQL0443, the
            # generic "external routine detected an error" of table functions).
            raise db_error(Error, "HY000", "SQL0443", -443,
                           "Trigger program or external routine detected an error.")
        return store

    def _certificate_info(self, params: tuple):
        if len(params) != 2:
            raise SimulatorDrift("CERTIFICATE_INFO statement takes (password, store), got %r" % (len(params),))
        store = self._open_for_sql(params[0], params[1])
        rows = [] if store is None else [self._info_row(label, cert) for label, cert, _k in store.entries()]
        columns = list(self.certificate_info_columns)
        if self.ca_status_column:       # a hypothetical status column (none is documented)
            columns.append(self.ca_status_column)
            for row in rows:
                row[self.ca_status_column] = "ENABLED" if store.enabled(row["CERTIFICATE_LABEL"]) else "DISABLED"
        return columns, [[row.get(c, "x") for c in columns] for row in rows]

    def _info_row(self, label: str, cert: Cert) -> dict:
        algo, bits = cert.key_description()
        return {
            "CERTIFICATE_LABEL": label,
            "VALIDITY_START": cert.not_before.replace(tzinfo=None),
            "VALIDITY_END": cert.not_after.replace(tzinfo=None),
            "KEY_SIZE": bits,
            "SUBJECT_COMMON_NAME": cert.common_name,
            "ISSUER_COMMON_NAME": _issuer_cn(cert),
            "SERIAL_NUMBER": format(cert.serial, "X"),
        }

    def _expiring_cas(self, params: tuple):
        # https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzajq/rzajqudfcertificateinfo.htm
        # with *NOPWD on *SYSTEM; WHERE VALIDITY_END < CURRENT TIMESTAMP + 90 DAYS.
        if params:
            raise SimulatorDrift("expiring_cas.sql takes no parameters")
        store = self._open_for_sql("*NOPWD", "*SYSTEM")
        limit = self._clock() + datetime.timedelta(days=90)
        rows = sorted((self._info_row(label, cert) for label, cert, _k in store.entries()),
                      key=lambda r: r["VALIDITY_END"])
        cols = ["CERTIFICATE_LABEL", "VALIDITY_START", "VALIDITY_END"]
        return cols, [[r[c] for c in cols] for r in rows if r["VALIDITY_END"] < limit]

    def _certificate_usage_info(self, params: tuple):
        # https://www.ibm.com/support/knowledgecenter/ssw_ibm_i_76/rzajq/rzajqviewcertificateusageinfo.htm
        if params:
            raise SimulatorDrift("certificate_usage_info.sql takes no parameters")
        cols = ["APPLICATION_ID", "APPLICATION_TYPE", "DESCRIPTION", "CERTIFICATE_STORE", "MANAGED_CA_TRUSTS"]
        apps = sorted(self.applications, key=lambda a: a["APPLICATION_ID"])
        return cols, [[a[c] for c in cols] for a in apps]

    def _tls_system_values(self, params: tuple):
        # https://ibm.com/support/knowledgecenter/ssw_ibm_i_75/rzajq/rzajqviewsysvalinfo.htm
        if params:
            raise SimulatorDrift("tls_system_values.sql takes no parameters")
        cols = ["SYSTEM_VALUE_NAME", "CURRENT_CHARACTER_VALUE"]
        return cols, [[name, value] for name, value in sorted(self.system_values.items())]

    # https://ibm.com/support/knowledgecenter/ssw_ibm_i_75/rzajq/rzajqprocqcmdexc.htm
    def _qcmdexc(self, params: tuple):
        if len(params) != 1 or not isinstance(params[0], str):
            raise SimulatorDrift("QCMDEXC takes one CL command string, got %r" % (params,))
        msgid = self._run_cl(params[0].strip())
        if msgid:
            # The escape message goes to the job log; the SQL error names only SQL0443
            # (the unpleasant case: the package must look in the job log).
            self.joblog.append({"MESSAGE_ID": msgid, "MESSAGE_TYPE": "ESCAPE",
                                "MESSAGE_TEXT": "simulated %s for %s" % (msgid, params[0].split()[0])})
            raise db_error(Error, "HY000", "SQL0443", -443, "Trigger program or external routine detected an error.")
        return None, []

    # https://www.ibm.com/docs/en/ssw_ibm_i_74/rzajq/rzajqudfjobloginfo.htm
    def _cl_escape_message(self, params: tuple):
        if params:
            raise SimulatorDrift("cl_escape_message.sql takes no parameters")
        escapes = [m for m in self.joblog if m["MESSAGE_TYPE"] == "ESCAPE" and not m["MESSAGE_ID"].startswith("SQL")]
        cols = ["MESSAGE_ID", "MESSAGE_TEXT"]
        return cols, [[escapes[-1][c] for c in cols]] if escapes else []

    # https://www.ibm.com/docs/en/i/7.5.0?topic=services-info-table
    def _services_info(self, params: tuple):
        if len(params) != 1:
            raise SimulatorDrift("services_info.sql takes the service name")
        cols = ["SERVICE_NAME", "SQL_OBJECT_TYPE", "EARLIEST_POSSIBLE_RELEASE", "INITIAL_DB2_GROUP_LEVEL",
                "LATEST_DB2_GROUP_LEVEL"]
        row = self.services.get(params[0])
        return cols, [[params[0]] + [row[c] for c in cols[1:]]] if row else []

    # https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/rzajq/rzajqviewuserinfo.htm
    def _user_profile(self, params: tuple):
        if len(params) != 1:
            raise SimulatorDrift("user_profile.sql takes the profile name")
        cols = ["AUTHORIZATION_NAME", "NO_PASSWORD_INDICATOR", "STATUS"]
        profile = self.profiles.get(params[0])
        if profile is None:
            return cols, []
        return cols, [[params[0], "YES" if profile["password_none"] else "NO", profile["status"]]]

    def _run_cl(self, command: str) -> Optional[str]:
        """The CL rules, then what the simulator itself knows; a message id on failure."""
        self.cl_log.append(command)
        matched = False
        for prefix, handler in self._cl_rules:
            if command.upper().startswith(prefix):
                matched = True
                msgid = handler(command)
                if msgid:
                    return msgid
        return self._builtin_cl(command, matched)

    def _builtin_cl(self, command: str, matched: bool) -> Optional[str]:
        verb = command.split()[0].upper()
        if verb == "CHKOBJ" and not matched:
            obj = re.search(r"OBJ\(([^)]*)\)", command).group(1).upper()
            lib, _, name = obj.partition("/")
            if name in HISTORY_OBJECTS and "*FILE" in command.upper():
                return None if self.history.exists(lib, name) else "CPF9801"
            if obj == "QSYS/QXMLSERV" and not self.xmlservice_installed:
                return "CPF9801"
            missing = self._chkobj_c_program(obj)
            if missing is not None:
                return missing or None
            lib, _, name = obj.partition("/")
            if name in ("ITRMSGF", "ITRCATRST") and lib != self.installed_library:
                return "CPF9810"
        if verb == "SNDPGMMSG":
            # The database server job's library list (QUSRLIBL + the job description's) does
            # not hold the ibmi-trust library: an unqualified message file is not found.
            msgf = re.search(r"MSGF\(([^)]*)\)", command)
            name = (msgf.group(1) if msgf else "").upper()
            lib, _, _file = name.rpartition("/")
            if name.endswith("ITRMSGF") and lib in ("", "*LIBL", "*CURLIB"):
                return MSGF_NOT_FOUND
            if name.endswith("ITRMSGF") and self.installed_library and lib != self.installed_library:
                return MSGF_NOT_FOUND
        if verb == "DLTLIB":
            self.history.drop_library(re.search(r"LIB\(([^)]*)\)", command).group(1).upper())
        if verb == "CRTBNDC":
            return self._crtbndc(command)
        if verb == "CALL":                  # rules may watch a CALL (return None); the program still runs
            return self._call(command)
        if verb in ("CRTSRCPF", "CRTPF"):
            file_name = re.search(r"FILE\(([^)]*)\)", command).group(1).upper()
            ccsid = re.search(r"CCSID\((\d+)\)", command)
            self.file_ccsids[file_name] = int(ccsid.group(1)) if ccsid else self.job_ccsid
        if verb == "CPYFRMSTMF":
            member = re.search(r"TOMBR\('?(/QSYS\.LIB/([^/]+)\.LIB/([^/.]+)\.FILE/[^')]+)", command, re.I)
            if member:
                file_name = "%s/%s" % (member.group(2).upper(), member.group(3).upper())
                if self.file_ccsids.get(file_name, self.job_ccsid) == 65535:
                    self.unconverted.append(member.group(1))    # 65535: copied without conversion
        return None

    # -- GSKPROBE: CRTBNDC and its CALL -------------------------------------------------
    def _chkobj_c_program(self, obj: str) -> Optional[str]:
        """CHKOBJ of what install-objects needs for GSKPROBE: None = not one of these,
        "" = found, else the message id (CPF9801 object, CPF9810 library not found)."""
        if obj == "QSYS/CRTBNDC":
            return "" if self.c_compiler_installed else "CPF9801"
        if obj == "QSYSINC/H":
            return "" if self.qsysinc_installed else "CPF9810"
        if obj.endswith("/GSKPROBE"):
            return "" if obj in self.programs else "CPF9801"
        return None

    # CRTBNDC (ILE C): https://www.ibm.com/docs/en/i/7.5?topic=commands-crtbndc
    def _crtbndc(self, command: str) -> Optional[str]:
        from ibmi_trust.ibmi import clsource

        if not self.c_compiler_installed:
            # the command itself is missing: CPD0030 (diagnostic), then CPF0006
            self.joblog.append({"MESSAGE_ID": "CPD0030", "MESSAGE_TYPE": "DIAGNOSTIC",
                                "MESSAGE_TEXT": "Command CRTBNDC in library *LIBL not found."})
            return "CPF0006"
        stmt = clsource.parse_statement(command)
        program, source = stmt.text("PGM").upper(), stmt.text("SRCSTMF")
        if not source or not os.path.isfile(source):
            raise SimulatorDrift("CRTBNDC SRCSTMF must name an existing stream file, got %r" % source)
        if not self.qsysinc_installed:
            return "CZS2113"       # compilation failed (UNCONFIRMED id): <gskssl.h> not found
        binary = self.gskprobe_builder(source) if self.gskprobe_builder is not None else None
        if self.gskprobe_builder is not None and binary is None:
            return "CZS2113"
        self.programs[program] = binary
        return None

    def _call(self, command: str) -> Optional[str]:
        from ibmi_trust.ibmi import clsource

        stmt = clsource.parse_statement(command)
        program = stmt.text("PGM").upper()
        if program not in self.programs:
            if program.endswith("/GSKPROBE"):
                self.joblog.append({"MESSAGE_ID": "CPD0170", "MESSAGE_TYPE": "DIAGNOSTIC",
                                    "MESSAGE_TEXT": "Program %s not found." % program})
                return "CPF0001"
            raise SimulatorDrift("CALL of a program the simulator does not know: %s" % program)
        binary = self.programs[program]
        if binary is None:
            raise SimulatorDrift("CALL %s: no stand-in binary (set sim.gskprobe_builder before CRTBNDC)" % program)
        # a character literal shorter than 32 characters is passed padded with blanks to 32;
        # a longer one with its exact length (IBM i CL, CALL command, PARM)
        params = [p if len(p) >= 32 else p.ljust(32) for p in clsource.string_literals(stmt.text("PARM"))]
        self.program_calls.append((program, params))
        env = dict(os.environ, GSKSTANDIN_STORES=self._gskit_stores())
        for flag, name in ((self.gskit_no_access, "GSKSTANDIN_NO_ACCESS"),
                           (self.gskit_partner_chain, "GSKSTANDIN_PARTNER_CHAIN"),
                           (self.gskit_no_sni, "GSKSTANDIN_NO_SNI")):
            if flag:
                env[name] = "1"
            else:
                env.pop(name, None)
        proc = subprocess.run([binary] + params, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=600)
        if proc.returncode < 0:
            return "CEE9901"       # the program ended abnormally (application error)
        return None

    def _gskit_stores(self) -> str:
        """What GSKit would trust: the ENABLED CAs of *SYSTEM (SYSTEM.pem), and per
        application the CAs QycdCheckCACertTrust says it trusts (app-ID.pem)."""
        directory = self.root / "gskit-standin-stores"
        if directory.exists():
            shutil.rmtree(str(directory))
        directory.mkdir(parents=True)
        cas = [(label, cert) for label, cert, key in self.store().entries() if not key]
        enabled = [(label, cert) for label, cert in cas if self.store().enabled(label) is not False]
        (directory / "SYSTEM.pem").write_text("".join(cert.pem() for _l, cert in enabled), encoding="ascii")
        for app in self.applications:
            trusted = [cert for label, cert in enabled
                       if self.ca_trusted_by(app["APPLICATION_ID"], label) in ("trusted", "own_list", "no_client_auth")]
            (directory / ("app-%s.pem" % app["APPLICATION_ID"])).write_text(
                "".join(cert.pem() for cert in trusted), encoding="ascii")
        return str(directory)

    # -- XMLSERVICE ------------------------------------------------------------------
    def _xmlservice(self, xml_in: str) -> str:
        self.xml_log.append(xml_in)
        try:
            root = ET.fromstring(xml_in.encode("utf-8") if isinstance(xml_in, str) else xml_in)
        except ET.ParseError as exc:
            raise SimulatorDrift("XMLSERVICE input is not XML: %s" % exc)
        if root.tag != "xmlservice":
            raise SimulatorDrift("XMLSERVICE input root is <%s>" % root.tag)
        out = ET.Element("xmlservice")
        for action in root:
            if action.tag == "cmd":
                out.append(self._cmd(action))
            elif action.tag == "pgm":
                out.append(self._pgm(action))
            else:
                raise SimulatorDrift("XMLSERVICE action <%s> is not simulated" % action.tag)
        return "<?xml version='1.0'?>\n" + ET.tostring(out, encoding="unicode")

    def _cmd(self, action: ET.Element) -> ET.Element:
        # IBM/xmlservice docs/functions.rst "call CMD": exec='system' returns the CPF id in <error>.
        command = (action.text or "").strip()
        msgid = self._run_cl(command)
        reply = ET.Element("cmd", dict(action.attrib))
        if not msgid:
            _sub(reply, "success", "+++ success %s" % command)
            return reply
        if action.get("exec") not in ("system", "rexx"):
            raise SimulatorDrift("a failing <cmd> only names its CPF id with exec='system' or 'rexx'")
        # Error shape: IBM/python-itoolkit tests/test_cmd_error.py (plus the CPF id of exec='system').
        _sub(reply, "error", "*** error %s" % command)
        _sub(reply, "error", msgid)
        _sub(reply, "version", "XML Toolkit 2.0.2-sim")
        block = ET.SubElement(reply, "error")
        _sub(block, "errnoxml", "1100012")
        _sub(block, "xmlerrmsg", "XML run cmd failed")
        _sub(block, "xmlhint", command)
        reply.append(_jobinfo())
        return reply

    def _pgm(self, action: ET.Element) -> ET.Element:
        name = (action.get("name") or "").upper()
        func = action.get("func")
        lib = (action.get("lib") or "").upper()
        key = func or name
        params = [_decode_parm(p) for p in action.findall("parm")]
        self.program_log.append((key, params))
        if key.upper() in {m.upper() for m in self.missing_programs}:
            return _missing_program_reply(action, name)
        handlers = {("QSYS", "QYKMIMPK", None): self._qykmimpk,
                    ("QSYS", "QYKMEXPK", None): self._qykmexpk,
                    ("QICSS", "QYCDCUSG", "QycdAddCACertTrust"): self._qycdaddcacerttrust,
                    ("QSYS", "QSOTLSA", "QsoRtvTLSA"): self._qsortvtlsa}
        if self.installed_library:
            handlers[(self.installed_library, "ITRCATRST", None)] = self._itrcatrst
        handler = handlers.get((lib, name, func))
        if handler is None and name == "ITRCATRST":
            return _missing_program_reply(action, name)     # not installed in that library
        if handler is None:
            raise SimulatorDrift("program call not simulated: lib=%r name=%r func=%r" % (lib, name, func))
        errc = params[-1] if params else None
        if not (isinstance(errc, list) and len(errc) == 4):
            raise SimulatorDrift("%s: the last parameter must be an ERRC0100 structure" % key)
        for callback in self._before_program.pop(key.upper(), []):
            callback()
        pending = self._program_failures.get(key.upper())
        answer = pending.pop(0) if pending else handler(params[:-1])
        msgid, outputs = answer if isinstance(answer, tuple) else (answer, {})
        bytes_provided = errc[0]
        if msgid and bytes_provided == 0:
            # ref 4.3 / 19.3: with bytes provided = 0 the API signals an escape
            # message, which XMLSERVICE reports as a failed program call.
            return _escape_reply(action, name, msgid)
        return _pgm_reply(action, msgid, outputs)

    # QsoRtvTLSA: https://www.ibm.com/docs/en/ssw_ibm_i_74/apis/qsortvtlsa.htm (service program
    # QSOTLSA; 7.2-7.4 by PTF: https://ibm.com/support/pages/node/6172701)
    def _qsortvtlsa(self, params: list):
        if len(params) != 3:
            raise SimulatorDrift("QsoRtvTLSA takes 4 parameters (3 + error code), got %d" % (len(params) + 1))
        fmt, receiver, length = params
        if not (isinstance(fmt, str) and isinstance(receiver, bytes) and isinstance(length, int)):
            raise SimulatorDrift("QsoRtvTLSA parameters: format Char(8), receiver, length Binary(4)")
        if fmt != "TLSA0100":
            return "CPF3C21"     # format name not valid (UNCONFIRMED id)
        data = _tlsa0100(self.tls_attributes)
        if length < len(data) or len(receiver) < length:
            return "CPF3C24"     # receiver too small (UNCONFIRMED id)
        return None, {"tlsa_receiver": data.ljust(len(receiver), b"\0").hex().upper(), "tlsa_length": str(len(data))}

    # ITRCATRST (cl/itrcatrst.clle): ibmi-trust's wrapper that builds the list of label
    # pointers for QycdCheckCACertTrust (https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/apis/qycdchct.htm)
    # and passes the return indicator and error code back.
    def _itrcatrst(self, params: list):
        if len(params) != 5:
            raise SimulatorDrift("ITRCATRST takes 6 parameters (5 + error code), got %d" % (len(params) + 1))
        app_id, app_len, label, label_len, _indicator = params
        if not (isinstance(app_id, str) and app_len == len(app_id) and 1 <= app_len <= 100):
            raise SimulatorDrift("ITRCATRST: application id/length mismatch")
        if not (isinstance(label, str) and label_len == len(label) and 1 <= label_len <= 1024):
            raise SimulatorDrift("ITRCATRST: label/length mismatch")
        answer = self.ca_trusted_by(app_id, label)
        if answer is None:
            return GENERAL_ERROR     # UNCONFIRMED id for "application or label not found"
        return None, {"indicator": CHECK_INDICATORS[answer]}

    # QYKMIMPK: https://www.ibm.com/support/knowledgecenter/ssw_ibm_i_74/apis/qykmimpk.htm (ref 4)
    def _qykmimpk(self, params: list) -> Optional[str]:
        store, error = self._keystore_call("QYKMIMPK", params)
        if error:
            return error
        source = params[6]
        if not os.path.isfile(source):
            return IMPORT_FILE_MISSING
        items = _read_pkcs12_with_openssl(source, params[10].decode("utf-8"))
        if items is None:
            return BAD_IMPORT_PASSWORD
        present = store.entries()
        labels = {label for label, _c, _k in present}
        keys = {cert.spki_sha256 for _l, cert, _k in present}
        for label, cert in items:
            # "Entries whose label and/or public key already exist in the target
            # store are not imported, and this is not reported as an error." (ref 4.1)
            label = label or self._default_label(cert)
            if label in labels or cert.spki_sha256 in keys:
                continue
            store.add(label, cert)
            labels.add(label)
            keys.add(cert.spki_sha256)
        return None

    def _default_label(self, cert: Cert) -> str:
        # UNCONFIRMED (ref 7): the label DCM gives an entry without a friendly name.
        return "IMPORTED_" + cert.sha256[:12].upper()

    # QYKMEXPK: parameters as DCM-tools passes them (ref 5; UNCONFIRMED against IBM's page).
    def _qykmexpk(self, params: list) -> Optional[str]:
        store, error = self._keystore_call("QYKMEXPK", params)
        if error:
            return error
        target = params[6]
        if os.path.exists(target):
            return EXPORT_FILE_EXISTS
        if not os.path.isdir(os.path.dirname(target)):
            return NOT_AUTHORIZED_TO_FILE
        if not store.entries():
            return GENERAL_ERROR   # UNCONFIRMED: what QYKMEXPK does with an empty store
        _write_pkcs12_with_openssl(target, [(label, cert) for label, cert, _k in store.entries()],
                                   params[10].decode("utf-8"), self.export_encryption)
        return None

    def _keystore_call(self, api: str, params: list):
        """The 13 parameters shared by QYKMIMPK and QYKMEXPK (ref 4.2, 5)."""
        if len(params) != 13:
            raise SimulatorDrift("%s takes 14 parameters (13 + error code), got %d" % (api, len(params) + 1))
        kinds = [str, int, str, bytes, int, int, str, int, str, str, bytes, int, int]
        for index, (value, kind) in enumerate(zip(params, kinds)):
            if not isinstance(value, kind):
                raise SimulatorDrift("%s parameter %d should be %s, got %r" % (api, index + 1, kind.__name__, value))
        path, path_len, path_fmt, pw, pw_len, pw_ccsid, file_path, file_len, file_fmt, version, fpw, fpw_len, fpw_ccsid = params
        for text, length, what in ((path, path_len, "store path"), (pw, pw_len, "store password"),
                                   (file_path, file_len, "file path"), (fpw, fpw_len, "file password")):
            if len(text) != length:
                raise SimulatorDrift("%s: length of %s is %d, parameter says %d" % (api, what, len(text), length))
        if pw_ccsid != 1208 or fpw_ccsid != 1208:
            raise SimulatorDrift("%s: passwords are sent as UTF-8 with CCSID 1208 (ref 4.3)" % api)
        if version != "*PKCS12V3":
            return None, BAD_FILE_FORMAT
        if path_fmt != "OBJN0100":
            return None, BAD_STORE_FORMAT
        if file_fmt != "OBJN0100":
            return None, BAD_FILE_FORMAT
        if path == "*SYSTEM" or not path.startswith("/"):
            return None, STORE_NOT_FOUND   # ref 4.4: a special value as store name is UNCONFIRMED
        store = self.store(path)
        if not store.exists():
            return None, STORE_NOT_FOUND
        password = pw.decode("utf-8")
        if password == "*NOPWD":
            ok = self.apis_accept_nopwd and str(store.path) in self.nopwd_stores
        else:
            ok = store.password_ok(password)
        if not ok:
            return None, BAD_STORE_PASSWORD
        return store, None

    # QycdAddCACertTrust: https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/apis/qycdadct.htm (ref 8.1)
    def _qycdaddcacerttrust(self, params: list) -> Optional[str]:
        if len(params) != 5:
            raise SimulatorDrift("QycdAddCACertTrust takes 6 parameters (5 + error code), got %d" % (len(params) + 1))
        app_id, app_len, id_type, label, label_len = params
        if not (isinstance(app_id, str) and app_len == len(app_id) and 1 <= app_len <= 100):
            raise SimulatorDrift("QycdAddCACertTrust: application id/length mismatch")
        if id_type != "1":
            raise SimulatorDrift("QycdAddCACertTrust: certificate ID type '1' (label) expected (ref 8.1)")
        if not (isinstance(label, str) and label_len == len(label) and 1 <= label_len <= 1024):
            raise SimulatorDrift("QycdAddCACertTrust: label/length mismatch")
        if app_id not in self.trust_lists:
            return GENERAL_ERROR   # UNCONFIRMED id for "application not found"
        # "A CA must already be in *SYSTEM before it can be added to a trust list" (ref 8).
        if label not in {lab for lab, _c, _k in self.store().entries()}:
            return GENERAL_ERROR   # UNCONFIRMED id for "certificate not found"
        if label not in self.trust_lists[app_id]:
            self.trust_lists[app_id].append(label)
        return None


def _tlsa0100(values: dict) -> bytes:
    """The TLSA0100 receiver in the assumed layout: bytes returned, bytes available,
    then nine fixed arrays of Binary(4) codes, unused elements zero (TLSA_COUNTS)."""
    import struct

    body = b""
    for what, count in TLSA_COUNTS:
        for kind in TLSA_KINDS:
            codes = list(values.get("%s_%s" % (kind, what), []))[:count]
            body += struct.pack(">%dI" % count, *(codes + [0] * (count - len(codes))))
    total = 8 + len(body)
    return struct.pack(">II", total, total) + body


# -- XML helpers ------------------------------------------------------------------
def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _jobinfo() -> ET.Element:
    info = ET.Element("jobinfo")
    for tag, text in (("jobipc", "*na"), ("jobname", "QSQSRVR"), ("jobuser", "QUSER"), ("jobnbr", "123456"),
                      ("curuser", "SIMUSER"), ("ccsid", "37"), ("paseccsid", "1208")):
        _sub(info, tag, text)
    return info


def _decode_parm(parm: ET.Element):
    children = list(parm)
    if len(children) != 1:
        raise SimulatorDrift("a <parm> holds one <data> or <ds>, got %d children" % len(children))
    return _decode(children[0])


def _decode(element: ET.Element):
    if element.tag == "ds":
        return [_decode(child) for child in element]
    if element.tag != "data":
        raise SimulatorDrift("unexpected <%s> in a parameter" % element.tag)
    kind = (element.get("type") or "").lower()
    text = element.text or ""
    match = re.fullmatch(r"(\d+)([aib])(\d*)", kind)
    if not match:
        raise SimulatorDrift("data type %r is not used by the DCM APIs" % kind)
    size, letter = int(match.group(1)), match.group(2)
    if letter == "a":
        if len(text) > size:
            raise SimulatorDrift("character value longer than its type %s" % kind)
        return text.rstrip(" ")
    if letter == "i":
        return int(text or "0")
    if not re.fullmatch(r"[0-9A-F]*", text) or len(text) != 2 * size:
        raise SimulatorDrift("binary %s must be %d upper-case hex digits" % (kind, 2 * size))
    return bytes.fromhex(text)


def _pgm_reply(action: ET.Element, msgid: Optional[str], outputs: Optional[dict] = None) -> ET.Element:
    # Success shape: IBM/python-itoolkit tests/test_pgm.py (parameters echoed, <success>).
    reply = ET.fromstring(ET.tostring(action))
    for data in reply.iter("data"):
        if data.get("var") in (outputs or {}):
            data.text = outputs[data.get("var")]
    errc = reply.findall("parm")[-1].find("ds")
    fields = errc.findall("data")
    fields[1].text = "15" if msgid else "0"
    fields[2].text = msgid or ""
    _sub(reply, "success", "+++ success %s" % action.get("name"))
    return reply


def _escape_reply(action: ET.Element, name: str, msgid: str) -> ET.Element:
    reply = ET.Element("pgm", dict(action.attrib))
    _sub(reply, "error", "*** error XMLSERVICE %s" % name)
    _sub(reply, "error", msgid)
    block = ET.SubElement(reply, "error")
    _sub(block, "errnoxml", "1100016")
    _sub(block, "xmlerrmsg", "XML run pgm failed")
    reply.append(_jobinfo())
    return reply


def _missing_program_reply(action: ET.Element, name: str) -> ET.Element:
    # IBM/python-itoolkit tests/test_pgm_error.py: 1100016 + 1000005 "PASE resolve failed".
    reply = ET.Element("pgm", dict(action.attrib))
    _sub(reply, "error", "*** error XMLSERVICE %s" % name)
    for code, text in (("1100016", "XML run pgm failed"), ("1000005", "PASE resolve failed")):
        block = ET.SubElement(reply, "error")
        _sub(block, "errnoxml", code)
        _sub(block, "xmlerrmsg", text)
        _sub(block, "xmlhint", name)
    reply.append(_jobinfo())
    return reply


def _issuer_cn(cert: Cert) -> str:
    from cryptography.x509.oid import NameOID

    attrs = cert.x509.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else cert.issuer


# -- PKCS#12 through the openssl binary (independent of the package's code) ----------
def _read_pkcs12_with_openssl(path: str, password: str) -> Optional[List[Tuple[Optional[str], Cert]]]:
    env = dict(os.environ, SIM_P12_PW=password)
    proc = subprocess.run([OPENSSL, "pkcs12", "-in", path, "-nokeys", "-passin", "env:SIM_P12_PW"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=30)
    if proc.returncode != 0:
        return None
    items = []
    label = None
    text = proc.stdout.decode("utf-8", "replace")
    for block in re.split(r"(?m)^(?=Bag Attributes)", text):
        match = re.search(r"friendlyName: (.*)", block)
        label = match.group(1).strip() if match else None
        certs = load_certificates(block.encode("utf-8")) if "BEGIN CERTIFICATE" in block else []
        items.extend((label, cert) for cert in certs)
    return items


def _write_pkcs12_with_openssl(path: str, items: List[Tuple[str, Cert]], password: str,
                               encryption: str = "3des") -> None:
    pem_path = path + ".pem-in"
    with open(pem_path, "w", encoding="ascii") as handle:
        handle.write("".join(cert.pem() for _label, cert in items))
    args = [OPENSSL, "pkcs12", "-export", "-nokeys", "-in", pem_path, "-out", path,
            "-passout", "env:SIM_P12_PW", "-macalg", "sha1"]
    # "rc2-40": what older DCM exports may use; OpenSSL 3 writes it only with -legacy
    args += ["-legacy", "-certpbe", "PBE-SHA1-RC2-40"] if encryption == "rc2-40" else ["-certpbe", "PBE-SHA1-3DES"]
    for label, _cert in items:
        args += ["-caname", label]
    try:
        subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, SIM_P12_PW=password), timeout=30)
    finally:
        os.unlink(pem_path)


# -- test helpers ---------------------------------------------------------------------
PASSWORD_ENV = "IBMI_TRUST_SIM_STORE_PASSWORD"


def system_store(sim: Simulator, monkeypatch, tmp_path, spec: str = "*SYSTEM", *, with_password: bool = True,
                 **options):
    """A real SystemStore on the simulator: *SYSTEM points at sim.system_kdb,
    the password comes from an environment variable (as --password-env would)."""
    from ibmi_trust.ibmi.session import IbmiSession
    from ibmi_trust.ibmi.system_store import SystemStore
    from ibmi_trust.store.spec import StoreOptions

    monkeypatch.setenv("IBMI_TRUST_SYSTEM_KDB", str(sim.system_kdb))
    monkeypatch.setenv(PASSWORD_ENV, sim.store_password)
    options.setdefault("backup_dir", str(tmp_path / "backups"))
    if with_password:
        options.setdefault("password_env", PASSWORD_ENV)
    return SystemStore(spec, StoreOptions(**options), session=IbmiSession(connection=sim.connection()))


def tree_bytes(directory) -> Dict[str, bytes]:
    """Every file under `directory` with its content (for byte-identity checks)."""
    out = {}
    for path in sorted(Path(directory).rglob("*")):
        if path.is_file():
            out[str(path.relative_to(directory))] = path.read_bytes()
    return out


def as_ibmi(sim: Simulator, monkeypatch) -> None:
    """Make the CLI run in-process as on IBM i, with the simulator behind
    pyodbc.connect (a stand-in module: the real pyodbc needs unixODBC, absent
    here); the real IbmiSession, itoolkit and SystemStore code run unchanged."""
    import sys
    import types

    import ibmi_trust.ibmi.session as session_module
    import ibmi_trust.ibmi.system_store as system_store_module

    fake_pyodbc = types.SimpleNamespace(connect=lambda connect_string="", *args, **kwargs: sim.connect(connect_string),
                                        Error=Error)
    monkeypatch.setitem(sys.modules, "pyodbc", fake_pyodbc)
    monkeypatch.setattr(session_module, "is_ibmi", lambda: True)
    monkeypatch.setattr(system_store_module, "is_ibmi", lambda: True)
    monkeypatch.setenv("IBMI_TRUST_SYSTEM_KDB", str(sim.system_kdb))
