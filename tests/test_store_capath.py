"""capath:DIR: real directories, checked with the real openssl (verify, rehash)."""
import os
import shutil

import pytest

from ibmi_trust.errors import StoreError
from ibmi_trust.store.capath import file_name_for
from ibmi_trust.store.rehash import hash_text, name_hash, subject_der_of
from ibmi_trust.store.spec import StoreOptions, open_store
from ibmi_trust.testing.pki import CA
from store_support import (links_of, needs_openssl, openssl_rehash_links, openssl_verify, store_image,
                                tree_image)


@pytest.fixture(scope="module")
def twins():
    """Three roots with the same subject name (different keys): one hash, three links."""
    roots = [CA.root("Twin Root") for _ in range(3)]
    return {"roots": roots, "leaves": [r.intermediate("Twin Issuing %d" % i).leaf(["twin%d.example.test" % i])
                                       for i, r in enumerate(roots)]}


def capath(directory, **options):
    return open_store("capath:%s" % directory, StoreOptions(**options))


def hash_of(cert) -> str:
    return hash_text(name_hash(subject_der_of(cert.der)))


@needs_openssl
def test_openssl_verify_accepts_after_adding_the_missing_ca(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    leaf, inter, root = pki["A"]["ec"], pki["A"]["inter"], pki["A"]["root"]
    store = capath(store_dir)
    store.add([root.cert])
    before = openssl_verify(leaf.cert_pem(), tmp_path, capath=store_dir)
    assert before.returncode != 0 and "unable to get local issuer" in before.stdout + before.stderr

    report = store.add([inter.cert])

    assert [e.label for e in report.added] == ["Test_Issuing_CA_A.pem"]
    after = openssl_verify(leaf.cert_pem(), tmp_path, capath=store_dir)
    assert after.returncode == 0, after.stdout + after.stderr
    assert links_of(store_dir) == {hash_of(root.cert) + ".0": "Test_Root_A.pem",
                                   hash_of(inter.cert) + ".0": "Test_Issuing_CA_A.pem"}


@needs_openssl
def test_links_equal_openssl_rehash_including_a_collision(twins, pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    store = capath(store_dir)
    store.add([r.cert for r in twins["roots"]] + [pki["B"]["root"].cert])
    store.add([leaf.issuer.cert for leaf in twins["leaves"]])

    ours = links_of(store_dir)
    twin_hash = hash_of(twins["roots"][0].cert)
    assert {n for n in ours if n.startswith(twin_hash)} == {twin_hash + ".0", twin_hash + ".1", twin_hash + ".2"}
    # the same directory, rehashed by openssl, keeps exactly these links ...
    assert openssl_rehash_links(store_dir, tmp_path) == ours
    # ... and so does openssl rehashing it from scratch (no links at all)
    bare = tmp_path / "bare"
    shutil.copytree(str(store_dir), str(bare), symlinks=True)
    for name in links_of(bare):
        os.unlink(str(bare / name))
    assert openssl_rehash_links(bare, tmp_path) == ours
    # every twin is found, although all three share one hash
    for leaf in twins["leaves"]:
        assert openssl_verify(leaf.cert_pem(), tmp_path, capath=store_dir).returncode == 0


@needs_openssl
def test_remove_renumbers_without_gaps(twins, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    store = capath(store_dir)
    store.add([r.cert for r in twins["roots"]] + [leaf.issuer.cert for leaf in twins["leaves"]])
    twin_hash = hash_of(twins["roots"][0].cert)
    first = links_of(store_dir)[twin_hash + ".0"]

    report = store.remove([first])

    links = links_of(store_dir)
    assert [e.label for e in report.removed] == [first]
    assert sorted(n for n in links if n.startswith(twin_hash)) == [twin_hash + ".0", twin_hash + ".1"]
    assert first not in os.listdir(str(store_dir))
    assert openssl_rehash_links(store_dir, tmp_path) == links
    for leaf in twins["leaves"][1:]:
        assert openssl_verify(leaf.cert_pem(), tmp_path, capath=store_dir).returncode == 0
    assert openssl_verify(twins["leaves"][0].cert_pem(), tmp_path, capath=store_dir).returncode != 0


@needs_openssl
def test_existing_numbering_is_kept_like_openssl(twins, tmp_path):
    """Links made by someone else: ids below the count stay, the rest is renumbered."""
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    names = ["a.pem", "b.pem", "c.pem"]
    for name, root in zip(names, twins["roots"]):
        (store_dir / name).write_bytes(root.cert_pem())
    twin_hash = hash_of(twins["roots"][0].cert)
    os.symlink("c.pem", str(store_dir / (twin_hash + ".1")))
    os.symlink("a.pem", str(store_dir / (twin_hash + ".7")))     # beyond the count: renumbered
    store = capath(store_dir)
    extra = CA.root("Unrelated Root")

    store.add([extra.cert])

    links = links_of(store_dir)
    assert {n: t for n, t in links.items() if n.startswith(twin_hash)} == {
        twin_hash + ".0": "a.pem", twin_hash + ".1": "c.pem", twin_hash + ".2": "b.pem"}
    assert openssl_rehash_links(store_dir, tmp_path) == links


def test_stale_links_are_reported_then_dropped_by_the_next_write(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    root = pki["A"]["root"]
    (store_dir / "root.pem").write_bytes(root.cert_pem())
    root_hash = hash_of(root.cert)
    os.symlink("gone.pem", str(store_dir / (root_hash + ".0")))          # skipped by OpenSSL...
    os.symlink("root.pem", str(store_dir / (root_hash + ".2")))          # ...but the missing .1 ends lookups
    os.symlink("root.pem", str(store_dir / "0badf00d.0"))                 # wrong hash
    store = capath(store_dir)

    entries = store.list()

    assert [(e.label, e.enabled) for e in entries] == [("root.pem", False)]
    reasons = {os.path.basename(p.where): p.reason for p in store.problems}
    assert "broken symbolic link" in reasons[root_hash + ".0"]
    assert "not 0badf00d" in reasons["0badf00d.0"]
    assert "lookups stop at the missing %s.1" % root_hash in reasons[root_hash + ".2"]

    report = store.add([pki["A"]["inter"].cert])

    assert links_of(store_dir) == {root_hash + ".0": "root.pem",
                                   hash_of(pki["A"]["inter"].cert) + ".0": "Test_Issuing_CA_A.pem"}
    assert any("unlink 0badf00d.0" in n for n in report.notes)
    assert [(e.label, e.enabled) for e in store.list()] == [("Test_Issuing_CA_A.pem", True), ("root.pem", True)]


def test_garbage_and_unreadable_files_are_reported_not_fatal(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    good = pki["A"]["root"]
    (store_dir / "good.pem").write_bytes(good.cert_pem())
    (store_dir / "garbage.pem").write_bytes(os.urandom(300))
    (store_dir / "two.pem").write_bytes(good.cert_pem() + pki["B"]["root"].cert_pem())
    (store_dir / "binary.cer").write_bytes(pki["B"]["root"].cert.der)
    (store_dir / "brokenb64.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
    (store_dir / "notcert.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    (store_dir / "key.pem").write_bytes(pki["A"]["ec"].key_pem())
    os.symlink("nowhere.pem", str(store_dir / "dangling.crt"))
    os.symlink("loop.pem", str(store_dir / "loop.pem"))
    os.mkfifo(str(store_dir / "fifo.pem"))
    (store_dir / "README").write_text("foreign file, not a certificate\n")
    (store_dir / "sub.pem").mkdir()
    store = capath(store_dir)
    foreign_before = {n: v for n, v in tree_image(store_dir).items() if n != "good.pem"}

    entries = store.list()

    assert [e.label for e in entries] == ["good.pem"]
    reasons = {os.path.basename(p.where): p.reason for p in store.problems}
    assert "holds 2 certificates" in reasons["two.pem"]
    assert "PEM only" in reasons["binary.cer"] and "PEM only" in reasons["garbage.pem"]
    assert "base64" in reasons["brokenb64.crt"]
    assert "not a valid X.509 certificate" in reasons["notcert.pem"]
    assert "private key but no certificate" in reasons["key.pem"]
    assert "broken symbolic link" in reasons["dangling.crt"]
    assert "cannot read it" in reasons["loop.pem"]
    assert "not a regular file" in reasons["fifo.pem"]
    assert "README" not in reasons and "sub.pem" not in reasons

    store.add([pki["A"]["inter"].cert])

    after = tree_image(store_dir)
    assert all(after[name] == value for name, value in foreign_before.items())
    assert "Test_Issuing_CA_A.pem" in after


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root, every file is readable; the unreadable-file path is covered by the symlink-loop test")
def test_unreadable_file_is_reported(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    secret = store_dir / "secret.pem"
    secret.write_bytes(pki["A"]["root"].cert_pem())
    secret.chmod(0)
    store = capath(store_dir)
    assert store.list() == []
    assert "Permission denied" in store.problems[0].reason
    store.add([pki["B"]["inter"].cert])                     # writing around it works
    assert secret.stat().st_mode & 0o777 == 0


def test_dry_run_changes_nothing(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    store = capath(store_dir)
    store.add([pki["A"]["root"].cert])
    os.symlink("gone.pem", str(store_dir / "12345678.0"))
    before = tree_image(tmp_path)

    added = store.add([pki["A"]["inter"].cert, pki["A"]["root"].cert], dry_run=True)
    removed = store.remove([pki["A"]["root"].cert.sha256], dry_run=True)
    restored = store.restore(dry_run=True)

    assert tree_image(tmp_path) == before
    assert added.dry_run and [e.label for e in added.added] == ["Test_Issuing_CA_A.pem"]
    assert [e.label for e in added.already_present] == ["Test_Root_A.pem"]
    assert any(n.startswith("would write Test_Issuing_CA_A.pem") for n in added.notes)
    assert any(n.startswith("would unlink 12345678.0") for n in added.notes)
    assert [e.label for e in removed.removed] == ["Test_Root_A.pem"] and removed.backup is None
    assert [e.label for e in restored.removed] == ["Test_Root_A.pem"]


def test_add_is_idempotent_and_takes_no_backup(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    store = capath(store_dir)
    first = store.add([pki["A"]["root"].cert])
    before = tree_image(tmp_path)

    again = store.add([pki["A"]["root"].cert])

    assert first.changed and first.backup is not None
    assert not again.changed and again.backup is None
    assert [e.label for e in again.already_present] == ["Test_Root_A.pem"]
    assert store_image(store_dir) == {k: v for k, v in before["certs"][1].items() if not k.startswith(".")}
    assert len(store.backups()) == 1


def test_a_present_but_unlinked_file_is_linked_not_copied(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    (store_dir / "mine.crt").write_bytes(pki["B"]["root"].cert_pem())
    store = capath(store_dir)
    assert [(e.label, e.enabled) for e in store.list()] == [("mine.crt", False)]
    assert "no usable hash link" in store.problems[0].reason

    report = store.add([pki["B"]["root"].cert])

    assert [e.label for e in report.added] == ["mine.crt"]
    assert links_of(store_dir) == {hash_of(pki["B"]["root"].cert) + ".0": "mine.crt"}
    assert [(e.label, e.enabled) for e in store.list()] == [("mine.crt", True)]


def test_remove_by_fingerprint_label_and_not_found(pki, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    store = capath(store_dir)
    store.add([pki["A"]["root"].cert, pki["B"]["root"].cert, pki["A"]["inter"].cert])
    fingerprint = ":".join(pki["A"]["root"].cert.sha256[i:i + 2] for i in range(0, 64, 2)).upper()

    report = store.remove([fingerprint, "Test_Root_B.pem", "no-such-label"])

    assert sorted(e.label for e in report.removed) == ["Test_Root_A.pem", "Test_Root_B.pem"]
    assert report.not_found == ["no-such-label"]
    assert [e.label for e in store.list()] == ["Test_Issuing_CA_A.pem"]
    assert links_of(store_dir) == {hash_of(pki["A"]["inter"].cert) + ".0": "Test_Issuing_CA_A.pem"}


def test_crl_files_get_r_links_like_openssl(pki, tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from ibmi_trust.certs.compat import BACKEND

    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    root = pki["A"]["root"]
    now = datetime.datetime(2024, 1, 1)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.x509.subject).last_update(now)
           .next_update(now + datetime.timedelta(days=30)).sign(root.key, hashes.SHA256(), BACKEND))
    (store_dir / "root.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    store = capath(store_dir)

    store.add([root.cert])

    links = links_of(store_dir)
    assert links == {hash_of(root.cert) + ".0": "Test_Root_A.pem", hash_of(root.cert) + ".r0": "root.crl"}
    if shutil.which("openssl"):
        assert openssl_rehash_links(store_dir, tmp_path) == links


def test_foreign_hash_files_and_links_keep_their_ids(twins, tmp_path):
    store_dir = tmp_path / "certs"
    store_dir.mkdir()
    outside = tmp_path / "elsewhere.pem"
    outside.write_bytes(twins["roots"][0].cert_pem())
    twin_hash = hash_of(twins["roots"][0].cert)
    os.symlink(str(outside), str(store_dir / (twin_hash + ".0")))            # absolute, foreign
    (store_dir / (twin_hash + ".1")).write_bytes(twins["roots"][1].cert_pem())  # a regular file
    store = capath(store_dir)
    assert [(e.label, e.enabled) for e in store.list()] == [(twin_hash + ".0", True), (twin_hash + ".1", True)]

    store.add([twins["roots"][2].cert, twins["roots"][0].cert])

    assert os.readlink(str(store_dir / (twin_hash + ".0"))) == str(outside)
    assert (store_dir / (twin_hash + ".1")).read_bytes() == twins["roots"][1].cert_pem()
    assert os.readlink(str(store_dir / (twin_hash + ".2"))) == "Twin_Root.pem"
    assert {e.label for e in store.list() if e.enabled} == {twin_hash + ".0", twin_hash + ".1", "Twin_Root.pem"}


def test_missing_directory_is_a_clear_error(pki, tmp_path):
    store = capath(tmp_path / "nope")
    with pytest.raises(StoreError, match="does not exist"):
        store.list()
    with pytest.raises(StoreError, match="does not exist") as info:
        store.add([pki["A"]["root"].cert])
    assert "mkdir" in info.value.hint
    assert not (tmp_path / "nope").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is not a directory"):
        capath(tmp_path / "file").list()


def test_file_names_are_readable_unique_and_case_insensitive(pki):
    root = CA.root("Türkiye Kök / Sertifika: Hizmet*Sağlayıcısı")
    assert file_name_for(root.cert, set()) == "Turkiye_Kok_Sertifika_Hizmet_Saglaycs.pem"
    taken = {"test_root_a.pem", "test_root_a_2.pem"}
    assert file_name_for(pki["A"]["root"].cert, taken) == "Test_Root_A_3.pem"
    nameless = CA.root("日本語")
    assert file_name_for(nameless.cert, set()) == "ca_%s.pem" % nameless.cert.sha256[:16]
