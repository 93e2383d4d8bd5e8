"""ibmi-trust's IBM i messages: the catalog, and the hand-off to CL.

The texts, severities and data layouts live in the message-file source
cl/itrmsgf.msgf (one ADDMSGD per message; install-objects creates ITRMSGF
from it). This module names every message ID the Python side sends, gives
each its default message type, and reads each FMT from that source so the
data always fits the description: every field is a fixed-length *CHAR,
padded with blanks or truncated, ASCII only (job CCSIDs differ; see
docs/messages.md).

How results reach the caller's job log (docs/messages.md, "Hand-off"):
the command processing program runs the CLI under QSH, in a child job, with
`--cl-results FILE`. The CLI writes one record per message to FILE
(write_results); the CL program copies FILE into a QTEMP file, sends each
*DIAG / *INFO record to its caller with SNDPGMMSG, and the final *COMP or
*ESCAPE last, so MONMSG ITR0000 and RPG monitor groups can react.

Operator notification (verify): notify_operator() sends a message to
QSYSOPR or another message queue through IbmiSession.run_cl; a message
queue is not tied to a job, so this works from the child job too. The
command runs in the database server job, whose library list does not hold
the ibmi-trust library, so the message file is ALWAYS qualified with the
install library (ibmi_trust.ibmi.install_record), never *LIBL (CPF2407).
"""
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from ibmi_trust.errors import ConfigError

MSGF_NAME = "ITRMSGF"
MSGF_SOURCE = "itrmsgf.msgf"

DIAG, INFO, COMP, ESCAPE = "*DIAG", "*INFO", "*COMP", "*ESCAPE"
TERMINAL_TYPES = (COMP, ESCAPE)

# Results file: one fixed-width record per message (see write_results).
MSGID_WIDTH, TYPE_WIDTH, DATA_WIDTH = 7, 10, 2000
RECORD_LENGTH = MSGID_WIDTH + TYPE_WIDTH + DATA_WIDTH   # CRTPF ... RCDLEN(2017) in cl/itrdcli.clle

# -- check and fix ------------------------------------------------------------
TRUSTED = "ITR0001"                # *COMP  target, store
ISSUER_MISSING = "ITR0002"         # *DIAG  issuer subject, store, target, issuer sha256
IMPORTED = "ITR0003"               # *INFO  subject, store, sha256, label
CA_EXPIRES = "ITR0004"             # *DIAG  CA subject, date YYYY-MM-DD, days left, store
PROBE_FAILED = "ITR0005"           # *ESCAPE target, reason
NOTHING_CHANGED = "ITR0006"        # *COMP  store, target
ROLLED_BACK = "ITR0007"            # *ESCAPE store, reason
NOT_TRUSTED = "ITR0008"            # *ESCAPE target, store, number missing
FIXED = "ITR0009"                  # *COMP  target, number imported, store
FIX_REFUSED = "ITR0010"            # *ESCAPE target, reason
FIX_PLANNED = "ITR0011"            # *COMP  target, number to import, store
ROOT_NEEDS_APPROVAL = "ITR0012"    # *DIAG  root subject, sha256
TRUST_LIST_ADDED = "ITR0013"       # *INFO  CA subject, application ID
CHAIN_VARIANTS = "ITR0014"         # *DIAG  target, chains seen, chains failing
WEAK_SIGNATURE = "ITR0015"         # *DIAG  certificate subject, algorithm
TRUSTED_WITH_WARNINGS = "ITR0016"  # *COMP  target, store, number of warnings
SSLRC_EXPLAINED = "ITR0017"        # *INFO  return code, constant, target
SSLRC_NOT_EXPLAINED = "ITR0018"    # *DIAG  return code, constant, target
STORE_FAILED = "ITR0019"           # *ESCAPE store, reason
TRUST_LIST_DECISION = "ITR0020"    # *DIAG  application ID, CA label, decision, next command
PARTLY_FIXED = "ITR0021"           # *ESCAPE target, number imported, store, chains still failing (--partial)
# -- verify -------------------------------------------------------------------
VERIFY_OK = "ITR0201"              # *COMP  targets
VERIFY_WARNINGS = "ITR0202"        # *COMP  targets, with warnings
VERIFY_FAILED = "ITR0203"          # *ESCAPE targets, critical, unknown, warning
TARGET_CRITICAL = "ITR0204"        # *DIAG  target, store, detail   (also to the operator)
TARGET_WARNING = "ITR0205"         # *DIAG  target, detail          (also to the operator)
TARGET_UNKNOWN = "ITR0206"         # *DIAG  target, reason
REPORT_WRITTEN = "ITR0207"         # *INFO  path
# -- explain ------------------------------------------------------------------
CODE_MEANING = "ITR0301"           # *DIAG  api, code, constant, meaning, msgid, family, cause, remedy, IBM i steps
CODE_EXPLAINED = "ITR0302"         # *COMP  query, summary, note
CODE_UNKNOWN = "ITR0303"           # *ESCAPE query, reason
# -- running ibmi-trust ---------------------------------------------------
FAILED = "ITR0901"                 # *ESCAPE message, hint  (an IbmiTrustError)

DEFAULT_TYPES: Dict[str, str] = {
    TRUSTED: COMP, ISSUER_MISSING: DIAG, IMPORTED: INFO, CA_EXPIRES: DIAG, PROBE_FAILED: ESCAPE,
    NOTHING_CHANGED: COMP, ROLLED_BACK: ESCAPE, NOT_TRUSTED: ESCAPE, FIXED: COMP, FIX_REFUSED: ESCAPE,
    FIX_PLANNED: COMP, ROOT_NEEDS_APPROVAL: DIAG, TRUST_LIST_ADDED: INFO, CHAIN_VARIANTS: DIAG,
    WEAK_SIGNATURE: DIAG, TRUSTED_WITH_WARNINGS: COMP, SSLRC_EXPLAINED: INFO, SSLRC_NOT_EXPLAINED: DIAG,
    STORE_FAILED: ESCAPE, TRUST_LIST_DECISION: DIAG, PARTLY_FIXED: ESCAPE,
    VERIFY_OK: COMP, VERIFY_WARNINGS: COMP, VERIFY_FAILED: ESCAPE, TARGET_CRITICAL: DIAG,
    TARGET_WARNING: DIAG, TARGET_UNKNOWN: DIAG, REPORT_WRITTEN: INFO,
    CODE_MEANING: DIAG, CODE_EXPLAINED: COMP, CODE_UNKNOWN: ESCAPE,
    FAILED: ESCAPE,
}
# Messages the nightly verify also sends to the operator's message queue.
OPERATOR_MESSAGES = (TARGET_CRITICAL, TARGET_WARNING)

_MSGQ_RE = re.compile(r"^(?:(?P<lib>[A-Z$#@][A-Z0-9$#@_.]{0,9})/)?(?P<name>[A-Z$#@][A-Z0-9$#@_.]{0,9})$")


@dataclass(frozen=True)
class MessageDescription:
    msgid: str
    severity: int
    fields: Tuple[int, ...]      # lengths of the *CHAR substitution fields, &1 first
    text: str                    # first-level text (template)

    @property
    def data_length(self) -> int:
        return sum(self.fields)


@dataclass(frozen=True)
class MessageRecord:
    msgid: str
    type: str                    # "*DIAG" | "*INFO" | "*COMP" | "*ESCAPE"
    data: List[str]              # one value per field, each exactly its field's length

    @property
    def msgdta(self) -> str:
        """The message data as SNDPGMMSG MSGDTA expects it: the fields end to end."""
        return "".join(self.data)

    def text(self) -> str:
        """The first-level text with the values substituted (for logs and tests)."""
        template = catalog()[self.msgid].text
        return re.sub(r"&(\d+)", lambda m: self.data[int(m.group(1)) - 1].rstrip()
                      if int(m.group(1)) <= len(self.data) else m.group(0), template)


_CATALOG: Dict[str, MessageDescription] = {}


def catalog() -> Dict[str, MessageDescription]:
    """Message ID -> description, read once from cl/itrmsgf.msgf."""
    if not _CATALOG:
        from ibmi_trust import resources
        from ibmi_trust.ibmi import clsource

        source = resources.read_text("cl", MSGF_SOURCE)
        for stmt in clsource.parse(source, MSGF_SOURCE):
            if stmt.command != "ADDMSGD":
                continue
            fields = tuple(_char_length(e, stmt) for e in clsource.elements(stmt.value("FMT", "")))
            msgid = stmt.text("MSGID").upper()
            _CATALOG[msgid] = MessageDescription(msgid, int(stmt.text("SEV", "0")), fields, stmt.text("MSG"))
    return _CATALOG


def _char_length(element: str, stmt) -> int:
    from ibmi_trust.ibmi import clsource

    parts = clsource.split_values(clsource.strip_parens(element))
    if len(parts) != 2 or parts[0].upper() != "*CHAR" or not parts[1].isdigit():
        raise ValueError("%s line %d: %s: FMT element %s is not (*CHAR n)"
                         % (MSGF_SOURCE, stmt.line, stmt.text("MSGID"), element))
    return int(parts[1])


def ascii_text(value) -> str:
    """`value` as printable ASCII: accents dropped, other characters as '?'."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = "".join(ch if " " <= ch <= "~" else ("?" if ch not in "\t\r\n" else " ") for ch in text)
    return text


def record(msgid: str, *data, msgtype: str = "") -> MessageRecord:
    """A message record for `msgid` with `data` fitted to its fields.

    `msgtype` overrides the default type (e.g. PROBE_FAILED as *DIAG for one
    target of many). Wrong message IDs or field counts are programming
    errors and raise ValueError.
    """
    msgid = msgid.upper()
    description = catalog().get(msgid)
    if description is None or msgid not in DEFAULT_TYPES:
        raise ValueError("%s is not an ibmi-trust message ID" % msgid)
    if len(data) != len(description.fields):
        raise ValueError("%s takes %d values, got %d" % (msgid, len(description.fields), len(data)))
    msgtype = (msgtype or DEFAULT_TYPES[msgid]).upper()
    if msgtype not in (DIAG, INFO, COMP, ESCAPE):
        raise ValueError("message type %r: use *DIAG, *INFO, *COMP or *ESCAPE" % msgtype)
    fitted = [ascii_text("" if value is None else value)[:width].ljust(width)
              for value, width in zip(data, description.fields)]
    return MessageRecord(msgid, msgtype, fitted)


def failure_record(exc) -> MessageRecord:
    """FAILED for an expected failure (an IbmiTrustError: message and hint)."""
    return record(FAILED, getattr(exc, "message", str(exc)), getattr(exc, "hint", ""))


def order_for_cl(records: Sequence[MessageRecord]) -> List[MessageRecord]:
    """Findings first, in order, then the one *COMP or *ESCAPE record."""
    terminal = [r for r in records if r.type in TERMINAL_TYPES]
    if len(terminal) != 1:
        raise ValueError("results need exactly one *COMP or *ESCAPE record, got %d" % len(terminal))
    return [r for r in records if r.type not in TERMINAL_TYPES] + terminal


def format_results(records: Sequence[MessageRecord]) -> str:
    """The results-file text: one line of RECORD_LENGTH characters per record.

    Columns: 1-7 message ID, 8-17 message type, 18-2017 message data.
    Every line has the full width, so the CL side needs no padding rules.
    """
    lines = []
    for rec in order_for_cl(records):
        line = rec.msgid.ljust(MSGID_WIDTH) + rec.type.ljust(TYPE_WIDTH) + rec.msgdta.ljust(DATA_WIDTH)
        if len(line) != RECORD_LENGTH:
            raise ValueError("%s: %d characters of message data do not fit %d"
                             % (rec.msgid, len(rec.msgdta), DATA_WIDTH))
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def write_results(path: str, records: Sequence[MessageRecord]) -> None:
    """Write the results file the command processing program reads.

    ASCII, "\\n"-terminated, written to a temporary name and renamed, so the
    CL side never copies half a file.
    """
    text = format_results(records)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii", newline="\n") as handle:
        handle.write(text)
    os.replace(tmp, path)


def read_results(path: str) -> List[MessageRecord]:
    """The records of a results file (what the CL program sends), for tests and tools."""
    out = []
    with open(path, encoding="ascii") as handle:
        for line in handle.read().splitlines():
            msgid, msgtype = line[:MSGID_WIDTH].strip(), line[MSGID_WIDTH:MSGID_WIDTH + TYPE_WIDTH].strip()
            data, pos = [], MSGID_WIDTH + TYPE_WIDTH
            for width in catalog()[msgid].fields:
                data.append(line[pos:pos + width].ljust(width))
                pos += width
            out.append(MessageRecord(msgid, msgtype, data))
    return out


def message_file(library: str = "") -> str:
    """LIB/ITRMSGF: `library`, else $IBMI_TRUST_LIBRARY (set by the CL programs),
    else the install record; ConfigError when none names the library."""
    from ibmi_trust.ibmi import install_record

    return "%s/%s" % (install_record.library(library), MSGF_NAME)


def sndpgmmsg_to_queue(rec: MessageRecord, msgq: str = "QSYSOPR", library: str = "") -> str:
    """The SNDPGMMSG command that puts `rec` on message queue `msgq`."""
    queue = msgq.strip().upper()
    if queue == "*SYSOPR":
        queue = "QSYSOPR"
    if not _MSGQ_RE.match(queue):
        raise ConfigError("%r is not a message queue name (NAME or LIBRARY/NAME)" % msgq)
    data = rec.msgdta.replace("'", "''")
    return ("SNDPGMMSG MSGID(%s) MSGF(%s) MSGDTA('%s') TOMSGQ(%s) MSGTYPE(*INFO)"
            % (rec.msgid, message_file(library), data, queue))


def notify_operator(session, rec: MessageRecord, msgq: str = "QSYSOPR", library: str = "") -> None:
    """Send `rec` to an operator message queue (QSYSOPR unless told otherwise).

    Messages on a message queue are *INFO whatever the record's type.
    `session` is an ibmi_trust.ibmi.session.IbmiSession; failures raise
    IbmiApiError (e.g. CPF2403 message queue not found).
    """
    session.run_cl(sndpgmmsg_to_queue(rec, msgq, library))
