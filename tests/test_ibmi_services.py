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


# -- QsoRtvTLSA: what System TLS really offers (--like-system) --------------------------------
def test_like_system_takes_the_default_lists_from_qsortvtlsa(sim, monkeypatch):
    """QSSLPCL *OPSYS does not say which protocols the release enables; QsoRtvTLSA does
    (https://www.ibm.com/docs/en/ssw_ibm_i_74/apis/qsortvtlsa.htm)."""
    from ibmi_simulator import as_ibmi
    from ibmi_trust.probe import like_system

    as_ibmi(sim, monkeypatch)
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    assert sim.system_values["QSSLPCL"] == "*OPSYS"
    offer, notes = like_system.system_offer()
    assert (offer.min_version, offer.max_version) == ("1.2", "1.3")            # not 1.0-1.3
    assert offer.ciphers == "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"
    assert notes[0] == ("System TLS defaults from QsoRtvTLSA: *TLSV1.3 *TLSV1.2; signature algorithms "
                        "rsa_pss_rsae_sha256 rsa_pkcs1_sha256 ecdsa_secp256r1_sha256")
    key, params = [(k, p) for k, p in sim.program_log if k == "QsoRtvTLSA"][-1]
    assert params[0] == "TLSA0100" and params[2] == len(params[1])


def test_without_qsortvtlsa_the_system_values_decide_and_a_note_says_so(sim, session):
    from ibmi_trust.ibmi.tls_attributes import system_tls_values

    sim.missing_programs.add("QsoRtvTLSA")          # 7.2-7.4 without the PTFs
    values = system_tls_values(session)
    assert values["source"] == "system values" and values["QSSLPCL"] == ["*OPSYS"]
    assert values["notes"][0].startswith("QsoRtvTLSA is not available: QsoRtvTLSA failed: XMLSERVICE 1100016")


def test_a_reply_that_does_not_fit_the_assumed_layout_is_not_used(sim, session, monkeypatch):
    from ibmi_trust.ibmi import tls_attributes

    sim.tls_attributes["default_cipher_suites"] = [0x1301, 0xFEFE]     # not a code the package knows
    values = tls_attributes.system_tls_values(session)
    assert values["source"] == "system values"
    assert "QsoRtvTLSA reply not understood (default cipher_suites: unknown code(s) 0xFEFE)" in values["notes"][0]
    monkeypatch.setenv("IBMI_TRUST_TLS_ATTRIBUTES", "system-values")
    calls = len(sim.program_log)
    assert tls_attributes.system_tls_values(session)["source"] == "system values" and len(sim.program_log) == calls


def test_tlsa0100_parser_refuses_gaps_and_short_replies():
    import struct

    from ibmi_trust.ibmi.tls_attributes import RECEIVER_LENGTH, parse

    assert parse(b"\0\0")[0] is None
    assert "assumed TLSA0100 layout" in parse(struct.pack(">II", 100, 100) + bytes(92))[1]
    body = bytearray(RECEIVER_LENGTH)
    body[:8] = struct.pack(">II", RECEIVER_LENGTH, RECEIVER_LENGTH)
    body[8:16] = struct.pack(">II", 0, 0x0304)                    # a zero before a value
    assert parse(bytes(body)) == (None, "supported protocols: zeros between values")
