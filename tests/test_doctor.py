"""ibmi-trust doctor against the IBM i simulator: each finding with the command that fixes it."""
import json

import pytest
from click.testing import CliRunner

from ibmi_simulator import Simulator, as_ibmi
from ibmi_trust.cli import cli


@pytest.fixture
def ibmi(tmp_path, monkeypatch):
    sim = Simulator(tmp_path / "ifs")
    as_ibmi(sim, monkeypatch)
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    monkeypatch.setenv("USER", "itrustjob")
    monkeypatch.setenv("LOGNAME", "itrustjob")
    sim.current_user = "ITRUSTJOB"
    sim.add_profile("ITRUSTJOB", password_none=False)
    return sim


def doctor(*args):
    result = CliRunner().invoke(cli, ["doctor", "--json"] + list(args))
    return result.exit_code, {c["name"]: c for c in json.loads(result.output)["checks"]}, result


def test_a_ready_system_is_ready(ibmi):
    from ibmi_trust.ibmi import install_record

    ibmi.installed_library = "ITRUST"
    install_record.write("ITRUST", "/QOpenSys/venv/bin/python3")
    code, checks, _result = doctor()
    gskprobe = checks["ITRUST/GSKPROBE"]           # optional: without it *SYSTEM is judged by the model
    assert code == 1 and gskprobe["status"] == "warn" and "5770-WDS" in gskprobe["detail"], checks
    assert gskprobe["next"] == "after installing them: ibmi-trust install-objects --library ITRUST"
    ibmi.programs["ITRUST/GSKPROBE"] = "built by CRTBNDC"
    code, checks, _result = doctor()
    assert code == 0, checks
    assert checks["ITRUST/GSKPROBE"]["status"] == "ok"
    assert checks["install record"]["detail"].startswith("library ITRUST (from install record ")
    assert checks["ITRUST/ITRCATRST"]["status"] == "ok" and checks["XMLSERVICE"]["status"] == "ok"
    assert checks["QsoRtvTLSA"]["detail"] == "System TLS default protocols *TLSV1.3 *TLSV1.2"
    text = CliRunner().invoke(cli, ["doctor"])
    assert text.exit_code == 0 and text.output.rstrip().endswith("ready")


def test_a_password_none_profile_is_named_with_its_fix(ibmi):
    ibmi.add_profile("ITRUSTJOB", password_none=True)
    code, checks, result = doctor()
    assert code == 2
    conn = checks["ODBC connection"]
    assert conn["status"] == "FAIL" and "CWBSY0003" in conn["detail"] and "SQLSTATE 28000" in conn["detail"]
    assert conn["next"].startswith("user profile ITRUSTJOB has PASSWORD(*NONE)")
    assert "?CHGUSRPRF USRPRF(ITRUSTJOB)" in conn["next"]
    text = CliRunner().invoke(cli, ["doctor"])
    assert "not ready: start with ODBC connection" in text.output and "Traceback" not in text.output


def test_missing_xmlservice_install_and_service_each_say_what_to_do(ibmi):
    ibmi.xmlservice_installed = False
    ibmi.remove_service("CERTIFICATE_USAGE_INFO")
    code, checks, _result = doctor()
    assert code == 2
    assert checks["XMLSERVICE"]["status"] == "FAIL" and "5770-DG1" in checks["XMLSERVICE"]["next"]
    assert checks["QSYS2.CERTIFICATE_USAGE_INFO"]["status"] == "FAIL"
    assert "SF99950 on 7.5" in checks["QSYS2.CERTIFICATE_USAGE_INFO"]["next"]
    assert checks["install record"]["status"] == "warn"
    assert checks["install record"]["next"].startswith("ibmi-trust install-objects --library ITRUST")
    assert checks["QsoRtvTLSA"]["status"] == "warn"          # needs XMLSERVICE too


def test_objects_missing_from_the_recorded_library(ibmi):
    from ibmi_trust.ibmi import install_record

    install_record.write("ITRUST", "/QOpenSys/venv/bin/python3")      # recorded, objects deleted since
    code, checks, _result = doctor()
    assert code == 2
    assert checks["ITRUST/ITRMSGF"]["next"] == "ibmi-trust install-objects --library ITRUST --replace"
    assert checks["ITRUST/ITRCATRST"]["status"] == "FAIL"


def test_off_ibmi_doctor_says_so(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1 and "not IBM i" in result.output
