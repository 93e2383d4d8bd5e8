"""`ibmi-trust store ...` end to end: options, exit codes, text and JSON output."""
import json
import os

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.errors import EXIT_OK, EXIT_REFUSED, EXIT_STORE, EXIT_UNKNOWN
from store_support import links_of, run_python, start_python, tree_image


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    try:
        runner = CliRunner(mix_stderr=False)   # click < 8.2
    except TypeError:
        runner = CliRunner()                   # click >= 8.2 keeps stderr apart anyway

    def invoke(*args):
        return runner.invoke(cli, ["store"] + [str(a) for a in args], catch_exceptions=False)
    return invoke


@pytest.fixture
def files(pki, tmp_path):
    out = {}
    for key, issued, fmt in (("root", pki["A"]["root"], "pem"), ("inter", pki["A"]["inter"], "der"),
                             ("leaf", pki["A"]["ec"], "pem"), ("root_b", pki["B"]["root"], "pem")):
        path = tmp_path / ("%s.%s" % (key, fmt))
        path.write_bytes(issued.cert_pem() if fmt == "pem" else issued.cert.der)
        out[key] = path
    out["dir"] = tmp_path / "certs"
    out["dir"].mkdir()
    out["store"] = "capath:%s" % out["dir"]
    return out


def test_a_root_needs_its_fingerprint(run, files, pki):
    sha = pki["A"]["root"].cert.sha256

    refused = run("add", files["root"], "--store", files["store"])

    assert refused.exit_code == EXIT_REFUSED
    assert sha in refused.stderr and "--trust-root %s" % sha in refused.stderr
    assert os.listdir(str(files["dir"])) == []
    import shlex

    pasted = shlex.split(refused.stderr.split("out of band, then: ", 1)[1].strip())
    assert pasted[:3] == ["ibmi-trust", "store", "add"] and pasted[-2:] == ["--trust-root", sha]
    assert run(*pasted[2:], "--dry-run").exit_code == EXIT_OK         # the printed command is accepted

    approved = run("add", files["root"], files["inter"], "--store", files["store"], "--trust-root", sha.upper())

    assert approved.exit_code == EXIT_OK, approved.stderr
    assert "added     Test_Root_A.pem" in approved.stdout and "added     Test_Issuing_CA_A.pem" in approved.stdout
    assert "backup    " in approved.stdout


def test_add_twice_is_a_reported_no_op_and_dry_run_changes_nothing(run, files, pki, tmp_path):
    assert run("add", files["inter"], "--store", files["store"]).exit_code == EXIT_OK
    before = tree_image(tmp_path)

    again = run("add", files["inter"], "--store", files["store"])
    after_again = tree_image(tmp_path)
    dry = run("add", files["root_b"], "--store", files["store"], "--dry-run",
              "--trust-root", pki["B"]["root"].cert.sha256)

    assert again.exit_code == EXIT_OK and "present   Test_Issuing_CA_A.pem" in again.stdout
    assert "nothing to change" in again.stdout
    # the no-op add took the lock beside the directory (its record names the holder and the
    # time): all else is untouched, and nothing of ours is inside the CApath
    strip_lock = lambda image: {k: v for k, v in image.items() if k != ".ibmi-trust-certs.lock"}
    assert ".ibmi-trust-certs.lock" in after_again
    assert strip_lock(after_again) == strip_lock(before)
    assert not [n for n in os.listdir(str(files["dir"])) if n.startswith(".ibmi-trust")]
    assert dry.exit_code == EXIT_OK and dry.stdout.startswith("dry run: nothing was changed")
    assert "would add Test_Root_B.pem" in dry.stdout and "would write Test_Root_B.pem" in dry.stdout
    assert tree_image(tmp_path) == after_again          # a dry run takes no lock and writes nothing


def test_a_leaf_is_refused(run, files):
    result = run("add", files["leaf"], "--store", files["store"])
    assert result.exit_code == EXIT_REFUSED and "not a CA certificate" in result.stderr


def test_list_text_and_json(run, files, pki):
    run("add", files["inter"], "--store", files["store"])
    (files["dir"] / "junk.pem").write_text("junk")

    text = run("list", "--store", files["store"], "--long")
    as_json = run("list", "--store", files["store"], "--json")

    assert text.exit_code == EXIT_OK
    assert text.stdout.startswith("Test_Issuing_CA_A.pem  CN=Test Issuing CA A,O=ibmi-trust test\n")
    assert "    SHA-256  %s" % pki["A"]["inter"].cert.sha256 in text.stdout
    assert "    enabled  yes" in text.stdout and "1 certificate(s) in capath:" in text.stdout
    assert "problem: " in text.stderr and "junk.pem" in text.stderr
    data = json.loads(as_json.stdout)
    assert data["schema_version"] == 1 and data["kind"] == "store-list"
    assert data["store"] == files["store"]
    assert [(e["label"], e["enabled"], e["sha256"]) for e in data["entries"]] == [
        ("Test_Issuing_CA_A.pem", True, pki["A"]["inter"].cert.sha256)]
    assert data["problems"][0]["where"].endswith("junk.pem")


def test_remove_then_restore_from_the_command_line(run, files, pki):
    run("add", files["inter"], "--store", files["store"])
    sha = pki["A"]["inter"].cert.sha256

    typo = run("remove", ":".join(sha[i:i + 2] for i in range(0, 64, 2)), "nope", "--store", files["store"])
    assert typo.exit_code == EXIT_REFUSED and "matches nope; nothing was removed" in typo.stderr
    assert "store list --store capath:" in typo.stderr and "--grep" in typo.stderr
    assert list(links_of(files["dir"]).values()) == ["Test_Issuing_CA_A.pem"]     # all or nothing
    removed = run("remove", ":".join(sha[i:i + 2] for i in range(0, 64, 2)), "--store", files["store"])
    listing = run("restore", "--list", "--store", files["store"], "--json")
    restored = run("restore", "--store", files["store"], "--json")

    assert removed.exit_code == EXIT_OK
    assert "removed   Test_Issuing_CA_A.pem" in removed.stdout
    document = json.loads(listing.stdout)
    assert (document["schema_version"], document["kind"]) == (1, "store-backups")
    backups = document["backups"]
    assert len(backups) == 2 and backups[0]["id"] > backups[1]["id"]
    report = json.loads(restored.stdout)
    assert (report["schema_version"], report["kind"]) == (1, "store-change")
    assert [e["sha256"] for e in report["added"]] == [sha] and report["backup"]["id"] > backups[0]["id"]
    assert list(links_of(files["dir"]).values()) == ["Test_Issuing_CA_A.pem"]


def test_backup_command(run, files):
    result = run("backup", "--store", files["store"], "--json")
    assert result.exit_code == EXIT_OK
    document = json.loads(result.stdout)
    assert (document["schema_version"], document["kind"]) == (1, "store-backup")
    assert os.path.isdir(os.path.join(document["backup"]["location"], "certs"))
    assert run("backup", "--store", files["store"]).stdout.startswith("backup 20")


def test_option_errors(run, files, tmp_path):
    no_store = run("list")
    ibmi_only = run("list", "--store", files["store"], "--password-env", "PW")
    missing = run("list", "--store", "capath:%s" % (tmp_path / "missing"))
    bad_retention = run("list", "--store", files["store"], "--retention", "0")

    assert no_store.exit_code == EXIT_UNKNOWN and "--store is required off IBM i" in no_store.stderr
    assert ibmi_only.exit_code == EXIT_UNKNOWN and "--password-env apply only to IBM i" in ibmi_only.stderr
    assert missing.exit_code == EXIT_STORE and "does not exist" in missing.stderr
    assert bad_retention.exit_code == EXIT_UNKNOWN


def test_lock_contention_exit_code(run, files, tmp_path):
    lock = str(files["dir"].parent / ".ibmi-trust-certs.lock")
    holder = start_python("from ibmi_trust.store.lock import StoreLock\nimport sys\n"
                          "with StoreLock(%r, timeout=5):\n    print('locked', flush=True)\n"
                          "    sys.stdin.readline()\n" % lock)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run("add", files["inter"], "--store", files["store"], "--lock-timeout", "0.2")
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    assert result.exit_code == EXIT_STORE
    assert "is locked by pid %d" % holder.pid in result.stderr


def test_real_process_exit_code_and_light_help():
    """The installed entry point: help imports no cryptography; a refusal exits 5."""
    code = ("import sys\nfrom ibmi_trust.cli import main\n"
            "try:\n    main(['store', 'add', '--help'])\nexcept SystemExit as e:\n    print('exit', e.code)\n"
            "print('cryptography' in sys.modules)\n")
    result = run_python(code)
    assert result.stdout.splitlines()[-2:] == ["exit 0", "False"]
    assert "--trust-root SHA256" in result.stdout


def test_ibmi_options_reach_the_system_store(run, monkeypatch, tmp_path):
    """--password-env/--password-file/--app-id go to the IBM i backend as StoreOptions."""
    import sys
    import types

    seen = {}

    class SystemStore:
        spec = "*SYSTEM"
        problems = []

        def __init__(self, spec, options):
            seen.update(spec=spec, options=options)

        def list(self):
            return []

    module = types.ModuleType("ibmi_trust.ibmi.system_store")
    module.SystemStore = SystemStore
    monkeypatch.setitem(sys.modules, "ibmi_trust.ibmi.system_store", module)
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    secret = tmp_path / "pw"

    result = run("list", "--password-env", "KDB_PW", "--password-file", secret, "--app-id", "QIBM_QTMS_SMTP",
                 "--retention", "4", "--lock-timeout", "2.5", "--backup-dir", tmp_path)

    assert result.exit_code == EXIT_OK, result.stderr
    options = seen["options"]
    assert seen["spec"] == "*SYSTEM"
    assert (options.password_env, options.password_file, options.app_id) == ("KDB_PW", str(secret), "QIBM_QTMS_SMTP")
    assert (options.retention, options.lock_timeout, options.backup_dir) == (4, 2.5, str(tmp_path))


def test_remove_of_an_unknown_fingerprint_exits_non_zero_and_changes_nothing(run, files, tmp_path):
    run("add", files["inter"], "--store", files["store"])
    before = tree_image(files["dir"])
    unknown = run("remove", "ab" * 32, "--store", files["store"])
    dry = run("remove", "ab" * 32, "--store", files["store"], "--dry-run")
    assert unknown.exit_code == EXIT_REFUSED and "nothing was removed" in unknown.stderr
    assert dry.exit_code == EXIT_REFUSED
    assert tree_image(files["dir"]) == before


def test_add_fullchain_takes_the_cas_and_skips_the_server_certificate(run, files, pki, tmp_path):
    fullchain = tmp_path / "fullchain.pem"
    fullchain.write_bytes(pki["A"]["ec"].cert_pem() + pki["A"]["inter"].cert_pem())
    only_leaf = run("add", files["leaf"], "--store", files["store"])
    added = run("add", fullchain, "--store", files["store"])
    assert only_leaf.exit_code == EXIT_REFUSED and "no CA certificate" in only_leaf.stderr
    assert added.exit_code == EXIT_OK, added.stderr
    assert "added     Test_Issuing_CA_A.pem" in added.stdout
    assert "note: skipped CN=mx.example.test" in added.stderr and pki["A"]["ec"].cert.sha256 in added.stderr
    assert list(links_of(files["dir"]).values()) == ["Test_Issuing_CA_A.pem"]


def test_list_is_one_line_per_ca_sorted_by_expiry_with_filters(run, files, pki, tmp_path):
    import datetime

    from ibmi_trust.testing.pki import CA

    soon = CA.root("Soon Expiring Root", days=10)
    soon_file = tmp_path / "soon.pem"
    soon_file.write_bytes(soon.cert_pem())
    sha_a, sha_soon = pki["A"]["root"].cert.sha256, soon.cert.sha256
    run("add", files["inter"], files["root"], soon_file, "--store", files["store"], "--trust-root", sha_a,
        "--trust-root", sha_soon)

    table = run("list", "--store", files["store"])
    expiring = run("list", "--store", files["store"], "--expiring", "30")
    grep = run("list", "--store", files["store"], "--grep", "issuing ca")
    by_fp = run("list", "--store", files["store"], "--grep", sha_a[:12].upper(), "--json")

    lines = table.stdout.splitlines()
    assert lines[0].split() == ["EXPIRES", "DAYS", "LABEL", "SUBJECT", "CN", "SHA-256"]
    rows = lines[1:4]
    days = [int(row.split()[1]) for row in rows]
    assert days == sorted(days) and rows[0].split()[2] == "Soon_Expiring_Root.pem"
    expected = (soon.cert.not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    assert days[0] == round(expected) and rows[0].split()[0] == soon.cert.not_after.strftime("%Y-%m-%d")
    assert rows[0].endswith(sha_soon[:16] + "...")
    assert lines[4] == "3 certificate(s) in %s" % files["store"]
    assert [row.split()[2] for row in expiring.stdout.splitlines()[1:-1]] == ["Soon_Expiring_Root.pem"]
    assert expiring.stdout.splitlines()[-1].startswith("1 of 3 certificate(s) in capath:")
    assert [row.split()[2] for row in grep.stdout.splitlines()[1:-1]] == ["Test_Issuing_CA_A.pem"]
    document = json.loads(by_fp.stdout)
    assert [e["sha256"] for e in document["entries"]] == [sha_a] and document["total"] == 3
    assert document["entries"][0]["days_left"] == int(document["entries"][0]["days_left"])
