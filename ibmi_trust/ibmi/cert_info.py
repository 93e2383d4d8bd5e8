"""QSYS2.CERTIFICATE_INFO: labels and dates of the certificates in a store.

The statement (sql/certificate_info.sql) selects `*`, because the column list
is UNCONFIRMED (ref 1.4). The names this module relies on are in ONE place,
CERTIFICATE_INFO_COLUMNS below; only the label is required. When a live
system names them differently, change them there (docs/verify-on-your-system.md).

Password: '*NOPWD' first (the stashed password, ref 1.2); if that fails and a
password was configured, the password (as an SQL parameter, never in the
statement text).

Enabled state of a CA. IBM: "By default, there is no CA trust list and all
enabled CAs in the *SYSTEM store are trusted" (DCM, "Defining a CA trust
list for an application", https://www.ibm.com/docs/en/i/7.5?topic=dcm-defining-ca-trust-list-application);
a CA that is present but disabled is trusted by no application. IBM
documents no CERTIFICATE_INFO column for that state (ref 1.4; QYCURTVCI's
receiver formats, which the service mirrors, are UNCONFIRMED too), so the
state is UNKNOWN (None) unless IBMI_TRUST_CA_STATUS_COLUMN names the column
a release turns out to have (docs/verify-on-your-system.md). Never "trusted"
on unknown: the entry says None, and `store list` says "unknown".
"""
import os
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
    "status": None,     # no attested trust/enabled status column (ref 1.4): IBMI_TRUST_CA_STATUS_COLUMN
}
STATUS_ENV = "IBMI_TRUST_CA_STATUS_COLUMN"
ENABLED_VALUES = ("ENABLED", "YES", "Y", "TRUE", "1", "TRUSTED")
DISABLED_VALUES = ("DISABLED", "NO", "N", "FALSE", "0", "NOT TRUSTED", "UNTRUSTED")


def status_column() -> Optional[str]:
    """The CERTIFICATE_INFO column holding a CA's enabled state, if one is configured."""
    return (os.environ.get(STATUS_ENV, "").strip().upper() or CERTIFICATE_INFO_COLUMNS["status"]) or None


def enabled_from(value) -> Optional[bool]:
    """True / False for a recognised status value; None (unknown) for anything else."""
    text = str(value).strip().upper() if value is not None else ""
    if text in ENABLED_VALUES:
        return True
    if text in DISABLED_VALUES:
        return False
    return None


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
    column = status_column()
    out["enabled"] = enabled_from(row.get(column)) if column else None
    return out


def expiring_certificates(session) -> List[dict]:
    """sql/expiring_cas.sql: *SYSTEM certificates expiring within 90 days, soonest first."""
    return [by_purpose(row) for row in session.query("expiring_cas.sql")]
