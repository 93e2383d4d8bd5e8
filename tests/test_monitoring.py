"""Monitoring output to the letter: the Nagios plugin interface (status line
for every outcome, sanitised text, long output, range expressions, exit
0-3) and the Prometheus textfile (parsed with prometheus_client, the
reference implementation of the exposition format), on real loopback
servers."""
import datetime
import os
import re
import stat

import pytest

from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import MailServer
from scenarios import invoke_cli

HOST = "mx.example.test"
STATUS_LINE = re.compile(r"^IBMI-TRUST (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| \S.*)?$")
PERF_ITEM = re.compile(r"^'[^'=]+'=-?\d+(;(@?(~|-?\d+)?:?(-?\d+)?)?){0,4}$")


invoke = invoke_cli


def assert_plugin_output(output: str, code: int):
    """The monitoring-plugin rules every output here must follow."""
    assert code in (0, 1, 2, 3)
    lines = output.rstrip("\n").split("\n")
    assert STATUS_LINE.match(lines[0]), lines[0]
    assert lines[0].split()[1] == ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code]
    if " | " in lines[0]:
        for item in lines[0].split(" | ", 1)[1].split():
            assert PERF_ITEM.match(item), item
    assert all("|" not in line for line in lines[1:]), lines       # no perfdata smuggled into long output
    return lines


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monitoring")
    root = CA.root("Monitoring Root")
    ca = root.intermediate("Monitoring CA")
    other = CA.root("Monitoring Unknown Root").intermediate("Monitoring Unknown CA")
    good = ca.leaf([HOST, "127.0.0.1"])
    soon = ca.leaf([HOST, "127.0.0.1"], days=12)
    elsewhere = ca.leaf(["mail.elsewhere.test"])
    bad = other.leaf([HOST])
    servers = {}
    for name, leaf in (("ok", good), ("soon", soon), ("mismatch", elsewhere), ("missing", bad)):
        servers[name] = MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST).start()
    servers["greeting"] = MailServer("smtp", chains=(good.chain_pem(), good.key_pem()), misbehave="error-greeting",
                                     name="mx|pipe.example.test").start()
    store = tmp / "store.pem"
    store.write_text(root.cert.pem())
    yield {"tmp": tmp, "servers": servers, "store": "bundle:%s" % store, "soon": soon, "root": root}
    for server in servers.values():
        server.stop()


def target_args(lab, name, *extra):
    port = lab["servers"][name].port
    return ["%s:%d" % (HOST, port), "--protocol", "smtp", "--store", lab["store"], "--no-fetch",
            "--resolve", "%s:%d:127.0.0.1" % (HOST, port), "--timeout", "2", "--rate", "500", "--rounds", "1"] + list(extra)


def test_ok_line_and_perfdata_ranges(lab):
    result = invoke("check", "--nagios", *target_args(lab, "ok"))
    lines = assert_plugin_output(result.stdout, result.exit_code)
    assert result.exit_code == 0
    assert "all 1 chain trusted; first expiry mx.example.test on " in lines[0] and "days left)" in lines[0]
    assert re.search(r"'days_to_expiry'=\d+;30:;0: ", lines[0])
    assert lines[1].startswith("chain 1 (100%): OK, trusted by CN=Monitoring Root")
    assert lines[-1].startswith("next: nothing to do")


def test_warning_says_what_and_when_and_critical_days(lab):
    soon = lab["soon"].cert
    days = round((soon.not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400)
    warning = invoke("check", "--nagios", *target_args(lab, "soon"))
    critical = invoke("check", "--nagios", "--critical-days", "14", *target_args(lab, "soon"))
    text = invoke("check", *target_args(lab, "soon", "--critical-days", "14"))
    lines = assert_plugin_output(warning.stdout, warning.exit_code)
    assert warning.exit_code == 1
    when = "expires %s, %d days left" % (soon.not_after.strftime("%Y-%m-%d"), days)
    assert "mx.example.test (chain 1) %s" % when in lines[0], lines[0]
    assert "'days_to_expiry'=%d;30:;0:" % days in lines[0]            # the same day count as the words
    clines = assert_plugin_output(critical.stdout, critical.exit_code)
    assert critical.exit_code == 2 and when in clines[0] and "'days_to_expiry'=%d;30:;14:" % days in clines[0]
    assert text.exit_code == 2 and "expires in %d days" % days in text.stdout      # the finding agrees
    assert "%d days left; --critical-days 14" % days in text.stdout


def test_critical_says_the_real_reason(lab):
    missing = invoke("check", "--nagios", *target_args(lab, "missing"))
    mismatch = invoke("check", "--nagios", *target_args(lab, "mismatch"))
    mlines = assert_plugin_output(missing.stdout, missing.exit_code)
    nlines = assert_plugin_output(mismatch.stdout, mismatch.exit_code)
    assert missing.exit_code == 2 and mismatch.exit_code == 2
    assert "not trusted (SSL_ERROR_NOT_TRUSTED_ROOT): issuing CA CN=Monitoring Unknown Root" in mlines[0]
    assert "not issued for mx.example.test" in nlines[0] and "SSL_ERROR_NOT_TRUSTED_ROOT" not in nlines[0]
    assert any(line.startswith("missing: CN=Monitoring Unknown Root") for line in mlines)
    assert any(line.startswith("ibmi-trust check ") and line.endswith("--no-check-name") for line in nlines)


def test_every_error_is_a_status_line_and_unknown(lab, tmp_path):
    store_error = invoke("check", "--nagios", *target_args(lab, "ok", "--store", "bundle:%s" % (tmp_path / "no/x.pem")))
    usage = invoke("check", "--nagios", "--warn-days", "soon", *target_args(lab, "ok"))
    greeting = invoke("check", "--nagios", *target_args(lab, "greeting"))
    for result in (store_error, usage, greeting):
        assert result.exit_code == 3, result.stdout + result.stderr
        assert_plugin_output(result.stdout, 3)
    assert "does not exist" in store_error.stdout and "usage: Invalid value for '--warn-days'" in usage.stdout
    assert "mx/pipe.example.test" in greeting.stdout         # the server's name, its "|" made harmless


def test_clean_removes_pipes_and_line_breaks():
    from ibmi_trust.jobs.nagios import clean

    assert clean("a|b\nc\r\x00d  e", 20) == "a/b c d e"
    assert clean("x" * 50, 10) == "xxxxxxx..."


def _verify_config(lab, tmp_path, names):
    lines = ["[defaults]", "store = %s" % lab["store"], "protocol = smtp", ""]
    for name in names:
        port = lab["servers"][name].port
        lines += ["[%s]" % name, "host = %s" % HOST, "port = %d" % port, "resolve = %s:%d:127.0.0.1" % (HOST, port), ""]
    path = tmp_path / "targets.ini"
    path.write_text("\n".join(lines))
    return path


def test_verify_nagios_is_one_line_for_the_worst_and_a_block_per_target(lab, tmp_path):
    config = _verify_config(lab, tmp_path, ["ok", "soon", "missing", "mismatch"])
    result = invoke("verify", "--nagios", "--config", config, "--no-fetch", "--timeout", "2", "--rate", "500")
    lines = assert_plugin_output(result.stdout, result.exit_code)
    assert result.exit_code == 2
    assert lines[0].startswith("IBMI-TRUST CRITICAL - 4 targets: 2 CRITICAL, 1 WARNING, 1 OK; ")
    assert "'targets'=4;;;0 'critical'=2;;0;0 'warning'=1;;0;0 'unknown'=0;;0;0 'ok'=1;;;0" in lines[0]
    blocks = [line for line in lines[1:] if line.startswith("[")]
    assert [b.split()[0] for b in blocks] == ["[CRITICAL]", "[CRITICAL]", "[WARNING]", "[OK]"]
    assert any(line.startswith("  next: ") for line in lines)
    assert any("ibmi-trust check %s:%d" % (HOST, lab["servers"]["mismatch"].port) in line for line in lines)


def test_verify_text_shows_name_mismatches_and_failed_offers(lab, tmp_path):
    config = _verify_config(lab, tmp_path, ["ok", "mismatch"])
    result = invoke("verify", "--config", config, "--no-fetch", "--timeout", "2", "--rate", "500")
    assert result.exit_code == 2
    line = next(line for line in result.stdout.splitlines() if str(lab["servers"]["mismatch"].port) in line)
    assert "not issued for mx.example.test" in line
    # the test servers have EC certificates only: RSA-only offers fail, and the summary says so
    assert "rsa-offer handshake(s) failed" in line
    assert "      next: " in result.stdout


def test_verify_config_error_has_a_status_line_under_nagios(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("[mx.example.test:25]\ncolour = blue\n")
    result = invoke("verify", "--nagios", "--config", bad)
    assert result.exit_code == 3 and "unknown key(s) colour" in result.stderr
    assert_plugin_output(result.stdout, 3)


# -- Prometheus ------------------------------------------------------------------
def _families(path):
    from prometheus_client.parser import text_string_to_metric_families

    text = path.read_text()
    assert text.endswith("\n")
    return {f.name: f for f in text_string_to_metric_families(text)}, text


def test_check_prometheus_textfile_parses_and_says_what_it_should(lab, tmp_path):
    out = tmp_path / "ibmi_trust.prom"
    out.write_text("stale\n")
    result = invoke("check", "--prometheus", out, *target_args(lab, "missing"))
    assert result.exit_code == 2
    families, text = _families(out)
    assert stat.S_IMODE(os.stat(str(out)).st_mode) == 0o644
    assert [n for n in os.listdir(str(tmp_path)) if n != "history"] == ["ibmi_trust.prom"]   # the temp file was renamed
    for family in families.values():
        assert family.type == "gauge" and family.documentation and family.name.startswith("ibmi_trust_")
        assert re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", family.name)
    assert "# HELP ibmi_trust_missing_certificates " in text and "# TYPE ibmi_trust_missing_certificates gauge" in text
    target = "%s:%d" % (HOST, lab["servers"]["missing"].port)
    one = lambda name: [s for s in families[name].samples]
    assert [(s.labels, s.value) for s in one("ibmi_trust_missing_certificates")] == [
        ({"target": target, "store": lab["store"]}, 1.0)]
    assert [s.value for s in one("ibmi_trust_probe_success")] == [1.0]
    states = {s.labels["state"]: s.value for s in one("ibmi_trust_check_state")}
    assert states == {"OK": 0.0, "WARNING": 0.0, "CRITICAL": 1.0, "UNKNOWN": 0.0}
    assert [(s.labels["chain"], s.value) for s in one("ibmi_trust_chain_trusted")] == [("1", 0.0)]
    expiry = one("ibmi_trust_certificate_expiry_timestamp_seconds")
    leaf = next(s for s in expiry if s.labels["position"] == "0")
    assert leaf.value > datetime.datetime.now().timestamp() and leaf.timestamp is None   # no sample timestamps
    assert [s.value for s in one("ibmi_trust_chains")] == [1.0]
    assert families["ibmi_trust_build_info"].samples[0].labels["version"]


def test_verify_prometheus_has_every_target_and_unknown_ones(lab, tmp_path):
    config = _verify_config(lab, tmp_path, ["ok", "missing", "greeting"])
    out = tmp_path / "fleet.prom"
    result = invoke("verify", "--config", config, "--no-fetch", "--timeout", "2", "--rate", "500", "--prometheus", out)
    assert result.exit_code == 2
    families, _text = _families(out)
    success = {s.labels["target"].rsplit(":", 1)[1]: s.value for s in families["ibmi_trust_probe_success"].samples}
    assert success == {str(lab["servers"][n].port): v for n, v in (("ok", 1.0), ("missing", 1.0), ("greeting", 0.0))}
    counts = {s.labels["state"]: s.value for s in families["ibmi_trust_verify_targets"].samples}
    assert counts == {"OK": 1.0, "WARNING": 0.0, "CRITICAL": 1.0, "UNKNOWN": 1.0}


def test_textfile_write_is_atomic(tmp_path, monkeypatch):
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.jobs import prometheus

    path = tmp_path / "x.prom"
    path.write_text("old 1\n")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(ConfigError, match="No space left"):
        prometheus.write_textfile(str(path), "new 1\n")
    assert path.read_text() == "old 1\n" and os.listdir(str(tmp_path)) == ["x.prom"]


def test_label_values_are_escaped():
    from prometheus_client.parser import text_string_to_metric_families

    from ibmi_trust.jobs.prometheus import Metrics

    metrics = Metrics()
    metrics.add("chains", {"target": 'a"b\\c\nd', "store": "s"}, 2)
    sample = next(text_string_to_metric_families(metrics.text())).samples[0]
    assert sample.labels["target"] == 'a"b\\c\nd' and sample.value == 2
