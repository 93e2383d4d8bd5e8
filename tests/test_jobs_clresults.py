"""--cl-results: what the CL command processing program will send to its
caller's job log, for check, fix and verify, failures included; and verify's
operator notification through the IBM i simulator."""
import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.ibmi import messages as m
from ibmi_trust.ibmi.session import IbmiSession
from ibmi_trust.jobs import notify
from scenarios import Scenario


@pytest.fixture
def sni_scenario(tmp_path):
    with Scenario("sni", tmp_path) as sc:
        yield sc


def _types(records):
    return [(r.msgid, r.type) for r in records]


def test_check_then_fix_records_reach_the_cl_program(sni_scenario, tmp_path):
    sc, out = sni_scenario, str(tmp_path / "results.txt")
    result = CliRunner().invoke(cli, ["check"] + sc.cli_args("--ssl-rc", "RC(23)", "--cl-results", out))
    assert result.exit_code == 2
    records = m.read_results(out)
    explained = [r for r in records if r.msgid == m.SSLRC_EXPLAINED]
    assert len(explained) == 1 and "SSL_ERROR_NOT_TRUSTED_ROOT" in explained[0].text()
    assert records[-1].msgid == m.NOT_TRUSTED and records[-1].type == "*ESCAPE"
    assert records[-1].data[2].strip() == "2"           # two roots missing
    missing = [r for r in records if r.msgid == m.ISSUER_MISSING]
    assert {r.data[3].strip() for r in missing} == {sc.root_a.cert.sha256, sc.root_b.cert.sha256}
    assert all(r.type in ("*DIAG", "*INFO") for r in records[:-1])
    assert m.CHAIN_VARIANTS in [r.msgid for r in records]

    result = CliRunner().invoke(cli, ["fix"] + sc.cli_args("--yes", "--ssl-rc", "-23", "--cl-results", out))
    assert result.exit_code == 0, result.output
    records = m.read_results(out)
    assert records[-1].msgid == m.FIXED and records[-1].type == "*COMP" and records[-1].data[1].strip() == "2"
    imported = [r for r in records if r.msgid == m.IMPORTED]
    assert len(imported) == 2 and all(r.type == "*INFO" for r in imported)
    assert m.SSLRC_EXPLAINED in [r.msgid for r in records]
    assert "is trusted now: 2 certificate(s) imported" in records[-1].text()

    result = CliRunner().invoke(cli, ["check"] + sc.cli_args("--cl-results", out))
    assert result.exit_code == 0
    assert _types(m.read_results(out))[-1] == (m.TRUSTED, "*COMP")


def test_expected_failure_still_writes_an_escape_record(tmp_path):
    out = str(tmp_path / "results.txt")
    with Scenario("unapproved-root", tmp_path) as sc:
        result = CliRunner().invoke(cli, ["fix"] + sc.cli_args("--yes", "--cl-results", out))
        assert result.exit_code == 5
        records = m.read_results(out)
        assert _types(records) == [(m.FIX_REFUSED, "*ESCAPE")]
        assert sc.private_root.cert.sha256[:16] in records[0].text()
        # a bad store spec is a store/config failure: still a record, never silence
        result = CliRunner().invoke(cli, ["check", sc.target_text, "--protocol", "smtp", "--store", "nosuch:x",
                                          "--cl-results", out])
        assert result.exit_code == 3 and _types(m.read_results(out)) == [(m.FAILED, "*ESCAPE")]


def test_verify_notifies_the_operator_through_sndpgmmsg(tmp_path, sni_scenario, monkeypatch):
    """Real verify run (a CRITICAL target), then notification through the
    simulator: SNDPGMMSG ... TOMSGQ(QSYSOPR) with the message data."""
    from ibmi_simulator import Simulator

    from ibmi_trust.jobs.config import TargetConfig
    from ibmi_trust.jobs.verify import run_verify

    sc = sni_scenario
    cfg = TargetConfig(name="mail", target=sc.target_text, protocol="smtp", store="bundle:" + sc.store_path,
                       warn_days=30, app_id=None, ehlo=None, resolve=[])
    result = run_verify([cfg], lambda _cfg: sc.check_options(sourcing=False))
    assert result.status == "CRITICAL"
    sim = Simulator(tmp_path)
    sim.installed_library = "ITRUST"
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")       # as the CL runner sets it
    sent = notify.notify_operator(result, "QSYSOPR", session=IbmiSession(connection=sim.connection()))
    assert sent == 1
    commands = [c for c in sim.cl_log if c.startswith("SNDPGMMSG")]
    assert len(commands) == 1 and "MSGID(ITR0204)" in commands[0] and "TOMSGQ(QSYSOPR)" in commands[0]
    assert "MSGF(ITRUST/ITRMSGF)" in commands[0]
    assert sc.target_text in commands[0]
    sim.fail_cl("SNDPGMMSG", "CPF2403")       # message queue not found
    from ibmi_trust.errors import IbmiApiError

    with pytest.raises(IbmiApiError) as info:
        notify.notify_operator(result, "NOSUCHQ", session=IbmiSession(connection=sim.connection()))
    assert info.value.message_id == "CPF2403"


def test_expiring_certificate_is_a_warning_with_its_date(tmp_path):
    from ibmi_trust.testing.pki import CA
    from ibmi_trust.testing.servers import MailServer

    root = CA.root("Expiry Root")
    leaf = root.intermediate("Expiry CA").leaf(["mx.example.test"], days=11)
    store = tmp_path / "store.pem"
    store.write_text(root.cert.pem())
    out = str(tmp_path / "results.txt")
    with MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem())) as srv:
        args = ["check", "mx.example.test:%d" % srv.port, "--protocol", "smtp", "--store", "bundle:%s" % store,
                "--resolve", "mx.example.test:%d:127.0.0.1" % srv.port, "--rate", "500", "--no-fetch",
                "--warn-days", "30", "--cl-results", out]
        result = CliRunner().invoke(cli, args)
        nagios = CliRunner().invoke(cli, args[:-2] + ["--nagios"])
    assert result.exit_code == 1, result.output
    records = m.read_results(out)
    assert records[-1].msgid == m.TRUSTED_WITH_WARNINGS and records[-1].type == "*COMP"
    expiring = [r for r in records if r.msgid == m.CA_EXPIRES]
    assert len(expiring) == 1 and expiring[0].data[1] == leaf.cert.not_after.strftime("%Y-%m-%d")
    assert expiring[0].data[2].strip() in ("9", "10")
    # Nagios: WARNING, days as an integer with the "warn when below" range N:
    assert nagios.exit_code == 1 and nagios.output.startswith("IBMI-TRUST WARNING - ")
    assert "'days_to_expiry'=10;30:;0:" in nagios.output or "'days_to_expiry'=9;30:;0:" in nagios.output


def test_verify_notify_from_ssh_or_cron_finds_the_message_file(sni_scenario, tmp_path, monkeypatch):
    """ibmi-trust verify --notify QSYSOPR run outside the CL commands (SSH, cron, the
    Ansible playbook): no IBMI_TRUST_LIBRARY, and the database server job's library list
    lacks the install library (the simulator answers *LIBL/ITRMSGF with CPF2407). The
    library comes from the record install-objects wrote, or from --library."""
    from ibmi_simulator import Simulator, as_ibmi

    from ibmi_trust.ibmi import install_record

    sc = sni_scenario
    sim = Simulator(tmp_path / "ibmi")
    sim.installed_library = "ITRUST"
    as_ibmi(sim, monkeypatch)
    cfg = tmp_path / "targets.ini"
    cfg.write_text("[%s]\nprotocol = smtp\nstore = bundle:%s\nresolve = %s\n"
                   % (sc.target_text, sc.store_path, sc.resolve_args()[1]))
    args = ["verify", "--config", str(cfg), "--roots", sc.roots_path, "--rate", "500", "--timeout", "3",
            "--notify", "QSYSOPR"]

    unknown = CliRunner().invoke(cli, args)                   # nothing recorded, no --library
    assert unknown.exit_code == 3 and "install-objects --library" in unknown.output
    assert sim.cl_log == []                                   # refused before probing anything

    install_record.write("ITRUST", "/QOpenSys/venv/bin/python3")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output               # CRITICAL target, operator told
    sent = [c for c in sim.cl_log if c.startswith("SNDPGMMSG")]
    assert len(sent) == 1 and "MSGF(ITRUST/ITRMSGF)" in sent[0] and "TOMSGQ(QSYSOPR)" in sent[0]

    wrong = CliRunner().invoke(cli, args + ["--library", "OTHERLIB"])
    assert wrong.exit_code == 4 and "CPF2407" in wrong.output   # the library given is used as given


def test_trust_list_decisions_reach_the_job_log():
    from ibmi_trust.jobs.clresults import trust_list_records
    from ibmi_trust.store.base import ChangeReport

    change = ChangeReport(store="*SYSTEM", dry_run=False, trust_list=[
        {"app_id": "QIBM_QTMS_SMTP_CLIENT", "label": "Relay Root", "state": "not-trusted", "action": "added",
         "reason": "...", "next_command": ""},
        {"app_id": "QIBM_QTMS_SMTP_CLIENT", "label": "Other Root", "state": "not-trusted",
         "action": "needs-consent", "reason": "QIBM_QTMS_SMTP_CLIENT does not trust Other Root",
         "next_command": "ibmi-trust store trust --store '*SYSTEM' --app-id QIBM_QTMS_SMTP_CLIENT --add 'Other Root'"}])
    added, decided = trust_list_records(change)
    assert (added.msgid, added.type) == (m.TRUST_LIST_ADDED, "*INFO")
    assert added.text() == "Added Relay Root to the CA trust list of application QIBM_QTMS_SMTP_CLIENT."
    assert (decided.msgid, decided.type) == (m.TRUST_LIST_DECISION, "*DIAG")
    assert decided.data[3].strip().endswith("--add 'Other Root'")


def test_partial_fix_ends_in_an_escape_naming_the_chains_that_still_fail(tmp_path):
    """CHKTLSTRST PARTIAL(*YES) ACTION(*FIX) runs fix --partial --yes: the
    fixable chain is fixed and proven, the blocked one still fails, so the
    command must not end in ITR0009 ("trusted now") but in the escape ITR0021."""
    out = str(tmp_path / "results.txt")
    with Scenario("partial", tmp_path) as sc:
        result = CliRunner().invoke(cli, ["fix"] + sc.cli_args("--yes", "--partial", "--cl-results", out))
        assert result.exit_code == 7, result.output
        assert sc.openssl_verifies(sc.sent_chains[0]) and not sc.openssl_verifies(sc.sent_chains[1])
        records = m.read_results(out)
        assert _types(records)[-1] == (m.PARTLY_FIXED, "*ESCAPE")
        assert [f.strip() for f in records[-1].data] == [sc.target_text, "1", "bundle:" + sc.store_path, "1"]
        assert "is fixed in part: 1 certificate(s) imported" in records[-1].text()
        approval = [r for r in records if r.msgid == m.ROOT_NEEDS_APPROVAL]
        assert [r.data[1].strip() for r in approval] == [sc.private_root.cert.sha256]
        assert m.FIXED not in [r.msgid for r in records]
