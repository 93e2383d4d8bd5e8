"""The import PKCS#12: DCM labels and encryption, checked with the openssl binary."""
import os
import subprocess
import tempfile

import pytest

from ibmi_trust.certs import compat
from ibmi_trust.errors import ConfigError
from ibmi_trust.ibmi import openssl_pkcs12
from ibmi_trust.ibmi.keystore_api import read_pkcs12
from ibmi_trust.ibmi.pkcs12_import import base_label, build_import_file, make_labels
from ibmi_trust.testing.pki import CA

OPENSSL = "/usr/bin/openssl"


@pytest.fixture(scope="module")
def cas():
    return {
        "accent": CA.root("Türkiye Kök Sertifika").cert,
        "plain": CA.root("Example Root CA").cert,
        "plain_again": CA.root("Example Root CA").cert,     # same subject, other key
        "long": CA.root("A" * 20 + " Very Long Certification Authority Name").cert,
    }


def openssl_listing(tmp_path, data: bytes, password: bytes) -> str:
    path = tmp_path / "x.p12"
    path.write_bytes(data)
    proc = subprocess.run([OPENSSL, "pkcs12", "-info", "-nokeys", "-in", str(path), "-passin", "stdin"],
                          input=password + b"\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout.decode("utf-8", "replace")


def test_label_is_the_subject_cn_in_ascii(cas):
    assert base_label(cas["accent"]) == "Turkiye Kok Sertifika"
    assert base_label(cas["plain"]) == "Example Root CA"


def test_labels_are_unique_case_insensitively_with_expiry_year_then_number(cas):
    year = cas["plain"].not_after.year
    labels = make_labels([cas["plain"], cas["plain_again"]], existing=["example root ca"])
    assert labels == ["Example Root CA (%d)" % year, "Example Root CA (%d) 2" % year]


def test_labels_respect_the_length_limit_and_keep_the_suffix(cas, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_LABEL_MAX", "32")
    first, second = make_labels([cas["long"], cas["long"]], existing=[])
    assert len(first) <= 32 and len(second) <= 32
    assert second.endswith("(%d)" % cas["long"].not_after.year)
    assert first != second


def test_label_limit_setting_is_validated(cas, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_LABEL_MAX", "3")
    with pytest.raises(ConfigError):
        make_labels([cas["plain"]], existing=[])


@pytest.mark.parametrize("builder", ["auto", "openssl"])
def test_built_file_carries_labels_and_legacy_encryption(tmp_path, cas, builder):
    items = [(cas["plain"], "Example Root CA"), (cas["accent"], "Turkiye Kok Sertifika")]
    data, carried = build_import_file(items, b"one-time", builder=builder)
    assert carried
    listing = openssl_listing(tmp_path, data, b"one-time")
    assert "friendlyName: Example Root CA" in listing
    assert "friendlyName: Turkiye Kok Sertifika" in listing
    assert "pbeWithSHA1And3-KeyTripleDES-CBC" in listing          # ref 7: the legacy profile
    assert "MAC: sha1" in listing
    assert "Shrouded Keybag" not in listing and "Key bag" not in listing   # certificates only
    assert [(c.sha256, n) for c, n in read_pkcs12(data, b"one-time")] == \
        [(cas["plain"].sha256, "Example Root CA"), (cas["accent"].sha256, "Turkiye Kok Sertifika")]


def test_default_encryption_is_selectable(tmp_path, cas, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_PKCS12_ENCRYPTION", "default")
    data, _carried = build_import_file([(cas["plain"], "Example Root CA")], b"pw", builder="openssl")
    listing = openssl_listing(tmp_path, data, b"pw")
    assert "pbeWithSHA1And3-KeyTripleDES-CBC" not in listing     # OpenSSL 3 default: PBES2/AES
    assert "friendlyName: Example Root CA" in listing


def test_unknown_encryption_setting_is_refused(cas, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_PKCS12_ENCRYPTION", "rc2")
    with pytest.raises(ConfigError):
        build_import_file([(cas["plain"], "x")], b"pw")


def test_cryptography_builder_matches_what_this_version_can_do(tmp_path, cas):
    data, carried = build_import_file([(cas["plain"], "Example Root CA")], b"pw", builder="cryptography")
    assert carried == compat.pkcs12_labels_carried()
    listing = openssl_listing(tmp_path, data, b"pw")
    assert ("friendlyName: Example Root CA" in listing) == carried


def test_password_reaches_openssl_on_stdin_not_argv(monkeypatch, cas, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        seen.append((list(args), kwargs.get("input")))
        return real_run(args, **kwargs)

    monkeypatch.setattr(openssl_pkcs12.subprocess, "run", spy)
    openssl_pkcs12.write([(cas["plain"], "x")], b"s3cret-pw")
    args, stdin = seen[0]
    assert not any("s3cret-pw" in a for a in args) and stdin.startswith(b"s3cret-pw")
    assert os.listdir(str(tmp_path)) == []      # the work directory is gone


LEGACY_EXPORT_SCRIPT = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ibmi_simulator import Simulator, system_store

class MonkeyPatch:                      # the helper's monkeypatch, without pytest
    def setenv(self, name, value):
        import os
        os.environ[name] = value

sim = Simulator(sys.argv[2])
sim.export_encryption = "rc2-40"        # QYKMEXPK writes 40-bit RC2, as older exports do
store = system_store(sim, MonkeyPatch(), Path(sys.argv[3]))
print(json.dumps({"listed": [[e.label, e.cert.sha256] for e in store.list()],
                  "in_store": [[label, cert.sha256] for label, cert in sim.entries()]}))
"""


def test_a_legacy_rc2_40_export_is_read_through_openssl_pkcs12_legacy(tmp_path):
    """cryptography on OpenSSL 3 without the legacy provider cannot read RC2-40
    (CRYPTOGRAPHY_OPENSSL_NO_LEGACY=1 stands for PASE's OpenSSL here): the export is
    read by `openssl pkcs12 -legacy` instead. Runs in a child process, because
    cryptography reads that variable once, when it loads OpenSSL."""
    import json
    import sys

    tests_dir = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, CRYPTOGRAPHY_OPENSSL_NO_LEGACY="1",
               PYTHONPATH=os.pathsep.join([os.path.dirname(tests_dir), tests_dir]))
    proc = subprocess.run([sys.executable, "-c", LEGACY_EXPORT_SCRIPT, tests_dir, str(tmp_path / "ifs"),
                           str(tmp_path / "work")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, cwd=os.path.dirname(tests_dir))
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    from ibmi_simulator import PREINSTALLED_LABEL

    seen = json.loads(proc.stdout)
    assert seen["listed"] == seen["in_store"] and seen["listed"][0][0] == PREINSTALLED_LABEL


def test_the_simulated_legacy_export_is_really_rc2_40(tmp_path):
    from ibmi_simulator import _write_pkcs12_with_openssl

    path = str(tmp_path / "export.p12")
    _write_pkcs12_with_openssl(path, [("Root", CA.root("Legacy Root").cert)], "pw", "rc2-40")
    proc = subprocess.run([OPENSSL, "pkcs12", "-info", "-nokeys", "-legacy", "-in", path, "-passin", "pass:pw"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert b"pbeWithSHA1And40BitRC2-CBC" in proc.stdout, proc.stdout
