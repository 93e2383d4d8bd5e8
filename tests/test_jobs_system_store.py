"""fix end to end against *SYSTEM as the IBM i simulator presents it: real
loopback servers and AIA, the real SystemStore/IbmiSession/itoolkit code,
QYKMIMPK/QYKMEXPK/QycdAddCACertTrust emulated per IBM's documentation
(tests/ibmi_simulator.py). Not IBM i itself: docs/testing.md."""
import pytest

from ibmi_simulator import Simulator, system_store, tree_bytes
from ibmi_trust.errors import RolledBack, StoreWriteError
from ibmi_trust.jobs.check import run_check
from ibmi_trust.jobs.fix import run_fix
from scenarios import Scenario

APP = "QIBM_QTMS_SMTP_CLIENT"


@pytest.fixture
def setting(tmp_path, monkeypatch):
    with Scenario("aia", tmp_path) as sc:
        sim = Simulator(tmp_path / "ibmi")
        sim.add_application(APP, managed=True, description="SMTP client")
        yield sc, sim, monkeypatch, tmp_path


def status_known(sim, monkeypatch):
    """A system where the CA status can be read (a configured status column, as
    docs/verify-on-your-system.md describes): the GSKit model can then say trusted."""
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")


def test_fix_imports_into_system_and_leaves_an_empty_application_list_alone(setting):
    sc, sim, monkeypatch, tmp_path = setting
    sim.installed_library = "ITRUST"
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")
    status_known(sim, monkeypatch)
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP)
    before = run_check(sc.target(), sc.check_options(), store=store)
    assert before.status == "CRITICAL"
    result = run_fix(sc.target(), sc.check_options(), store=store, confirm=None)
    assert result.status == "OK"
    added = {e.cert.sha256: e.label for e in result.change.added}
    assert set(added) == {sc.inter_a.cert.sha256, sc.root_a.cert.sha256}
    assert result.change.backup is not None
    # the import went through QYKMIMPK with a certificates-only PKCS#12 ...
    assert any(call[0] == "QYKMIMPK" for call in sim.program_log)
    # ... and DCM says the application trusts both new (enabled) CAs: its CA trust list is
    # empty, which trusts every enabled CA, so nothing is added to it (that would cut it
    # down to these two CAs)
    assert sim.trust_lists[APP] == []
    assert sorted((d["label"], d["action"]) for d in result.change.trust_list) == sorted(
        (label, "none") for label in added.values())
    after = run_check(sc.target(), sc.check_options(sourcing=False), store=store)
    assert after.status == "OK"


def test_fix_with_a_restricting_application_list_names_the_consent_command(setting):
    sc, sim, monkeypatch, tmp_path = setting
    sim.installed_library = "ITRUST"
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")
    sim.trust_lists[APP] = ["Simulated Preinstalled Root CA"]
    status_known(sim, monkeypatch)
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP)
    result = run_fix(sc.target(), sc.check_options(), store=store, confirm=None)
    assert result.status == "OK"                      # *SYSTEM is fixed ...
    assert sim.trust_lists[APP] == ["Simulated Preinstalled Root CA"]     # ... the list is not, without consent
    commands = [d["next_command"] for d in result.change.trust_list]
    assert all(c.startswith("ibmi-trust store trust --store '*SYSTEM' --app-id %s --add '" % APP) for c in commands)
    assert len(commands) == 2


def test_fix_with_consent_adds_the_new_cas_to_a_restricting_list(setting):
    from ibmi_trust.cli.cmd_fix import command
    from ibmi_trust.cli.common import build_store_options
    from ibmi_trust.errors import ConfigError

    assert "add_to_trust_list" in [param.name for param in command.params]
    with pytest.raises(ConfigError):
        build_store_options(add_to_trust_list=True)                  # consent means nothing without --app-id
    sc, sim, monkeypatch, tmp_path = setting
    sim.installed_library = "ITRUST"
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")
    sim.trust_lists[APP] = ["Simulated Preinstalled Root CA"]
    status_known(sim, monkeypatch)
    consent = build_store_options(app_id=APP, add_to_trust_list=True).extend_trust_list
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=consent)
    result = run_fix(sc.target(), sc.check_options(), store=store, confirm=None)
    added = [e.label for e in result.change.added]
    assert result.status == "OK" and len(added) == 2
    assert sim.trust_lists[APP] == ["Simulated Preinstalled Root CA"] + added


def test_failed_import_leaves_system_store_files_as_they_were(setting):
    sc, sim, monkeypatch, tmp_path = setting
    store = system_store(sim, monkeypatch, tmp_path)
    kdb_dir = sim.system_kdb.parent
    before = tree_bytes(kdb_dir)
    sim.fail_program("QYKMIMPK", "CPFB003")
    with pytest.raises(StoreWriteError) as info:
        run_fix(sc.target(), sc.check_options(), store=store, confirm=None)
    assert "QYKMIMPK" in str(info.value) and "CPFB003" in str(info.value)
    assert tree_bytes(kdb_dir) == before


def test_disproved_import_is_rolled_back_in_system_store(setting):
    """The re-probe meets a backend with an unfixable chain: the KDB is restored."""
    sc, sim, monkeypatch, tmp_path = setting
    store = system_store(sim, monkeypatch, tmp_path)
    kdb_dir = sim.system_kdb.parent
    before = tree_bytes(kdb_dir)
    options = sc.check_options()
    confirm = sc.late_backend(options, "127.0.0.5")
    with pytest.raises(RolledBack):
        run_fix(sc.target(), options, store=store, confirm=confirm)
    assert tree_bytes(kdb_dir) == before


@pytest.mark.parametrize("partial, expected", [("1", "OK"), ("0", "CRITICAL")])
def test_gskit_partial_chain_setting_decides_whether_a_stored_intermediate_suffices(setting, partial, expected):
    sc, sim, monkeypatch, tmp_path = setting
    sim.add_certificate(sc.inter_a.cert, "Scenario Issuing CA A")
    monkeypatch.setenv("IBMI_TRUST_GSKIT_PARTIAL_CHAIN", partial)
    status_known(sim, monkeypatch)
    store = system_store(sim, monkeypatch, tmp_path)
    result = run_check(sc.target(), sc.check_options(sourcing=False), store=store)
    assert result.status == expected


# -- a CA in *SYSTEM whose enabled state is known disabled, or unknown ----------------------
def _with_root_and_intermediate(sc, sim):
    sim.add_certificate(sc.root_a.cert, "Scenario Root A")
    sim.add_certificate(sc.inter_a.cert, "Scenario Issuing CA A")


def test_check_with_a_disabled_root_is_not_trusted(setting):
    """IBM: only ENABLED CAs in *SYSTEM are trusted. With a status column configured the
    backend reports the root disabled (enabled=False) and the chain is not trusted."""
    sc, sim, monkeypatch, tmp_path = setting
    _with_root_and_intermediate(sc, sim)
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
    monkeypatch.setenv("IBMI_TRUST_GSKIT_PARTIAL_CHAIN", "0")
    store = system_store(sim, monkeypatch, tmp_path)
    assert run_check(sc.target(), sc.check_options(sourcing=False), store=store).status == "OK"
    sim.disable_ca("Scenario Root A")
    assert run_check(sc.target(), sc.check_options(sourcing=False), store=store).status != "OK"


def test_check_never_says_trusted_on_an_unknown_enabled_state(setting):
    sc, sim, monkeypatch, tmp_path = setting
    _with_root_and_intermediate(sc, sim)           # no status column: enabled state unknown
    store = system_store(sim, monkeypatch, tmp_path)
    assert [e.enabled for e in store.list()] == [None, None, None]
    result = run_check(sc.target(), sc.check_options(sourcing=False), store=store)
    assert result.status == "WARNING"
    report = result.variants[0].report
    assert report.verdict == "unconfirmed" and "ca-state-unknown" in report.codes()
    assert "Digital Certificate Manager" in next(f.message for f in report.findings if f.code == "ca-state-unknown")


def test_fix_on_a_system_whose_ca_status_is_unknown_imports_and_says_what_to_confirm(setting):
    """After the import the new CAs' enabled state is as unknown as any other's: the
    fix is kept (the GSKit model proves the path), the result is WARNING, never OK."""
    sc, sim, monkeypatch, tmp_path = setting
    store = system_store(sim, monkeypatch, tmp_path)
    result = run_fix(sc.target(), sc.check_options(), store=store, confirm=None)
    assert result.outcome == "fixed" and result.proof.kind == "GSKit model" and result.proof.ok
    assert result.status == "WARNING" and result.exit_code == 1
    assert {v.report.verdict for v in result.after.variants} == {"unconfirmed"}


def test_a_disabled_root_is_named_with_its_remedy_and_fix_imports_nothing(setting):
    """A disabled CA is not a missing one: check names it with its remedy (enable it
    in DCM), the next step says so, and fix refuses without writing (importing the
    same certificate again cannot enable it)."""
    from ibmi_trust.errors import FixRefused
    from ibmi_trust.jobs import nextstep

    sc, sim, monkeypatch, tmp_path = setting
    _with_root_and_intermediate(sc, sim)
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
    monkeypatch.setenv("IBMI_TRUST_GSKIT_PARTIAL_CHAIN", "0")
    sim.disable_ca("Scenario Root A")
    store = system_store(sim, monkeypatch, tmp_path)
    result = run_check(sc.target(), sc.check_options(sourcing=False), store=store)
    assert result.status == "CRITICAL"
    disabled = [f for v in result.variants for f in v.report.findings if f.code == "ca-disabled-in-store"]
    assert disabled and all("enable it in Digital Certificate Manager" in f.message for f in disabled)
    steps = nextstep.for_check(result, nextstep.Invocation(target=sc.target().display(), store="*SYSTEM"))
    assert any("enable" in s.why and "Digital Certificate Manager" in s.why for s in steps), steps
    before = tree_bytes(sim.system_kdb.parent)
    with pytest.raises(FixRefused) as refused:
        run_fix(sc.target(), sc.check_options(), store=store, confirm=None)
    assert "Digital Certificate Manager" in refused.value.message + refused.value.hint
    assert tree_bytes(sim.system_kdb.parent) == before
