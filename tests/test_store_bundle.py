"""bundle:FILE: real files, checked with the real `openssl verify -CAfile`."""
import os

import pytest

from ibmi_trust.errors import StoreError
from ibmi_trust.store.spec import StoreOptions, open_store
from store_support import needs_openssl, openssl_verify, tree_image

HEADER = b"##\n## Local CA bundle, edited by hand\n##\n\n"


def bundle(path, **options):
    return open_store("bundle:%s" % path, StoreOptions(**options))


@pytest.fixture
def two_roots(pki, tmp_path):
    """A hand-made bundle: header, two commented roots, trailing text."""
    path = tmp_path / "ca.pem"
    path.write_bytes(HEADER + b"# Root A\n" + pki["A"]["root"].cert_pem() + b"\n# Root B\n"
                     + pki["B"]["root"].cert_pem() + b"\nlast words\n")
    return path


@needs_openssl
def test_openssl_verify_accepts_after_adding_the_missing_ca(pki, two_roots, tmp_path):
    leaf = pki["A"]["rsa"]
    assert openssl_verify(leaf.cert_pem(), tmp_path, cafile=two_roots).returncode != 0

    report = bundle(two_roots).add([pki["A"]["inter"].cert])

    assert [e.label for e in report.added] == ["#3"]
    result = openssl_verify(leaf.cert_pem(), tmp_path, cafile=two_roots)
    assert result.returncode == 0, result.stdout + result.stderr


def test_add_appends_and_keeps_every_other_byte(pki, two_roots):
    before = two_roots.read_bytes()

    report = bundle(two_roots).add([pki["A"]["inter"].cert, pki["A"]["root"].cert])

    after = two_roots.read_bytes()
    assert after.startswith(before)
    appended = after[len(before):].decode()
    assert appended.startswith("\n# CN=Test Issuing CA A,O=ibmi-trust test\n# SHA-256 %s, added by ibmi-trust "
                               % pki["A"]["inter"].cert.sha256)
    assert appended.endswith(pki["A"]["inter"].cert.pem())
    assert [e.label for e in report.already_present] == ["#1"]
    assert [e.label for e in bundle(two_roots).list()] == ["#1", "#2", "#3"]


def test_remove_cuts_the_block_and_its_header_only(pki, two_roots):
    store = bundle(two_roots)

    report = store.remove(["#1"])

    assert [e.cert.sha256 for e in report.removed] == [pki["A"]["root"].cert.sha256]
    assert two_roots.read_bytes() == HEADER + b"# Root B\n" + pki["B"]["root"].cert_pem() + b"\nlast words\n"
    store.remove([pki["B"]["root"].cert.sha256.upper()])
    assert two_roots.read_bytes() == HEADER + b"last words\n"
    assert store.list() == [] and "holds no PEM certificate" in store.problems[0].reason


def test_crlf_bundle_and_blocks_without_headers(pki, tmp_path):
    path = tmp_path / "crlf.pem"
    blocks = [pki[k]["root"].cert_pem().replace(b"\n", b"\r\n") for k in ("A", "B")]
    path.write_bytes(blocks[0] + blocks[1])

    bundle(path).remove(["#1"])

    assert path.read_bytes() == blocks[1]


def test_mode_owner_and_symlink_are_kept(pki, two_roots, tmp_path):
    two_roots.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(str(two_roots), 4321, 4321)
    link = tmp_path / "link-to-ca.pem"
    os.symlink(two_roots.name, str(link))

    bundle(link).add([pki["B"]["inter"].cert])

    assert os.path.islink(str(link)) and os.readlink(str(link)) == two_roots.name
    info = two_roots.stat()
    assert info.st_mode & 0o7777 == 0o640
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (4321, 4321)
    assert [e.label for e in bundle(two_roots).list()] == ["#1", "#2", "#3"]
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith(".ibmi-trust-tmp")]


def test_missing_bundle_is_created_by_add_but_not_read(pki, tmp_path):
    path = tmp_path / "new.pem"
    with pytest.raises(StoreError, match="does not exist"):
        bundle(path).list()
    assert bundle(path).add([pki["A"]["root"].cert], dry_run=True).notes == [
        "would create %s with 1 certificate(s)" % path]
    assert not path.exists()

    report = bundle(path).add([pki["A"]["root"].cert])

    assert [e.label for e in report.added] == ["#1"]
    assert path.stat().st_mode & 0o777 == 0o644
    with pytest.raises(StoreError, match="does not exist"):
        bundle(tmp_path / "no-dir" / "ca.pem").add([pki["A"]["root"].cert])


def test_garbage_blocks_are_reported_and_kept(pki, tmp_path):
    path = tmp_path / "mixed.pem"
    broken = b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    crl_like = b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"
    path.write_bytes(pki["A"]["root"].cert_pem() + broken + crl_like + junk + pki["B"]["root"].cert_pem())
    store = bundle(path)

    assert [e.label for e in store.list()] == ["#1", "#4"]
    assert [p.where.rsplit(" ", 1)[1] for p in store.problems] == ["#2", "#3"]

    store.remove(["#4"])

    assert path.read_bytes() == pki["A"]["root"].cert_pem() + broken + crl_like + junk


def test_directory_given_as_bundle(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        bundle(tmp_path).list()


def test_dry_run_changes_nothing(pki, two_roots, tmp_path):
    store = bundle(two_roots)
    store.add([pki["A"]["inter"].cert])
    before = tree_image(tmp_path)

    added = store.add([pki["B"]["inter"].cert], dry_run=True)
    removed = store.remove(["#1", "#3"], dry_run=True)
    restored = store.restore(dry_run=True)

    assert tree_image(tmp_path) == before
    assert [e.label for e in added.added] == ["#4"] and added.backup is None
    assert [e.label for e in removed.removed] == ["#1", "#3"]
    assert [e.label for e in restored.removed] == ["#3"] and restored.notes[0].startswith("would put back")
