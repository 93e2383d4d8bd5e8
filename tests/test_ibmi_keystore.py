"""QYKMIMPK / QYKMEXPK: the exact XMLSERVICE requests and their documented replies."""
import os
import tempfile
import xml.etree.ElementTree as ET

import pytest

from ibmi_simulator import Simulator
from ibmi_trust.errors import IbmiApiError
from ibmi_trust.ibmi import keystore_api
from ibmi_trust.ibmi.password import StorePassword
from ibmi_trust.ibmi.pkcs12_import import build_import_file
from ibmi_trust.testing.pki import CA


@pytest.fixture
def sim(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    os.mkdir(str(tmp_path / "tmp"))
    return Simulator(tmp_path / "ifs")


def secret(text):
    return StorePassword(bytearray(text.encode("utf-8")), "test")


def last_pgm(sim):
    return ET.fromstring(sim.xml_log[-1]).find("pgm")


def values(pgm):
    out = []
    for parm in pgm.findall("parm"):
        child = parm[0]
        out.append([(d.get("type"), d.text or "") for d in child] if child.tag == "ds" else (child.get("type"), child.text or ""))
    return out


def test_export_request_follows_the_documented_parameter_list(sim, session, tmp_path):
    entries = keystore_api.export_store(session, str(sim.system_kdb), secret("sim-store-password"))
    assert [label for _cert, label in entries] == ["Simulated Preinstalled Root CA"]
    pgm = last_pgm(sim)
    assert (pgm.get("name"), pgm.get("lib"), pgm.get("func")) == ("QYKMEXPK", "QSYS", None)
    params = values(pgm)
    assert len(params) == 14                                                 # ref 5
    path = str(sim.system_kdb)
    assert params[0] == ("%da" % len(path), path) and params[1] == ("10i0", str(len(path)))
    assert params[2] == ("8a", "OBJN0100")
    assert params[3] == ("18b", "sim-store-password".encode("utf-8").hex().upper())   # raw UTF-8 (ref 4.3)
    assert params[4] == ("10i0", "18") and params[5] == ("10i0", "1208")
    export_path = params[6][1]
    assert export_path.startswith(str(tmp_path / "tmp")) and export_path.endswith("export.p12")
    assert params[8] == ("8a", "OBJN0100") and params[9] == ("10a", "*PKCS12V3")
    assert params[12] == ("10i0", "1208")
    assert params[13] == [("10i0", "16"), ("10i0", "0"), ("7a", ""), ("1a", "")]   # ERRC0100, bytes provided 16
    assert [p.get("io") for p in pgm.findall("parm")] == ["in"] * 13 + ["both"]
    assert os.listdir(str(tmp_path / "tmp")) == []                        # export and its directory removed


def test_wrong_store_password_is_the_api_exception_id_without_the_password(sim, session):
    with pytest.raises(IbmiApiError) as caught:
        keystore_api.export_store(session, str(sim.system_kdb), secret("Wr0ng-Pa55"))
    err = caught.value
    assert (err.api, err.message_id) == ("QYKMEXPK", "CPFB003")
    assert str(err) == "QYKMEXPK failed: CPFB003 invalid password"
    assert "--password-env" in err.hint
    text = " ".join([str(err), err.hint])
    assert "Wr0ng-Pa55" not in text and "Wr0ng-Pa55".encode().hex().upper() not in text


def test_import_adds_new_and_silently_skips_label_or_key_duplicates(sim, session):
    # ref 4.1: entries whose label and/or public key exist are not imported, no error.
    root = CA.root("Import Root")
    inter = root.intermediate("Import Issuing CA")
    data, _ = build_import_file([(root.cert, "Import Root"), (inter.cert, "Simulated Preinstalled Root CA")], b"pw")
    keystore_api.import_certificates(session, str(sim.system_kdb), secret(sim.store_password), data, b"pw")
    labels = [label for label, _cert in sim.entries()]
    assert labels == ["Simulated Preinstalled Root CA", "Import Root"]       # label clash skipped
    again, _ = build_import_file([(root.reissue().cert, "Another Label")], b"pw")
    keystore_api.import_certificates(session, str(sim.system_kdb), secret(sim.store_password), again, b"pw")
    assert [label for label, _cert in sim.entries()] == labels                # same key skipped, no error
    pgm = last_pgm(sim)
    assert pgm.get("name") == "QYKMIMPK" and values(pgm)[9] == ("10a", "*PKCS12V3")


def test_store_that_does_not_exist(sim, session, tmp_path):
    with pytest.raises(IbmiApiError) as caught:
        keystore_api.export_store(session, str(tmp_path / "nope.KDB"), secret("x"))
    assert caught.value.message_id == "CPFB002"


def test_missing_program_gives_the_xmlservice_error_and_a_hint(sim, session):
    sim.missing_programs.add("QYKMEXPK")
    with pytest.raises(IbmiApiError) as caught:
        keystore_api.export_store(session, str(sim.system_kdb), secret(sim.store_password))
    assert "1000005 PASE resolve failed" in str(caught.value)
    assert "not found" in caught.value.hint


def test_nopwd_for_the_apis_is_sent_as_the_special_value(sim, session):
    sim.apis_accept_nopwd = True     # UNCONFIRMED on IBM i (ref 4.4)
    entries = keystore_api.export_store(session, str(sim.system_kdb), "*NOPWD")
    assert len(entries) == 1
    assert values(last_pgm(sim))[3] == ("6b", b"*NOPWD".hex().upper())
