"""`Cert`: one X.509 certificate as DER bytes plus the facts every stage asks.

Immutable and hashable by its SHA-256 fingerprint, so sets and dicts of
certificates deduplicate naturally.

Cheap to make, so a store of thousands of CAs costs little: creating a Cert
reads the certificate's structure once (certs/fields.py: one linear walk of
the DER, no cryptography) and checks what can make it unusable (the
structure, both names as text, the validity times), so a bad certificate is
one CertificateError when it is read (a problem line in a store listing),
never a traceback later. Every other field is decoded on first use and kept;
cryptography's object (`x509`, for signatures and keys) is loaded only when
asked for. A malformed extension reads as absent (None / empty); a
certificate cryptography cannot load raises CertificateError from `x509`,
and `signed_by` answers False for it.
"""
import base64
import datetime
import hashlib
from typing import List, Optional, Tuple

from ibmi_trust.certs import fields as f
from ibmi_trust.certs.der import DerError, der_tlv, name_text, printable
from ibmi_trust.errors import BadCertificateName, CertificateError
from ibmi_trust.timestamps import iso_utc

_UNSET = object()
# signature algorithm OIDs -> hash names (as cryptography's HashAlgorithm.name)
_SIGNATURE_HASHES = {
    f.oid("1.2.840.113549.1.1.4"): "md5", f.oid("1.2.840.113549.1.1.5"): "sha1",
    f.oid("1.2.840.113549.1.1.14"): "sha224", f.oid("1.2.840.113549.1.1.11"): "sha256",
    f.oid("1.2.840.113549.1.1.12"): "sha384", f.oid("1.2.840.113549.1.1.13"): "sha512",
    f.oid("1.2.840.10045.4.1"): "sha1", f.oid("1.2.840.10045.4.3.1"): "sha224",
    f.oid("1.2.840.10045.4.3.2"): "sha256", f.oid("1.2.840.10045.4.3.3"): "sha384",
    f.oid("1.2.840.10045.4.3.4"): "sha512", f.oid("1.2.840.10040.4.3"): "sha1",
    f.oid("2.16.840.1.101.3.4.3.1"): "sha224", f.oid("2.16.840.1.101.3.4.3.2"): "sha256",
}
_NO_HASH = {f.oid("1.3.101.112"), f.oid("1.3.101.113")}       # Ed25519, Ed448: no separate hash


class Cert:
    __slots__ = ("der", "sha256", "_tbs", "_lazy", "_x509")

    def __init__(self, der: bytes):
        self.der = bytes(der)
        self.sha256 = hashlib.sha256(self.der).hexdigest()
        self._lazy = {}
        self._x509 = _UNSET
        try:
            self._tbs = f.read_tbs(self.der)
            self._lazy["not_before"] = f.parse_time(*self._tbs.not_before)
            self._lazy["not_after"] = f.parse_time(*self._tbs.not_after)
        except DerError as exc:
            raise CertificateError("not a valid X.509 certificate: %s" % exc) from None
        for role, name_der in (("subject", self._tbs.subject), ("issuer", self._tbs.issuer)):
            if not f.name_defect_possible(name_der):
                continue                                   # shown as text on first use
            text, defects = name_text(name_der)
            if defects:
                raise BadCertificateName("certificate SHA-256 %s: its %s holds %s: %s"
                                         % (self.sha256, role, defects[0], text))
            self._lazy[role] = text

    def _get(self, key, compute):
        value = self._lazy.get(key, _UNSET)
        if value is _UNSET:
            value = self._lazy[key] = compute()
        return value

    # -- identity -------------------------------------------------------
    def __eq__(self, other):
        return isinstance(other, Cert) and other.sha256 == self.sha256

    def __hash__(self):
        return hash(self.sha256)

    def __repr__(self):
        return "<Cert %s %s>" % (self.sha256[:12], self.subject)

    # -- names ------------------------------------------------------------
    @property
    def subject(self) -> str:
        return self._get("subject", lambda: name_text(self._tbs.subject)[0])

    @property
    def issuer(self) -> str:
        return self._get("issuer", lambda: name_text(self._tbs.issuer)[0])

    @property
    def subject_der(self) -> bytes:
        return self._tbs.subject

    @property
    def issuer_der(self) -> bytes:
        return self._tbs.issuer

    @property
    def subject_key(self) -> Optional[bytes]:
        """The subject as OpenSSL compares names (its canonical encoding:
        letter case, white space and string type do not matter); None when
        it cannot be canonicalised (then only the exact encoding compares)."""
        return self._get("subject_key", lambda: _canonical(self._tbs.subject))

    @property
    def issuer_key(self) -> Optional[bytes]:
        return self._get("issuer_key", lambda: _canonical(self._tbs.issuer))

    @property
    def common_name(self) -> str:
        return self._get("common_name", self._common_name)

    def _common_name(self) -> str:
        try:
            for attr_oid, tag, raw in f.attributes(self._tbs.subject):
                if attr_oid == f.OID_COMMON_NAME:
                    text = f.to_utf8(tag, raw)
                    if text is not None:
                        return printable(text.decode("utf-8"))
        except DerError:
            pass
        return self.subject

    @property
    def self_issued(self) -> bool:
        """Subject and issuer are the same name as OpenSSL compares them (the
        condition for a self-signed trust anchor): not only byte for byte,
        but also across string encodings, letter case and runs of white space."""
        return self.subject_der == self.issuer_der or names_match(self.subject_key, self.issuer_key)

    # -- validity, serial, key ----------------------------------------------------
    @property
    def not_before(self) -> datetime.datetime:
        return self._lazy["not_before"]

    @property
    def not_after(self) -> datetime.datetime:
        return self._lazy["not_after"]

    @property
    def serial(self) -> int:
        return self._get("serial", lambda: int.from_bytes(self._tbs.serial, "big", signed=True))

    @property
    def spki_sha256(self) -> str:
        return self._get("spki_sha256", lambda: hashlib.sha256(self._tbs.spki).hexdigest())

    # -- extensions (a malformed one reads as absent) ---------------------------------
    @property
    def extensions(self):
        """The raw extension list (certs.fields.Extension); empty when it cannot be read."""
        def read():
            try:
                return f.extensions(self.der, self._tbs)
            except (DerError, IndexError):
                return ()
        return self._get("extensions", read)

    def _extension(self, key, ext_oid, decode, default=None):
        def compute():
            ext = f.find(self.extensions, ext_oid)
            if ext is None:
                return default
            try:
                return decode(ext.value)
            except (DerError, IndexError, ValueError):
                return default
        return self._get(key, compute)

    @property
    def ski(self) -> Optional[str]:
        return self._extension("ski", f.EXT_SUBJECT_KEY_ID, lambda v: f.octet_string(v).hex())

    @property
    def aki(self) -> Optional[str]:
        def decode(value):
            keyid = f.authority_key_id(value)[0]
            return keyid.hex() if keyid else None
        return self._extension("aki", f.EXT_AUTHORITY_KEY_ID, decode)

    @property
    def is_ca(self) -> bool:
        return bool(self._basic_constraints[0])

    @property
    def path_length(self) -> Optional[int]:
        return self._basic_constraints[1]

    @property
    def _basic_constraints(self) -> Tuple[bool, Optional[int]]:
        return self._extension("bc", f.EXT_BASIC_CONSTRAINTS, f.basic_constraints, (False, None))

    @property
    def can_sign_certs(self) -> bool:
        """keyUsage absent (or unreadable), or it allows keyCertSign."""
        bits = self._extension("ku", f.EXT_KEY_USAGE, f.bit_string_flags)
        return True if bits is None else bool(bits & 0x04)

    @property
    def ca_issuers(self) -> Tuple[str, ...]:
        return self._extension("aia", f.EXT_AUTHORITY_INFO_ACCESS, lambda v: tuple(f.ca_issuer_urls(v)), ())

    def _sans(self) -> List[Tuple[int, bytes]]:
        return self._extension("san", f.EXT_SUBJECT_ALT_NAME, f.general_names, [])

    def dns_names(self) -> List[str]:
        return [raw.decode("ascii", "backslashreplace") for kind, raw in self._sans() if kind == f.GEN_DNS]

    def ip_names(self) -> List[str]:
        import ipaddress

        out = []
        for kind, raw in self._sans():
            if kind == f.GEN_IPADD and len(raw) in (4, 16):
                out.append(str(ipaddress.ip_address(raw)))
        return out

    # -- cryptography, on demand ---------------------------------------------------------
    @property
    def x509(self):
        """cryptography's certificate object (loaded on first use); CertificateError
        when cryptography cannot load this certificate."""
        if self._x509 is _UNSET:
            from ibmi_trust.certs import compat

            try:
                self._x509 = compat.load_der(self.der)
            except Exception as exc:  # ValueError and friends
                self._x509 = CertificateError("cryptography cannot load %s: %s" % (self.common_name, _short(exc)))
        if isinstance(self._x509, CertificateError):
            raise self._x509
        return self._x509

    def signed_by(self, issuer: "Cert") -> bool:
        """`issuer`'s key verifies this certificate's signature (names are not compared)."""
        from ibmi_trust.certs import compat

        try:
            return compat.signed_by(self.x509, issuer.x509)
        except CertificateError:
            return False

    @property
    def self_signed(self) -> bool:
        return self.self_issued and self.signed_by(self)

    def issued(self, child: "Cert") -> bool:
        """Name match and a verifying signature: self issued `child`."""
        return child.issuer_der == self.subject_der and child.signed_by(self)

    def signature_hash_name(self) -> Optional[str]:
        """"sha256", "sha1", ... of the certificate's own signature; None for
        Ed25519/Ed448, RSASSA-PSS read from its parameters (via cryptography)."""
        oid = _algorithm_oid(self._tbs.outer_signature)
        if oid in _SIGNATURE_HASHES:
            return _SIGNATURE_HASHES[oid]
        if oid in _NO_HASH:
            return None
        try:
            alg = self.x509.signature_hash_algorithm
        except Exception:
            return None
        return alg.name if alg is not None else None

    def key_description(self) -> Tuple[str, int]:
        """('RSA', 2048), ('EC', 256), ('Ed25519', 256), ..."""
        return self._get("key", self._key_description)

    def _key_description(self) -> Tuple[str, int]:
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

    # -- presentation ---------------------------------------------------------------------
    def pem(self) -> str:
        body = base64.b64encode(self.der).decode("ascii")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines)

    def valid_at(self, when: datetime.datetime) -> bool:
        return self.not_before <= when <= self.not_after

    def days_left(self, now: datetime.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400.0

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

    @property
    def tbs(self):
        """The positions of every field (certs.fields.Tbs), for readers of raw fields."""
        return self._tbs


def names_match(key_a: Optional[bytes], key_b: Optional[bytes]) -> bool:
    """Two `subject_key`/`issuer_key` values name the same entity."""
    return key_a is not None and key_a == key_b


def _canonical(name_der: bytes) -> Optional[bytes]:
    try:
        return f.canonical_name(name_der)
    except DerError:
        return None


def _algorithm_oid(algorithm: bytes) -> bytes:
    try:
        _tag, start, _end = der_tlv(algorithm, 0)
        oid_tag, ostart, oend = der_tlv(algorithm, start)
        return algorithm[ostart:oend] if oid_tag == 0x06 else b""
    except DerError:
        return b""


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]
