"""The OpenSSL subject-name hash and link numbering, checked against the openssl binary."""
import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier

from ibmi_trust.certs import Cert
from ibmi_trust.certs.compat import BACKEND
from ibmi_trust.store.rehash import (CERT, Link, Linkable, NameHashError, canonical_name, crl_issuer_der,
                                     hash_text, name_hash, number_links, parse_link_name, subject_der_of)
from ibmi_trust.testing.pki import new_key
from store_support import OPENSSL, links_of, needs_openssl

A = x509.NameAttribute
R = x509.RelativeDistinguishedName
UTF8, PRINTABLE, T61, IA5 = _ASN1Type.UTF8String, _ASN1Type.PrintableString, _ASN1Type.T61String, _ASN1Type.IA5String
BMP, UNIVERSAL, NUMERIC = _ASN1Type.BMPString, _ASN1Type.UniversalString, _ASN1Type.NumericString
CN, O, OU, C, DC, EMAIL = (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME,
                           NameOID.COUNTRY_NAME, NameOID.DOMAIN_COMPONENT, NameOID.EMAIL_ADDRESS)
PRIVATE_OID = ObjectIdentifier("1.3.6.1.4.1.99999.1")


def _names():
    """Subject names that exercise every canonicalisation rule.

    (No VisibleString: OpenSSL cannot load a certificate whose name uses it.)
    """
    plain = [
        [A(CN, "DigiCert Global Root G2"), A(O, "DigiCert Inc"), A(C, "US")],
        [A(CN, "  MiXeD   CaSe \t Name  ")],
        [A(CN, "UPPER lower 123 !#$%&'()*+,-./:;<=>?@[]^_`{|}~")],
        [A(CN, "Tab\there\nnewline\rcr\x0bvt\x0cff")],
        [A(CN, "Türkiye Kök Sertifika Hizmet Sağlayıcısı")],
        [A(CN, "ÄÖÜ äöü ẞ ß Ωμέγα")],
        [A(CN, "日本語 ルート 認証局"), A(O, "株式会社 テスト")],
        [A(CN, "emoji \U0001F512 LOCK")],
        [A(PRIVATE_OID, "x" * 200), A(CN, "long values need long-form DER lengths")],
        [A(CN, "Printable Mixed Case", _type=PRINTABLE)],
        [A(CN, "Bmp Ünïcödé String", _type=BMP)],
        [A(CN, "Universal ÜNÏ String", _type=UNIVERSAL)],
        [A(CN, "T61 ASCII Only", _type=T61)],
        [A(CN, "T61 Läten", _type=T61)],
        [A(EMAIL, "Admin@Example.TEST"), A(CN, "Ia5 Email")],
        [A(CN, "Numeric kept"), A(NameOID.SERIAL_NUMBER, "0123 456", _type=NUMERIC)],
        [A(DC, "Example"), A(DC, "TEST"), A(CN, "Domain Components")],
        [A(PRIVATE_OID, "Private OID Value"), A(CN, "private oid")],
        [A(CN, "dup"), A(CN, "DUP"), A(CN, " dup ")],
        [A(CN, " ")],
        [A(CN, "Collide Me")],
        [A(CN, "  collide    ME ", _type=PRINTABLE)],      # same canonical name: a hash collision
        [A(CN, "")] if _empty_values_allowed() else [A(CN, "no-empty")],
    ]
    multi = [
        [R([A(CN, "Multi Valued"), A(OU, "Zeta Unit")]), R([A(O, "Org")])],
        [R([A(OU, "b"), A(CN, "A")])],                       # canonical order differs from input order
        [R([A(CN, "Same", _type=PRINTABLE), A(OU, "same")]), R([A(C, "DE")])],
        [R([A(CN, "BMP multi", _type=BMP), A(OU, "UTF8 multi")])],
    ]
    return [x509.Name(n) for n in plain] + [x509.Name(n) for n in multi] + [x509.Name([])]


def _empty_values_allowed() -> bool:
    try:
        A(CN, "")
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def named_certs():
    key = new_key("ec")
    start = datetime.datetime(2024, 1, 1)
    out = []
    for index, name in enumerate(_names()):
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(index + 1)
                   .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
        cert = builder.sign(key, hashes.SHA256(), BACKEND)
        out.append(Cert(cert.public_bytes(serialization.Encoding.DER)))
    return out


@needs_openssl
def test_name_hash_equals_openssl_subject_hash(named_certs, tmp_path):
    for index, cert in enumerate(named_certs):
        (tmp_path / ("c%02d.pem" % index)).write_bytes(cert.pem().encode())
    script = 'for f in "$1"/c*.pem; do "$2" x509 -noout -subject_hash -in "$f" || echo ERROR; done'
    out = subprocess.run(["sh", "-c", script, "sh", str(tmp_path), OPENSSL], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    ours = [hash_text(name_hash(subject_der_of(c.der))) for c in named_certs]
    assert len(out) == len(named_certs) >= 25
    mismatches = [(c.subject, o, t) for c, o, t in zip(named_certs, ours, out) if o != t]
    assert mismatches == []


@needs_openssl
def test_openssl_rehash_names_the_same_links(named_certs, tmp_path):
    for index, cert in enumerate(named_certs):
        (tmp_path / ("c%02d.pem" % index)).write_bytes(cert.pem().encode())
    subprocess.run([OPENSSL, "rehash", str(tmp_path)], capture_output=True, timeout=60)
    files = [Linkable("c%02d.pem" % i, CERT, name_hash(subject_der_of(c.der)), c.sha256)
             for i, c in enumerate(named_certs)]
    expected = number_links(files, [], {})
    assert links_of(tmp_path) == expected
    assert any(name.endswith(".1") for name in expected)   # the "Collide Me" pair


def test_canonicalisation_rules():
    def canon(*attrs):
        return canonical_name(x509.Name(list(attrs)).public_bytes(BACKEND))

    # case, surrounding and repeated whitespace, and the string type do not matter
    assert canon(A(CN, "  Foo \t\n BAR  ")) == canon(A(CN, "foo bar", _type=PRINTABLE))
    assert canon(A(CN, "Ünï", _type=BMP)) == canon(A(CN, "Ünï"))
    # non-ASCII letters are not case-folded (OpenSSL lower-cases ASCII only)
    assert canon(A(CN, "Ü")) != canon(A(CN, "ü"))
    # NumericString keeps its tag, the others become UTF8String (tag 12)
    assert b"\x0c\x03foo" in canon(A(CN, "FOO", _type=PRINTABLE))
    assert b"\x12\x03123" in canon(A(NameOID.SERIAL_NUMBER, "123", _type=NUMERIC))
    # the empty name hashes the empty string
    assert canonical_name(x509.Name([]).public_bytes(BACKEND)) == b""
    assert name_hash(x509.Name([]).public_bytes(BACKEND)) == int.from_bytes(
        bytes.fromhex("da39a3ee"), "little")


def test_multi_valued_rdn_is_sorted_after_canonicalisation():
    one = x509.Name([R([A(OU, "b"), A(CN, "A")])]).public_bytes(BACKEND)
    two = x509.Name([R([A(CN, "a"), A(OU, "B")])]).public_bytes(BACKEND)
    assert name_hash(one) == name_hash(two)
    split = x509.Name([A(CN, "a"), A(OU, "b")]).public_bytes(BACKEND)
    assert name_hash(split) != name_hash(one)     # two RDNs are not one multi-valued RDN


def test_bad_names_are_refused_not_guessed():
    from ibmi_trust.certs.der import DerError      # NameHashError is one kind of DerError

    with pytest.raises(NameHashError):
        name_hash(b"\x31\x00")                    # a SET, not a SEQUENCE
    with pytest.raises(DerError):
        name_hash(b"\x30\x05\x31\x03\x30\x01")    # truncated
    bad_bmp = b"\x30\x0d\x31\x0b\x30\x09\x06\x03\x55\x04\x03\x1e\x02\xd8\x00"  # lone surrogate
    with pytest.raises(NameHashError):
        name_hash(bad_bmp)


@needs_openssl
def test_crl_issuer_hash_matches_openssl(tmp_path, pki):
    root = pki["A"]["root"]
    now = datetime.datetime(2024, 1, 1)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.x509.subject)
           .last_update(now).next_update(now + datetime.timedelta(days=30))
           .sign(root.key, hashes.SHA256(), BACKEND))
    pem = crl.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "crl.pem").write_bytes(pem)
    out = subprocess.run([OPENSSL, "crl", "-noout", "-hash", "-in", str(tmp_path / "crl.pem")],
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    der = crl.public_bytes(serialization.Encoding.DER)
    assert hash_text(name_hash(crl_issuer_der(der))) == out


def test_link_names_parse_only_in_lookup_form():
    assert parse_link_name("1a2b3c4d.0") == (CERT, 0x1a2b3c4d, 0)
    assert parse_link_name("1a2b3c4d.r12") == ("r", 0x1a2b3c4d, 12)
    for name in ("1A2B3C4D.0", "1a2b3c4d.01", "1a2b3c4.0", "1a2b3c4d.pem", "1a2b3c4d.0.bak"):
        assert parse_link_name(name) is None


# -- numbering ------------------------------------------------------------------
def _files(*specs):
    return [Linkable(name, CERT, h, digest) for name, h, digest in specs]


def test_new_links_follow_visit_order_by_bytes():
    files = _files(("b.pem", 1, "d1"), ("B.pem", 1, "d2"), ("a.pem", 1, "d3"), ("c.pem", 2, "d4"))
    assert number_links(files, [], {}) == {
        "00000001.0": "B.pem", "00000001.1": "a.pem", "00000001.2": "b.pem", "00000002.0": "c.pem"}


def test_duplicates_are_linked_once():
    files = _files(("a.pem", 1, "same"), ("b.pem", 1, "same"))
    assert number_links(files, [], {}) == {"00000001.0": "a.pem"}


def test_existing_ids_below_the_count_are_kept_and_gaps_filled():
    files = _files(("a.pem", 1, "d1"), ("b.pem", 1, "d2"), ("c.pem", 1, "d3"))
    links = [Link("00000001.1", CERT, 1, 1, "c.pem"), Link("00000001.7", CERT, 1, 7, "a.pem")]
    assert number_links(files, links, {}) == {
        "00000001.1": "c.pem", "00000001.0": "a.pem", "00000001.2": "b.pem"}


def test_reserved_ids_are_skipped():
    files = _files(("a.pem", 1, "d1"))
    assert number_links(files, [], {(CERT, 1): {0}}) == {"00000001.1": "a.pem"}
