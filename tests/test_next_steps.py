"""Every output that ends in a decision ends with the next command, and the
command does what it says: these tests paste the printed commands (real
loopback servers, a real AIA server, a PEM-bundle store, real openssl)."""
import os
import shlex
import subprocess

import pytest

from ibmi_trust.errors import EXIT_PARTIAL, EXIT_REFUSED
from scenarios import HOST, Scenario, invoke_cli


def run(argv, cwd=None):
    """Run a printed `ibmi-trust ...` command line (no terminal, as in a job)."""
    words = shlex.split(argv) if isinstance(argv, str) else argv
    assert words[0] == "ibmi-trust", words
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(str(cwd))
        return invoke_cli(*words[1:])
    finally:
        os.chdir(old)


def next_commands(output: str):
    """The commands under "next:" / "or:" lines, in order."""
    lines = output.splitlines()
    out = []
    for number, line in enumerate(lines[:-1]):
        if line.startswith(("next: ", "or: ")) and lines[number + 1].startswith("  "):
            out.append(lines[number + 1].strip())
    return out


def test_check_then_the_printed_fix_partial_then_the_printed_trust_root(tmp_path):
    with Scenario("partial", tmp_path) as sc:
        check = run(["ibmi-trust", "check"] + sc.cli_args())
        assert check.exit_code == 2, check.output
        partial, approve = next_commands(check.stdout)[:2]
        assert partial.endswith("--partial") and "--store bundle:%s" % sc.store_path in partial
        for needed in ("--protocol smtp", "--resolve %s:%d:127.0.0.1" % (HOST, sc.server.port),
                       "--roots %s" % sc.roots_path):
            assert needed in partial and needed in approve
        assert "--trust-root %s" % sc.private_root.cert.sha256 in approve

        refused = run(partial)                         # no terminal to ask on: refused, names --yes
        assert refused.exit_code == EXIT_REFUSED, refused.output
        with_yes = next_commands(refused.stdout)[0]
        assert with_yes == partial + " --yes"
        fixed = run(with_yes)
        assert fixed.exit_code == EXIT_PARTIAL, fixed.output
        assert sc.openssl_verifies(sc.sent_chains[0]) and not sc.openssl_verifies(sc.sent_chains[1])
        after = next_commands(fixed.stdout)
        assert after and after[0] == approve, fixed.stdout

        approved = run(approve + " --yes")
        assert approved.exit_code == 0, approved.output
        assert all(sc.openssl_verifies(chain) for chain in sc.sent_chains)
        done = run(["ibmi-trust", "check"] + sc.cli_args())
        assert done.exit_code == 0 and "next: nothing to do" in done.stdout


def test_fix_refusal_names_the_blocked_chain_and_partial_and_dry_run_shows_the_plan(tmp_path):
    with Scenario("partial", tmp_path) as sc:
        before = sc.store_bytes()
        dry = run(["ibmi-trust", "fix"] + sc.cli_args("--dry-run"))
        refusal = run(["ibmi-trust", "fix"] + sc.cli_args("--yes"))
        dry_partial = run(["ibmi-trust", "fix"] + sc.cli_args("--dry-run", "--partial"))
        assert dry.exit_code == EXIT_REFUSED and dry_partial.exit_code == EXIT_PARTIAL
        assert "would import 1 certificate(s) for chain 1:" in dry.stdout
        assert sc.root_a.cert.sha256 in dry.stdout and "chain 2 cannot be fixed" in dry.stdout
        assert "importing" not in dry.stdout + dry.stderr
        assert refusal.exit_code == EXIT_REFUSED
        assert "chain 2 cannot be fixed" in refusal.stderr and "--partial" in refusal.stderr
        assert next_commands(refusal.stdout)[0].endswith("--partial")
        assert sc.store_bytes() == before


def test_fix_partial_proves_the_fixable_chain_on_a_combination_that_serves_both(tmp_path):
    """Chain 1 and the private chain 2 come from the same address: the proof's
    handshakes meet chain 2 failing with OpenSSL's error for it (19), which is
    expected, and must still meet chain 1 verifying."""
    from ibmi_trust.jobs.fix import run_fix

    class Scripted:
        """The server's per-connection draw: the private chain first on each
        combination the proof tries, then the fixable one."""
        def __init__(self, draws):
            self.draws = list(draws)

        def random(self):
            return self.draws.pop(0) if self.draws else 0.99

    def confirm(plan):
        sc.server._rng = Scripted([0.0, 0.99, 0.0, 0.99])
        return True

    with Scenario("partial", tmp_path) as sc:
        result = run_fix(sc.target(), sc.check_options(), partial=True, confirm=confirm)
        assert result.outcome == "partial" and result.exit_code == EXIT_PARTIAL
        assert result.plan.fixable == [1] and result.plan.blocked_chains == [2]
        assert result.proof.ok and result.proof.proven == {1: "OpenSSL handshake"}, result.proof.to_json()
        assert any("as chain 2 (left failing)" in note for note in result.proof.notes), result.proof.notes
        assert result.overlay.ok and [v["chain"] for v in result.overlay.verdicts] == [1]
        assert {e.cert.sha256 for e in result.change.added} == {sc.root_a.cert.sha256}
        assert [v.report.verdict for v in result.after.variants] == ["trusted", "untrusted"]


def test_needs_no_fetch_then_the_printed_curl_and_fix_from(tmp_path):
    with Scenario("aia", tmp_path) as sc:
        needs = run(["ibmi-trust", "needs"] + sc.cli_args("--no-fetch"))
        assert needs.exit_code == 2, needs.output
        commands = next_commands(needs.stdout)
        curl, fix = commands[0], commands[-1]
        assert curl.startswith("curl -fsS -o issuer-1.crt http://127.0.0.1:")
        assert "--from issuer-1.crt" in fix and "--no-fetch" in fix
        fetched = subprocess.run(shlex.split(curl), cwd=str(tmp_path), capture_output=True, timeout=60)
        assert fetched.returncode == 0, fetched.stderr
        refused = run(fix, cwd=tmp_path)
        fixed = run(next_commands(refused.stdout)[0], cwd=tmp_path)
        assert fixed.exit_code == 0, fixed.output
        assert all(sc.openssl_verifies(chain) for chain in sc.sent_chains)


def test_unreachable_server_then_probe_elsewhere_then_check_and_fix_with_chain(tmp_path):
    """The PC-to-IBM i workflow: here the server cannot be reached; the printed
    probe --save-dir runs where it can, and the printed check --chain and fix
    --chain judge and fix the store with no connection to the server."""
    with Scenario("sni", tmp_path) as sc:
        port, plan = sc.server.port, sc.server.plan
        sc.server.stop()
        down = run(["ibmi-trust", "check"] + sc.cli_args())
        assert down.exit_code == 3
        probe, check = next_commands(down.stdout)
        assert probe.startswith("ibmi-trust probe ") and "--save-dir chains" in probe and "--store" not in probe
        assert "--chain chains" in check and "--store bundle:" in check

        sc.add_server(plan, ["127.0.0.1"], port=port)      # "the PC": the server answers there
        saved = run(probe, cwd=tmp_path)
        assert saved.exit_code == 0, saved.output
        sc.servers[-1].stop()                             # "the IBM i" reaches nothing again
        judged = run(check, cwd=tmp_path)
        assert judged.exit_code == 2, judged.output
        assert "read from chains" in judged.stdout and "no connection was made" in judged.stdout
        fix = next_commands(judged.stdout)[0]
        assert "--chain chains" in fix
        fixed = run(fix + " --yes", cwd=tmp_path)
        assert fixed.exit_code == 0, fixed.output
        assert "proof: openssl verify of the chains read from a file (no handshake)" in fixed.stdout
        assert "no handshake was made" in fixed.stdout
        assert all(sc.openssl_verifies(chain) for chain in sc.sent_chains)
        later = next_commands(fixed.stdout)
        assert later and "--chain" not in later[-1] and later[-1].startswith("ibmi-trust check ")


def test_a_name_mismatch_points_at_the_server_and_at_no_check_name(tmp_path):
    with Scenario("aia", tmp_path) as sc:
        run(["ibmi-trust", "fix"] + sc.cli_args("--yes"))
        other = "mail.other.test:%d" % sc.server.port
        args = [other, "--protocol", "smtp", "--store", "bundle:" + sc.store_path, "--roots", sc.roots_path,
                "--resolve", "mail.other.test:%d:127.0.0.1" % sc.server.port, "--timeout", "3", "--rate", "500"]
        check = run(["ibmi-trust", "check"] + args)
        assert check.exit_code == 2, check.output
        command = next_commands(check.stdout)[0]
        assert "do not name mail.other.test" in check.stdout or "does not name mail.other.test" in check.stdout
        assert command.endswith("--no-check-name")
        assert run(command).exit_code == 0


def test_json_documents_carry_the_next_commands(tmp_path):
    import json

    with Scenario("partial", tmp_path) as sc:
        check = json.loads(run(["ibmi-trust", "check"] + sc.cli_args("--json")).stdout)
        fix = run(["ibmi-trust", "fix"] + sc.cli_args("--json", "--yes"))
        assert check["next"][0]["command"].endswith("--partial")
        refused = json.loads(fix.stdout)
        assert refused["outcome"] == "refused" and refused["next"][0]["command"].endswith("--partial")
        assert refused["plan"]["fixable"] == [1] and refused["plan"]["blocked"][0]["chain"] == 2
        assert refused["plan"]["blocked"][0]["approvals"] == [sc.private_root.cert.sha256]


def test_the_invocation_quotes_for_a_shell_and_keeps_every_option():
    from ibmi_trust.jobs.nextstep import Invocation

    params = {"target": "smtp.example.com:587", "store_spec": None, "protocol": "submission",
              "resolve": ("smtp.example.com:587:127.0.0.1",), "ehlo": "my host", "no_sni": True,
              "like_system": False, "tls_version": "1.2", "chain": None, "no_fetch": True,
              "roots": "/r oots.pem", "from_files": ("a.pem",), "trust_roots": ("ab" * 32,), "seclevel": 0,
              "no_check_name": True, "password_env": "PW", "password_file": None}
    line = Invocation.from_params(params, "*SYSTEM").command("fix", "--partial")
    assert shlex.split(line) == [
        "ibmi-trust", "fix", "smtp.example.com:587", "--store", "*SYSTEM", "--protocol", "submission",
        "--resolve", "smtp.example.com:587:127.0.0.1", "--ehlo", "my host", "--no-sni", "--tls-version", "1.2",
        "--password-env", "PW", "--no-fetch", "--roots", "/r oots.pem", "--from", "a.pem",
        "--trust-root", "ab" * 32, "--seclevel", "0", "--no-check-name", "--partial"]
    assert "'*SYSTEM'" in line                    # a shell would expand * otherwise


@pytest.mark.parametrize("form", ["s_client", "der", "pkcs7"])
def test_check_chain_reads_what_openssl_prints_and_der_and_pkcs7(tmp_path, form):
    with Scenario("sni", tmp_path) as sc:
        port = sc.server.port
        path = tmp_path / ("chain." + form)
        if form == "s_client":
            runs = []
            for sni in (["-servername", HOST], ["-noservername"]):
                done = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-starttls", "smtp",
                                       "-showcerts"] + sni, input=b"QUIT\n", capture_output=True, timeout=60)
                runs.append(done.stdout)
            path.write_bytes(b"".join(runs))
        elif form == "der":
            path.write_bytes(sc.sent_chains[0][0].der)
        else:
            bundle = tmp_path / "bundle.pem"
            bundle.write_text("".join(c.pem() for c in reversed(sc.sent_chains[0])))
            subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(bundle), "-outform", "DER",
                            "-out", str(path)], check=True, capture_output=True, timeout=60)
        sc.server.stop()
        carried = tmp_path / "inter-a.pem"            # the DER form holds the server certificate alone
        carried.write_text(sc.inter_a.cert.pem())
        result = run(["ibmi-trust", "check", "%s:%d" % (HOST, port), "--protocol", "smtp", "--chain", str(path),
                      "--json", "--store", "bundle:" + sc.store_path, "--roots", sc.roots_path,
                      "--from", str(carried)])
        import json

        doc = json.loads(result.stdout)
        assert doc["handshakes"] == 0 and doc["probe"]["source"]["path"] == str(path)
        chains = [[c["sha256"] for c in chain["certificates"]] for chain in doc["chains"]]
        if form == "s_client":
            assert sorted(chains) == sorted([[c.sha256 for c in chain] for chain in sc.sent_chains])
            assert doc["probe"]["source"]["chains_read"] == 2
            assert all(chain["share"] == 0.5 for chain in doc["chains"])
        else:
            assert chains[0][0] == sc.sent_chains[0][0].sha256      # the server certificate first
        assert doc["status"] == "CRITICAL" and all(c["verdict"] == "fixable" for c in doc["chains"])
