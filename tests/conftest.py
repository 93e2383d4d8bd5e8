"""Shared fixtures. Stage-specific fixtures live in their own test modules or
in tests/peers.py (loopback servers) and tests/ibmi_simulator.py."""
import os

import pytest

# Postfix and Dovecot private instances (session fixtures: postfix, dovecot); the
# GSKPROBE stand-in build (session fixtures: gskprobe_builder, gskprobe_binary)
pytest_plugins = ["peers", "gskit_support"]


@pytest.fixture(scope="session")
def pki():
    """Two private PKIs (A and B) with RSA and EC leaves, built once."""
    from ibmi_trust.testing.pki import CA

    out = {}
    for name in ("A", "B"):
        root = CA.root("Test Root %s" % name)
        inter = root.intermediate("Test Issuing CA %s" % name)
        out[name] = {
            "root": root,
            "inter": inter,
            "ec": inter.leaf(["mx.example.test", "localhost", "127.0.0.1", "127.0.0.2", "127.0.0.3", "::1"], key_type="ec"),
            "rsa": inter.leaf(["mx.example.test", "localhost", "127.0.0.1", "127.0.0.2", "127.0.0.3", "::1"], key_type="rsa"),
        }
    return out


@pytest.fixture(autouse=True)
def install_record_in_tmp(tmp_path, monkeypatch):
    """install-objects writes its record beside the interpreter; tests keep it in
    their own directory, and no test inherits a library from the environment."""
    path = tmp_path / "install-record" / "install.json"
    monkeypatch.setenv("IBMI_TRUST_INSTALL_RECORD", str(path))
    monkeypatch.delenv("IBMI_TRUST_LIBRARY", raising=False)
    monkeypatch.setenv("IBMI_TRUST_DATA_DIR", str(tmp_path / "install-data"))
    return path


@pytest.fixture(autouse=True)
def history_in_tmp(tmp_path, monkeypatch):
    """The history is on by default: every test that runs check, fix or verify
    through the command line keeps its own (never the user's ~/.local/state)."""
    path = tmp_path / "history" / "history.sqlite"
    monkeypatch.setenv("IBMI_TRUST_HISTORY", str(path))
    monkeypatch.delenv("IBMI_TRUST_HISTORY_JOURNAL", raising=False)
    monkeypatch.delenv("IBMI_TRUST_HISTORY_TIMEOUT", raising=False)
    return path


@pytest.fixture
def no_network_env(monkeypatch):
    """Make sure nothing reaches for a proxy or the internet."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    return os.environ


@pytest.fixture
def sim(tmp_path):
    """The IBM i simulator (tests/ibmi_simulator.py); modules needing another
    layout override this fixture."""
    from ibmi_simulator import Simulator

    return Simulator(tmp_path)


@pytest.fixture
def session(sim):
    """A real IbmiSession over the simulator's connection."""
    from ibmi_trust.ibmi.session import IbmiSession

    return IbmiSession(connection=sim.connection())


def pytest_addoption(parser):
    parser.addoption("--differential-seeds", default=None, metavar="A:B",
                     help="seeds for the OpenSSL differential test (default: the CI set, 0:300)")
