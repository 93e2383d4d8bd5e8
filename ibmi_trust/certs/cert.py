"""`Cert`: one X.509 certificate as DER bytes plus the facts every stage asks.

Immutable and hashable by its SHA-256 fingerprint, so sets and dicts of
certificates deduplicate naturally. Parsing is done once, on creation.
"""
import base64
import datetime
import hashlib
from typing import List, Optional, Tuple

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from ibmi_trust.certs import compat
from ibmi_trust.certs.der import DerError, certificate_parts
from ibmi_trust.errors import CertificateError
from ibmi_trust.timestamps import iso_utc


class Cert:
    __slots__ = (
        "der", "x509", "sha256", "subject", "issuer", "subject_der", "issuer_der",
        "not_before", "not_after", "ski", "aki", "is_ca", "path_length",
        "can_sign_certs", "ca_issuers", "spki_sha256", "serial", "subject_key", "issuer_key",
    )

    def __init__(self, der: bytes):
        try:
            parsed = compat.load_der(bytes(der))
        except Exception as exc:  # cryptography raises ValueError and friends
            raise CertificateError("not a valid X.509 certificate: %s" % _short(exc)) from None
        self.der = bytes(der)
        self.x509 = parsed
        self.sha256 = hashlib.sha256(self.der).hexdigest()
        self.subject = _name_text(parsed.subject)
        self.issuer = _name_text(parsed.issuer)
        try:   # names and key exactly as encoded (see certs/der.py)
            self.issuer_der, self.subject_der, spki = certificate_parts(self.der)
        except DerError:
            raise CertificateError("not a valid X.509 certificate: unreadable TBS structure") from None
        self.not_before = compat.not_before(parsed)
        self.not_after = compat.not_after(parsed)
        self.serial = parsed.serial_number
        self.spki_sha256 = hashlib.sha256(spki).hexdigest()
        self.subject_key = _name_key(parsed.subject)   # for comparing names (RFC 5280 7.1)
        self.issuer_key = _name_key(parsed.issuer)
        self.ski = _ext_value(parsed, x509.SubjectKeyIdentifier, lambda v: v.digest.hex())
        self.aki = _ext_value(parsed, x509.AuthorityKeyIdentifier,
                              lambda v: v.key_identifier.hex() if v.key_identifier else None)
        bc = _ext_value(parsed, x509.BasicConstraints, lambda v: v)
        self.is_ca = bool(bc and bc.ca)
        self.path_length = bc.path_length if bc else None
        ku = _ext_value(parsed, x509.KeyUsage, lambda v: v)
        self.can_sign_certs = True if ku is None else bool(ku.key_cert_sign)
        self.ca_issuers = _aia_ca_issuers(parsed)

    # -- identity -------------------------------------------------------
    def __eq__(self, other):
        return isinstance(other, Cert) and other.sha256 == self.sha256

    def __hash__(self):
        return hash(self.sha256)

    def __repr__(self):
        return "<Cert %s %s>" % (self.sha256[:12], self.subject)

    # -- derived facts --------------------------------------------------
    @property
    def self_issued(self) -> bool:
        """Subject and issuer are the same name as RFC 5280 7.1 (and OpenSSL,
        which then takes a self-signed one as a trust anchor) compare them:
        not only byte for byte, but also across string encodings, letter case
        and runs of white space."""
        return self.subject_der == self.issuer_der or names_match(self.subject_key, self.issuer_key)

    @property
    def self_signed(self) -> bool:
        return self.self_issued and compat.signed_by(self.x509, self.x509)

    @property
    def common_name(self) -> str:
        attrs = self.x509.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else self.subject

    def pem(self) -> str:
        body = base64.b64encode(self.der).decode("ascii")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines)

    def issued(self, child: "Cert") -> bool:
        """Name match and a verifying signature: self issued `child`."""
        return child.issuer_der == self.subject_der and compat.signed_by(child.x509, self.x509)

    def valid_at(self, when: datetime.datetime) -> bool:
        return self.not_before <= when <= self.not_after

    def days_left(self, now: datetime.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400.0

    def signature_hash_name(self) -> Optional[str]:
        try:
            alg = self.x509.signature_hash_algorithm
        except Exception:
            return None
        return alg.name if alg is not None else None

    def key_description(self) -> Tuple[str, int]:
        """('RSA', 2048), ('EC', 256), ('Ed25519', 256), ..."""
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

        try:
            key = self.x509.public_key()
        except Exception:                  # explicit EC curves, unknown algorithms
            return "unsupported", 0
        if isinstance(key, rsa.RSAPublicKey):
            return "RSA", key.key_size
        if isinstance(key, ec.EllipticCurvePublicKey):
            return "EC", key.curve.key_size
        if isinstance(key, dsa.DSAPublicKey):
            return "DSA", key.key_size
        return type(key).__name__.replace("PublicKey", "").lstrip("_"), 256

    def dns_names(self) -> List[str]:
        san = _ext_value(self.x509, x509.SubjectAlternativeName, lambda v: v)
        return list(san.get_values_for_type(x509.DNSName)) if san else []

    def ip_names(self) -> List[str]:
        san = _ext_value(self.x509, x509.SubjectAlternativeName, lambda v: v)
        return [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] if san else []

    def summary(self) -> dict:
        """The JSON-ready facts (schema: docs/json-schema.md)."""
        return {
            "sha256": self.sha256,
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": format(self.serial, "x"),
            "not_before": iso_utc(self.not_before),
            "not_after": iso_utc(self.not_after),
            "is_ca": self.is_ca,
            "subject_key_id": self.ski,
            "authority_key_id": self.aki,
            "aia_ca_issuers": list(self.ca_issuers),
        }


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]


def _name_text(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except Exception:  # exotic attribute types
        return repr(name)


def names_match(key_a: Optional[Tuple], key_b: Optional[Tuple]) -> bool:
    """Two `subject_key`/`issuer_key` values name the same entity."""
    return key_a is not None and key_a == key_b


def _name_key(name: x509.Name) -> Optional[Tuple]:
    """A name as RFC 5280 7.1 / OpenSSL compare it: each value case-folded with
    its white space collapsed, whatever its string encoding. None when a value
    cannot be read as text (then only the exact encoding compares)."""
    try:
        return tuple(tuple(sorted((a.oid.dotted_string, " ".join(str(a.value).split()).casefold())
                                  for a in rdn)) for rdn in name.rdns)
    except Exception:  # exotic attribute values
        return None


def _ext_value(cert, ext_class, pick):
    try:
        return pick(cert.extensions.get_extension_for_class(ext_class).value)
    except x509.ExtensionNotFound:
        return None
    except Exception:  # a malformed extension must not make the cert unusable
        return None


def _aia_ca_issuers(cert) -> Tuple[str, ...]:
    try:
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except Exception:
        return ()
    urls = []
    for desc in aia:
        if desc.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
            loc = desc.access_location
            if isinstance(loc, x509.UniformResourceIdentifier):
                urls.append(loc.value)
    return tuple(urls)
