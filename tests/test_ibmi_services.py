"""Read-only IBM i services: TLS system values, applications, expiring certificates,
and the join of CERTIFICATE_INFO rows with exported certificates."""
import datetime

import pytest

from ibmi_trust.errors import ConfigError
from ibmi_trust.ibmi import cert_info, sysvals, trustlist
from ibmi_trust.ibmi.system_store import join
from ibmi_trust.testing.pki import CA


def test_tls_system_values_are_parsed_into_lists(sim, session):
    sim.system_values.update({"QSSLPCL": "*TLSV1.3   *TLSV1.2   ", "QSSLCSLCTL": "*USRDFN   "})
    assert sysvals.read_tls_system_values(session) == {
        "QSSLPCL": ["*TLSV1.3", "*TLSV1.2"],
        "QSSLCSL": ["*AES_128_GCM_SHA256", "*ECDHE_RSA_AES_128_GCM_SHA256"],
        "QSSLCSLCTL": "*USRDFN",
    }


def test_missing_values_read_as_empty(sim, session):
    sim.system_values = {"QSSLPCL": None}
    assert sysvals.read_tls_system_values(session) == {"QSSLPCL": [], "QSSLCSL": [], "QSSLCSLCTL": ""}


def test_without_a_session_off_ibmi_it_is_a_config_error(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    with pytest.raises(ConfigError):
        sysvals.read_tls_system_values()


def test_applications_and_which_manage_their_ca_trust(sim, session):
    sim.add_application("QIBM_QTMS_SMTP_CLIENT", managed=True, description="SMTP client")
    sim.add_application("QIBM_QTMM_POP_SERVER", managed=False, app_type="SERVER")
    apps = trustlist.applications(session)
    assert [(a.app_id, a.app_type, a.manages_ca_trust) for a in apps] == [
        ("QIBM_QTMM_POP_SERVER", "SERVER", False), ("QIBM_QTMS_SMTP_CLIENT", "CLIENT", True)]
    assert [a.app_id for a in trustlist.managed_applications(session)] == ["QIBM_QTMS_SMTP_CLIENT"]
    assert trustlist.find(session, "qibm_qtms_smtp_client").description == "SMTP client"


def test_expiring_certificates_within_90_days(sim, session):
    soon = CA.root("Soon Expiring Root", days=30).cert
    later = CA.root("Long Lived Root", days=3650).cert
    sim.add_certificate(later, "Long Lived Root")
    sim.add_certificate(soon, "Soon Expiring Root")
    sim.now = datetime.datetime.now()
    rows = cert_info.expiring_certificates(session)
    assert [r["label"] for r in rows] == ["Soon Expiring Root"]
    assert rows[0]["valid_to"] == soon.not_after.replace(tzinfo=None)


def test_join_reports_labels_missing_from_the_export():
    cert = CA.root("Exported Root").cert
    rows = [{"label": "Exported Root", "serial": None, "enabled": None},
            {"label": "Ghost", "serial": None, "enabled": None}]
    entries, problems = join(rows, [(cert, "Exported Root")])
    assert [(e.label, e.cert) for e in entries] == [("Exported Root", cert)]
    assert [(p.where, "missing from the QYKMEXPK export" in p.reason) for p in problems] == [("Ghost", True)]


def test_join_falls_back_to_the_serial_number_without_friendly_names():
    cert = CA.root("Nameless Root").cert
    rows = [{"label": "DCM Label", "serial": format(cert.serial, "X"), "enabled": True}]
    entries, problems = join(rows, [(cert, None)])
    assert [(e.label, e.enabled, e.trusted) for e in entries] == [("DCM Label", True, True)] and problems == []
