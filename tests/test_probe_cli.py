"""`ibmi-trust probe`: output, --json, --save-dir, exit codes and the one-line
error, through click's CliRunner and as a real `python -m ibmi_trust` process."""
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from peers import dual
from ibmi_trust.certs import load_certificate_file
from ibmi_trust.cli import cli
from ibmi_trust.testing.servers import MailServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["--rate", "1000"]


def run(args):
    try:
        runner = CliRunner(mix_stderr=False)          # click < 8.2
    except TypeError:
        runner = CliRunner()                          # click >= 8.2 keeps stderr apart by itself
    return runner.invoke(cli, ["probe"] + args)


@pytest.fixture(scope="module")
def server(pki):
    with MailServer("smtp", host=["127.0.0.2", "127.0.0.3"], chains=dual(pki)) as srv:
        yield srv


def test_human_output_and_exit_0(server):
    result = run(["mx.example.test:%d" % server.port, "--protocol", "smtp", "--resolve",
                  "mx.example.test:%d:127.0.0.2,127.0.0.3" % server.port, "--rounds", "2"] + FAST)
    assert result.exit_code == 0, result.output
    assert "2 distinct chains in 16 handshakes" in result.stdout
    assert "addresses:    127.0.0.2, 127.0.0.3" in result.stdout
    assert result.stderr == ""


def test_json_and_save_dir(server, pki, tmp_path):
    out = tmp_path / "chains"
    result = run(["127.0.0.2:%d" % server.port, "--protocol", "smtp", "--json", "--key-type", "rsa",
                  "--rounds", "3", "--save-dir", str(out)] + FAST)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["handshakes"] == 3 and len(doc["chains"]) == 1
    assert [c["sha256"] for c in doc["chains"][0]["certificates"]] == [pki["A"]["rsa"].cert.sha256,
                                                                       pki["A"]["inter"].cert.sha256]
    assert sorted(os.listdir(str(out))) == ["chain-1-cert-0.pem", "chain-1-cert-1.pem", "chain-1.pem"]
    assert [c.der for c in load_certificate_file(str(out / "chain-1.pem"))] == [
        pki["A"]["rsa"].cert.der, pki["A"]["inter"].cert.der]
    assert load_certificate_file(str(out / "chain-1-cert-1.pem"))[0] == pki["A"]["inter"].cert
    assert "wrote 3 PEM files" in result.stderr


@pytest.mark.parametrize("args,words", [
    (["127.0.0.1:1", "--protocol", "smtp"], "could not probe 127.0.0.1:1: cannot connect to 127.0.0.1:1"),
    (["%s.example.test" % ("x" * 64)], "does not resolve"),
    (["mx.example.test:10025"], "cannot tell the protocol of port 10025"),
    (["127.0.0.1:25", "--like-system"], "--like-system reads IBM i system values"),
    (["mx.example.test:25", "--resolve", "mx.example.test:25:nowhere"], "is not an IP address"),
])
def test_could_not_probe_is_exit_3_with_one_line(args, words, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    result = run(args + ["--rounds", "1", "--timeout", "2"] + FAST)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith("ibmi-trust: ") and words in lines[0], result.stderr
    assert all(line.startswith("  hint: ") for line in lines[1:])
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_no_starttls_is_exit_3(pki):
    with MailServer("imap", chains=dual(pki), misbehave="no-starttls") as srv:
        result = run(["127.0.0.1:%d" % srv.port, "--protocol", "imap"] + FAST)
    assert result.exit_code == 3 and "does not offer STARTTLS" in result.stderr


def _subprocess(args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "ibmi_trust", "probe"] + args, capture_output=True, text=True,
                          timeout=60, env=env)


def test_real_process(server, pki):
    ok = _subprocess(["127.0.0.3:%d" % server.port, "--protocol", "smtp", "--rounds", "1", "--json"] + FAST)
    assert ok.returncode == 0, ok.stderr
    leaves = {c["certificates"][0]["sha256"] for c in json.loads(ok.stdout)["chains"]}
    assert leaves == {pki["A"]["rsa"].cert.sha256, pki["A"]["ec"].cert.sha256}
    assert ok.stderr == ""                                        # no progress bar: stderr is not a terminal
    bad = _subprocess(["127.0.0.1:1", "--protocol", "smtp", "--rounds", "1"])
    assert bad.returncode == 3 and bad.stdout == ""
    assert bad.stderr.splitlines()[0].startswith("ibmi-trust: could not probe 127.0.0.1:1")
    assert "Traceback" not in bad.stderr
