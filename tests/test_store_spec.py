"""open_store: every --store form, the default, and what is refused."""
import sys
import types

import pytest

from ibmi_trust.errors import ConfigError
from ibmi_trust.store.bundle import BundleStore
from ibmi_trust.store.capath import CApathStore
from ibmi_trust.store.spec import StoreOptions, open_store


@pytest.fixture
def fake_system_store(monkeypatch):
    """Stands in for ibmi_trust.ibmi.system_store (IBM i only) to see what open_store passes it."""
    calls = []

    class SystemStore:
        def __init__(self, spec, options):
            calls.append((spec, options))

    module = types.ModuleType("ibmi_trust.ibmi.system_store")
    module.SystemStore = SystemStore
    monkeypatch.setitem(sys.modules, "ibmi_trust.ibmi.system_store", module)
    return calls


def test_file_store_forms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert isinstance(open_store("capath:/etc/mail/certs"), CApathStore)
    assert open_store("CAPATH:/etc/mail/certs").spec == "capath:/etc/mail/certs"
    assert open_store("capath:certs/").spec == "capath:%s" % (tmp_path / "certs")
    assert open_store("bundle:~/ca.pem").spec == "bundle:%s" % (tmp_path / "ca.pem")
    assert isinstance(open_store(" Bundle:ca.pem "), BundleStore)
    assert isinstance(open_store("capath:/x/y.kdb"), CApathStore)    # the prefix wins over .kdb


@pytest.mark.parametrize("spec, message", [
    ("capath:", "needs a path"),
    ("bundle:  ", "needs a path"),
    ("/etc/ssl/certs", "unknown store"),
    ("file:/x", "unknown store"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ConfigError, match=message) as info:
        open_store(spec)
    if message == "unknown store":
        assert "capath:DIR" in info.value.hint and "*SYSTEM" in info.value.hint


def test_no_spec_off_ibmi_is_an_error(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    for spec in (None, "", "  "):
        with pytest.raises(ConfigError, match="--store is required off IBM i"):
            open_store(spec)


def test_ibmi_specs_go_to_the_system_store(monkeypatch, fake_system_store):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "ibmi")
    options = StoreOptions(password_env="KDBPW", app_id="QIBM_QTMS_SMTP_CLIENT")
    open_store(None, options)
    open_store("*system")
    open_store("/home/me/Scratch.KDB", options)
    assert [spec for spec, _ in fake_system_store] == ["*SYSTEM", "*system", "/home/me/Scratch.KDB"]
    assert fake_system_store[0][1] is options and fake_system_store[2][1] is options
    assert fake_system_store[1][1] == StoreOptions()


def test_system_store_off_ibmi_is_refused_by_the_backend(monkeypatch):
    pytest.importorskip("ibmi_trust.ibmi.system_store")
    monkeypatch.delenv("IBMI_TRUST_FORCE_PLATFORM", raising=False)
    with pytest.raises(ConfigError):
        open_store("*SYSTEM")


@pytest.mark.parametrize("field", ["password_env", "password_file", "app_id"])
def test_ibmi_options_are_refused_for_file_stores(field):
    with pytest.raises(ConfigError, match="apply only to IBM i stores"):
        open_store("capath:/tmp", StoreOptions(**{field: "x"}))


def test_option_limits():
    with pytest.raises(ConfigError, match="retention"):
        StoreOptions(retention=0)
    with pytest.raises(ConfigError, match="lock-timeout"):
        StoreOptions(lock_timeout=-1)
