"""check and fix on *SYSTEM with GSKit's own handshake, end to end: the IBM i
simulator answers install-objects' CRTBNDC by compiling the packaged
cl/gskprobe.c against the OpenSSL stand-in of the gsk_* calls, and the
program's CALL (through QSYS2.QCMDEXC) runs that binary against the loopback
servers, trusting what the simulated *SYSTEM (or application) trusts.

What this shows: the program's dialogue and output, the CL, the matching of
handshakes to chains, GSKit deciding over the model, the proof and the roll
back. What it cannot show: GSKit's own decisions (the stand-in judges with
OpenSSL's rules); a real IBM i settles those (docs/verify-on-your-system.md).
"""
import json

import pytest
from click.testing import CliRunner

from ibmi_simulator import PASSWORD_ENV, Simulator, as_ibmi, system_store, tree_bytes
from ibmi_trust.cli import cli
from ibmi_trust.errors import ConfigError, FixRefused, RolledBack
from ibmi_trust.ibmi.objects import Installer
from ibmi_trust.ibmi.session import IbmiSession
from ibmi_trust.jobs.check import run_check
from ibmi_trust.jobs.fix import run_fix
from ibmi_trust.jobs.render import check_text
from ibmi_trust.jobs.render_fix import fix_text
from scenarios import HOST, Scenario

APP = "QIBM_QTMS_SMTP_CLIENT"
PYTHON = "/QOpenSys/ibmi-trust/venv/bin/python3.9"


def installed_simulator(tmp_path, monkeypatch, builder) -> Simulator:
    """A simulated IBM i on which install-objects built GSKPROBE (CRTBNDC)."""
    sim = Simulator(tmp_path / "ibmi")
    sim.gskprobe_builder = builder
    sim.add_application(APP, managed=True, description="SMTP client")
    report = Installer(IbmiSession(connection=sim.connection()), "ITRUST").install(PYTHON)
    assert report.gskit_proof == "available: ITRUST/GSKPROBE", report.warnings
    assert "ITRUST/GSKPROBE" in sim.programs
    sim.installed_library = "ITRUST"
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")
    return sim


@pytest.fixture
def setting(tmp_path, monkeypatch, gskprobe_builder):
    with Scenario("aia", tmp_path) as sc:
        sim = installed_simulator(tmp_path, monkeypatch, gskprobe_builder)
        yield sc, sim, system_store(sim, monkeypatch, tmp_path), monkeypatch, tmp_path


def options(sc, proof="gskit", **kw):
    out = sc.check_options(**kw)
    out.proof = proof
    return out


def test_check_asks_gskit_itself_and_keeps_both_answers(setting):
    sc, sim, store, _mp, _tmp = setting
    result = run_check(sc.target(), options(sc), store=store)
    report = result.variants[0].report
    assert result.status == "CRITICAL" and report.decided_by == "gskit"
    answer = report.referee
    assert answer["decision"] == "rejects" and answer["model_verdict"] == "fixable"
    assert answer["words"] == "6000 GSK_IBMI_ERROR_NOT_TRUSTED_ROOT (SSL_ -23 SSL_ERROR_NOT_TRUSTED_ROOT?)"
    assert answer["gsk"]["ssl_api"]["code"] == -23 and answer["store"] == "*SYSTEM"
    assert report.verdict == "fixable" and report.to_add          # GSKit agrees: the plan stands
    # one CALL through QCMDEXC, both paths ending with a blank
    (program, params), = sim.program_calls
    assert program == "ITRUST/GSKPROBE" and all(p.endswith(" ") for p in params)
    assert any(c.startswith("CALL PGM(ITRUST/GSKPROBE) PARM('") for c in sim.cl_log)
    out = result.to_json()
    assert out["gskit"]["available"] and out["gskit"]["run"]["stand_in"]
    assert out["chains"][0]["decided_by"] == "gskit" and out["chains"][0]["referee"]["model_verdict"] == "fixable"
    text = check_text(result)
    assert "referee: GSKit handshake (ITRUST/GSKPROBE; stand-in: a model of GSKit" in text
    assert "the first run on a real IBM i calibrates it" in text
    assert "GSKit rejects it: 6000 GSK_IBMI_ERROR_NOT_TRUSTED_ROOT (SSL_ -23" in text


def test_fix_is_proven_by_gskit_handshakes(setting):
    sc, sim, store, _mp, _tmp = setting
    result = run_fix(sc.target(), options(sc), store=store, confirm=None)
    assert result.outcome == "fixed" and result.proof.ok
    assert result.proof.kind == "GSKit handshake" and result.proof.proven == {1: "GSKit handshake"}
    assert result.proof.gskit["handshakes"] and all(h["decision"] == "accepts"
                                                    for h in result.proof.gskit["handshakes"])
    # GSKit trusted the chain, so the new CAs are enabled: trusted, where the model alone says
    # unconfirmed; the one warning left is the server's (it does not send its intermediate)
    after = result.after.variants[0].report
    assert after.decided_by == "gskit" and after.verdict == "trusted" and after.referee["model_verdict"] == "unconfirmed"
    assert [(f.code, f.severity) for f in after.findings] == [("ca-state-unknown", "info"),
                                                              ("incomplete-chain", "warning")]
    assert result.status == "WARNING"
    assert "proof: GSKit handshake" in fix_text(result)
    assert json.loads(json.dumps(result.to_json()))["proof"]["kind"] == "GSKit handshake"
    again = run_check(sc.target(), options(sc, sourcing=False), store=store)
    assert again.variants[0].report.referee["decision"] == "accepts" and again.status == "WARNING"


def test_a_chain_gskit_rejects_after_the_import_rolls_it_back(setting):
    sc, sim, store, _mp, _tmp = setting
    kdb_files = tree_bytes(sim.system_kdb.parent)
    opts = options(sc)
    confirm = sc.late_backend(opts, "127.0.0.5")
    with pytest.raises(RolledBack) as info:
        run_fix(sc.target(), opts, store=store, confirm=confirm)
    assert "proof: GSKit handshake" in info.value.message and "GSKit rejects" in info.value.message
    assert "127.0.0.5" in info.value.message
    assert tree_bytes(sim.system_kdb.parent) == kdb_files


@pytest.mark.parametrize("kind", ["minority", "addresses", "sni", "keytype"])
def test_fix_with_the_gskit_proof_for_every_variant_kind(tmp_path, monkeypatch, gskprobe_builder, kind):
    with Scenario(kind, tmp_path) as sc:
        sim = installed_simulator(tmp_path, monkeypatch, gskprobe_builder)
        store = system_store(sim, monkeypatch, tmp_path)
        before = run_check(sc.target(), options(sc), store=store)
        assert before.status == "CRITICAL" and len(before.variants) == 2
        met = [v for v in before.variants if v.report.decided_by == "gskit"]
        assert met and all(v.report.referee["gsk"]["code"] == 6000 for v in met)
        result = run_fix(sc.target(), options(sc), store=store, confirm=None)
        assert result.outcome == "fixed" and result.proof.ok, result.proof.failures
        assert set(result.proof.proven) == {1, 2}
        by_gskit = [n for n, how in result.proof.proven.items() if how == "GSKit handshake"]
        if kind in ("addresses", "sni"):                      # each chain has combinations of its own
            assert sorted(by_gskit) == [1, 2]
        else:                                                 # GSKit may not meet the other chain again
            assert by_gskit and all(how.startswith("GSKit model (GSKit's handshakes did not meet it again")
                                    for n, how in result.proof.proven.items() if n not in by_gskit)
        if kind == "sni":
            snis = {h["sni"] for h in result.proof.gskit["handshakes"]}
            assert snis == {HOST, None}


def test_an_unapproved_root_is_refused_with_gskit_saying_why(tmp_path, monkeypatch, gskprobe_builder):
    with Scenario("unapproved-root", tmp_path) as sc:
        sim = installed_simulator(tmp_path, monkeypatch, gskprobe_builder)
        store = system_store(sim, monkeypatch, tmp_path)
        kdb_files = tree_bytes(sim.system_kdb.parent)
        with pytest.raises(FixRefused) as info:
            run_fix(sc.target(), options(sc), store=store, confirm=None)
        assert sc.private_root.cert.sha256 in info.value.message
        before = info.value.result.before.variants[0].report
        assert before.decided_by == "gskit" and before.referee["gsk"]["code"] == 6000
        assert tree_bytes(sim.system_kdb.parent) == kdb_files


def test_gskit_decides_where_the_model_disagrees(setting):
    """The model takes a stored intermediate as an anchor (partial chains, the
    configurable default); the stand-in, with OpenSSL's rules, does not: GSKit's
    answer decides and both are kept."""
    sc, sim, store, monkeypatch, _tmp = setting
    sim.add_certificate(sc.inter_a.cert, "Scenario Issuing CA A")
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
    model_only = run_check(sc.target(), options(sc, proof="model", sourcing=False), store=store)
    assert model_only.status == "OK" and model_only.variants[0].report.decided_by == "model"
    result = run_check(sc.target(), options(sc, sourcing=False), store=store)
    report = result.variants[0].report
    assert result.status == "CRITICAL" and report.verdict == "untrusted"
    finding = report.findings[0]
    assert finding.code == "gskit-disagrees" and finding.severity == "critical"
    assert finding.detail["model"] == "trusted" and finding.detail["gskit"]["decision"] == "rejects"


def test_app_id_probes_with_the_application_and_its_trust_list(setting):
    sc, sim, _store, monkeypatch, tmp_path = setting
    sim.trust_lists[APP] = ["Simulated Preinstalled Root CA"]        # a list that restricts trust
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP)
    with pytest.raises(RolledBack) as info:                           # *SYSTEM fixed, the application not
        run_fix(sc.target(), options(sc), store=store, confirm=None)
    assert "GSKit rejects it with application ID %s: 6000" % APP in info.value.message
    assert "--add-to-trust-list" in info.value.message
    consent = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=True)
    result = run_fix(sc.target(), options(sc), store=consent, confirm=None)
    assert result.outcome == "fixed" and result.proof.kind == "GSKit handshake" and result.proof.ok
    assert all(h["store"] == "app:" + APP for h in result.proof.gskit["handshakes"])


def test_an_application_gskit_does_not_know_is_refused_before_anything_changes(setting):
    sc, sim, _store, monkeypatch, tmp_path = setting
    store = system_store(sim, monkeypatch, tmp_path, app_id="QIBM_NOT_REGISTERED")
    sim.add_application("QIBM_NOT_REGISTERED", managed=False)          # DCM lists it; GSKit's stand-in will not
    sim.applications = [a for a in sim.applications if a["APPLICATION_ID"] != "QIBM_NOT_REGISTERED"]
    kdb_files = tree_bytes(sim.system_kdb.parent)
    with pytest.raises(FixRefused) as info:
        run_fix(sc.target(), options(sc), store=store, confirm=None)
    assert "6002 GSK_IBMI_ERROR_NOT_REGISTERED" in info.value.message and "explain 6002" in info.value.hint
    assert tree_bytes(sim.system_kdb.parent) == kdb_files


def test_proof_choices_and_an_unavailable_program(setting):
    sc, sim, store, _mp, _tmp = setting
    model = run_fix(sc.target(), options(sc, proof="model"), store=store, confirm=None)
    assert model.proof.kind == "GSKit model" and sim.program_calls == []
    assert any("--proof model" in note for note in model.proof.notes)
    sim.programs.clear()                                              # GSKPROBE deleted
    with pytest.raises(ConfigError) as info:
        run_check(sc.target(), options(sc), store=store)
    assert "--proof gskit" in info.value.message and "ITRUST/GSKPROBE is not installed" in info.value.message
    auto = run_check(sc.target(), options(sc, proof="auto", sourcing=False), store=store)
    assert auto.gskit["available"] is False
    assert auto.referee.startswith("GSKit handshake unavailable (ITRUST/GSKPROBE is not installed")
    assert "the verdicts are the GSKit model's" in check_text(auto)


def test_a_server_that_stops_answering_gskit_leaves_the_model_verdict_and_says_why(setting):
    sc, sim, store, _mp, _tmp = setting
    sim.on_cl("CALL ", lambda command: sc.server.stop())              # gone before GSKit's handshakes
    result = run_check(sc.target(), options(sc), store=store)
    report = result.variants[0].report
    assert report.decided_by == "model" and report.verdict == "fixable"
    finding = next(f for f in report.findings if f.code == "gskit-no-verdict")
    assert "no handshake (refused" in finding.message
    assert "gave no verdict" in check_text(result)


def test_cli_check_and_fix_with_proof_gskit(setting):
    sc, sim, _store, monkeypatch, _tmp = setting
    as_ibmi(sim, monkeypatch)
    monkeypatch.setenv(PASSWORD_ENV, sim.store_password)
    args = [sc.target_text, "--protocol", "smtp", "--store", "*SYSTEM", "--password-env", PASSWORD_ENV,
            "--roots", sc.roots_path, "--rate", "500", "--timeout", "3", "--proof", "gskit"] + sc.resolve_args()
    check = CliRunner().invoke(cli, ["check"] + args + ["--json"])
    assert check.exit_code == 2, check.output
    data = json.loads(check.output)
    assert data["gskit"]["run"]["handshakes"][0]["gsk"]["constant"] == "GSK_IBMI_ERROR_NOT_TRUSTED_ROOT"
    fix = CliRunner().invoke(cli, ["fix"] + args + ["--yes"])
    assert fix.exit_code == 1, fix.output                     # WARNING: the server omits its intermediate
    assert "proof: GSKit handshake" in fix.output and "chain 1 proven by GSKit handshake" in fix.output
    assert "GSKit accepts this chain" in fix.output



# -- settle_gskit on its own: both directions of a disagreement --------------------------
def _report(verdict, *findings):
    from ibmi_trust.analyse.model import ChainReport, Finding

    return ChainReport(verdict=verdict, anchor=None, path=[], findings=[Finding(*f) for f in findings],
                       to_add=["x"] if verdict == "fixable" else [])


def test_gskit_accepting_what_the_model_rejects_decides_but_keeps_a_name_mismatch():
    from ibmi_trust.analyse.gskit_referee import settle_gskit

    report = _report("fixable", ("missing-issuer", "critical", "m"), ("name-mismatch", "critical", "n"))
    settle_gskit(report, {"decision": "accepts", "store": "*SYSTEM", "words": "0 GSK_OK"})
    assert report.verdict == "trusted" and report.to_add == [] and report.decided_by == "gskit"
    assert [(f.code, f.severity) for f in report.findings] == [
        ("gskit-disagrees", "info"), ("missing-issuer", "info"), ("name-mismatch", "critical")]
    assert report.referee["model_verdict"] == "fixable" and report.status == "CRITICAL"


def test_gskit_rejecting_what_the_model_accepts_names_the_likely_cause():
    from ibmi_trust.analyse.gskit_referee import settle_gskit

    unconfirmed = _report("unconfirmed", ("ca-state-unknown", "warning", "state?"))
    settle_gskit(unconfirmed, {"decision": "rejects", "store": "*SYSTEM", "words": "6000 X"})
    assert unconfirmed.verdict == "untrusted" and unconfirmed.status == "CRITICAL"
    assert "6000 X" in unconfirmed.findings[0].message and "may be disabled" in unconfirmed.findings[0].message
    listed = _report("trusted")
    settle_gskit(listed, {"decision": "rejects", "store": "app:QIBM_X", "words": "6000 X"})
    assert "store trust --app-id QIBM_X" in listed.findings[0].message
    neither = _report("fixable")
    settle_gskit(neither, {"decision": None, "reason": "no handshake (refused)"})
    assert neither.verdict == "fixable" and neither.decided_by == "model"
    assert neither.findings[0].code == "gskit-no-verdict" and "refused" in neither.findings[0].message


def test_combinations_the_program_cannot_take_are_left_out_not_fatal():
    from types import SimpleNamespace

    from ibmi_trust.jobs import gskit
    from ibmi_trust.probe import Target
    from ibmi_trust.probe.result import Combo

    served = {Combo("fe80::1%eth0", None, "rsa"): 2, Combo("127.0.0.1", "under_score.example", "ecdsa"): 1,
              Combo("127.0.0.1", None, "ecdsa"): 3}
    variants = [SimpleNamespace(index=1, variant=SimpleNamespace(combo_counts=served))]
    setting = gskit.Setting(runner=None, ehlo=gskit._ehlo("bad name"))
    requests, combo_of = gskit.plan(SimpleNamespace(combos=list(served)), variants,
                                    Target.parse("mx.example.test:25"), setting)
    assert [(r.address, r.sni, r.ehlo) for r in requests] == [("127.0.0.1", None, None)]
    assert combo_of == {requests[0].id: ("127.0.0.1", None)}
    assert gskit._ehlo("relay.example.test") == "relay.example.test"
