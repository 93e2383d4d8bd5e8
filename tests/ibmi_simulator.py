"""A simulator of the documented IBM i interfaces, at the transport boundary.

`Simulator(tmp_path).connection()` is a PEP 249 connection object. The real
`IbmiSession` and the real itoolkit `DatabaseTransport` use it unchanged:

- `cursor.execute(sql, params)` recognises the EXACT text of each statement
  in sql/*.sql (as ibmi_trust.ibmi.sql_text sends it) and returns rows in the
  documented shape. Unknown SQL raises SimulatorDrift (an AssertionError), so
  a statement that drifts from the shipped files fails the test loudly.
- `call QXMLSERV.iPLUGR512K(?,?,?)` (what itoolkit sends over pyodbc, which
  has no callproc; ref 19.2) parses the XMLSERVICE input and emulates:
  <cmd> (recorded in `cl_log`; fails per a small rule table), the OPM
  programs QYKMIMPK / QYKMEXPK and the ILE export QycdAddCACertTrust; it
  replies with XML in the success and error shapes itoolkit parses (ref
  19.3; IBM/python-itoolkit tests/test_pgm.py, test_pgm_error.py,
  test_cmd_error.py). A request that does not match an API's documented
  parameter list raises SimulatorDrift.

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
certificate_info_columns, nopwd_stores, apis_accept_nopwd, system_values,
now; logs: sql_log, xml_log, program_log, trust_lists.
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
        self._cl_rules: List[Tuple[str, Callable[[str], Optional[str]]]] = []
        self._sql_failures: Dict[str, Exception] = {}
        self._program_failures: Dict[str, List[str]] = {}
        self._before_program: Dict[str, List[Callable[[], None]]] = {}
        self._sql_handlers = {
            statement("certificate_info"): self._certificate_info,
            statement("expiring_cas"): self._expiring_cas,
            statement("certificate_usage_info"): self._certificate_usage_info,
            statement("tls_system_values"): self._tls_system_values,
        }
        self._sql_names = {text: name for name, text in (
            ("certificate_info.sql", statement("certificate_info")),
            ("expiring_cas.sql", statement("expiring_cas")),
            ("certificate_usage_info.sql", statement("certificate_usage_info")),
            ("tls_system_values.sql", statement("tls_system_values")))}

    # -- public set-up -------------------------------------------------------
    def connection(self) -> SimConnection:
        return SimConnection(self)

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
                        description: str = "", store: str = "*SYSTEM") -> None:
        self.applications.append({"APPLICATION_ID": app_id, "APPLICATION_TYPE": app_type,
                                  "DESCRIPTION": description, "CERTIFICATE_STORE": store,
                                  "MANAGED_CA_TRUSTS": "YES" if managed else "NO"})
        self.trust_lists.setdefault(app_id, [])

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
        self._sql_failures[statement(sql_file_name)] = db_error(cls, sqlstate, message_id, sqlcode, text)

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
            if len(params) != 3:
                raise SimulatorDrift("XMLSERVICE takes (ipc, ctl, xmlin), got %d parameters" % len(params))
            reply = self._xmlservice(params[2])
            chunks = [reply[i:i + XMLSERVICE_ROW] for i in range(0, len(reply), XMLSERVICE_ROW)] or [""]
            return ["OUT151"], [(chunk,) for chunk in chunks]
        handler = self._sql_handlers.get(sql)
        if handler is None:
            raise SimulatorDrift("SQL not in sql/*.sql (or not simulated): %r" % sql[:300])
        failure = self._sql_failures.pop(sql, None)
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
        return list(self.certificate_info_columns), [[row.get(c, "x") for c in self.certificate_info_columns] for row in rows]

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
        self.cl_log.append(command)
        msgid = None
        for prefix, handler in self._cl_rules:
            if command.upper().startswith(prefix):
                msgid = handler(command)
                if msgid:
                    break
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
                    ("QICSS", "QYCDCUSG", "QycdAddCACertTrust"): self._qycdaddcacerttrust}
        handler = handlers.get((lib, name, func))
        if handler is None:
            raise SimulatorDrift("program call not simulated: lib=%r name=%r func=%r" % (lib, name, func))
        errc = params[-1] if params else None
        if not (isinstance(errc, list) and len(errc) == 4):
            raise SimulatorDrift("%s: the last parameter must be an ERRC0100 structure" % key)
        for callback in self._before_program.pop(key.upper(), []):
            callback()
        pending = self._program_failures.get(key.upper())
        msgid = pending.pop(0) if pending else handler(params[:-1])
        bytes_provided = errc[0]
        if msgid and bytes_provided == 0:
            # ref 4.3 / 19.3: with bytes provided = 0 the API signals an escape
            # message, which XMLSERVICE reports as a failed program call.
            return _escape_reply(action, name, msgid)
        return _pgm_reply(action, msgid)

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
                                   params[10].decode("utf-8"))
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


def _pgm_reply(action: ET.Element, msgid: Optional[str]) -> ET.Element:
    # Success shape: IBM/python-itoolkit tests/test_pgm.py (parameters echoed, <success>).
    reply = ET.fromstring(ET.tostring(action))
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


def _write_pkcs12_with_openssl(path: str, items: List[Tuple[str, Cert]], password: str) -> None:
    pem_path = path + ".pem-in"
    with open(pem_path, "w", encoding="ascii") as handle:
        handle.write("".join(cert.pem() for _label, cert in items))
    args = [OPENSSL, "pkcs12", "-export", "-nokeys", "-in", pem_path, "-out", path,
            "-passout", "env:SIM_P12_PW", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"]
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

    fake_pyodbc = types.SimpleNamespace(connect=lambda *args, **kwargs: sim.connection(), Error=Error)
    monkeypatch.setitem(sys.modules, "pyodbc", fake_pyodbc)
    monkeypatch.setattr(session_module, "is_ibmi", lambda: True)
    monkeypatch.setattr(system_store_module, "is_ibmi", lambda: True)
    monkeypatch.setenv("IBMI_TRUST_SYSTEM_KDB", str(sim.system_kdb))
