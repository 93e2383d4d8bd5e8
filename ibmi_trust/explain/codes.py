"""The IBM i secure-socket return codes, read from ssl-return-codes.csv.

The CSV beside this module is the one source of truth for codes (a copy of
the project's reference table; see docs/explain.md for its columns and
sources). This module only indexes it:

- by (api, code): `SSL_` codes are negative, GSKit codes positive (IBM's
  convention), GSKit certificate-validation reasons are 575xxx;
- by constant name, including the older names the `notes` column records
  (GSK_OS400_*, GSK_AS400_*, alternative spellings);
- by IBM message ID (CPDBC84 belongs to two codes, so an ID maps to a list);
- the `SSL_` <-> GSKit counterparts the notes record ("GSKit equivalent
  6000? (name-based)"; without "?" the pairing is confirmed by a source).

Stdlib only: `ibmi-trust explain` must start fast.
"""
import csv
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

CSV_NAME = "ssl-return-codes.csv"
SSL_API = "SSL_"
GSKIT_API = "GSKit"
VALIDATION_RANGE = range(575000, 576000)

# Identifiers in `notes` that are not names of the row's code (attribute IDs).
_NOT_ALIASES = {"GSK_LAST_VALIDATION_ERROR", "GSK_SERVER_AUTH_PASSTHRU", "GSK_CERTIFICATE_VALIDATION_CODE",
                "GSK_SSL_EXTN_SERVERNAME_REQUEST"}
_IDENT_RE = re.compile(r"\b(?:GSKVAL|GSK|SSL)_[A-Z0-9_]*[A-Z0-9]\b")
_TWIN_RE = re.compile(r"GSKit (?:equivalent|analogue) (\d+)(\?)?")


@dataclass(frozen=True)
class ReturnCode:
    api: str
    code: int
    constant: str
    message_id: str
    category: str
    meaning: str
    ibm_steps: str          # the CSV's `remedy` column: operator steps on IBM i
    source: str
    notes: str
    aliases: Tuple[str, ...] = ()

    @property
    def key(self) -> Tuple[str, int]:
        return (self.api, self.code)

    @property
    def family(self) -> str:
        if self.api == SSL_API:
            return "SSL_ API (QSOSSL)"
        if self.code in VALIDATION_RANGE:
            return "GSKit certificate-validation reason"
        return "GSKit (System TLS) API"

    def label(self) -> str:
        """'SSL_ -23 SSL_ERROR_NOT_TRUSTED_ROOT'."""
        return "%s %d %s" % (self.api, self.code, self.constant)


@dataclass(frozen=True)
class Twin:
    code: ReturnCode
    confirmed: bool          # False: inferred from the constant names only


@dataclass
class CodeTable:
    rows: List[ReturnCode]
    by_key: Dict[Tuple[str, int], ReturnCode] = field(default_factory=dict)
    by_name: Dict[str, ReturnCode] = field(default_factory=dict)
    by_message_id: Dict[str, List[ReturnCode]] = field(default_factory=dict)
    twins: Dict[Tuple[str, int], List[Twin]] = field(default_factory=dict)

    def get(self, api: str, code: int) -> Optional[ReturnCode]:
        return self.by_key.get((api, code))


def _aliases(constant: str, notes: str, all_constants) -> Tuple[str, ...]:
    found = []
    for name in _IDENT_RE.findall(notes):
        if name != constant and name not in all_constants and name not in _NOT_ALIASES and name not in found:
            found.append(name)
    # "GSK_OS400_ alias in V5R4": the V5R4 header's name for a GSK_IBMI_* constant
    if "GSK_OS400_ alias" in notes and constant.startswith("GSK_IBMI_"):
        derived = "GSK_OS400_" + constant[len("GSK_IBMI_"):]
        if derived not in found:
            found.append(derived)
    return tuple(found)


def load(path: Optional[str] = None) -> CodeTable:
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), CSV_NAME)
    with open(path, newline="", encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))
    constants = {r["constant"] for r in raw}
    rows = [ReturnCode(api=r["api"], code=int(r["code"]), constant=r["constant"],
                       message_id=r["message_id"].strip().upper(), category=r["category"],
                       meaning=r["meaning"], ibm_steps=r["remedy"], source=r["source"], notes=r["notes"],
                       aliases=_aliases(r["constant"], r["notes"], constants))
            for r in raw]
    table = CodeTable(rows=rows)
    for row in rows:
        if row.key in table.by_key:
            raise ValueError("%s: duplicate code %s %d" % (CSV_NAME, row.api, row.code))
        table.by_key[row.key] = row
        for name in (row.constant,) + row.aliases:
            table.by_name[name.upper()] = row
        if row.message_id:
            table.by_message_id.setdefault(row.message_id, []).append(row)
    for row in rows:
        if row.api != SSL_API:
            continue
        match = _TWIN_RE.search(row.notes)
        twin = table.get(GSKIT_API, int(match.group(1))) if match else None
        if twin is not None:
            confirmed = not match.group(2)
            table.twins.setdefault(row.key, []).append(Twin(twin, confirmed))
            table.twins.setdefault(twin.key, []).append(Twin(row, confirmed))
    return table


_TABLE: Optional[CodeTable] = None


def table() -> CodeTable:
    """The packaged table, read once."""
    global _TABLE
    if _TABLE is None:
        _TABLE = load()
    return _TABLE
