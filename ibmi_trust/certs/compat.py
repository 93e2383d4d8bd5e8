"""cryptography 3.4 .. current, behind feature checks (python-on-ibmi.md 4.2-4.3).

Every newer API is used only when present, with a fallback that works on
cryptography 3.4 (the IBM i floor). Tests run on 3.4.8 and on the newest.
"""
import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa

try:  # 42.0+
    from cryptography.x509 import verification as x509_verification  # noqa: F401
    HAVE_X509_VERIFICATION = True
except ImportError:  # pragma: no cover - depends on installed version
    x509_verification = None
    HAVE_X509_VERIFICATION = False

BACKEND = default_backend()
UTC = datetime.timezone.utc


def load_der(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der, BACKEND)


def not_before(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None)  # 42.0+
    if value is not None:
        return value
    return cert.not_valid_before.replace(tzinfo=UTC)


def not_after(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)  # 42.0+
    if value is not None:
        return value
    return cert.not_valid_after.replace(tzinfo=UTC)


def signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `issuer`'s key verifies `child`'s signature.

    Names are not compared here (the path builder does that); this is the
    cryptographic confirmation only. Uses verify_directly_issued_by (40+)
    when it exists, else checks the signature by key type (3.4 fallback).
    """
    try:
        key = issuer.public_key()
    except (ValueError, NotImplementedError, UnsupportedAlgorithm):
        return False                      # a key we cannot load verifies nothing
    return _signature_ok(child, key)


def _signature_ok(child: x509.Certificate, key) -> bool:
    try:
        hash_alg = child.signature_hash_algorithm
    except UnsupportedAlgorithm:
        hash_alg = None
    sig, tbs = child.signature, child.tbs_certificate_bytes
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if hash_alg is None:
                return False
            if child.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSASSA_PSS:
                pad = padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=padding.PSS.AUTO
                                  if hasattr(padding.PSS, "AUTO") else hash_alg.digest_size)
            else:
                pad = padding.PKCS1v15()
            key.verify(sig, tbs, pad, hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if hash_alg is None:
                return False
            key.verify(sig, tbs, ec.ECDSA(hash_alg))
        elif isinstance(key, dsa.DSAPublicKey):
            if hash_alg is None:
                return False
            key.verify(sig, tbs, hash_alg)
        else:  # Ed25519 / Ed448 take no hash
            key.verify(sig, tbs)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def load_pkcs7(data: bytes):
    """Certificates of a PKCS#7 certs-only structure (DER or PEM); 3.1+."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    if data.lstrip().startswith(b"-----BEGIN"):
        return list(pkcs7.load_pem_pkcs7_certificates(data))
    return list(pkcs7.load_der_pkcs7_certificates(data))


def serialize_ca_pkcs12(certs_with_labels, password: bytes, legacy: bool = True) -> bytes:
    """A certificates-only PKCS#12 (no key), each CA with its friendly name.

    - friendly names per CA need PKCS12Certificate (37.0+); before that the
      labels cannot be carried and the caller is told by `labels_carried`.
    - legacy=True asks for 3DES/SHA-1 encryption (38.0+ builder), the most
      widely readable profile (ibmi-interfaces.md 7); before 38 the library's
      default is used (3DES on the OpenSSL 1.1 builds of those versions).
    """
    from cryptography.hazmat.primitives.serialization import pkcs12

    cls = getattr(pkcs12, "PKCS12Certificate", None)
    if cls is not None:
        cas = [cls(cert, label.encode("utf-8")) for cert, label in certs_with_labels]
    else:
        cas = [cert for cert, _label in certs_with_labels]
    encryption = serialization.BestAvailableEncryption(password)
    builder = getattr(serialization.PrivateFormat, "PKCS12", None)
    if legacy and builder is not None and hasattr(builder, "encryption_builder"):
        encryption = (
            builder.encryption_builder()
            .kdf_rounds(50000)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(password)
        )
    return pkcs12.serialize_key_and_certificates(None, None, None, cas, encryption)


def pkcs12_labels_carried() -> bool:
    from cryptography.hazmat.primitives.serialization import pkcs12

    return hasattr(pkcs12, "PKCS12Certificate")


def load_pkcs12_certs(data: bytes, password: bytes):
    """[(cert, friendly_name_or_None)] from a PKCS#12; names need 36.0+."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    loader = getattr(pkcs12, "load_pkcs12", None)
    if loader is not None:
        bundle = loader(data, password, BACKEND)
        out = []
        if bundle.cert is not None:
            name = bundle.cert.friendly_name
            out.append((bundle.cert.certificate, name.decode("utf-8", "replace") if name else None))
        for item in bundle.additional_certs:
            name = item.friendly_name
            out.append((item.certificate, name.decode("utf-8", "replace") if name else None))
        return out
    _key, cert, extra = pkcs12.load_key_and_certificates(data, password, BACKEND)
    out = [(cert, None)] if cert is not None else []
    return out + [(c, None) for c in (extra or [])]
