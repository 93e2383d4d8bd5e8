"""The openssl child: which binary (PASE RPM first), and the environment it gets."""
import os
import shutil

from ibmi_trust import openssl_binary


def test_explicit_setting_wins(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_OPENSSL", "/opt/custom/openssl")
    assert openssl_binary.find() == "/opt/custom/openssl"


def test_on_ibmi_the_rpm_openssl_comes_before_the_base_one(monkeypatch):
    # Under QSH, PATH lacks /QOpenSys/pkgs/bin: both PASE places are named explicitly.
    monkeypatch.delenv("IBMI_TRUST_OPENSSL", raising=False)
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    present = {"/QOpenSys/pkgs/bin/openssl", "/QOpenSys/usr/bin/openssl"}
    monkeypatch.setattr(openssl_binary.os, "access", lambda path, mode: path in present)
    assert openssl_binary.find() == "/QOpenSys/pkgs/bin/openssl"
    present.discard("/QOpenSys/pkgs/bin/openssl")
    assert openssl_binary.find() == "/QOpenSys/usr/bin/openssl"
    present.clear()
    assert openssl_binary.find() == shutil.which("openssl")


def test_a_child_sees_no_store_password_variable(monkeypatch):
    monkeypatch.setenv("KDB_PW", "s3cret-store-password")        # what --password-env KDB_PW names
    monkeypatch.setenv("IBMI_TRUST_SIM_STORE_PASSWORD", "another-secret")
    monkeypatch.setenv("LANG", "C.UTF-8")
    proc = openssl_binary.run(shutil.which("env"), [], timeout=10)
    seen = dict(line.split("=", 1) for line in proc.stdout.decode().splitlines() if "=" in line)
    assert "KDB_PW" not in seen and "IBMI_TRUST_SIM_STORE_PASSWORD" not in seen
    assert seen["LANG"] == "C.UTF-8" and seen["PATH"] == os.environ["PATH"]
    assert set(seen) <= set(openssl_binary.PASSED_VARIABLES)
