"""`ibmi-trust doctor`: is this IBM i ready for ibmi-trust, and if not, what next.

Each check names what it looked at, what it found and, when something is
missing, the exact command or step that fixes it:

- the ODBC connection (DSN=*LOCAL signs on as the current user, *CURRENT;
  a PASSWORD(*NONE) profile is refused with CWBSY0003 / SQLSTATE 28000:
  https://github.com/IBM/ibmi-oss-issues/issues/77);
- the SQL services the package uses, from QSYS2.SERVICES_INFO;
- XMLSERVICE, library QXMLSERV, which ships with IBM HTTP Server for i
  (5770-DG1) and is updated by its PTFs (IBM/python-itoolkit: "IBM i DG1
  PTFs ship QXMLSERV library"); checked with CHKOBJ through QSYS2.QCMDEXC,
  which needs no XMLSERVICE;
- the install record and the objects install-objects creates (ITRMSGF for
  verify --notify, ITRCATRST for --app-id);
- QsoRtvTLSA (--like-system) and the openssl binary (PKCS#12 labels and
  legacy exports).
"""
import getpass
import os
from dataclasses import asdict, dataclass
from typing import Callable, List, Optional

from ibmi_trust.errors import ConfigError, IbmiApiError, IbmiTrustError

OK, WARN, FAIL = "ok", "warn", "FAIL"
SERVICES = (("CERTIFICATE_INFO", "reading *SYSTEM"), ("CERTIFICATE_USAGE_INFO", "--app-id and `store apps`"),
            ("QCMDEXC", "CL commands (install-objects, verify --notify)"),
            ("JOBLOG_INFO", "the CPF id of a failed CL command"))


@dataclass
class Check:
    name: str
    status: str          # OK, WARN or FAIL
    detail: str
    next: str = ""       # the command or step that fixes it

    def as_dict(self) -> dict:
        return asdict(self)


def current_profile() -> str:
    try:
        return getpass.getuser().upper()
    except Exception:            # no user name in the environment or the password database
        return "*CURRENT"


def run_checks(session_factory: Callable[[], object], library: str = "") -> List[Check]:
    """Every check, in order; a check that cannot run says why instead of raising."""
    from ibmi_trust.ibmi import objects

    checks: List[Check] = []
    try:
        session = session_factory()
        _ = session.connection
    except IbmiTrustError as exc:
        checks.append(_connection_failure(exc))
        checks.append(openssl_check())
        return checks
    checks.append(Check("ODBC connection", OK, "%s as %s" % (getattr(session, "connect_string", "DSN=*LOCAL"),
                                                             current_profile())))
    checks.extend(service_checks(session))
    checks.append(xmlservice_check(session))
    lib_check, lib = library_check(library)
    checks.append(lib_check)
    if lib:
        checks.extend(object_checks(session, lib, objects))
    checks.append(tls_attributes_check(session))
    checks.append(openssl_check())
    return checks


def _connection_failure(exc: IbmiTrustError) -> Check:
    from ibmi_trust.ibmi.objects import password_none_advice

    message_id = getattr(exc, "message_id", "")
    if message_id == "CWBSY0003":
        return Check("ODBC connection", FAIL, exc.message, password_none_advice(current_profile()))
    if isinstance(exc, ConfigError) or "pyodbc" in exc.message:
        return Check("ODBC connection", FAIL, exc.message,
                     "yum install ibm-iaccess python39-pyodbc (or python3.13-pyodbc); the DSN *LOCAL comes with "
                     "ibm-iaccess")
    return Check("ODBC connection", FAIL, exc.message, exc.hint or "see docs/ibmi-install.md")


def service_checks(session) -> List[Check]:
    from ibmi_trust.ibmi import services

    out = []
    for name, purpose in SERVICES:
        try:
            row = services.require(session, name, purpose)
        except ConfigError as exc:
            out.append(Check("QSYS2.%s" % name, FAIL, exc.message, exc.hint))
            continue
        level = row.get("INITIAL_DB2_GROUP_LEVEL")
        out.append(Check("QSYS2.%s" % name, OK, "present%s (for %s)" % (
            " since Db2 PTF group level %s" % level if level else " in the base release", purpose)))
    return out


def xmlservice_check(session) -> Check:
    schema = os.environ.get("IBMI_TRUST_XMLSERVICE_SCHEMA", "QXMLSERV").strip().upper()
    try:
        session.run_cl("CHKOBJ OBJ(QSYS/%s) OBJTYPE(*LIB)" % schema)
    except IbmiApiError as exc:
        if exc.message_id in ("CPF9801", "CPF9810"):
            return Check("XMLSERVICE", FAIL,
                         "library %s not found: the key-store and trust-list APIs (store list/add, --app-id, "
                         "--like-system) cannot be called" % schema,
                         "install IBM HTTP Server for i, licensed program 5770-DG1 (GO LICPGM, option 11), "
                         "and its current group PTF: it ships library QXMLSERV")
        return Check("XMLSERVICE", WARN, "could not check library %s: %s" % (schema, exc.message))
    return Check("XMLSERVICE", OK, "library %s present (IBM HTTP Server for i, 5770-DG1)" % schema)


def library_check(explicit: str) -> "tuple":
    from ibmi_trust.ibmi import install_record

    try:
        lib = install_record.library(explicit)
    except ConfigError as exc:
        return Check("install record", WARN, exc.message,
                     "ibmi-trust install-objects --library ITRUST --job-user <nightly profile>"), None
    where = "--library" if explicit else (install_record.ENV_LIBRARY if os.environ.get(install_record.ENV_LIBRARY)
                                          else "install record %s" % install_record.record_path())
    return Check("install record", OK, "library %s (from %s)" % (lib, where)), lib


def object_checks(session, lib: str, objects) -> List[Check]:
    out = []
    for name, objtype, purpose in ((objects.MSGF, "*MSGF", "verify --notify and the CL commands"),
                                   ("ITRCATRST", "*PGM", "--app-id (QycdCheckCACertTrust)")):
        try:
            session.run_cl("CHKOBJ OBJ(%s/%s) OBJTYPE(%s)" % (lib, name, objtype))
        except IbmiApiError as exc:
            out.append(Check("%s/%s" % (lib, name), FAIL, "%s %s: %s (needed for %s)" % (
                objtype, "missing" if exc.message_id in objects.NOT_FOUND else "not checked", exc.message, purpose),
                "ibmi-trust install-objects --library %s --replace" % lib))
            continue
        out.append(Check("%s/%s" % (lib, name), OK, "%s present (for %s)" % (objtype, purpose)))
    out.append(gskprobe_check(session, lib, objects))
    return out


def gskprobe_check(session, lib: str, objects) -> Check:
    """GSKPROBE, GSKit's own handshake: optional (built only where the ILE C compiler
    and QSYSINC are installed); without it *SYSTEM verdicts are the GSKit model's."""
    name = "%s/%s" % (lib, objects.C_PROGRAM)
    try:
        session.run_cl("CHKOBJ OBJ(%s) OBJTYPE(*PGM)" % name)
    except IbmiApiError as exc:
        if exc.message_id not in objects.NOT_FOUND:
            return Check(name, WARN, "*PGM not checked: %s" % exc.message)
        return Check(name, WARN, "*PGM not built: check and fix on *SYSTEM judge by the GSKit model, not by "
                                 "GSKit's own handshake (it needs the ILE C compiler, 5770-WDS, and QSYSINC, "
                                 "5770-SS1 option 13)",
                     "after installing them: ibmi-trust install-objects --library %s" % lib)
    return Check(name, OK, "*PGM present (GSKit's own handshake decides *SYSTEM verdicts)")


def tls_attributes_check(session) -> Check:
    from ibmi_trust.ibmi import tls_attributes

    attributes, why, _raw = tls_attributes.retrieve(session)
    if attributes is None:
        return Check("QsoRtvTLSA", WARN, "%s: --like-system uses QSSLPCL/QSSLCSL instead" % why,
                     "IBM i 7.2-7.4: apply the PTFs of https://ibm.com/support/pages/node/6172701")
    return Check("QsoRtvTLSA", OK, "System TLS default protocols %s" % " ".join(attributes.get("default", "protocols")))


def openssl_check() -> Check:
    import subprocess

    from ibmi_trust import openssl_binary

    exe = openssl_binary.find()
    if not exe:
        return Check("openssl", WARN, "no openssl binary: PKCS#12 labels need cryptography 37+, and legacy "
                                      "(RC2-40) store exports cannot be read", "yum install openssl")
    try:
        proc = openssl_binary.run(exe, ["version"], timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("openssl", WARN, "%s does not run: %s" % (exe, exc), "yum install openssl")
    version = proc.stdout.decode("utf-8", "replace").strip() or "exit %d" % proc.returncode
    return Check("openssl", OK if proc.returncode == 0 else WARN, "%s: %s" % (exe, version))


def overall(checks: List[Check]) -> str:
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else WARN if WARN in statuses else OK


def exit_code(checks: List[Check]) -> int:
    return {OK: 0, WARN: 1, FAIL: 2}[overall(checks)]


def first_failure(checks: List[Check]) -> Optional[Check]:
    return next((c for c in checks if c.status == FAIL), None)
