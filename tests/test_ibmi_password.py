"""The store password: environment variable or owner-only file, never leaked."""
import os
from types import SimpleNamespace

import pytest

from ibmi_trust.errors import ConfigError, PasswordError
from ibmi_trust.ibmi import password


def options(**kw):
    return SimpleNamespace(password_env=kw.get("env"), password_file=kw.get("file"))


def write(path, content: bytes, mode: int):
    path.write_bytes(content)
    os.chmod(str(path), mode)
    return str(path)


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("STORE_PW", "pässword")
    with password.obtain(options(env="STORE_PW")) as secret:
        assert secret.text() == "pässword"
        assert "pässword" not in repr(secret) and "STORE_PW" in str(secret)


def test_unset_variable_names_the_variable_not_a_value(monkeypatch):
    monkeypatch.delenv("STORE_PW", raising=False)
    with pytest.raises(PasswordError) as caught:
        password.obtain(options(env="STORE_PW"))
    assert "STORE_PW" in str(caught.value) and "--password-file" in caught.value.hint


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_file_with_trailing_newline(tmp_path, mode):
    path = write(tmp_path / "pw", b"file-secret\n", mode)
    secret = password.obtain(options(file=path))
    assert secret.text() == "file-secret"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o660, 0o644])
def test_file_open_to_group_or_others_is_refused(tmp_path, mode):
    path = write(tmp_path / "pw", b"file-secret\n", mode)
    with pytest.raises(PasswordError) as caught:
        password.obtain(options(file=path))
    assert "group or others" in str(caught.value) and "chmod 600" in caught.value.hint
    assert "file-secret" not in str(caught.value)


def test_symbolic_link_is_refused(tmp_path):
    target = write(tmp_path / "real", b"s\n", 0o600)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(PasswordError):
        password.obtain(options(file=str(link)))


def test_empty_file_and_directory_are_refused(tmp_path):
    with pytest.raises(PasswordError):
        password.obtain(options(file=write(tmp_path / "empty", b"\n", 0o600)))
    os.chmod(str(tmp_path), 0o700)
    with pytest.raises(PasswordError):
        password.obtain(options(file=str(tmp_path)))


def test_both_sources_at_once_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        password.obtain(options(env="X", file=str(tmp_path / "pw")))


def test_nothing_configured_means_no_password():
    assert password.obtain(options()) is None
    assert not password.configured(options())


def test_wipe_zeroes_the_buffer(tmp_path):
    secret = password.obtain(options(file=write(tmp_path / "pw", b"zap-me", 0o600)))
    buffer = secret.utf8()
    secret.wipe()
    assert bytes(buffer) == b""


def test_api_nopwd_switch(monkeypatch):
    monkeypatch.delenv("IBMI_TRUST_API_NOPWD", raising=False)
    assert not password.api_nopwd_enabled()
    monkeypatch.setenv("IBMI_TRUST_API_NOPWD", "1")
    assert password.api_nopwd_enabled()
