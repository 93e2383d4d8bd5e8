"""QSYS2.CERTIFICATE_INFO: labels and dates of the certificates in a store.

The statement (sql/certificate_info.sql) selects `*`, because the column list
is UNCONFIRMED (ref 1.4). The names this module relies on are in ONE place,
CERTIFICATE_INFO_COLUMNS below; only the label is required. When a live
system names them differently, change them there (docs/verify-on-your-system.md).

Password: '*NOPWD' first (the stashed password, ref 1.2); if that fails and a
password was configured, the password (as an SQL parameter, never in the
statement text).
"""
from typing import Dict, List, Optional

from ibmi_trust.errors import IbmiApiError, PasswordError
from ibmi_trust.ibmi import password as pw

# purpose -> column name (attested names, ref 1.4; UNCONFIRMED list)
CERTIFICATE_INFO_COLUMNS: Dict[str, Optional[str]] = {
    "label": "CERTIFICATE_LABEL",
    "valid_from": "VALIDITY_START",
    "valid_to": "VALIDITY_END",
    "serial": "SERIAL_NUMBER",
    "subject_cn": "SUBJECT_COMMON_NAME",
    "trusted": None,    # no attested trust/enabled status column (ref 1.4)
}


def read(session, store_name: str, password: Optional[pw.StorePassword]) -> List[dict]:
    """Rows keyed by purpose ("label", "valid_to", ...); *NOPWD first."""
    try:
        rows = session.query("certificate_info.sql", (pw.NOPWD, store_name))
    except IbmiApiError as nopwd_failure:
        if password is None:
            raise PasswordError("CERTIFICATE_INFO with *NOPWD failed for %s (%s)" % (store_name, nopwd_failure.message),
                                hint=pw.required_hint()) from None
        rows = session.query("certificate_info.sql", (password.text(), store_name))
    return [by_purpose(row) for row in rows]


def by_purpose(row: dict) -> dict:
    label_column = CERTIFICATE_INFO_COLUMNS["label"]
    if label_column not in row:
        raise IbmiApiError("CERTIFICATE_INFO returned no %s column (columns: %s)"
                           % (label_column, ", ".join(sorted(row)) or "none"),
                           api="CERTIFICATE_INFO",
                           hint="set CERTIFICATE_INFO_COLUMNS in ibmi_trust/ibmi/cert_info.py to this "
                                "release's names (docs/verify-on-your-system.md)")
    out = {}
    for purpose, column in CERTIFICATE_INFO_COLUMNS.items():
        value = row.get(column) if column else None
        out[purpose] = value.strip() if isinstance(value, str) else value
    return out


def expiring_certificates(session) -> List[dict]:
    """sql/expiring_cas.sql: *SYSTEM certificates expiring within 90 days, soonest first."""
    return [by_purpose(row) for row in session.query("expiring_cas.sql")]
