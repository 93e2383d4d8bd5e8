"""`Cert`: one X.509 certificate as DER bytes plus the facts every stage asks.

Immutable and hashable by its SHA-256 fingerprint, so sets and dicts of
certificates deduplicate naturally. Parsing is done once, on creation, and
every field that can fail is read inside one guard (`_read_fields`).
"""
import base64
import datetime
import hashlib
from typing import List, Optional, Tuple

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from ibmi_trust.certs import compat
from ibmi_trust.certs.der import DerError, certificate_parts, name_text, printable
from ibmi_trust.errors import BadCertificateName, CertificateError
from ibmi_trust.timestamps import iso_utc


class Cert:
    __slots__ = (
        "der", "x509", "sha256", "subject", "issuer", "subject_der", "issuer_der",
        "not_before", "not_after", "ski", "aki", "is_ca", "path_length",
        "can_sign_certs", "ca_issuers", "spki_sha256", "serial", "subject_key", "issuer_key",
        "common_name", "_dns_names", "_ip_names",
    )

    def __init__(self, der: bytes):
        self.der = bytes(der)
        self.sha256 = hashlib.sha256(self.der).hexdigest()
        try:
            self.x509 = compat.load_der(self.der)
        except Exception as exc:  # cryptography raises ValueError and friends
            raise self._unreadable(exc) from None
        self._read_fields()

    def _read_fields(self) -> None:
        """Read every field that can fail, once, inside one guard.

        cryptography parses lazily: a name holding invalid UTF-8 loads fine
        and raises only when `.subject` is read (and 3.4 refuses the whole
        certificate). Everything the stages read later is taken here, so a
        bad certificate is one CertificateError now (a problem line in a
        store listing), never a traceback later.
        """
        parsed = self.x509
        try:
            self.issuer_der, self.subject_der, spki = certificate_parts(self.der)
            subject, issuer = parsed.subject, parsed.issuer
            extensions = parsed.extensions            # duplicate or malformed known extensions raise here
            self.subject = _name_text(subject)
            self.issuer = _name_text(issuer)
            self.subject_key = _name_key(subject)     # for comparing names (RFC 5280 7.1)
            self.issuer_key = _name_key(issuer)
            self.common_name = _common_name(subject) or self.subject
            self.not_before = compat.not_before(parsed)
            self.not_after = compat.not_after(parsed)
            self.serial = parsed.serial_number
        except Exception as exc:
            raise self._unreadable(exc) from None
        self.spki_sha256 = hashlib.sha256(spki).hexdigest()
        self.ski = _ext_value(extensions, x509.SubjectKeyIdentifier, lambda v: v.digest.hex())
        self.aki = _ext_value(extensions, x509.AuthorityKeyIdentifier,
                              lambda v: v.key_identifier.hex() if v.key_identifier else None)
        bc = _ext_value(extensions, x509.BasicConstraints, lambda v: v)
        self.is_ca = bool(bc and bc.ca)
        self.path_length = bc.path_length if bc else None
        ku = _ext_value(extensions, x509.KeyUsage, lambda v: v)
        self.can_sign_certs = True if ku is None else bool(ku.key_cert_sign)
        self.ca_issuers = _aia_ca_issuers(extensions)
        san = _ext_value(extensions, x509.SubjectAlternativeName, lambda v: v)
        self._dns_names = tuple(_san_values(san, x509.DNSName, str))
        self._ip_names = tuple(_san_values(san, x509.IPAddress, str))

    def _unreadable(self, exc: Exception) -> CertificateError:
        """The one-line reason a certificate cannot be used. A name that cannot
        be read as text is named, with its bad bytes escaped."""
        if isinstance(exc, DerError):
            return CertificateError("not a valid X.509 certificate: unreadable TBS structure")
        try:
            issuer_der, subject_der, _spki = certificate_parts(self.der)
        except DerError:
            return CertificateError("not a valid X.509 certificate: %s" % _short(exc))
        for role, name_der in (("subject", subject_der), ("issuer", issuer_der)):
            text, defects = name_text(name_der)
            if defects:
                return BadCertificateName("certificate SHA-256 %s: its %s holds %s: %s"
                                          % (self.sha256, role, defects[0], text))
        return CertificateError("not a valid X.509 certificate: %s" % _short(exc))

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
        return list(self._dns_names)

    def ip_names(self) -> List[str]:
        return list(self._ip_names)

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
        return printable(name.rfc4514_string())   # no control characters reach a terminal
    except Exception:  # exotic attribute types
        return printable(repr(name))


def _common_name(name: x509.Name) -> Optional[str]:
    try:
        attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return printable(str(attrs[0].value)) if attrs else None
    except Exception:  # a value that is not text
        return None


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


def _ext_value(extensions, ext_class, pick):
    try:
        return pick(extensions.get_extension_for_class(ext_class).value)
    except x509.ExtensionNotFound:
        return None
    except Exception:  # a malformed extension must not make the cert unusable
        return None


def _san_values(san, kind, convert) -> List[str]:
    if san is None:
        return []
    try:
        return [convert(value) for value in san.get_values_for_type(kind)]
    except Exception:  # a value that is not text
        return []


def _aia_ca_issuers(extensions) -> Tuple[str, ...]:
    try:
        aia = extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except Exception:
        return ()
    urls = []
    for desc in aia:
        if desc.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
            loc = desc.access_location
            if isinstance(loc, x509.UniformResourceIdentifier):
                urls.append(loc.value)
    return tuple(urls)
