"""The System TLS system values QSSLPCL, QSSLCSL and QSSLCSLCTL (ref 17).

Read through QSYS2.SYSTEM_VALUE_INFO (sql/tls_system_values.sql). How list
values are encoded in CURRENT_CHARACTER_VALUE is UNCONFIRMED; this parser
takes blank-separated tokens (e.g. "*TLSV1.3 *TLSV1.2"), which also covers
fixed-width padded tokens. Compare with DSPSYSVAL to confirm.
"""
from typing import Dict, List, Union

LIST_VALUES = ("QSSLPCL", "QSSLCSL")
SINGLE_VALUES = ("QSSLCSLCTL",)


def read_tls_system_values(session=None) -> Dict[str, Union[List[str], str]]:
    """{"QSSLPCL": [...], "QSSLCSL": [...], "QSSLCSLCTL": "..."}.

    Without a session one is created (and closed) here; off IBM i that
    raises ConfigError.
    """
    if session is None:
        from ibmi_trust.ibmi.session import IbmiSession

        with IbmiSession() as own:
            return read_tls_system_values(own)
    values = {row["SYSTEM_VALUE_NAME"].strip(): row.get("CURRENT_CHARACTER_VALUE")
              for row in session.query("tls_system_values.sql")}
    out: Dict[str, Union[List[str], str]] = {}
    for name in LIST_VALUES:
        out[name] = parse_list(values.get(name))
    for name in SINGLE_VALUES:
        out[name] = (values.get(name) or "").strip()
    return out


def parse_list(value) -> List[str]:
    return (value or "").split()
