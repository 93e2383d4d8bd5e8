"""Security review: hostile input gets a documented exit code and one clear
line, never a traceback or a hang, and loses nothing.

Exit codes (ibmi_trust/errors.py): 3 bad option or input / could not run,
4 store could not be read or written, 5 refused.
"""
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.testing.pki import CA

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def invoke(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        "traceback for %r: %r" % (args, result.exception)
    assert "Traceback" not in result.output
    return result


def run_cli(*args, timeout=30):
    """A real process, for inputs that could hang or exhaust memory in-process."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "ibmi_trust"] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def ca():
    root = CA.root("Bad Input Root")
    return {"root": root, "inter": root.intermediate("Bad Input Issuing CA")}


@pytest.fixture
def bundle(tmp_path, ca):
    path = tmp_path / "bundle.pem"
    path.write_text(ca["root"].cert.pem())
    return path


# -- targets, ports, --resolve, --ehlo, --timeout -----------------------------------
@pytest.mark.parametrize("target", ["host:\u00b2", "host:\u0662\u0665", "ho\tst:25", "host\n:25", "[::1]:0",
                                    "[::1]:70000", "127.0.0.1:0"])
def test_weird_targets_are_one_line_config_errors(target, bundle):
    result = invoke("check", target, "--protocol", "smtp", "--store", "bundle:%s" % bundle, "--timeout", "1")
    assert result.exit_code == 3, result.output
    assert result.output.startswith("ibmi-trust: ") and len(result.output.strip().splitlines()) == 1, result.output


def test_resolve_with_a_non_ascii_port_is_a_config_error(bundle):
    result = invoke("check", "host:25", "--store", "bundle:%s" % bundle, "--resolve", "host:\u00b2:127.0.0.1")
    assert result.exit_code == 3 and "bad port" in result.output, result.output


@pytest.mark.parametrize("timeout", ["inf", "1e300", "nan", "-1"])
def test_absurd_timeouts_are_refused(timeout, bundle):
    result = invoke("check", "127.0.0.1:25", "--store", "bundle:%s" % bundle, "--timeout", timeout)
    assert result.exit_code == 3 and "--timeout" in result.output, result.output


def test_ehlo_cannot_smuggle_a_second_smtp_command(bundle):
    result = invoke("check", "127.0.0.1:25", "--store", "bundle:%s" % bundle, "--ehlo", "me\r\nQUIT")
    assert result.exit_code == 3 and "--ehlo" in result.output, result.output


# -- the verify targets file --------------------------------------------------------
@pytest.mark.parametrize("name,content,words", [
    ("defaults-list.json", '{"defaults": [1], "targets": [{"host": "a"}]}', "expected"),
    ("null-host.json", '{"targets": [{"host": null}]}', "has no host"),
    ("empty-host.json", '{"targets": [{"host": " "}]}', "has no host"),
    ("junk.ini", "junk\n[x\n", "cannot read"),
])
def test_broken_targets_files_are_one_line_errors(tmp_path, bundle, name, content, words):
    config = tmp_path / name
    config.write_text(content)
    result = invoke("verify", "--config", str(config), "--store", "bundle:%s" % bundle, "--timeout", "1")
    assert result.exit_code == 3 and words in result.output, result.output


def test_targets_file_with_a_superscript_port_reports_that_target(tmp_path, bundle):
    config = tmp_path / "t.ini"
    config.write_text("[a]\nport = \u00b2\n", encoding="utf-8")
    result = invoke("verify", "--config", str(config), "--store", "bundle:%s" % bundle, "--timeout", "1")
    assert result.exit_code == 3 and "bad port" in result.output, result.output


# -- files of the wrong kind -----------------------------------------------------------
def test_bundle_store_that_is_a_named_pipe_or_a_device_is_a_store_error(tmp_path, ca):
    fifo = tmp_path / "pipe.pem"
    os.mkfifo(str(fifo))
    source = tmp_path / "inter.pem"
    source.write_text(ca["inter"].cert.pem())
    for spec in ("bundle:%s" % fifo, "bundle:/dev/zero"):
        listed = run_cli("store", "list", "--store", spec)
        assert listed.returncode == 4 and "not a regular file" in listed.stderr, listed.stderr
    added = run_cli("store", "add", str(source), "--store", "bundle:%s" % fifo)
    assert added.returncode == 4 and "not a regular file" in added.stderr, added.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inter.pem", "pipe.pem"]   # no lock file left beside it


@pytest.mark.parametrize("option", ["--roots", "--from"])
def test_endless_certificate_input_is_refused_at_the_size_limit(option, bundle):
    result = run_cli("check", "127.0.0.1:1", "--protocol", "smtp", "--store", "bundle:%s" % bundle,
                     "--timeout", "1", option, "/dev/zero")
    assert result.returncode == 3 and "larger than" in result.stderr, result.stderr


def test_store_add_from_an_endless_device_is_refused_and_adds_nothing(bundle):
    before = bundle.read_bytes()
    result = run_cli("store", "add", "/dev/zero", "--store", "bundle:%s" % bundle)
    assert result.returncode == 3 and "larger than" in result.stderr, result.stderr
    assert bundle.read_bytes() == before


def test_password_file_that_is_a_named_pipe_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pw"
    os.mkfifo(str(fifo), 0o600)
    code = ("from types import SimpleNamespace as N\n"
            "from ibmi_trust.errors import PasswordError\n"
            "from ibmi_trust.ibmi import password\n"
            "try:\n"
            "    password.obtain(N(password_env=None, password_file=%r))\n"
            "except PasswordError as exc:\n"
            "    print(exc)\n" % str(fifo))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert "is not a regular file" in proc.stdout, proc.stdout + proc.stderr


# -- what was found sound, kept as regression tests -------------------------------------
def test_garbage_between_bundle_certificates_survives_an_add(tmp_path, ca):
    other = CA.root("Bad Input Other Root")
    path = tmp_path / "mixed.pem"
    original = (ca["root"].cert.pem() + "operator note\nnot base64 !!\n" + other.cert.pem()
                + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").encode("ascii")
    path.write_bytes(original)
    source = tmp_path / "inter.pem"
    source.write_text(ca["inter"].cert.pem())
    result = invoke("store", "add", str(source), "--store", "bundle:%s" % path)
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(original)
    listed = invoke("store", "list", "--store", "bundle:%s" % path)
    assert listed.exit_code == 0 and "3 certificate(s)" in listed.output


def test_capath_with_a_broken_symlink_lists_it_as_a_problem(tmp_path, ca):
    directory = tmp_path / "certs"
    directory.mkdir()
    (directory / "ca.pem").write_text(ca["root"].cert.pem())
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True)
    os.symlink("/nonexistent/gone.pem", str(directory / "deadbeef.0"))
    result = invoke("store", "list", "--store", "capath:%s" % directory)
    assert result.exit_code == 0 and "1 certificate(s)" in result.output
    assert "broken symbolic link" in result.output


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"-----BEGIN CERTIFICATE-----\nMIIB!!\n-----END CERTIFICATE-----\n"])
def test_malformed_from_and_roots_files_are_one_line_errors(tmp_path, bundle, content):
    bad = tmp_path / "bad.pem"
    bad.write_bytes(content)
    for option in ("--from", "--roots"):
        result = invoke("fix", "127.0.0.1:1", "--protocol", "smtp", "--store", "bundle:%s" % bundle,
                        "--timeout", "1", option, str(bad))
        assert result.exit_code == 3 and str(bad) in result.output, result.output
