"""The certificate model and the cryptography compatibility layer.

Runs on cryptography 3.4.8 and current: each newer API has a fallback, and
these tests exercise whichever path the installed version takes."""
import datetime
import hashlib
import subprocess

import pytest

from ibmi_trust.certs import Cert, load_certificate_file, load_certificates, to_pem_bundle
from ibmi_trust.certs import compat
from ibmi_trust.errors import CertificateError
from ibmi_trust.testing.pki import CA


def test_cert_facts_match_openssl(pki, tmp_path):
    leaf = pki["A"]["rsa"].cert
    path = tmp_path / "leaf.pem"
    path.write_text(leaf.pem())
    out = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-fingerprint", "-sha256", "-subject", "-nameopt", "RFC2253"],
                         capture_output=True, text=True, check=True).stdout
    fingerprint = out.split("=", 1)[1].splitlines()[0].replace(":", "").lower()
    assert leaf.sha256 == fingerprint == hashlib.sha256(leaf.der).hexdigest()
    assert "CN=mx.example.test" in out and leaf.subject.startswith("CN=mx.example.test")
    assert leaf.issuer == pki["A"]["inter"].cert.subject
    assert not leaf.is_ca and pki["A"]["inter"].cert.is_ca
    assert leaf.not_before.tzinfo is not None and leaf.not_after > leaf.not_before
    assert "mx.example.test" in leaf.dns_names() and "127.0.0.1" in leaf.ip_names()
    assert leaf.aki == pki["A"]["inter"].cert.ski


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_signature_checks_by_key_type(key_type):
    root = CA.root("Sig Root", key_type=key_type)
    other = CA.root("Sig Root", key_type=key_type)   # same name, different key
    inter = root.intermediate("Sig Inter", key_type=key_type)
    assert root.cert.issued(inter.cert)
    assert not other.cert.issued(inter.cert), "same name, wrong key must not verify"
    assert not inter.cert.issued(root.cert)
    assert root.cert.self_signed and not inter.cert.self_signed


def test_loading_pem_der_pkcs7_and_bundles(pki, tmp_path):
    a, b = pki["A"]["inter"].cert, pki["B"]["inter"].cert
    bundle = to_pem_bundle([a, b]).encode()
    assert load_certificates(bundle) == [a, b]
    assert load_certificates(a.der) == [a]
    from cryptography.hazmat.primitives.serialization import pkcs7
    serialize = getattr(pkcs7, "serialize_certificates", None)
    if serialize is not None:  # 37.0+: build the .p7c with cryptography
        from cryptography.hazmat.primitives.serialization import Encoding
        p7 = serialize([a.x509, b.x509], Encoding.DER)
    else:  # 3.4: let openssl build it
        (tmp_path / "in.pem").write_bytes(bundle)
        subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(tmp_path / "in.pem"), "-outform", "DER",
                        "-out", str(tmp_path / "out.p7c")], check=True)
        p7 = (tmp_path / "out.p7c").read_bytes()
    assert set(load_certificates(p7)) == {a, b}


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path):
    for junk in (b"", b"hello", b"\x30\x03\x02\x01\x01", b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"):
        with pytest.raises(CertificateError):
            load_certificates(junk)
    with pytest.raises(CertificateError) as info:
        load_certificate_file(tmp_path / "missing.pem")
    assert "missing.pem" in str(info.value)


def test_non_strict_loading_skips_broken_blocks(pki):
    good = pki["A"]["root"].cert
    text = (good.pem() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").encode()
    problems = []
    assert load_certificates(text, strict=False, problems=problems) == [good]
    assert len(problems) == 1 and "block 2" in problems[0]


def test_dates_are_utc_aware_on_every_version(pki):
    cert = pki["A"]["root"].cert.x509
    now = datetime.datetime.now(datetime.timezone.utc)
    assert compat.not_before(cert) < now < compat.not_after(cert)


def test_certs_only_pkcs12_round_trip(pki):
    cas = [(pki["A"]["root"].cert.x509, "Test Root A"), (pki["A"]["inter"].cert.x509, "Test Issuing CA A")]
    blob = compat.serialize_ca_pkcs12(cas, b"s3cret")
    back = compat.load_pkcs12_certs(blob, b"s3cret")
    assert {c.fingerprint(compat.hashes.SHA256()) for c, _ in back} == {c.fingerprint(compat.hashes.SHA256()) for c, _ in cas}
    names = {name for _, name in back}
    if compat.pkcs12_labels_carried() and hasattr(__import__("cryptography.hazmat.primitives.serialization.pkcs12", fromlist=["x"]), "load_pkcs12"):
        assert names == {"Test Root A", "Test Issuing CA A"}
    else:
        assert names == {None}
    with pytest.raises(Exception):
        compat.load_pkcs12_certs(blob, b"wrong")


def test_certs_are_hashable_by_fingerprint(pki):
    a1 = pki["A"]["root"].cert
    a2 = Cert(a1.der)
    assert a1 == a2 and len({a1, a2}) == 1 and repr(a1).startswith("<Cert ")


def test_explicit_curve_key_is_described_not_fatal():
    """x509-limbo's webpki::explicit-curve case: cryptography 3.4 cannot load
    its key (NotImplementedError); newer versions can. Cert must work either way:
    it describes the key from the DER (certs/fields.py), whatever cryptography can load."""
    import gzip
    import json
    import os

    corpus = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "shared", "corpora", "x509-limbo", "limbo-nobettertls.json.gz")
    if not os.path.exists(corpus):
        pytest.skip("x509-limbo corpus not beside the repository")
    with gzip.open(corpus) as handle:
        case = next(t for t in json.load(handle)["testcases"] if t["id"] == "webpki::explicit-curve")
    leaf = load_certificates(case["peer_certificate"].encode())[0]
    root = load_certificates(case["trusted_certs"][0].encode())[0]
    for cert in (leaf, root):
        assert len(cert.spki_sha256) == 64
        assert cert.key_description() == ("EC", 256)
    assert leaf.issuer_der == root.subject_der
    assert root.issued(leaf) in (True, False)      # decided, not raised


def test_trusted_certificate_blocks_load_without_their_trust_settings(pki, tmp_path):
    """OpenSSL's `x509 -trustout` appends trust settings after the DER; --from
    and the stores must read the certificate the same way."""
    src = tmp_path / "root.pem"
    src.write_text(pki["A"]["root"].cert.pem())
    out = subprocess.run(["openssl", "x509", "-in", str(src), "-trustout", "-addtrust", "serverAuth"],
                         capture_output=True, check=True).stdout
    assert b"BEGIN TRUSTED CERTIFICATE" in out
    assert load_certificates(out) == [pki["A"]["root"].cert]


@pytest.mark.parametrize("make, family, bits", [
    (lambda: __import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["x"]).generate_private_key(
        65537, 1024), "RSA", 1024),
    (lambda: __import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["x"]).generate_private_key(
        65537, 2048), "RSA", 2048),
    (lambda: __import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["x"]).generate_private_key(
        65537, 3072), "RSA", 3072),
    (lambda: _ec("SECP256R1"), "EC", 256),
    (lambda: _ec("SECP384R1"), "EC", 384),
    (lambda: _ec("SECP521R1"), "EC", 521),
])
def test_the_key_is_described_from_the_der_as_cryptography_sees_it(make, family, bits):
    """Cert reads the key type and size from the DER (certs/fields.py public_key),
    without cryptography: the same answers as cryptography's key objects."""
    from ibmi_trust.testing.pki import CA

    key = make()
    cert = CA.root("Key Size Root", key=key).cert
    assert cert.key_description() == (family, bits)
    loaded = cert.x509.public_key()
    assert getattr(loaded, "key_size", 256) == bits
    assert cert.key_info.explicit_ec is False


def _ec(curve):
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(getattr(ec, curve)())
