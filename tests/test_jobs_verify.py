"""verify: 20 loopback targets, some failing, checked concurrently."""
import json
import socket
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import MailServer

HOST = "mx.example.test"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    trusted_root = CA.root("Fleet Trusted Root")
    trusted_ca = trusted_root.intermediate("Fleet Trusted CA")
    other_ca = CA.root("Fleet Unknown Root").intermediate("Fleet Unknown CA")
    names = [HOST, "127.0.0.1"]
    good = trusted_ca.leaf(names)
    soon = trusted_ca.leaf(names, days=11)            # expires in ~10 days: WARNING at warn_days 30
    bad = other_ca.leaf(names)
    plan = [("ok", good)] * 13 + [("warning", soon)] + [("critical", bad)] * 4
    servers, expected = [], {}
    for i, (want, leaf) in enumerate(plan):
        srv = MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST).start()
        servers.append(srv)
        expected["t%02d" % i] = (srv.port, want.upper())
    silent = MailServer("smtp", chains=(good.chain_pem(), good.key_pem()), misbehave="silent").start()
    servers.append(silent)
    expected["t18"] = (silent.port, "UNKNOWN")
    expected["t19"] = (_free_port(), "UNKNOWN")          # nothing listens: refused
    store = tmp / "store.pem"
    store.write_text(trusted_root.cert.pem())
    lines = ["[defaults]", "store = bundle:%s" % store, "warn_days = 30", "protocol = smtp", ""]
    for name, (port, _) in sorted(expected.items()):
        lines += ["[%s]" % name, "host = %s" % HOST, "port = %d" % port,
                  "resolve = %s:%d:127.0.0.1" % (HOST, port), ""]
    config = tmp / "targets.ini"
    config.write_text("\n".join(lines))
    yield {"config": str(config), "expected": expected, "tmp": tmp}
    for srv in servers:
        srv.stop()


def test_verify_reports_each_target_correctly_and_concurrently(fleet):
    report = fleet["tmp"] / "report.json"
    proc = subprocess.run([sys.executable, "-m", "ibmi_trust", "verify", "--config", fleet["config"], "--no-fetch",
                           "--timeout", "1", "--rate", "500", "--report", str(report)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr          # worst status: CRITICAL
    doc = json.loads(report.read_text())
    got = {t["name"]: t["status"] for t in doc["targets"]}
    assert got == {name: want for name, (_, want) in fleet["expected"].items()}
    assert doc["counts"] == {"OK": 13, "WARNING": 1, "CRITICAL": 4, "UNKNOWN": 2}
    assert proc.stdout.startswith("CRITICAL: 20 target(s): 13 OK, 1 WARNING, 4 CRITICAL, 2 UNKNOWN")
    # concurrency: the run took well under the sum of the single checks
    single = sum(t["check"]["elapsed_seconds"] for t in doc["targets"] if "check" in t)
    assert doc["elapsed_seconds"] < 0.6 * single, (doc["elapsed_seconds"], single)
    critical = [t for t in doc["targets"] if t["status"] == "CRITICAL"]
    assert all(t["check"]["missing"] and t["check"]["missing"][0]["subject"].startswith("CN=Fleet Unknown")
               for t in critical)


def test_verify_config_errors_are_clear(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["verify", "--config", str(tmp_path / "nope.ini")])
    assert result.exit_code == 3 and "does not exist" in result.output
    bad = tmp_path / "bad.ini"
    bad.write_text(textwrap.dedent("""\
        [mx.example.test:25]
        colour = blue
        """))
    result = runner.invoke(cli, ["verify", "--config", str(bad)])
    assert result.exit_code == 3 and "unknown key(s) colour" in result.output and "Traceback" not in result.output
    empty = tmp_path / "empty.json"
    empty.write_text('{"targets": []}')
    result = runner.invoke(cli, ["verify", "--config", str(empty)])
    assert result.exit_code == 3 and "lists no targets" in result.output


def test_verify_warn_days_out_of_range_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("[mx.example.test:25]\nwarn_days = 99999\n")
    result = CliRunner().invoke(cli, ["verify", "--config", str(bad)])
    assert result.exit_code == 3 and "warn_days must be a whole number from 0 to 3650" in result.output


def test_targets_file_port_applies_to_a_bare_ipv6_host(tmp_path):
    """`host = ::1` with `port = 2525` is [::1]:2525, not the address ::1:2525 on port 25."""
    from ibmi_trust.jobs.config import load_config
    from ibmi_trust.probe.target import Target

    path = tmp_path / "targets.ini"
    path.write_text("[loop6]\nhost = ::1\nport = 2525\n\n[loop4]\nhost = 127.0.0.1\nport = 2525\n")
    parsed = [Target.parse(t.target, "smtp") for t in load_config(str(path))]
    assert [(t.host, t.port) for t in parsed] == [("::1", 2525), ("127.0.0.1", 2525)]
