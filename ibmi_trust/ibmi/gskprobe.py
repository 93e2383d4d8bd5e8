"""GSKPROBE, the native GSKit prober (cl/gskprobe.c): its request and result
files, running it, and reading what GSKit decided.

    runner = ProgramRunner(session, "ITRUST")            # CALL ITRUST/GSKPROBE through QCMDEXC
    run = runner.run([ProbeRequest("c1-1", "192.0.2.7", 25, "smtp", "mx.example.com", "*SYSTEM")])
    run.handshakes[0].decision        # accepts | rejects | environment | no-handshake
    run.handshakes[0].code_json()     # GSKit's code, its constant, the SSL_ API twin (-23 for 6000)

The program is built by install-objects (CRTBNDC; ibmi_trust.ibmi.objects)
and runs in the database server job of the ODBC connection, under the
user's profile, like every CL command of the package: no XMLSERVICE. Its
result says which gsk_* implementation answered: "IBM i System TLS
(GSKit)" on IBM i, the test suite's stand-in (a model of GSKit on OpenSSL)
off it. Host names are not GSKit's business here: Python checks them.

The result file is parsed line by line with json.loads, at most
MAX_RESULT_BYTES in all: linear in its size, whatever it holds.
"""
import base64
import binascii
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import List, Optional

from ibmi_trust.errors import ConfigError, IbmiApiError

PROGRAM = "GSKPROBE"
SOURCE = "gskprobe.c"
FORMAT = 1
MAX_PROBES = 256                       # the program's own limit
MAX_RESULT_BYTES = 16 * 1024 * 1024
PROOF_KIND = "GSKit handshake"
NOT_FOUND = ("CPF9801", "CPF9810")     # CHKOBJ: object / library not found

# The program's request fields (cl/gskprobe.c, "Request"): checked here too, so a
# refused line is this module's bug, never a surprise at run time.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ADDRESS = re.compile(r"^[0-9A-Fa-f.:]{2,45}$")
_NAME = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_APP_ID = re.compile(r"^[A-Za-z0-9_.]{1,100}$")
_PATH = re.compile(r"^/[A-Za-z0-9_./-]{1,249}$")
EHLO_NAME = re.compile(r"^[A-Za-z0-9.\[\]:-]{1,255}$")
DIALOGUES = ("smtp", "imap", "pop3")

# GSKit code categories (ssl-return-codes.csv) that are a verdict on the chain.
VERDICT_CATEGORIES = ("trust", "certificate")


@dataclass(frozen=True)
class ProbeRequest:
    id: str
    address: str
    port: int
    dialogue: Optional[str]                # smtp | imap | pop3, None for implicit TLS
    sni: Optional[str]
    store: str                             # *SYSTEM, app:APPLICATION_ID or a .KDB path
    stash: Optional[str] = None
    timeout: int = 10
    diagnose: bool = True
    ehlo: Optional[str] = None

    def line(self) -> str:
        checks = ((_ID.match(self.id), "id %r" % self.id),
                  (_ADDRESS.match(self.address), "address %r" % self.address),
                  (1 <= self.port <= 65535, "port %r" % self.port),
                  (self.dialogue in DIALOGUES + (None,), "dialogue %r" % self.dialogue),
                  (self.sni is None or _NAME.match(self.sni), "SNI name %r" % self.sni),
                  (store_ok(self.store), "store %r" % self.store),
                  (self.stash is None or _PATH.match(self.stash), "stash file %r" % self.stash),
                  (1 <= self.timeout <= 300, "timeout %r" % self.timeout),
                  (self.ehlo is None or EHLO_NAME.match(self.ehlo), "EHLO name %r" % self.ehlo))
        for ok, what in checks:
            if not ok:
                raise ConfigError("GSKPROBE cannot take the %s" % what,
                                  hint="the program accepts only the invariant characters of EBCDIC")
        return " ".join((self.id, self.address, str(self.port), self.dialogue or "none", self.sni or "-",
                         self.store, self.stash or "-", str(self.timeout), "1" if self.diagnose else "0",
                         self.ehlo or "-"))


def store_ok(store: str) -> bool:
    if store == "*SYSTEM":
        return True
    if store.startswith("app:"):
        return bool(_APP_ID.match(store[4:]))
    return bool(_PATH.match(store))


def store_field(store_spec: str, app_id: Optional[str]) -> str:
    """The request's STORE: the application ID (its CA trust list applies), else
    *SYSTEM, else the .KDB path."""
    if app_id:
        return "app:" + app_id.strip()
    return "*SYSTEM" if store_spec.strip().upper() == "*SYSTEM" else store_spec.strip()


def stash_for(kdb_path: str) -> Optional[str]:
    """A .KDB's stash file beside it (same name, .STH/.sth), if there is one: GSKit
    opens a store with its password or its stash, and ibmi-trust never hands a
    program a password."""
    base, _ext = os.path.splitext(kdb_path)
    for suffix in (".STH", ".sth"):
        if os.path.isfile(base + suffix):
            return base + suffix
    return None


def request_text(requests: List[ProbeRequest]) -> str:
    if len(requests) > MAX_PROBES:
        raise ConfigError("GSKPROBE takes at most %d probes at once, not %d" % (MAX_PROBES, len(requests)))
    return "#gskprobe %d\n" % FORMAT + "".join(r.line() + "\n" for r in requests)


# -- the result -----------------------------------------------------------------
def describe_code(rc: Optional[int]) -> Optional[dict]:
    """GSKit's code with its constant and meaning, and the SSL_ API code that
    matches it in the package's table (6000 <-> -23, 401 <-> -25, 107 <-> -24...)."""
    if rc is None:
        return None
    from ibmi_trust.explain.codes import GSKIT_API, table

    codes = table()
    row = codes.get(GSKIT_API, rc)
    out = {"code": rc, "constant": row.constant if row else None, "category": row.category if row else None,
           "meaning": row.meaning if row else "not in the package's code table", "ssl_api": None}
    twins = codes.twins.get((GSKIT_API, rc), []) if row else []
    if twins:
        twin = twins[0]
        out["ssl_api"] = {"code": twin.code.code, "constant": twin.code.constant, "confirmed": twin.confirmed}
    return out


def code_words(rc: Optional[int]) -> str:
    """'6000 GSK_IBMI_ERROR_NOT_TRUSTED_ROOT (SSL_ -23 SSL_ERROR_NOT_TRUSTED_ROOT)'."""
    described = describe_code(rc)
    if described is None:
        return "no GSKit code"
    text = "%d %s" % (rc, described["constant"] or "(unknown code)")
    twin = described["ssl_api"]
    if twin:
        text += " (SSL_ %d %s%s)" % (twin["code"], twin["constant"], "" if twin["confirmed"] else "?")
    return text


@dataclass
class Handshake:
    """One probe line of the result: the full-authentication handshake, and the
    PASSTHRU diagnostic when one was made."""
    id: str
    address: str
    port: int
    sni: Optional[str]
    store: str
    ok: bool
    stage: str
    result: str
    gsk_rc: Optional[int]
    gsk_strerror: str
    errno: int
    detail: str
    sni_sent: bool
    protocol: str
    cipher: str
    certificates: List[bytes]              # DER, as GSK_PARTNER_CERT_INFO listed them
    diagnostic: Optional[dict] = None
    elapsed_ms: int = 0

    @property
    def decision(self) -> str:
        """accepts | rejects (a verdict on the chain) | environment (GSKit could not
        open the store or application) | no-handshake (network, dialogue, protocol)."""
        if self.ok:
            return "accepts"
        if self.stage == "handshake" and self.gsk_rc is not None:
            described = describe_code(self.gsk_rc)
            if described and described["category"] in VERDICT_CATEGORIES:
                return "rejects"
        if self.stage == "environment" and self.gsk_rc is not None:
            return "environment"
        return "no-handshake"

    @property
    def diagnostic_certificates(self) -> List[bytes]:
        return _ders((self.diagnostic or {}).get("partner_certificates"))

    def words(self) -> str:
        """One line: what GSKit said, and where it stopped."""
        if self.ok:
            return "GSKit accepts (gsk_secure_soc_init 0%s%s)" % (
                ", " + self.protocol if self.protocol else "", ", " + self.cipher if self.cipher else "")
        if self.gsk_rc is not None:
            return "%s: %s: %s" % ("GSKit rejects" if self.decision == "rejects" else "GSKit " + self.stage,
                                   code_words(self.gsk_rc), self.gsk_strerror)
        return "no handshake (%s: %s)" % (self.result, self.detail)

    def to_json(self) -> dict:
        out = {"id": self.id, "address": self.address, "port": self.port, "sni": self.sni, "store": self.store,
               "decision": self.decision, "ok": self.ok, "stage": self.stage, "result": self.result,
               "gsk": describe_code(self.gsk_rc), "gsk_strerror": self.gsk_strerror, "errno": self.errno,
               "detail": self.detail, "sni_sent": self.sni_sent, "protocol": self.protocol, "cipher": self.cipher,
               "certificates": [_sha256(d) for d in self.certificates], "elapsed_ms": self.elapsed_ms}
        if self.diagnostic is not None:
            diag = dict(self.diagnostic)
            diag["partner_certificates"] = [_sha256(d) for d in self.diagnostic_certificates]
            diag["validation"] = describe_code(diag.get("validation_code"))
            out["diagnostic"] = diag
        return out


@dataclass
class Run:
    implementation: str
    handshakes: List[Handshake] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)     # refused lines, what the program said went wrong
    complete: bool = False                               # the end line was there

    @property
    def is_standin(self) -> bool:
        return "stand-in" in self.implementation

    def describe(self) -> str:
        if self.is_standin:
            return "%s; like the GSKit model, the first run on a real IBM i calibrates it" % self.implementation
        return self.implementation

    def to_json(self) -> dict:
        return {"implementation": self.implementation, "stand_in": self.is_standin, "complete": self.complete,
                "errors": list(self.errors), "handshakes": [h.to_json() for h in self.handshakes]}


def _sha256(der: bytes) -> str:
    import hashlib

    return hashlib.sha256(der).hexdigest()


def _ders(items) -> List[bytes]:
    out = []
    for item in items or []:
        if not isinstance(item, str):
            continue
        try:
            out.append(base64.b64decode(item.encode("ascii"), validate=True))
        except (ValueError, binascii.Error):
            continue
    return out


def _text(value, limit: int = 500) -> str:
    return str(value)[:limit] if isinstance(value, (str, int)) else ""


def _int(value, default=None):
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def parse_result(data: bytes) -> Run:
    """The result file: header, one line per probe, end line. A line that is not
    what the program writes is reported in `errors`, never trusted."""
    if len(data) > MAX_RESULT_BYTES:
        raise IbmiApiError("GSKPROBE wrote more than %d bytes: not read" % MAX_RESULT_BYTES, api=PROGRAM)
    run = Run(implementation="")
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            run.errors.append("line %d of the result is not JSON" % number)
            continue
        if not isinstance(obj, dict):
            run.errors.append("line %d of the result is not an object" % number)
            continue
        kind = obj.get("kind")
        if kind == "header":
            run.implementation = _text(obj.get("implementation"), 200)
            if obj.get("error"):
                run.errors.append(_text(obj["error"]))
        elif kind == "probe":
            run.handshakes.append(_handshake(obj))
        elif kind == "error":
            run.errors.append(_text(obj.get("detail")))
        elif kind == "end":
            run.complete = True
    if not run.implementation:
        run.errors.append("the result has no header line")
    return run


def _handshake(obj: dict) -> Handshake:
    diagnostic = obj.get("diagnostic") if isinstance(obj.get("diagnostic"), dict) else None
    return Handshake(id=_text(obj.get("id"), 40), address=_text(obj.get("address"), 64),
                     port=_int(obj.get("port"), 0), sni=obj.get("sni") if isinstance(obj.get("sni"), str) else None,
                     store=_text(obj.get("store"), 300), ok=obj.get("ok") is True, stage=_text(obj.get("stage"), 20),
                     result=_text(obj.get("result"), 30), gsk_rc=_int(obj.get("gsk_rc")),
                     gsk_strerror=_text(obj.get("gsk_strerror"), 200), errno=_int(obj.get("errno"), 0),
                     detail=_text(obj.get("detail")), sni_sent=obj.get("sni_sent") is True,
                     protocol=_text(obj.get("protocol"), 60), cipher=_text(obj.get("cipher"), 120),
                     certificates=_ders(obj.get("partner_certificates")), diagnostic=diagnostic,
                     elapsed_ms=_int(obj.get("elapsed_ms"), 0))


# -- running it -----------------------------------------------------------------------
def installed(session, library: str) -> bool:
    """Is LIBRARY/GSKPROBE there (CHKOBJ)?"""
    try:
        session.run_cl("CHKOBJ OBJ(%s/%s) OBJTYPE(*PGM)" % (library, PROGRAM))
        return True
    except IbmiApiError as exc:
        if exc.message_id in NOT_FOUND:
            return False
        raise


class ProgramRunner:
    """Runs LIBRARY/GSKPROBE with CALL through the session's CL runner (QCMDEXC).

    The request and result files live in a new directory of mode 0700 (they hold
    no secret; they are removed afterwards). The CALL blocks until the program
    ends; the program bounds each probe to 4 x its timeout (twice that with a
    diagnostic), so a run of N probes takes at most N x 8 x timeout."""

    def __init__(self, session, library: str):
        self.session = session
        self.library = library

    def describe(self) -> str:
        return "%s/%s" % (self.library, PROGRAM)

    def run(self, requests: List[ProbeRequest]) -> Run:
        from ibmi_trust.ibmi.clsource import quote

        text = request_text(requests)
        workdir = tempfile.mkdtemp(prefix="ibmi-trust-gskprobe-")
        try:
            os.chmod(workdir, 0o700)
            request_path = os.path.join(workdir, "request.txt")
            result_path = os.path.join(workdir, "result.jsonl")
            with open(request_path, "w", encoding="ascii") as handle:
                handle.write(text)
            # each path ends with a blank: a CALL passes a literal of 32 characters or
            # more with nothing after it, and the program stops at the first blank
            self.session.run_cl("CALL PGM(%s/%s) PARM(%s %s)" % (self.library, PROGRAM, quote(request_path + " "),
                                                                 quote(result_path + " ")))
            try:
                with open(result_path, "rb") as handle:
                    data = handle.read(MAX_RESULT_BYTES + 1)
            except OSError as exc:
                raise IbmiApiError("GSKPROBE wrote no result (%s)" % (exc.strerror or exc), api=PROGRAM,
                                   hint="look in the job log of the database server job for the CALL's messages")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        run = parse_result(data)
        if not run.complete:
            run.errors.append("GSKPROBE ended before its end line: the results are partial")
        return run


def runner_for(session, library: Optional[str] = None):
    """(ProgramRunner, None) when GSKPROBE is installed, else (None, why not)."""
    from ibmi_trust.ibmi import install_record

    try:
        lib = install_record.library(library or "")
    except ConfigError as exc:
        return None, "%s (%s)" % (exc.message, exc.hint) if exc.hint else exc.message
    if not installed(session, lib):
        return None, ("%s/%s is not installed: install-objects builds it where the ILE C compiler and the "
                      "system include files (QSYSINC, 5770-SS1 option 13) are installed; run "
                      "`ibmi-trust install-objects --library %s` and read its warnings" % (lib, PROGRAM, lib))
    return ProgramRunner(session, lib), None
