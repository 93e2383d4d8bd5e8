"""SQL and XMLSERVICE failures, translated once into IbmiApiError.

- pyodbc errors (ref 21.2): `exc.args == (sqlstate, "[SQLSTATE] <driver text>
  (<native error>) (<ODBC function>)")`; the IBM i driver puts the SQLnnnn id
  in the text and the SQLCODE in the native error, and by default returns
  ODBC-mapped SQLSTATEs, so classify by message id / SQLCODE, not SQLSTATE.
- XMLSERVICE replies (ref 19.3): no Python exception; the action's element
  holds `<error>` children (text like "*** error ...", a CPF id with
  exec='system', or a block with <errnoxml>/<xmlerrmsg>/<xmlhint>), or
  itoolkit's own *BADPARSE / *NOPARSE / *NODATA.
- API error-code structures (ERRC0100, ref 4.3): a non-blank exception id.

<xmlhint> echoes the request (which may carry a password): it never goes
into a message. Message texts are kept short; a hint says what to do.
"""
import re
import xml.etree.ElementTree as ET
from typing import Iterable, List, Optional

from ibmi_trust.errors import IbmiApiError

MESSAGE_ID_RE = re.compile(r"\b((?:SQL|CP[FDI]|CWB[A-Z]{2}|QSH|MCH|ITR)[0-9A-F]{4})\b")
_NATIVE_RE = re.compile(r"\((-?\d+)\)\s*\(SQL\w*\)\s*$")

# Message ids of the DCM key-store APIs as DCM-tools names them
# (ThePrez/DCM-tools MessageLookerUpper.java). UNCONFIRMED against IBM's
# message file: docs/verify-on-your-system.md lists the query that confirms them.
DCM_API_MESSAGES = {
    "CPFB001": "one or more input parameters is NULL or missing",
    "CPFB002": "certificate store does not exist",
    "CPFB003": "invalid password",
    "CPFB004": "user not authorized to certificate store",
    "CPFB005": "export file already exists",
    "CPFB006": "an error occurred",
    "CPFB007": "user not authorized to directory or file",
    "CPFB008": "the format name for the certificate store is not valid",
    "CPFB009": "the format name for the export or import file is not valid",
    "CPFB00A": "required option of the operating system is not installed",
    "CPFB010": "import file does not exist",
    "CPFB011": "import file password is not valid",
    "CPFB012": "duplicate key exists",
    "CPF22F0": "unexpected errors occurred during processing",
}

_HINTS = {
    "SQL0204": "the SQL service or procedure is missing: check the Db2 PTF group level, or for "
               "QXMLSERV the IBM HTTP Server for i product 5770-DG1 (`ibmi-trust doctor` says which)",
    "SQL0551": "the user profile needs *ALLOBJ and *SECADM special authorities",
    "SQL0552": "the user profile needs *ALLOBJ and *SECADM special authorities",
    "SQL0443": "the service reported an error; a wrong store password is the usual cause",
    # ref 21.1, https://github.com/IBM/ibmi-oss-issues/issues/77: *CURRENT needs a password
    "CWBSY0003": "DSN=*LOCAL signs on as the current user (*CURRENT), which fails for a PASSWORD(*NONE) "
                 "profile or an expired password: give the profile a password (docs/runbook.md, "
                 "\"The nightly job\"), then run `ibmi-trust doctor`",
    "CPF2407": "the message file is not where the command looked: run `ibmi-trust install-objects "
               "--library LIB` (it records the library) or pass --library LIB",
    "CPFB003": "the certificate store password is wrong (--password-env / --password-file)",
    "CPFB004": "the user profile needs *ALLOBJ and *SECADM special authorities",
    "CPFB007": "the user profile needs *ALLOBJ and *SECADM special authorities",
    "CPFB00A": "Digital Certificate Manager (5770-SS1 option 34) is not installed",
    "CPF9801": "the object does not exist",
    "CPF9810": "the library does not exist",
}


def hint_for(message_id: str, default: str = "") -> str:
    return _HINTS.get(message_id, default)


def message_ids(text: str) -> List[str]:
    return MESSAGE_ID_RE.findall(text or "")


# -- SQL ------------------------------------------------------------------
def from_db_error(exc: Exception, statement: str) -> IbmiApiError:
    """An IbmiApiError for a pyodbc error raised by `statement` (a name)."""
    args = getattr(exc, "args", ())
    sqlstate = str(args[0]) if len(args) > 1 else ""
    text = str(args[-1]) if args else str(exc)
    ids = message_ids(text)
    native = _NATIVE_RE.search(text)
    sqlcode = int(native.group(1)) if native else None
    message_id = ids[0] if ids else ("SQL%04d" % abs(sqlcode) if sqlcode else "")
    detail = _driver_text(text)
    parts = [p for p in (message_id, "SQLSTATE %s" % sqlstate if sqlstate else "",
                         "SQLCODE %d" % sqlcode if sqlcode is not None else "") if p]
    message = "%s failed: %s%s" % (statement, ", ".join(parts) or type(exc).__name__,
                                   (" - " + detail) if detail else "")
    hint = next((hint_for(i) for i in ids if hint_for(i)), "") or hint_for(message_id)
    return IbmiApiError(message, api=statement, message_id=message_id, hint=hint)


def _driver_text(text: str) -> str:
    """The driver's message without the bracketed prefixes and trailer."""
    text = _NATIVE_RE.sub("", text)
    text = re.sub(r"^(\s*\[[^\]]*\])+\s*", "", text.strip())
    text = " ".join(text.split())
    return text[:200]


# -- XMLSERVICE -----------------------------------------------------------
def xmlservice_failure(api: str, reply_xml: str, var: str) -> Optional[IbmiApiError]:
    """None when the action `var` of an XMLSERVICE reply shows <success>.

    Reads the XML itself: itoolkit's dict_out() keeps <error> texts but drops
    the <errnoxml>/<xmlerrmsg> inside them (they are not in its data_vals).
    """
    try:
        root = ET.fromstring(reply_xml.encode("utf-8"))
    except ET.ParseError:
        root = ET.Element("xmlservice")
    action = next((el for el in root if el.get("var") == var), None)
    if action is not None and action.find("success") is not None:
        return None
    cpf_ids: List[str] = []
    codes: List[str] = []
    for error in (action if action is not None else root).iter("error"):
        if len(error):
            number = (error.findtext("errnoxml") or "").strip()
            text = (error.findtext("xmlerrmsg") or "").strip()
            if number or text:
                codes.append(("XMLSERVICE %s %s" % (number, text)).strip())
            cpf_ids.extend(message_ids(error.findtext("status") or ""))
            continue
        text = (error.text or "").strip()
        if text.startswith("***"):
            continue  # "*** error <the request>": echoes input, names nothing new
        if text.startswith("*"):
            codes.append(text.split()[0])  # *BADPARSE, *NOPARSE, *NODATA (itoolkit)
        cpf_ids.extend(message_ids(text))
    if not codes and not cpf_ids:
        codes.append("no success element in the XMLSERVICE reply")
    message_id = cpf_ids[0] if cpf_ids else ""
    known = DCM_API_MESSAGES.get(message_id, "")
    # An IBM message id says what went wrong; XMLSERVICE's "run cmd failed" adds nothing then.
    detail = (message_id + (" " + known if known else "")) if message_id else "; ".join(_dedupe(codes))
    hint = hint_for(message_id) or _xmlservice_hint(codes)
    return IbmiApiError("%s failed: %s" % (api, detail), api=api, message_id=message_id, hint=hint)


def _xmlservice_hint(codes: Iterable[str]) -> str:
    joined = " ".join(codes)
    if "1000005" in joined:
        return "the program or service program was not found (is the option installed on this release?)"
    if "*NODATA" in joined or "*BADPARSE" in joined or "*NOPARSE" in joined:
        return "XMLSERVICE gave no usable reply: check the QXMLSERV library and job CCSID (not 65535)"
    return "see the job log of the database server job (QSQSRVR) for the messages"


def api_exception(api: str, exception_id: str) -> IbmiApiError:
    """An ERRC0100 exception id returned by an API."""
    exception_id = exception_id.strip()
    known = DCM_API_MESSAGES.get(exception_id, "")
    return IbmiApiError("%s failed: %s%s" % (api, exception_id, (" " + known) if known else ""),
                        api=api, message_id=exception_id,
                        hint=hint_for(exception_id, "DSPMSGD RANGE(%s) MSGF(QCPFMSG) shows the message" % exception_id))


def _dedupe(items):
    seen = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen
