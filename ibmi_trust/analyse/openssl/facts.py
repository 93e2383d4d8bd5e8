"""What OpenSSL caches about one certificate before it builds a chain.

Mirrors `ossl_x509v3_cache_extensions` (crypto/x509/v3_purp.c; 1.1.1:
`x509v3_cache_extensions` in crypto/x509v3/v3_purp.c): the flags and values
the verifier consults later (self-issued, self-signed, CA, key usage,
extended key usage, Netscape cert type, key ids, unsupported critical
extensions, validity of the extensions as a whole), plus what the auth-level
checks need (key and signature security bits) and what host-name and
name-constraint checks read (subject alternative names, common names, name
constraints), all read from the DER exactly as encoded.

The reader is our own (linear, bounded, no recursion beyond the fixed
structure of a certificate): cryptography refuses a whole certificate when
one extension is malformed or repeated, where OpenSSL only marks it invalid
(EXFLAG_INVALID), and that difference changes which chain OpenSSL builds.

Facts are computed once per certificate (by SHA-256) and kept in a bounded
cache shared by every analysis of the process.
"""
import math
import threading
from typing import Dict, List, NamedTuple, Optional, Tuple

from ibmi_trust.certs import Cert
from ibmi_trust.certs import fields as f
from ibmi_trust.certs.der import DerError, der_tlv
from ibmi_trust.certs.fields import GEN_DIRNAME, GEN_DNS, NameHashError, canonical_name

_oid = f.oid
_children = f.children

# -- OIDs (DER content bytes, as OpenSSL's OBJ_obj2nid would map them) ------
EXT_SUBJECT_KEY_ID = _oid("2.5.29.14")
EXT_KEY_USAGE = _oid("2.5.29.15")
EXT_SUBJECT_ALT_NAME = _oid("2.5.29.17")
EXT_BASIC_CONSTRAINTS = _oid("2.5.29.19")
EXT_NAME_CONSTRAINTS = _oid("2.5.29.30")
EXT_CERT_POLICIES = _oid("2.5.29.32")
EXT_POLICY_MAPPINGS = _oid("2.5.29.33")
EXT_AUTHORITY_KEY_ID = _oid("2.5.29.35")
EXT_POLICY_CONSTRAINTS = _oid("2.5.29.36")
EXT_EXT_KEY_USAGE = _oid("2.5.29.37")
EXT_CRL_DP = _oid("2.5.29.31")
EXT_INHIBIT_ANY = _oid("2.5.29.54")
EXT_NS_CERT_TYPE = _oid("2.16.840.1.113730.1.1")
EXT_OCSP_NOCHECK = _oid("1.3.6.1.5.5.7.48.1.5")
EXT_PROXY_CERT_INFO = _oid("1.3.6.1.5.5.7.1.14")
EXT_IP_ADDR_BLOCKS = _oid("1.3.6.1.5.5.7.1.7")
EXT_AS_IDS = _oid("1.3.6.1.5.5.7.1.8")

# X509_supported_extension (v3_purp.c): the only extensions that may be
# critical; any other critical extension sets EXFLAG_CRITICAL (error 34).
# Note that SKI, AKI and AIA are not in it.
SUPPORTED_CRITICAL = {
    EXT_NS_CERT_TYPE, EXT_KEY_USAGE, EXT_SUBJECT_ALT_NAME, EXT_BASIC_CONSTRAINTS, EXT_CERT_POLICIES,
    EXT_CRL_DP, EXT_EXT_KEY_USAGE, EXT_IP_ADDR_BLOCKS, EXT_AS_IDS, EXT_OCSP_NOCHECK,
    EXT_POLICY_CONSTRAINTS, EXT_PROXY_CERT_INFO, EXT_NAME_CONSTRAINTS, EXT_POLICY_MAPPINGS,
    EXT_INHIBIT_ANY,
}
# Extensions whose decoding failure (or repetition) marks the certificate
# invalid: the ones ossl_x509v3_cache_extensions decodes.
DECODED = {EXT_BASIC_CONSTRAINTS, EXT_KEY_USAGE, EXT_EXT_KEY_USAGE, EXT_NS_CERT_TYPE, EXT_SUBJECT_KEY_ID,
           EXT_AUTHORITY_KEY_ID, EXT_SUBJECT_ALT_NAME, EXT_NAME_CONSTRAINTS, EXT_PROXY_CERT_INFO,
           EXT_CRL_DP, EXT_POLICY_CONSTRAINTS}

# extendedKeyUsage OIDs -> OpenSSL's XKU bits (only those the SSL-server
# purpose looks at are named; anything else is "some other purpose")
EKU_SERVER_AUTH = _oid("1.3.6.1.5.5.7.3.1")
EKU_NS_SGC = _oid("2.16.840.1.113730.4.1")
EKU_MS_SGC = _oid("1.3.6.1.4.1.311.10.3.3")
EKU_ANY = _oid("2.5.29.37.0")
SERVER_PURPOSES = {EKU_SERVER_AUTH, EKU_NS_SGC, EKU_MS_SGC}

# key usage bits as OpenSSL keeps them (ex_kusage: first byte, second byte << 8)
KU_DIGITAL_SIGNATURE, KU_KEY_ENCIPHERMENT, KU_KEY_AGREEMENT = 0x80, 0x20, 0x08
KU_KEY_CERT_SIGN = 0x04
# Netscape cert type bits
NS_SSL_SERVER, NS_SSL_CA, NS_ANY_CA = 0x40, 0x04, 0x07

# public key algorithms (SubjectPublicKeyInfo) and what OpenSSL calls them
_KEY_ALGORITHMS = {
    _oid("1.2.840.113549.1.1.1"): "RSA", _oid("1.2.840.113549.1.1.10"): "RSA-PSS",
    _oid("1.2.840.10045.2.1"): "EC", _oid("1.3.101.112"): "ED25519", _oid("1.3.101.113"): "ED448",
    _oid("1.2.840.10040.4.1"): "DSA",
}
# named curves -> bits of the group order
_CURVE_ORDER_BITS = {
    _oid("1.2.840.10045.3.1.1"): 192, _oid("1.3.132.0.33"): 224, _oid("1.2.840.10045.3.1.7"): 256,
    _oid("1.3.132.0.10"): 256, _oid("1.3.132.0.34"): 384, _oid("1.3.132.0.35"): 521,
    _oid("1.3.36.3.3.2.8.1.1.7"): 256, _oid("1.3.36.3.3.2.8.1.1.11"): 384, _oid("1.3.36.3.3.2.8.1.1.13"): 512,
}
# signature algorithms -> (digest, key algorithm it needs): OBJ_find_sigid_algs
_SIGNATURES = {
    _oid("1.2.840.113549.1.1.4"): ("md5", "RSA"), _oid("1.2.840.113549.1.1.5"): ("sha1", "RSA"),
    _oid("1.2.840.113549.1.1.14"): ("sha224", "RSA"), _oid("1.2.840.113549.1.1.11"): ("sha256", "RSA"),
    _oid("1.2.840.113549.1.1.12"): ("sha384", "RSA"), _oid("1.2.840.113549.1.1.13"): ("sha512", "RSA"),
    _oid("1.2.840.113549.1.1.10"): (None, "RSA-PSS"),
    _oid("1.2.840.10045.4.1"): ("sha1", "EC"), _oid("1.2.840.10045.4.3.1"): ("sha224", "EC"),
    _oid("1.2.840.10045.4.3.2"): ("sha256", "EC"), _oid("1.2.840.10045.4.3.3"): ("sha384", "EC"),
    _oid("1.2.840.10045.4.3.4"): ("sha512", "EC"),
    _oid("1.3.101.112"): (None, "ED25519"), _oid("1.3.101.113"): (None, "ED448"),
    _oid("1.2.840.10040.4.3"): ("sha1", "DSA"), _oid("2.16.840.1.101.3.4.3.1"): ("sha224", "DSA"),
    _oid("2.16.840.1.101.3.4.3.2"): ("sha256", "DSA"),
}
_DIGEST_BITS = {"md5": 128, "sha1": 160, "sha224": 224, "sha256": 256, "sha384": 384, "sha512": 512}
_HASH_OIDS = {_oid("1.3.14.3.2.26"): "sha1", _oid("2.16.840.1.101.3.4.2.4"): "sha224",
              _oid("2.16.840.1.101.3.4.2.1"): "sha256", _oid("2.16.840.1.101.3.4.2.2"): "sha384",
              _oid("2.16.840.1.101.3.4.2.3"): "sha512"}
OID_COMMON_NAME = _oid("2.5.4.3")
OID_EMAIL_ADDRESS = _oid("1.2.840.113549.1.9.1")


_IA5, _UTF8, _BMP, _UNIVERSAL = 22, 12, 30, 28


class GeneralName(NamedTuple):
    type: int
    value: bytes                 # raw IA5 / OCTET bytes; canonical Name bytes for GEN_DIRNAME


class Subtree(NamedTuple):
    base: GeneralName
    minmax_ok: bool              # minimum 0 and no maximum (nc_minmax_valid)


class NameConstraints(NamedTuple):
    permitted: Tuple[Subtree, ...]
    excluded: Tuple[Subtree, ...]


class Akid(NamedTuple):
    keyid: Optional[bytes]
    serial: Optional[int]
    dirname: Optional[bytes]     # canonical encoding of the first directoryName, if any
    dirname_bad: bool = False    # a directoryName whose name cannot be canonicalised


class Facts:
    """One certificate as OpenSSL's verifier sees it."""

    __slots__ = (
        "cert", "subject_canon", "issuer_canon", "self_issued", "version", "invalid", "invalid_reason",
        "critical_unsupported", "bcons", "ca", "pathlen", "ku", "xku", "xku_any", "nscert", "ski", "akid",
        "serial", "key_family", "key_bits", "rsa_modulus_bits", "explicit_ec", "sig_family", "sig_digest",
        "sig_oid", "pss_digest", "sans", "san_bad", "subject_cns", "subject_emails", "nc", "proxy",
        "subject_empty",
    )

    def __init__(self, cert: Cert):
        self.cert = cert
        self.invalid = False
        self.invalid_reason = ""
        self.critical_unsupported: Optional[bytes] = None
        self.bcons = False
        self.ca = False
        self.pathlen = -1
        self.ku: Optional[int] = None
        self.xku: Optional[frozenset] = None
        self.xku_any = False
        self.nscert: Optional[int] = None
        self.ski: Optional[bytes] = None
        self.akid: Optional[Akid] = None
        self.sans: List[GeneralName] = []
        self.san_bad = False
        self.nc: Optional[NameConstraints] = None
        self.proxy = False
        self.subject_cns: List[Tuple[int, bytes]] = []
        self.subject_emails: List[Tuple[int, bytes]] = []
        self.key_family: Optional[str] = None
        self.key_bits: Optional[int] = None
        self.rsa_modulus_bits: Optional[int] = None
        self.explicit_ec = False
        self.sig_family: Optional[str] = None
        self.sig_digest: Optional[str] = None
        self.sig_oid = b""
        self.pss_digest: Optional[str] = None
        self.version = 0
        self.serial = cert.serial
        self._read(cert.der)

    # -- reading ------------------------------------------------------------
    def _read(self, der: bytes) -> None:
        tbs = self.cert.tbs                              # certs.fields: the positions, as encoded
        self.version = tbs.version
        self.subject_canon = self.cert.subject_key
        self.issuer_canon = self.cert.issuer_key
        self.subject_empty = der_tlv(tbs.subject, 0)[2] == der_tlv(tbs.subject, 0)[1]
        self.self_issued = self.subject_canon is not None and self.subject_canon == self.issuer_canon
        self._read_names(tbs.subject)
        _tag, spki_start, spki_end = der_tlv(tbs.spki, 0)
        self._read_key(tbs.spki[spki_start:spki_end])
        alg = tbs.outer_signature
        self._read_signature_algorithm(alg, _children(alg, *der_tlv(alg, 0)[1:]))
        seen = set()
        try:
            extensions = f.extensions(der, tbs)
        except (DerError, IndexError) as exc:
            self._invalidate("extensions cannot be read (%s)" % exc)
            extensions = ()
        for ext in extensions:
            if ext.oid in seen and ext.oid in DECODED:
                self._invalidate("extension %s appears twice" % _dotted(ext.oid))
                continue
            seen.add(ext.oid)
            if ext.critical and ext.oid not in SUPPORTED_CRITICAL and self.critical_unsupported is None:
                self.critical_unsupported = ext.oid
            try:
                self._decode_extension(ext.oid, ext.value)
            except (DerError, IndexError, ValueError) as exc:
                self._invalidate("extension %s cannot be decoded (%s)" % (_dotted(ext.oid), exc))

    def _read_names(self, name_der: bytes) -> None:
        tag, start, end = der_tlv(name_der, 0)
        for _s, rdn_start, rdn_end in _children(name_der, start, end):
            for _a, atv_start, atv_end in _children(name_der, rdn_start, rdn_end):
                parts = _children(name_der, atv_start, atv_end)
                if len(parts) != 2:
                    continue
                oid = name_der[parts[0][1]:parts[0][2]]
                value_tag = name_der[parts[1][0]]
                value = name_der[parts[1][1]:parts[1][2]]
                if oid == OID_COMMON_NAME:
                    self.subject_cns.append((value_tag, value))
                elif oid == OID_EMAIL_ADDRESS:
                    self.subject_emails.append((value_tag, value))

    def _read_key(self, spki: bytes) -> None:
        try:
            parts = _children(spki, 0, len(spki))
            algorithm = _children(spki, parts[0][1], parts[0][2])
            oid = spki[algorithm[0][1]:algorithm[0][2]]
            self.key_family = _KEY_ALGORITHMS.get(oid)
            bits = spki[parts[1][1] + 1:parts[1][2]]          # BIT STRING without its unused-bits byte
            if self.key_family in ("RSA", "RSA-PSS"):
                key = _children(bits, 0, len(bits))
                modulus = bits[key[0][1]:key[0][2]]
                self.rsa_modulus_bits = int.from_bytes(modulus, "big").bit_length()
            elif self.key_family == "EC":
                params_tag = spki[algorithm[1][0]] if len(algorithm) > 1 else None
                if params_tag == 0x06:
                    curve = spki[algorithm[1][1]:algorithm[1][2]]
                    self.key_bits = _CURVE_ORDER_BITS.get(curve)
                    if self.key_bits is None:
                        self.key_family = None               # a curve this model does not know
                elif params_tag == 0x30:
                    self.explicit_ec = True
                    self.key_bits = _explicit_order_bits(spki, algorithm[1])
                else:
                    self.key_family = None
            elif self.key_family == "DSA":
                params = _children(spki, algorithm[1][1], algorithm[1][2])
                self.key_bits = int.from_bytes(spki[params[0][1]:params[0][2]], "big").bit_length()
        except (DerError, IndexError):
            self.key_family = None

    def _read_signature_algorithm(self, der: bytes, alg) -> None:
        self.sig_oid = der[alg[0][1]:alg[0][2]] if alg else b""
        digest, family = _SIGNATURES.get(self.sig_oid, (None, None))
        self.sig_digest, self.sig_family = digest, family
        if family == "RSA-PSS":
            self.pss_digest = "sha1"                        # RSASSA-PSS-params default
            try:
                if len(alg) > 1 and der[alg[1][0]] == 0x30:
                    for tag_pos, start, end in _children(der, alg[1][1], alg[1][2]):
                        if der[tag_pos] == 0xA0:                # [0] hashAlgorithm
                            inner = _children(der, start, end)
                            hash_alg = _children(der, inner[0][1], inner[0][2])
                            self.pss_digest = _HASH_OIDS.get(der[hash_alg[0][1]:hash_alg[0][2]])
            except (DerError, IndexError):
                self.pss_digest = None

    def _decode_extension(self, oid: bytes, value: bytes) -> None:
        if oid == EXT_BASIC_CONSTRAINTS:
            self.bcons = True
            items = _children(value, *der_tlv(value, 0)[1:])
            for tag_pos, start, end in items:
                if value[tag_pos] == 0x01:
                    self.ca = value[start] != 0
                elif value[tag_pos] == 0x02:
                    raw = value[start:end]
                    if raw and raw[0] & 0x80 or not self.ca:   # negative, or a pathlen on a non-CA
                        self._invalidate("basicConstraints has a negative pathLen or a pathLen without CA")
                        self.pathlen = 0
                    else:
                        self.pathlen = int.from_bytes(raw, "big")
        elif oid == EXT_KEY_USAGE:
            self.ku = f.bit_string_flags(value)
        elif oid == EXT_EXT_KEY_USAGE:
            tag, start, end = der_tlv(value, 0)
            purposes = frozenset(value[s:e] for _t, s, e in _children(value, start, end))
            self.xku = purposes
        elif oid == EXT_NS_CERT_TYPE:
            self.nscert = f.bit_string_flags(value) & 0xFF
        elif oid == EXT_SUBJECT_KEY_ID:
            tag, start, end = der_tlv(value, 0)
            if tag != 0x04:
                raise DerError("SKI is not an OCTET STRING")
            self.ski = value[start:end]
        elif oid == EXT_AUTHORITY_KEY_ID:
            self.akid = _read_akid(value)
        elif oid == EXT_SUBJECT_ALT_NAME:
            tag, start, end = der_tlv(value, 0)
            self.sans = [_general_name(value, item) for item in _children(value, start, end)]
        elif oid == EXT_NAME_CONSTRAINTS:
            self.nc = _read_name_constraints(value)
        elif oid == EXT_PROXY_CERT_INFO:
            self.proxy = True

    def _invalidate(self, why: str) -> None:
        if not self.invalid:
            self.invalid, self.invalid_reason = True, why

    # -- derived -------------------------------------------------------------
    def invalid_for(self, version: str) -> bool:
        """EXFLAG_INVALID as `version` sets it: 3.x also refuses an empty keyUsage."""
        return self.invalid or (version != "1.1.1" and self.ku == 0)

    def ku_rejects(self, bits: int) -> bool:
        """ku_reject(): keyUsage is present and lacks every one of `bits`."""
        return self.ku is not None and not self.ku & bits

    def xku_rejects_server(self) -> bool:
        """xku_reject(x, XKU_SSL_SERVER | XKU_SGC): anyExtendedKeyUsage does not count."""
        return self.xku is not None and not (self.xku & SERVER_PURPOSES)

    def ns_rejects(self, bits: int) -> bool:
        return self.nscert is not None and not self.nscert & bits

    def has_dns_san(self) -> bool:
        return any(n.type == GEN_DNS for n in self.sans)


# -- the cache ------------------------------------------------------------------
_CACHE: Dict[str, Facts] = {}
_CACHE_LIMIT = 50000
_LOCK = threading.Lock()


def facts_of(cert: Cert) -> Facts:
    """Facts for `cert`, computed once per process (bounded cache)."""
    found = _CACHE.get(cert.sha256)
    if found is not None:
        return found
    try:
        facts = Facts(cert)
    except (DerError, IndexError) as exc:
        facts = _unreadable(cert, str(exc))
    with _LOCK:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[cert.sha256] = facts
    return facts


def _unreadable(cert: Cert, why: str) -> Facts:
    facts = Facts.__new__(Facts)
    for slot in Facts.__slots__:
        setattr(facts, slot, None)
    facts.cert = cert
    facts.invalid, facts.invalid_reason = True, "unreadable: %s" % why
    facts.self_issued = False
    facts.sans, facts.subject_cns, facts.subject_emails = [], [], []
    facts.bcons = facts.ca = facts.proxy = facts.explicit_ec = facts.san_bad = facts.xku_any = False
    facts.pathlen, facts.version, facts.serial = -1, 0, cert.serial
    facts.sig_oid = b""
    facts.subject_empty = False
    return facts


# -- security bits (EVP_PKEY_get_security_bits, x509_sig_info_init) --------------
def key_security_bits(facts: Facts, version: str) -> Optional[int]:
    """Security bits of the public key; None when OpenSSL could not load it."""
    family = facts.key_family
    if family in ("RSA", "RSA-PSS"):
        bits = facts.rsa_modulus_bits or 0
        return _bn_security_bits(bits) if version == "1.1.1" else _ifc_security_bits(bits)
    if family == "EC":
        order = facts.key_bits or 0
        for floor, value in ((512, 256), (384, 192), (256, 128), (224, 112), (160, 80)):
            if order >= floor:
                return value
        return order // 2
    if family == "ED25519":
        return 128
    if family == "ED448":
        return 224
    if family == "DSA":
        bits = facts.key_bits or 0
        return _bn_security_bits(bits) if version == "1.1.1" else _ifc_security_bits(bits)
    return None


def signature_security_bits(facts: Facts, version: str) -> Optional[int]:
    """Bits credited to the certificate's own signature (the digest's, mostly)."""
    digest = facts.sig_digest
    if facts.sig_family == "RSA-PSS":
        digest = facts.pss_digest
    elif facts.sig_family in ("ED25519", "ED448"):
        return 128 if facts.sig_family == "ED25519" else 224
    if digest is None:
        return None
    if version != "1.1.1":
        if digest == "sha1":
            return 63 if facts.sig_family != "RSA-PSS" else 64
        if digest == "md5":
            return 39
    return _DIGEST_BITS[digest] // 2


def _bn_security_bits(bits: int) -> int:
    for floor, value in ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)):
        if bits >= floor:
            return value
    return 0


_IFC_FIXED = {2048: 112, 3072: 128, 4096: 152, 6144: 176, 7680: 192, 8192: 200, 15360: 256}


def _ifc_security_bits(n: int) -> int:
    """ossl_ifc_ffc_compute_security_bits (OpenSSL 3.x): SP 800-56B's formula."""
    if n in _IFC_FIXED:
        return _IFC_FIXED[n]
    if n >= 687737:
        return 1200
    if n < 8:
        return 0
    cap = 192 if n <= 7680 else 256 if n <= 15360 else 1200
    x = n * math.log(2)
    y = (1.923 * (x * math.log(x) ** 2) ** (1.0 / 3.0) - 4.69) / math.log(2)
    y = (int(y) + 4) & ~7
    return min(y, cap)


# -- DER helpers -----------------------------------------------------------------
def _canon(name_der: bytes) -> Optional[bytes]:
    try:
        return canonical_name(name_der)
    except (NameHashError, DerError):
        return None


def _general_name(data: bytes, item) -> GeneralName:
    """One GeneralName; a directoryName as its canonical encoding (what nc_dn compares)."""
    kind, raw = f.general_name(data, item)
    if kind == GEN_DIRNAME:
        canon = _canon(raw)
        if canon is None:
            raise DerError("directoryName cannot be canonicalised")
        return GeneralName(GEN_DIRNAME, canon)
    return GeneralName(kind, raw)


def _read_akid(value: bytes) -> Akid:
    tag, start, end = der_tlv(value, 0)
    keyid = serial = dirname = None
    bad = False
    for tag_pos, s, e in _children(value, start, end):
        tag = value[tag_pos] & 0x1F
        if tag == 0:
            keyid = value[s:e]
        elif tag == 1:
            for name in _children(value, s, e):
                if value[name[0]] & 0x1F == GEN_DIRNAME and dirname is None and not bad:
                    try:
                        dirname = _general_name(value, name).value
                    except DerError:
                        bad = True
        elif tag == 2:
            serial = int.from_bytes(value[s:e], "big", signed=True)
    return Akid(keyid, serial, dirname, bad)


def _read_name_constraints(value: bytes) -> NameConstraints:
    tag, start, end = der_tlv(value, 0)
    permitted: List[Subtree] = []
    excluded: List[Subtree] = []
    for tag_pos, s, e in _children(value, start, end):
        target = permitted if value[tag_pos] & 0x1F == 0 else excluded
        for _p, sub_start, sub_end in _children(value, s, e):
            parts = _children(value, sub_start, sub_end)
            base = _general_name(value, parts[0])
            minmax_ok = True
            for part in parts[1:]:
                ptag = value[part[0]] & 0x1F
                if ptag == 0 and int.from_bytes(value[part[1]:part[2]], "big") != 0:
                    minmax_ok = False
                elif ptag == 1:
                    minmax_ok = False
            target.append(Subtree(base, minmax_ok))
    return NameConstraints(tuple(permitted), tuple(excluded))


def _explicit_order_bits(spki: bytes, params) -> Optional[int]:
    """Bits of the group order in explicit ECParameters (SEQUENCE {version, fieldID, curve, base, order, ...})."""
    items = _children(spki, params[1], params[2])
    if len(items) < 5:
        return None
    return int.from_bytes(spki[items[4][1]:items[4][2]], "big").bit_length()


def _dotted(oid: bytes) -> str:
    parts, value = [], 0
    for byte in oid:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if not parts:
        return "?"
    first = parts[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(p) for p in head + parts[1:])


def dotted(oid: bytes) -> str:
    """An OID's dotted text, for messages."""
    return _dotted(oid)
