"""A small private PKI builder in the spirit of python-trio/trustme.

    root = CA.root("Test Root")
    inter = root.intermediate("Test Issuing CA", aia_url=None)
    leaf = inter.leaf(["mx.example.test", "127.0.0.1"], key_type="ec")
    leaf.chain_pem()          # leaf + inter (what a server sends)

Works with cryptography 3.4 (the IBM i floor) and current releases.
"""
import datetime
import ipaddress
from typing import List, Optional, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from ibmi_trust.certs import Cert
from ibmi_trust.certs.compat import BACKEND

_RSA_CACHE: List = []


def new_key(key_type: str = "ec"):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1(), BACKEND)
    if key_type == "rsa":
        return rsa.generate_private_key(65537, 2048, BACKEND)
    if key_type == "rsa1024":
        return rsa.generate_private_key(65537, 1024, BACKEND)
    raise ValueError("key_type must be ec, rsa or rsa1024")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)


def _name(cn: str, org: str = "ibmi-trust test") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class Issued:
    """A certificate with its private key."""

    def __init__(self, cert: x509.Certificate, key, issuer: Optional["CA"]):
        self.x509 = cert
        self.key = key
        self.issuer = issuer
        self.cert = Cert(cert.public_bytes(serialization.Encoding.DER))

    def cert_pem(self) -> bytes:
        return self.cert.pem().encode("ascii")

    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    def chain(self) -> List[Cert]:
        """This certificate and its issuers up to (not including) the root."""
        out = [self.cert]
        ca = self.issuer
        while ca is not None and ca.issuer is not None:
            out.append(ca.cert)
            ca = ca.issuer
        return out

    def chain_pem(self) -> bytes:
        return b"".join(c.pem().encode("ascii") for c in self.chain())


class CA(Issued):
    """A certificate authority that can issue intermediates and leaves."""

    def __init__(self, cert, key, issuer: Optional["CA"], name: x509.Name):
        super().__init__(cert, key, issuer)
        self.name = name

    @classmethod
    def root(cls, cn: str = "ibmi-trust Test Root", *, key_type: str = "ec", key=None,
             not_before: Optional[datetime.datetime] = None, days: int = 3650,
             hash_alg=None) -> "CA":
        key = key or new_key(key_type)
        name = _name(cn)
        start = not_before or (_now() - datetime.timedelta(days=1))
        builder = _ca_builder(name, name, key.public_key(), key.public_key(), start, days, None)
        cert = builder.sign(key, hash_alg or hashes.SHA256(), BACKEND)
        return cls(cert, key, None, name)

    def intermediate(self, cn: str, *, key_type: str = "ec", key=None, path_length: Optional[int] = 0,
                     aia_url: Optional[str] = None, not_before=None, days: int = 1825,
                     hash_alg=None) -> "CA":
        key = key or new_key(key_type)
        name = _name(cn)
        start = not_before or (_now() - datetime.timedelta(days=1))
        builder = _ca_builder(name, self.name, key.public_key(), self.key.public_key(), start, days,
                              path_length, aia_url)
        cert = builder.sign(self.key, hash_alg or hashes.SHA256(), BACKEND)
        return CA(cert, key, self, name)

    def cross_sign(self, other: "CA", *, days: int = 1825) -> "CA":
        """A certificate for `other`'s name and key, issued by this CA."""
        start = _now() - datetime.timedelta(days=1)
        builder = _ca_builder(other.name, self.name, other.key.public_key(), self.key.public_key(),
                              start, days, None)
        cert = builder.sign(self.key, hashes.SHA256(), BACKEND)
        return CA(cert, other.key, self, other.name)

    def reissue(self, *, not_before=None, days: int = 3650) -> "CA":
        """Same name and key, new validity (a renewed CA / an expired copy)."""
        start = not_before or (_now() - datetime.timedelta(days=1))
        signer = self.issuer.key if self.issuer else self.key
        issuer_name = self.issuer.name if self.issuer else self.name
        issuer_pub = signer.public_key()
        builder = _ca_builder(self.name, issuer_name, self.key.public_key(), issuer_pub, start, days,
                              None if self.issuer is None else 0)
        cert = builder.sign(signer, hashes.SHA256(), BACKEND)
        return CA(cert, self.key, self.issuer, self.name)

    def leaf(self, names: Sequence[str], *, key_type: str = "ec", key=None,
             aia_url: Optional[str] = None, not_before=None, days: int = 365,
             cn: Optional[str] = None, hash_alg=None) -> Issued:
        key = key or new_key(key_type)
        start = not_before or (_now() - datetime.timedelta(days=1))
        sans = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn or (names[0] if names else "leaf")))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        if aia_url:
            builder = builder.add_extension(_aia(aia_url), critical=False)
        cert = builder.sign(self.key, hash_alg or hashes.SHA256(), BACKEND)
        return Issued(cert, key, self)


def _aia(url: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess([
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))
    ])


def _ca_builder(subject, issuer, subject_pub, issuer_pub, start, days, path_length, aia_url=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                          crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_pub), critical=False)
    )
    if aia_url:
        builder = builder.add_extension(_aia(aia_url), critical=False)
    return builder


def patched_and_resigned(issued: Issued, old: bytes, new: bytes) -> bytes:
    """DER of `issued`'s certificate with the bytes `old` in its TBS replaced
    by `new` (same length) and signed again by its issuer: certificates no
    builder makes, such as a UTF8String holding bytes that are not UTF-8."""
    from cryptography.hazmat.primitives.asymmetric import padding
    from ibmi_trust.certs.der import der_encode, der_tlv

    if len(old) != len(new):
        raise ValueError("old and new must have the same length")
    der = issued.cert.der
    _tag, start, _end = der_tlv(der, 0)
    tbs_end = der_tlv(der, start)[2]
    algorithm = der[tbs_end:der_tlv(der, tbs_end)[2]]
    tbs = der[start:tbs_end]
    if old not in tbs:
        raise ValueError("%r is not in the certificate" % old)
    tbs = tbs.replace(old, new, 1)
    signer = issued.issuer.key if issued.issuer is not None else issued.key
    if isinstance(signer, ec.EllipticCurvePrivateKey):
        signature = signer.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        signature = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return der_encode(0x30, tbs + algorithm + der_encode(0x03, b"\x00" + signature))
