"""Per-application CA trust lists: which applications keep one, and adding to it.

- QSYS2.CERTIFICATE_USAGE_INFO (sql/certificate_usage_info.sql, ref 2)
  lists the registered DCM applications; MANAGED_CA_TRUSTS says whether an
  application defines its own list of trusted CAs. If it does not, every
  CA in *SYSTEM is trusted and importing is enough.
- QycdAddCACertTrust (QICSS/QYCDCUSG, IBM i 7.4+, ref 8.1) adds a CA that is
  already in *SYSTEM, by label, to one application's list.
  https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/apis/qycdadct.htm
"""
from dataclasses import dataclass
from typing import Iterable, List, Optional

from ibmi_trust.errors import ConfigError
from ibmi_trust.ibmi import apiparm, services

CERTIFICATE_ID_TYPE_LABEL = "1"   # DCM-tools passes '1' (label), ref 8.1


@dataclass
class Application:
    app_id: str
    app_type: str
    description: str
    store: str
    manages_ca_trust: bool


def applications(session) -> List[Application]:
    services.require(session, "CERTIFICATE_USAGE_INFO", "--app-id and `store apps`")
    return [
        Application(
            app_id=(row.get("APPLICATION_ID") or "").strip(),
            app_type=(row.get("APPLICATION_TYPE") or "").strip(),
            description=(row.get("DESCRIPTION") or "").strip(),
            store=(row.get("CERTIFICATE_STORE") or "").strip(),
            manages_ca_trust=(row.get("MANAGED_CA_TRUSTS") or "").strip().upper() == "YES",
        )
        for row in session.query("certificate_usage_info.sql")
    ]


def managed_applications(session) -> List[Application]:
    """The applications whose definitions restrict the CAs they trust."""
    return [app for app in applications(session) if app.manages_ca_trust]


def find(session, app_id: str) -> Optional[Application]:
    wanted = app_id.strip().upper()
    return next((app for app in applications(session) if app.app_id.upper() == wanted), None)


def require(session, app_id: str) -> Application:
    app = find(session, app_id)
    if app is None:
        raise ConfigError("application ID %s is not registered in DCM" % app_id,
                          hint="`SELECT APPLICATION_ID FROM QSYS2.CERTIFICATE_USAGE_INFO` lists the IDs")
    return app


def add_ca_trust(session, app_id: str, labels: Iterable[str]) -> List[str]:
    """Add each CA label to the application's trust list; returns what was done."""
    done = []
    for label in labels:
        session.call_program(
            "QycdAddCACertTrust", "QYCDCUSG",
            [apiparm.char("app_id", app_id), apiparm.int4("app_id_len", len(app_id)),
             apiparm.fixed_char("id_type", CERTIFICATE_ID_TYPE_LABEL, 1),
             apiparm.char("ca_label", label), apiparm.int4("ca_label_len", len(label))],
            lib="QICSS", func="QycdAddCACertTrust")
        done.append(label)
    return done
