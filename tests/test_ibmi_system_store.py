"""SystemStore on the simulator: list, add (idempotent, confirmed, rolled back),
application trust lists, backup and restore of the real KDB/RDB files."""
import json
import os

import pytest
from pathlib import Path

from ibmi_simulator import PREINSTALLED_LABEL, Simulator, system_store, tree_bytes
from ibmi_trust.errors import ConfigError, PasswordError, StoreError, StoreLocked, StoreWriteError
from ibmi_trust.ibmi import kdb_backup
from ibmi_trust.testing.pki import CA


@pytest.fixture(scope="module")
def chain():
    root = CA.root("Mail Root CA")
    inter = root.intermediate("Mail Issuing CA")
    return {"root": root.cert, "inter": inter.cert, "reissued_root": root.reissue().cert}


@pytest.fixture
def sim(tmp_path):
    return Simulator(tmp_path / "ifs")


@pytest.fixture
def store(sim, monkeypatch, tmp_path):
    return system_store(sim, monkeypatch, tmp_path)


def store_dir(sim):
    return sim.system_kdb.parent


def imports(sim):
    return [key for key, _params in sim.program_log if key == "QYKMIMPK"]


def test_list_joins_labels_and_certificate_bytes(store, sim):
    entries = store.list()
    assert [(e.label, e.cert.subject) for e in entries] == \
        [("Simulated Preinstalled Root CA", "CN=Simulated Preinstalled Root CA,O=ibmi-trust test")]
    assert entries[0].trusted is None and store.problems == []
    sql, params = sim.sql_log[0]
    assert params == ("*NOPWD", "*SYSTEM")                         # *NOPWD first (ref 1.2)


def test_add_imports_with_subject_labels_backs_up_and_confirms(store, sim, chain):
    before = tree_bytes(store_dir(sim))
    report = store.add([chain["root"], chain["inter"]])
    assert [(e.label, e.cert.sha256) for e in report.added] == \
        [("Mail Root CA", chain["root"].sha256), ("Mail Issuing CA", chain["inter"].sha256)]
    assert [label for label, _c in sim.entries()][-2:] == ["Mail Root CA", "Mail Issuing CA"]
    backup = report.backup
    assert sorted(os.listdir(backup.location)) == ["DEFAULT.KDB", "DEFAULT.RDB"]
    assert {name: (open(os.path.join(backup.location, name), "rb").read()) for name in os.listdir(backup.location)} \
        == before
    assert os.stat(os.path.dirname(backup.location)).st_mode & 0o077 == 0
    assert all(os.stat(os.path.join(backup.location, n)).st_mode & 0o077 == 0 for n in os.listdir(backup.location))
    assert len(imports(sim)) == 1


def test_adding_what_is_present_is_a_reported_no_op(store, sim, chain):
    store.add([chain["root"]])
    snapshot = tree_bytes(store_dir(sim))
    report = store.add([chain["root"], chain["root"]])
    assert not report.changed and report.backup is None
    assert [e.label for e in report.already_present] == ["Mail Root CA"]
    assert tree_bytes(store_dir(sim)) == snapshot and len(imports(sim)) == 1


def test_same_public_key_is_not_imported_and_says_why(store, sim, chain):
    store.add([chain["root"]])
    report = store.add([chain["reissued_root"]])
    assert not report.changed and [e.label for e in report.already_present] == ["Mail Root CA"]
    assert any("same public key as Mail Root CA" in note for note in report.notes)


def test_label_clash_with_an_existing_certificate_gets_the_expiry_year(store, sim, chain):
    other = CA.root("Mail Root CA").cert            # same subject, different key
    sim.add_certificate(other, "Mail Root CA")
    report = store.add([chain["root"]])
    assert report.added[0].label == "Mail Root CA (%d)" % chain["root"].not_after.year


def test_dry_run_changes_nothing(store, sim, chain, tmp_path):
    snapshot = tree_bytes(store_dir(sim))
    report = store.add([chain["root"]], dry_run=True)
    assert report.dry_run and [e.label for e in report.added] == ["Mail Root CA"]
    assert tree_bytes(store_dir(sim)) == snapshot
    assert imports(sim) == [] and store.backups() == []


def test_failed_import_is_rolled_back(store, sim, chain):
    snapshot = tree_bytes(store_dir(sim))
    sim.fail_program("QYKMIMPK", "CPFB006")
    with pytest.raises(StoreWriteError) as caught:
        store.add([chain["root"]])
    assert "QYKMIMPK failed: CPFB006" in str(caught.value) and "rolled back" in str(caught.value)
    assert tree_bytes(store_dir(sim)) == snapshot


def test_silently_skipped_import_is_caught_by_the_re_read_and_rolled_back(store, sim, chain):
    # ref 4.1: QYKMIMPK skips an entry whose label exists, without an error. Another
    # DCM user takes the label between our plan and the import:
    snapshot = tree_bytes(store_dir(sim))
    sim.before_program("QYKMIMPK", lambda: sim.add_certificate(CA.root("Racer").cert, "Mail Root CA"))
    with pytest.raises(StoreWriteError) as caught:
        store.add([chain["root"]])
    assert "Mail Root CA is not in the store" in str(caught.value)
    assert tree_bytes(store_dir(sim)) == snapshot


def test_restore_rewrites_the_files_in_place(store, sim, chain):
    # Rewriting in place (not rename) keeps the store's owner and IBM i authorities.
    store.add([chain["root"]])
    inode = os.stat(str(sim.system_kdb)).st_ino
    store.restore()
    assert os.stat(str(sim.system_kdb)).st_ino == inode
    assert [label for label, _c in sim.entries()] == ["Simulated Preinstalled Root CA"]


def test_without_a_password_reading_names_the_options(sim, monkeypatch, tmp_path):
    store = system_store(sim, monkeypatch, tmp_path, with_password=False)
    monkeypatch.delenv("IBMI_TRUST_API_NOPWD", raising=False)
    with pytest.raises(PasswordError) as caught:
        store.list()
    assert "--password-env" in caught.value.hint and caught.value.exit_code == 4


def test_api_nopwd_setting_reads_without_a_password(sim, monkeypatch, tmp_path):
    store = system_store(sim, monkeypatch, tmp_path, with_password=False)
    monkeypatch.setenv("IBMI_TRUST_API_NOPWD", "1")
    sim.apis_accept_nopwd = True
    assert [e.label for e in store.list()] == ["Simulated Preinstalled Root CA"]


def test_a_kdb_path_store_falls_back_from_nopwd_to_the_password(sim, monkeypatch, tmp_path, chain):
    path = sim.create_store(tmp_path / "ifs" / "scratch" / "TEST.KDB", "scratch-pw")
    sim.add_certificate(chain["root"], "Mail Root CA", path=path)
    monkeypatch.setenv("SCRATCH_PW", "scratch-pw")
    store = system_store(sim, monkeypatch, tmp_path, str(path), password_env="SCRATCH_PW")
    assert [e.label for e in store.list()] == ["Mail Root CA"]
    params = [p for sql, p in sim.sql_log if "CERTIFICATE_INFO" in sql]
    assert params == [("*NOPWD", str(path)), ("scratch-pw", str(path))]
    report = store.add([chain["inter"]])
    assert [e.label for e in report.added] == ["Mail Issuing CA"]
    assert sim.entries() == [("Simulated Preinstalled Root CA", sim.entries()[0][1])]   # *SYSTEM untouched


def test_unknown_certificate_info_columns_are_reported(store, sim):
    sim.certificate_info_columns = ["CERT_LABEL", "VALID_TO"]
    with pytest.raises(StoreError) as caught:
        store.list()
    assert "CERTIFICATE_LABEL" in str(caught.value) and "CERT_LABEL, VALID_TO" in str(caught.value)
    assert "CERTIFICATE_INFO_COLUMNS" in caught.value.hint


def test_remove_is_refused_and_points_to_dcm(store):
    with pytest.raises(StoreError) as caught:
        store.remove(["Mail Root CA"])
    assert "no API" in str(caught.value) and "Digital Certificate Manager" in caught.value.hint


# -- application CA trust lists (IBM: an empty list trusts every ENABLED CA) ------------
APP = "QIBM_QTMS_SMTP_CLIENT"


@pytest.fixture
def installed(sim, monkeypatch):
    """install-objects ran: ITRCATRST (the QycdCheckCACertTrust wrapper) is in ITRUST."""
    sim.installed_library = "ITRUST"
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")


def test_an_empty_trust_list_is_never_added_to(sim, monkeypatch, tmp_path, chain, installed):
    # DCM: "If the definition for the application indicates that a CA trust list is
    # defined and no CAs are included in the CA trust list, all enabled CAs in the
    # *SYSTEM store are trusted." Adding one CA would cut the application down to it.
    sim.add_application(APP, managed=True)
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=True)
    dry = store.add([chain["root"]], dry_run=True)
    assert any("asks DCM whether %s trusts Mail Root CA" % APP in note for note in dry.notes)
    report = store.add([chain["root"]])
    assert sim.trust_lists[APP] == []                                     # still empty: every enabled CA
    assert "QycdAddCACertTrust" not in [key for key, _p in sim.program_log]
    assert [(d["label"], d["state"], d["action"]) for d in report.trust_list] == [
        ("Mail Root CA", "trusted", "none")]
    assert any("trusts Mail Root CA already" in note for note in report.notes)
    key, params = [(k, p) for k, p in sim.program_log if k == "ITRCATRST"][-1]
    assert params[:4] == [APP, len(APP), "Mail Root CA", 12]


def test_a_restricting_list_gets_the_ca_only_with_consent(sim, monkeypatch, tmp_path, chain, installed):
    sim.add_application(APP, managed=True, trust_list=[PREINSTALLED_LABEL])    # trusts only that CA
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP)
    report = store.add([chain["root"]])
    assert sim.trust_lists[APP] == [PREINSTALLED_LABEL]                       # no consent: unchanged
    decision = report.trust_list[0]
    assert (decision["state"], decision["action"]) == ("not-trusted", "needs-consent")
    assert "makes %s trust Mail Root CA as well" % APP in decision["reason"]
    assert decision["next_command"] == "ibmi-trust store trust --store '*SYSTEM' --app-id %s --add 'Mail Root CA'" % APP
    consented = system_store(sim, monkeypatch, tmp_path, app_id=APP)
    trusted = consented.trust(["mail root ca"], add=True)                      # the command above
    assert sim.trust_lists[APP] == [PREINSTALLED_LABEL, "Mail Root CA"]
    assert trusted.trust_list[0]["action"] == "added" and "added to %s's CA trust list" % APP in trusted.notes[0]
    key, params = [(k, p) for k, p in sim.program_log if k == "QycdAddCACertTrust"][-1]
    assert params[:5] == [APP, 21, "1", "Mail Root CA", 12]                   # ref 8.1
    again = consented.trust(["Mail Root CA"], add=True)
    assert again.trust_list[0]["action"] == "none"                             # now trusted: nothing more


def test_consent_on_import_adds_to_a_restricting_list_in_the_same_run(sim, monkeypatch, tmp_path, chain, installed):
    sim.add_application(APP, managed=True, trust_list=[PREINSTALLED_LABEL])
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=True)
    report = store.add([chain["root"], chain["inter"]])
    assert sim.trust_lists[APP] == [PREINSTALLED_LABEL, "Mail Root CA", "Mail Issuing CA"]
    assert [d["action"] for d in report.trust_list] == ["added", "added"]
    assert all("Confirm first in DCM" in d["reason"] for d in report.trust_list)   # enabled state unknown


def test_a_disabled_ca_is_to_be_enabled_not_added(sim, monkeypatch, tmp_path, installed):
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
    sim.add_application(APP, managed=True)          # empty list: every ENABLED CA
    sim.disable_ca(PREINSTALLED_LABEL)
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP)
    report = store.trust([PREINSTALLED_LABEL], add=True)
    decision = report.trust_list[0]
    assert (decision["state"], decision["action"]) == ("not-trusted", "enable-in-dcm")
    assert "Set CA status" in decision["reason"] and sim.trust_lists[APP] == []


def test_without_the_checker_the_state_is_unknown_and_nothing_is_added(sim, monkeypatch, tmp_path, chain):
    sim.add_application(APP, managed=True, trust_list=[PREINSTALLED_LABEL])
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=True)
    report = store.add([chain["root"]])                     # no install record: ITRCATRST unknown
    assert sim.trust_lists[APP] == [PREINSTALLED_LABEL]
    decision = report.trust_list[0]
    assert (decision["state"], decision["action"], decision["next_command"]) == ("unknown", "unknown", "ibmi-trust doctor")
    assert "install-objects" in decision["reason"]
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "NOTHERE")     # recorded, but not installed there
    later = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=True).trust(["Mail Root CA"], add=True)
    assert later.trust_list[0]["action"] == "unknown" and "NOTHERE/ITRCATRST" in later.trust_list[0]["reason"]
    assert sim.trust_lists[APP] == [PREINSTALLED_LABEL]


def test_unknown_indicator_codes_are_unknown_never_trusted(sim, monkeypatch, tmp_path, chain, installed):
    monkeypatch.setenv("IBMI_TRUST_CA_CHECK_INDICATORS", "Y=trusted,N=not-trusted,O=own-list,C=no-client-auth")
    sim.add_application(APP, managed=True, trust_list=[PREINSTALLED_LABEL])
    store = system_store(sim, monkeypatch, tmp_path, app_id=APP, extend_trust_list=True)
    report = store.trust([PREINSTALLED_LABEL], add=True)
    assert report.trust_list[0]["state"] == "unknown" and "return indicator '1'" in report.trust_list[0]["reason"]


def test_unmanaged_application_needs_nothing_more(sim, monkeypatch, tmp_path, chain):
    sim.add_application("QIBM_QTMS_SMTP_CLIENT", managed=False)
    store = system_store(sim, monkeypatch, tmp_path, app_id="QIBM_QTMS_SMTP_CLIENT")
    report = store.add([chain["root"]])
    assert any("MANAGED_CA_TRUSTS=NO" in note for note in report.notes)
    assert "QycdAddCACertTrust" not in [key for key, _p in sim.program_log]


def test_unknown_application_is_refused_before_any_change(sim, monkeypatch, tmp_path, chain):
    store = system_store(sim, monkeypatch, tmp_path, app_id="QIBM_NO_SUCH_APP")
    with pytest.raises(ConfigError):
        store.add([chain["root"]])
    assert imports(sim) == []


def test_trust_list_failure_rolls_the_import_back(sim, monkeypatch, tmp_path, chain, installed):
    sim.add_application("QIBM_QTMS_SMTP_CLIENT", managed=True, trust_list=[PREINSTALLED_LABEL])
    store = system_store(sim, monkeypatch, tmp_path, app_id="QIBM_QTMS_SMTP_CLIENT", extend_trust_list=True)
    snapshot = tree_bytes(store_dir(sim))
    sim.fail_program("QycdAddCACertTrust", "CPFB004")
    with pytest.raises(StoreWriteError) as caught:
        store.add([chain["root"]])
    assert "CA trust list of QIBM_QTMS_SMTP_CLIENT failed: QycdAddCACertTrust failed: CPFB004" in str(caught.value)
    assert tree_bytes(store_dir(sim)) == snapshot


def test_app_id_is_for_the_system_store_only(sim, monkeypatch, tmp_path):
    with pytest.raises(ConfigError):
        system_store(sim, monkeypatch, tmp_path, "/QIBM/UserData/ICSS/Cert/Server/OTHER.KDB", app_id="X")


# -- backups ---------------------------------------------------------------------------
def test_restore_round_trip_includes_the_rdb(store, sim, chain):
    original = tree_bytes(store_dir(sim))
    first = store.backup()
    store.add([chain["root"]])
    (store_dir(sim) / "DEFAULT.RDB").write_bytes(b"changed request database\n")
    dry = store.restore(first.id, dry_run=True)
    assert dry.notes[0] == "would restore backup %s" % first.id
    assert tree_bytes(store_dir(sim)) != original
    report = store.restore(first.id)
    assert tree_bytes(store_dir(sim)) == original
    assert report.backup.id != first.id and report.backup.id in [b.id for b in store.backups()]
    assert any("stash" in note for note in report.notes)                  # ref 10
    assert [e.label for e in store.list()] == ["Simulated Preinstalled Root CA"]


def test_stash_file_is_backed_up_when_present(store, sim):
    (store_dir(sim) / "DEFAULT.STH").write_bytes(b"stash")
    backup = store.backup()
    assert sorted(os.listdir(backup.location)) == ["DEFAULT.KDB", "DEFAULT.RDB", "DEFAULT.STH"]


def test_retention_keeps_the_newest(sim, monkeypatch, tmp_path):
    store = system_store(sim, monkeypatch, tmp_path, retention=2)
    made = [store.backup().id for _ in range(4)]
    assert [b.id for b in store.backups()] == list(reversed(made))[:2]


def test_a_held_lock_makes_writers_wait_then_give_up(sim, monkeypatch, tmp_path, chain):
    store = system_store(sim, monkeypatch, tmp_path, lock_timeout=0.2)
    guard = kdb_backup.guard(store.spec, store.kdb_path, store.options)
    with guard.lock:
        with pytest.raises(StoreLocked):
            store.add([chain["root"]])
    assert imports(sim) == []


def test_off_ibmi_the_system_store_is_refused_clearly(monkeypatch):
    from ibmi_trust.store.spec import StoreOptions, open_store

    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    with pytest.raises(ConfigError) as caught:
        open_store("*SYSTEM", StoreOptions())
    assert str(caught.value) == "*SYSTEM is an IBM i certificate store; on this machine use --store capath:DIR or bundle:FILE"


def test_a_write_killed_midway_is_reported_then_rolled_back_by_the_next_write(sim, monkeypatch, tmp_path, chain):
    # A real SIGKILL after QYKMIMPK changed the store, before the confirmation
    # (test hook of ibmi_trust.store.transaction).
    import subprocess
    import sys

    tests_dir = os.path.dirname(os.path.abspath(__file__))
    script = "\n".join([
        "import os, sys",
        "sys.path[:0] = [%r, %r]" % (os.path.dirname(tests_dir), tests_dir),
        "from pathlib import Path",
        "from ibmi_simulator import Simulator, system_store",
        "from ibmi_trust.certs import load_certificates",
        "class Env:",
        "    setenv = staticmethod(os.environ.__setitem__)",
        "store = system_store(Simulator(%r), Env, Path(%r))" % (str(tmp_path / "ifs"), str(tmp_path)),
        "store.add(load_certificates(sys.stdin.buffer.read()))",
    ])
    before = tree_bytes(store_dir(sim))
    env = dict(os.environ, IBMI_TRUST_TEST_FAIL_AT="before-confirm:kill")
    proc = subprocess.run([sys.executable, "-c", script], input=chain["root"].pem().encode("ascii"), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    assert "Mail Root CA" in [label for label, _c in sim.entries()]        # the import happened
    store = system_store(sim, monkeypatch, tmp_path)
    store.list()
    assert any("did not finish" in p.reason for p in store.problems)
    report = store.add([chain["inter"]])
    assert any("rolled back an interrupted write" in note for note in report.notes)
    assert [label for label, _c in sim.entries()] == ["Simulated Preinstalled Root CA", "Mail Issuing CA"]
    assert report.backup is not None and tree_bytes(report.backup.location) == before


def test_a_present_ca_is_checked_for_the_application_too(sim, monkeypatch, tmp_path, chain, installed):
    sim.add_application("QIBM_QTMS_SMTP_CLIENT", managed=True, trust_list=["Some Other CA"])
    sim.add_application("QIBM_QTMM_POP_SERVER", managed=False)
    store = system_store(sim, monkeypatch, tmp_path, app_id="QIBM_QTMS_SMTP_CLIENT")
    assert [a.app_id for a in store.applications_with_own_ca_list()] == ["QIBM_QTMS_SMTP_CLIENT"]
    report = store.add([sim.entries()[0][1]])
    assert not report.changed
    assert [(d["label"], d["action"]) for d in report.trust_list] == [(PREINSTALLED_LABEL, "needs-consent")]
    assert "QycdAddCACertTrust" not in [key for key, _p in sim.program_log]


# -- enabled state of a CA (IBM: all ENABLED CAs in *SYSTEM are trusted by default) ------------
def test_enabled_state_is_unknown_when_certificate_info_has_no_status_column(store, sim):
    sim.disable_ca(PREINSTALLED_LABEL)         # disabled in DCM, but nothing documented shows it
    entries = store.list()
    assert [(e.enabled, e.trusted) for e in entries] == [(None, None)]      # never "trusted" on unknown
    assert store.records_enabled_state and "unknown" in store.notes[0] and "Set CA status" in store.notes[0]


def test_a_disabled_ca_is_reported_disabled_and_untrusted_with_a_status_column(store, sim, monkeypatch):
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "certificate_status")
    sim.disable_ca(PREINSTALLED_LABEL)
    assert [(e.label, e.enabled, e.trusted) for e in store.list()] == [(PREINSTALLED_LABEL, False, False)]
    assert store.notes == []
    sim.store().set_enabled(PREINSTALLED_LABEL, True)
    assert [(e.enabled, e.trusted) for e in store.list()] == [(True, True)]


def test_store_list_says_unknown_and_disabled(sim, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from ibmi_simulator import PASSWORD_ENV, as_ibmi
    from ibmi_trust.cli import cli

    as_ibmi(sim, monkeypatch)
    monkeypatch.setenv(PASSWORD_ENV, sim.store_password)
    args = ["store", "list", "--store", "*SYSTEM", "--password-env", PASSWORD_ENV]
    unknown = CliRunner().invoke(cli, args + ["--long"])
    table = CliRunner().invoke(cli, args)
    assert unknown.exit_code == 0, unknown.output
    assert "    enabled  unknown" in unknown.output and "note: enabled state of the CAs: unknown" in unknown.output
    assert " [state?] " in table.output and "note: enabled state of the CAs: unknown" in table.output
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
    sim.disable_ca(PREINSTALLED_LABEL)
    disabled = CliRunner().invoke(cli, args + ["--json"])
    entry = json.loads(disabled.output)["entries"][0]
    assert (entry["enabled"], entry["trusted"]) == (False, False)
    assert " [disabled] " in CliRunner().invoke(cli, args).output


# -- a path that is not a store ---------------------------------------------------------------
def test_an_ifs_file_that_is_not_a_store_is_named_before_any_export(sim, monkeypatch, tmp_path):
    not_a_store = tmp_path / "notes.KDB"
    not_a_store.write_text("just a file\n")
    store = system_store(sim, monkeypatch, tmp_path, str(not_a_store))
    with pytest.raises(StoreError) as info:
        store.list()
    assert str(info.value) == "%s is not a certificate store (CERTIFICATE_INFO lists no certificate in it)" % not_a_store
    assert sim.program_log == []                       # QYKMEXPK was never called
    missing = system_store(sim, monkeypatch, tmp_path, str(tmp_path / "nosuch.KDB"))
    with pytest.raises(StoreError, match="does not exist"):
        missing.list()
    assert sim.program_log == []


# -- backups of DEFAULT.KDB: outside IBM's tree, owner-only, named in every report -----------
def test_backups_default_to_a_private_directory_outside_the_icss_tree(sim, monkeypatch, tmp_path, chain):
    import stat

    base = tmp_path / "var" / "ibmi-trust" / "kdb-backups"
    monkeypatch.setenv("IBMI_TRUST_KDB_BACKUP_DIR", str(base))
    store = system_store(sim, monkeypatch, tmp_path, backup_dir=None)
    report = store.add([chain["root"]])
    location = report.backup.location
    assert location.startswith(str(base) + os.sep)
    assert not any("ICSS" in str(p) for p in Path(location).parents if str(p).startswith(str(sim.root)))
    assert not any(name.endswith(".ibmi-trust-backups") for name in os.listdir(str(store_dir(sim))))
    for directory in (base.parent, base, Path(location).parent, Path(location)):
        assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o700, directory
    assert any(location in note and "owner-only" in note for note in report.notes)
    restored = store.restore(report.backup.id)
    assert any(restored.backup.location in note for note in restored.notes)


def test_backups_by_default_go_to_the_documented_place(sim, monkeypatch, tmp_path):
    monkeypatch.delenv("IBMI_TRUST_KDB_BACKUP_DIR", raising=False)
    store = system_store(sim, monkeypatch, tmp_path, backup_dir=None)
    root = kdb_backup.backup_area(store.kdb_path, store.options).root
    assert str(root).startswith("/QOpenSys/var/ibmi-trust/kdb-backups/DEFAULT.KDB-")


def test_an_existing_backup_dir_keeps_its_mode(sim, monkeypatch, tmp_path, chain):
    import stat

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(str(shared), 0o755)
    store = system_store(sim, monkeypatch, tmp_path, backup_dir=str(shared))
    report = store.add([chain["root"]])
    assert stat.S_IMODE(os.stat(str(shared)).st_mode) == 0o755         # the operator's directory
    assert stat.S_IMODE(os.stat(os.path.dirname(report.backup.location)).st_mode) == 0o700
