"""The anchor index finds an issuer whose name differs only in letter case,
spacing or string encoding, even when the child carries no key identifier
(RFC 5280 7.1; OpenSSL compares names the same way)."""
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from ibmi_trust.analyse import analyse_chain
from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.certs import Cert
from ibmi_trust.certs.compat import BACKEND
from ibmi_trust.store.base import StoreEntry
from ibmi_trust.testing.pki import CA, new_key


def _leaf_naming_issuer(issuer_ca, issuer_name):
    key = new_key("ec")
    start = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.example.test")]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("mx.example.test")]), critical=False)
            .sign(issuer_ca.key, hashes.SHA256(), BACKEND))        # no AKI extension at all
    return Cert(cert.public_bytes(serialization.Encoding.DER))


def test_issuer_found_by_name_as_rfc5280_compares_without_key_id():
    root = CA.root("Index Root")
    shouted = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "IBMI-TRUST   TEST"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "INDEX  ROOT")])
    leaf = _leaf_naming_issuer(root, shouted)
    assert leaf.aki is None and leaf.issuer_der != root.cert.subject_der
    index = CertIndex([(root.cert, "root")])
    assert [c for c, _ in index.issuers_of(leaf)] == [root.cert]
    report = analyse_chain([leaf], [StoreEntry(root.cert, "root")], host="mx.example.test")
    assert report.verdict == "trusted" and report.anchor == root.cert


def test_a_different_name_is_not_found():
    root = CA.root("Index Root")
    other = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Index Root 2")])
    leaf = _leaf_naming_issuer(root, other)
    assert CertIndex([(root.cert, "root")]).issuers_of(leaf) == []
