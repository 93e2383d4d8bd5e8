"""check -> fix -> check end to end against real loopback servers, a real AIA
HTTP server, a PEM-bundle store, with real `openssl verify` as the referee."""
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.errors import FixRefused, RolledBack, StoreWriteError
from ibmi_trust.jobs.check import run_check
from ibmi_trust.jobs.fix import run_fix
from scenarios import Scenario

VARIANT_KINDS = ["minority", "addresses", "sni", "keytype", "aia"]


@pytest.fixture
def scenario(request, tmp_path):
    with Scenario(request.param, tmp_path) as sc:
        yield sc


@pytest.mark.parametrize("scenario", VARIANT_KINDS, indirect=True)
def test_fix_turns_critical_into_ok_for_every_variant_kind(scenario):
    before = run_check(scenario.target(), scenario.check_options())
    assert before.status == "CRITICAL"
    expected_variants = 1 if scenario.kind == "aia" else 2
    assert len(before.variants) == expected_variants, [v.variant.certificates for v in before.variants]
    assert not any(scenario.openssl_verifies(chain) for chain in scenario.sent_chains)

    result = run_fix(scenario.target(), scenario.check_options(), confirm=None)
    assert result.status == "OK" and result.after is not None
    assert result.change.backup is not None
    added = {e.cert.sha256 for e in result.change.added}
    roots = {scenario.root_a.cert.sha256, scenario.root_b.cert.sha256}
    if scenario.kind == "aia":
        assert added == {scenario.root_a.cert.sha256, scenario.inter_a.cert.sha256}
    else:
        assert added == roots, "only the roots were missing; the servers send their intermediates"
    assert all(scenario.openssl_verifies(chain) for chain in scenario.sent_chains)
    after = run_check(scenario.target(), scenario.check_options(sourcing=False))
    assert after.status == "OK" and len(after.variants) == expected_variants


def test_fix_with_unapproved_root_refuses_and_leaves_store_byte_identical(tmp_path):
    with Scenario("unapproved-root", tmp_path) as sc:
        before = sc.store_bytes()
        with pytest.raises(FixRefused) as info:
            run_fix(sc.target(), sc.check_options(), confirm=None)
        assert sc.private_root.cert.sha256 in str(info.value)
        assert sc.store_bytes() == before
        # through the CLI: exit 5, one clear message, still byte-identical, no traceback
        result = CliRunner().invoke(cli, ["fix"] + sc.cli_args("--yes"))
        assert result.exit_code == 5, result.output
        assert "--trust-root" in result.output and "Traceback" not in result.output
        assert sc.store_bytes() == before
        # approving the fingerprint explicitly is what makes it importable
        fixed = run_fix(sc.target(), sc.check_options(approved={sc.private_root.cert.sha256}), confirm=None,
                        approved_roots={sc.private_root.cert.sha256})
        assert fixed.status == "OK"
        assert sc.private_root.cert.sha256 in {e.cert.sha256 for e in fixed.change.added}


def test_failure_injected_during_import_rolls_back(tmp_path, monkeypatch):
    with Scenario("minority", tmp_path) as sc:
        before = sc.store_bytes()
        monkeypatch.setenv("IBMI_TRUST_TEST_FAIL_AT", "before-confirm")
        with pytest.raises(StoreWriteError) as info:
            run_fix(sc.target(), sc.check_options(), confirm=None)
        assert "rolled back" in str(info.value).lower() or "restored" in str(info.value).lower()
        assert sc.store_bytes() == before
        result = CliRunner().invoke(cli, ["fix"] + sc.cli_args("--yes"))
        assert result.exit_code == 4 and sc.store_bytes() == before, result.output


def test_reprobe_that_disproves_the_import_rolls_back(tmp_path):
    """A load-balancer backend joins between the check and the re-probe and
    serves a chain nobody can fix: the import must be undone."""
    with Scenario("minority", tmp_path) as sc:
        options = sc.check_options()
        confirm = sc.late_backend(options, "127.0.0.4")
        before = sc.store_bytes()
        with pytest.raises(RolledBack) as info:
            run_fix(sc.target(), options, confirm=confirm)
        assert "restored" in str(info.value)
        assert sc.store_bytes() == before


def test_fix_dry_run_changes_nothing_and_shows_the_plan(tmp_path):
    with Scenario("aia", tmp_path) as sc:
        before = sc.store_bytes()
        result = CliRunner().invoke(cli, ["fix"] + sc.cli_args("--dry-run"))
        assert result.exit_code == 0, result.output
        assert "Plan (dry run: nothing is changed): would import 2 certificate(s)" in result.output
        assert "importing" not in result.output and "Plan: import" not in result.output
        assert sc.inter_a.cert.sha256 in result.output and "aia:http://127.0.0.1" in result.output
        assert sc.store_bytes() == before


def test_cli_check_fix_check_in_real_subprocesses(tmp_path):
    with Scenario("sni", tmp_path) as sc:
        run = lambda *args: subprocess.run([sys.executable, "-m", "ibmi_trust"] + list(args),
                                           capture_output=True, text=True, timeout=120)
        first = run("check", *sc.cli_args("--nagios"))
        assert first.returncode == 2, first.stdout + first.stderr
        assert first.stdout.startswith("IBMI-TRUST CRITICAL - ") and "'missing'=2;;0;0" in first.stdout
        fixed = run("fix", *sc.cli_args("--yes", "--ssl-rc", "-23"))
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert "explain" in fixed.stdout.lower() and "-23" in fixed.stdout
        second = run("check", *sc.cli_args("--json"))
        assert second.returncode == 0, second.stderr
        import json

        doc = json.loads(second.stdout)
        assert doc["status"] == "OK" and doc["schema_version"] == 1
        assert all(chain["verdict"] == "trusted" and chain["missing"] == [] for chain in doc["chains"])


def test_check_could_not_probe_is_unknown_3(tmp_path):
    with Scenario("aia", tmp_path) as sc:
        port = sc.server.port
        sc.server.stop()
        result = CliRunner().invoke(cli, ["check"] + sc.cli_args())
        assert result.exit_code == 3, result.output
        nagios = CliRunner().invoke(cli, ["check", "--nagios"] + sc.cli_args())
        assert nagios.exit_code == 3 and nagios.output.startswith("IBMI-TRUST UNKNOWN - ")
        assert str(port) in nagios.output


def test_fix_does_not_prompt_without_a_terminal(tmp_path):
    with Scenario("aia", tmp_path) as sc:
        before = sc.store_bytes()
        result = CliRunner().invoke(cli, ["fix"] + sc.cli_args(), input="y\n")
        assert result.exit_code == 5 and "add --yes" in result.output, result.output
        assert sc.store_bytes() == before


def test_check_json_contract_names_what_is_missing(tmp_path):
    import json

    with Scenario("aia", tmp_path) as sc:
        result = CliRunner().invoke(cli, ["check"] + sc.cli_args("--json"))
        assert result.exit_code == 2, result.output
        doc = json.loads(result.output)
        assert doc["schema_version"] == 1 and doc["kind"] == "check" and doc["status"] == "CRITICAL"
        assert doc["handshakes"] >= 59 and len(doc["chains"]) == 1
        chain = doc["chains"][0]
        assert chain["verdict"] == "fixable" and chain["status"] == "CRITICAL"
        assert [c["sha256"] for c in chain["certificates"]] == [chain["certificates"][0]["sha256"]]   # leaf only, as sent
        missing = {m["sha256"]: m for m in chain["missing"]}
        assert set(missing) == {sc.inter_a.cert.sha256, sc.root_a.cert.sha256}
        assert missing[sc.inter_a.cert.sha256]["subject"] == sc.inter_a.cert.subject
        assert missing[sc.inter_a.cert.sha256]["sources"][0].startswith("aia:http://127.0.0.1:")
        assert missing[sc.root_a.cert.sha256]["reason"] == "root"
        assert {m["sha256"] for m in doc["missing"]} == set(missing)


def test_a_store_intermediate_without_its_root_is_not_enough_for_openssl_stores(tmp_path):
    """sendmail's CAfile/CApath needs a self-signed anchor (OpenSSL without
    PARTIAL_CHAIN): check must not say OK where `openssl verify` fails."""
    with Scenario("aia", tmp_path) as sc:
        with open(sc.store_path, "a") as handle:
            handle.write(sc.inter_a.cert.pem())        # the intermediate only, not its root
        chain = sc.sent_chains[0]
        assert not sc.openssl_verifies(chain)
        before = run_check(sc.target(), sc.check_options())
        assert before.status == "CRITICAL"
        assert {m.sha256 for m in before.missing()} == {sc.root_a.cert.sha256}
        fixed = run_fix(sc.target(), sc.check_options(), confirm=None)
        assert fixed.status == "OK" and {e.cert.sha256 for e in fixed.change.added} == {sc.root_a.cert.sha256}
        assert sc.openssl_verifies(chain)


def test_fix_without_any_stdin_refuses_cleanly(tmp_path):
    """As under a job scheduler or CI: file descriptor 0 closed."""
    with Scenario("aia", tmp_path) as sc:
        before = sc.store_bytes()
        proc = subprocess.run([sys.executable, "-c", "import os, sys; os.close(0); sys.stdin = None; "
                               "from ibmi_trust.cli import main; main(sys.argv[1:])", "fix"] + sc.cli_args(),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 5 and "add --yes" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and sc.store_bytes() == before
