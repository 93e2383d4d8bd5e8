"""store apps: which IBM i applications keep their own CA trust list, read
from QSYS2.CERTIFICATE_USAGE_INFO through the simulator."""
import json

from click.testing import CliRunner

from ibmi_simulator import Simulator, as_ibmi
from json_schemas import validate
from ibmi_trust.cli import cli


def test_store_apps_lists_only_applications_with_their_own_ca_list(tmp_path, monkeypatch):
    sim = Simulator(tmp_path / "ifs")
    sim.add_application("QIBM_QTMS_SMTP_CLIENT", managed=True, description="SMTP client")
    sim.add_application("QIBM_QTMM_POP_SERVER", managed=False, app_type="SERVER", description="POP server")
    as_ibmi(sim, monkeypatch)
    text = CliRunner().invoke(cli, ["store", "apps", "--store", "*SYSTEM"])
    assert text.exit_code == 0, text.output
    assert "QIBM_QTMS_SMTP_CLIENT" in text.output and "QIBM_QTMM_POP_SERVER" not in text.output
    assert text.output.rstrip().endswith("1 application(s) have DCM manage a CA trust list "
                                         "(an empty list trusts every enabled CA in *SYSTEM)")
    as_json = CliRunner().invoke(cli, ["store", "apps", "--store", "*SYSTEM", "--json"])
    document = validate(json.loads(as_json.output))
    assert (document["schema_version"], document["kind"], document["store"]) == (1, "store-apps", "*SYSTEM")
    apps = document["applications"]
    assert [a["app_id"] for a in apps] == ["QIBM_QTMS_SMTP_CLIENT"] and apps[0]["manages_ca_trust"] is True
    assert any("CERTIFICATE_USAGE_INFO" in sql for sql, _params in sim.sql_log)


def test_store_apps_on_a_file_store_is_a_clear_error(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    result = CliRunner().invoke(cli, ["store", "apps", "--store", "bundle:%s" % bundle])
    assert result.exit_code == 3 and "only IBM i stores" in result.output


def test_store_apps_without_certificate_usage_info_names_the_ptf_group(tmp_path, monkeypatch):
    # QSYS2.SERVICES_INFO lists what the Db2 PTF group level provides; the view is asked
    # for only when it is there.
    sim = Simulator(tmp_path / "ifs")
    sim.remove_service("CERTIFICATE_USAGE_INFO")
    as_ibmi(sim, monkeypatch)
    result = CliRunner().invoke(cli, ["store", "apps", "--store", "*SYSTEM"])
    assert result.exit_code == 3, result.output
    assert "QSYS2.CERTIFICATE_USAGE_INFO is not on this system" in result.output
    assert "SF99704 on 7.4" in result.output and "Traceback" not in result.output
    assert not any("FROM QSYS2.CERTIFICATE_USAGE_INFO" in sql for sql, _params in sim.sql_log)


def test_store_trust_checks_then_adds_only_when_told(tmp_path, monkeypatch):
    from ibmi_simulator import PASSWORD_ENV, PREINSTALLED_LABEL
    from ibmi_trust.testing.pki import CA

    sim = Simulator(tmp_path / "ifs")
    sim.installed_library = "ITRUST"
    sim.add_certificate(CA.root("Relay Root").cert, "Relay Root")
    sim.add_application("QIBM_QTMS_SMTP_CLIENT", managed=True, trust_list=[PREINSTALLED_LABEL])
    as_ibmi(sim, monkeypatch)
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")
    monkeypatch.setenv(PASSWORD_ENV, sim.store_password)
    base = ["store", "trust", "--store", "*SYSTEM", "--password-env", PASSWORD_ENV, "--app-id",
            "QIBM_QTMS_SMTP_CLIENT", "Relay Root", "No Such CA"]
    looked = CliRunner().invoke(cli, base)
    assert looked.exit_code == 0, looked.output
    assert "does not trust Relay Root" in looked.output and "not found No Such CA" in looked.output
    assert "--add 'Relay Root'" in looked.output and sim.trust_lists["QIBM_QTMS_SMTP_CLIENT"] == [PREINSTALLED_LABEL]
    added = CliRunner().invoke(cli, base + ["--add", "--json"])
    report = json.loads(added.output)
    assert [d["action"] for d in report["trust_list"]] == ["added"]
    assert sim.trust_lists["QIBM_QTMS_SMTP_CLIENT"] == [PREINSTALLED_LABEL, "Relay Root"]
    no_app = CliRunner().invoke(cli, base[:-4] + ["Relay Root"])
    assert no_app.exit_code == 3 and "needs --app-id" in no_app.output
