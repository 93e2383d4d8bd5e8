"""Seeded random PKI scenarios for the differential test against OpenSSL.

`scenario(seed)` builds one scenario: a chain a server sends (leaf first,
verbatim, with its key), a trust store (certificates in load order), a root
program and certificates carried in with --from, a host name and a security
level. Seeds cycle through every class the verdict issue names (each seed
has one primary class, plus a few random mutations), so any run of at least
len(CLASSES) consecutive seeds covers them all:

  1-4 intermediates; cross-signing (cross certificate alone, before, after
  the root, one of them in the store); expired and not-yet-valid
  intermediates and roots, with renewals (same subject and key) in the
  store, served or in --from; an expired store copy; pathLenConstraint
  violated; keyUsage without keyCertSign; CA:FALSE; no basicConstraints;
  missing or wrong AKI; missing SKI; same-subject twins with other keys;
  wrong host; wildcard and mixed-case SANs; DNS name constraints
  (permitted, excluded, leading dot, wildcard SAN); EKU on intermediates and
  on the root (clientAuth, emailProtection, anyExtendedKeyUsage,
  serverAuth); SHA-1; RSA-1024; P-256 and P-384 mixed; leaf only with the
  intermediates in the store; root served; an unrelated CA served; shuffled
  order.

Certificates are built with cryptography (3.4 and current); SHA-1
signatures, which current cryptography will not make, are made by
re-signing the to-be-signed bytes (certs.der reads them; the key signs
them with SHA-1). RSA keys come from a small pool (generating them is
slow); EC keys are fresh.
"""
import datetime
import random
from dataclasses import dataclass, field
from typing import List, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ibmi_trust.certs import Cert
from ibmi_trust.certs.compat import BACKEND
from ibmi_trust.certs.der import signed_fields

HOST = "mx.example.test"
DAY = datetime.timedelta(days=1)

CLASSES = (
    "plain", "missing-intermediate", "root-not-in-store", "store-intermediate-root-on-wire",
    "expired-store-copy", "expired-server-copy", "not-yet-valid-intermediate", "expired-root-in-store",
    "not-yet-valid-root", "cross-alone", "cross-before-root", "cross-after-root", "cross-in-store",
    "cross-sent-first", "aki-wrong", "aki-missing-twins", "ski-missing", "twin-in-store", "twin-sent",
    "eku-root", "eku-intermediate", "any-eku-intermediate", "root-no-basic-constraints",
    "intermediate-ca-false", "intermediate-no-basic-constraints", "ku-no-certsign", "pathlen-violated",
    "nc-permitted", "nc-excluded", "nc-leading-dot", "nc-wildcard-san", "wrong-host", "wildcard-san",
    "mixed-case-san", "cn-only-leaf", "sha1-intermediate", "sha1-leaf", "rsa1024-leaf", "rsa1024-intermediate",
    "rsa1024-root", "p384-mixed", "leaf-only-intermediates-in-store", "root-served", "unrelated-ca-served",
    "shuffled", "leaf-expired", "renewal-in-from", "renewal-served", "private-root",
)
EKUS = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
        "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "anyExtendedKeyUsage": x509.ObjectIdentifier("2.5.29.37.0")}
_RSA_POOL = {}
_SHA1_ALGS = {"ec": bytes.fromhex("300906072a8648ce3d0401"),
              "rsa": bytes.fromhex("300d06092a864886f70d0101050500")}


def rsa_key(bits: int, slot: int):
    """One of a few cached RSA keys per size (fresh ones cost ~50 ms each)."""
    key = _RSA_POOL.get((bits, slot))
    if key is None:
        key = _RSA_POOL[(bits, slot)] = rsa.generate_private_key(65537, bits, BACKEND)
    return key


@dataclass
class Issued:
    cert: Cert
    key: object
    name: x509.Name

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


@dataclass
class Scenario:
    seed: int
    classes: List[str]
    level: int
    host: str
    sent: List[Cert]
    leaf: Issued
    store: List[Cert]
    roots: List[Cert]                       # the root program
    extra: List[Cert] = field(default_factory=list)   # --from
    notes: List[str] = field(default_factory=list)

    def describe(self) -> str:
        return "seed %d [%s] level %d host %s" % (self.seed, ", ".join(self.classes), self.level, self.host)


class Factory:
    def __init__(self, rng: random.Random, now: datetime.datetime):
        self.rng = rng
        self.now = now.replace(microsecond=0, tzinfo=None)
        self.serial = rng.randrange(1 << 40, 1 << 60)

    def key(self, kind: str = "ec256"):
        if kind == "ec256":
            return ec.generate_private_key(ec.SECP256R1(), BACKEND)
        if kind == "ec384":
            return ec.generate_private_key(ec.SECP384R1(), BACKEND)
        if kind == "rsa2048":
            return rsa_key(2048, self.rng.randrange(4))
        if kind == "rsa1024":
            return rsa_key(1024, self.rng.randrange(4))
        raise ValueError(kind)

    def name(self, cn: str, org: str = "ibmi-trust differential") -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def issue(self, name: x509.Name, key, issuer: Optional[Issued], *, ca: bool = True, basic: bool = True,
              pathlen: Optional[int] = None, ku: Optional[str] = "default", eku: Optional[List[str]] = None,
              ski: bool = True, aki: Optional[str] = "keyid", san: Optional[List[str]] = None,
              nc=None, start: Optional[datetime.datetime] = None, days: int = 3650, sha1: bool = False) -> Issued:
        signer_key = issuer.key if issuer is not None else key
        issuer_name = issuer.name if issuer is not None else name
        start = start or (self.now - 30 * DAY)
        self.serial += 1
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name)
                   .public_key(key.public_key()).serial_number(self.serial)
                   .not_valid_before(start).not_valid_after(start + days * DAY))
        if basic:
            builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None),
                                            critical=True)
        if ku == "default":
            ku = "ca" if ca else "leaf"
        if ku is not None:
            builder = builder.add_extension(_key_usage(ku), critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage([EKUS[e] for e in eku]), critical=False)
        if ski:
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                            critical=False)
        if aki == "keyid":
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
        elif aki == "wrong":
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier(bytes(self.rng.randrange(256) for _ in range(20)), None, None),
                critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]),
                                            critical=False)
        if nc is not None:
            permitted, excluded = nc
            builder = builder.add_extension(x509.NameConstraints(
                [x509.DNSName(n) for n in permitted] or None, [x509.DNSName(n) for n in excluded] or None),
                critical=True)
        cert = builder.sign(signer_key, hashes.SHA256(), BACKEND)
        der = cert.public_bytes(serialization.Encoding.DER)
        if sha1:
            der = _resign_sha1(der, signer_key)
        return Issued(Cert(der), key, name)


def _key_usage(kind: str) -> x509.KeyUsage:
    sign = kind == "ca"
    leaf = kind == "leaf"
    return x509.KeyUsage(digital_signature=leaf or kind == "ca-nosign", content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign, crl_sign=kind in ("ca", "ca-nosign"),
                         encipher_only=False, decipher_only=False)


def _encode(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _resign_sha1(der: bytes, key) -> bytes:
    """The same certificate, signed with SHA-1 (both algorithm fields changed)."""
    is_ec = isinstance(key, ec.EllipticCurvePrivateKey)
    algorithm = _SHA1_ALGS["ec" if is_ec else "rsa"]
    fields = signed_fields(der)
    index = 2 if der[fields[0][0]] == 0xA0 else 1                  # version, serial, signature
    parts = [der[s:e] for s, e in fields]
    parts[index] = algorithm
    tbs = _encode(0x30, b"".join(parts))
    if is_ec:
        signature = key.sign(tbs, ec.ECDSA(hashes.SHA1()))
    else:
        signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    return _encode(0x30, tbs + algorithm + _encode(0x03, b"\x00" + signature))


# -- scenarios --------------------------------------------------------------------
def scenario(seed: int, now: Optional[datetime.datetime] = None) -> Scenario:
    """The scenario for `seed` (deterministic in structure; keys are fresh)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    rng = random.Random(seed)
    f = Factory(rng, now)
    primary = CLASSES[seed % len(CLASSES)]
    classes = [primary]
    extras = [c for c in ("shuffled", "p384-mixed", "root-served", "unrelated-ca-served")
              if c != primary and rng.random() < 0.12]
    classes += extras
    want = set(classes)
    tag = "s%d" % seed
    level = 2 if seed % 4 == 3 else 0

    def key(default="ec256"):
        if "p384-mixed" in want and rng.random() < 0.5:
            return f.key("ec384")
        return f.key(default)

    # -- the root and the intermediates -----------------------------------------------
    depth = rng.randint(1, 4)
    root_kw = {}
    if primary == "eku-root":
        root_kw["eku"] = [rng.choice(["clientAuth", "emailProtection", "anyExtendedKeyUsage", "serverAuth"])]
    if primary == "root-no-basic-constraints":
        root_kw.update(basic=False, ku=rng.choice(["ca", None]))
    if primary == "expired-root-in-store":
        root_kw.update(start=f.now - 400 * DAY, days=200)
    if primary == "not-yet-valid-root":
        root_kw.update(start=f.now + 10 * DAY, days=400)
    root_name = f.name("Root %s" % tag)
    root = f.issue(root_name, key("rsa1024" if primary == "rsa1024-root" else "ec256"), None, aki=None
                   if rng.random() < 0.5 else "keyid", **root_kw)
    cas = [root]
    for index in range(depth):
        kw = {}
        last = index == depth - 1
        if primary == "eku-intermediate" and index == 0:
            kw["eku"] = [rng.choice(["clientAuth", "emailProtection", "serverAuth"])]
        if primary == "any-eku-intermediate" and last:
            kw["eku"] = ["anyExtendedKeyUsage"]
        if primary == "intermediate-ca-false" and last:
            kw.update(ca=False, ku="ca")
        if primary == "intermediate-no-basic-constraints" and last:
            kw.update(basic=False, ku=rng.choice(["ca", None]))
        if primary == "ku-no-certsign" and last:
            kw["ku"] = "ca-nosign"
        if primary == "pathlen-violated" and index == 0 and depth >= 2:
            kw["pathlen"] = rng.randint(0, depth - 2)
        if primary == "not-yet-valid-intermediate" and last:
            kw.update(start=f.now + 5 * DAY, days=400)
        if primary == "sha1-intermediate" and last:
            kw["sha1"] = True
        if primary == "aki-wrong" and last:
            kw["aki"] = "wrong"
        if primary == "ski-missing":
            kw["ski"] = False
        if primary.startswith("nc-") and index == 0:
            kw["nc"] = _constraints(primary, rng)
        kind = "rsa1024" if primary == "rsa1024-intermediate" and last else "ec256"
        cas.append(f.issue(f.name("Issuing CA %d %s" % (index + 1, tag)), key(kind), cas[-1], **kw))
    issuer = cas[-1]

    # -- the leaf ------------------------------------------------------------------------
    host = HOST
    sans = [HOST, "127.0.0.1"]
    leaf_kw = {"days": 365}
    if primary == "wrong-host":
        sans = ["other.example.net"]
    elif primary == "wildcard-san":
        sans = ["*.example.test"]
    elif primary == "mixed-case-san":
        sans = ["MX.Example.TEST"]
        host = rng.choice([HOST, "Mx.EXAMPLE.test"])
    elif primary == "nc-wildcard-san":
        sans = ["*.example.test"]
    if primary == "cn-only-leaf":
        sans = None
    if primary == "leaf-expired":
        leaf_kw.update(start=f.now - 400 * DAY, days=100)
    if primary == "aki-missing-twins":
        leaf_kw["aki"] = None
    leaf_name = f.name(HOST if primary != "wrong-host" else "other.example.net")
    leaf_key = f.key("rsa1024") if primary == "rsa1024-leaf" else (f.key("rsa2048") if rng.random() < 0.2
                                                                   else key())
    leaf = f.issue(leaf_name, leaf_key, issuer, ca=False, eku=["serverAuth"] if rng.random() < 0.8 else None,
                   san=sans, sha1=primary == "sha1-leaf", **leaf_kw)

    intermediates = [c.cert for c in reversed(cas[1:])]       # issuing CA first
    sent = [leaf.cert] + intermediates
    store = [root.cert]
    roots = [root.cert]
    extra: List[Cert] = []

    # -- class-specific stores and chains -------------------------------------------------
    if primary == "missing-intermediate":
        sent = [leaf.cert] + intermediates[1:]
        if rng.random() < 0.6:
            extra.append(intermediates[0])
    elif primary in ("root-not-in-store", "expired-root-in-store", "not-yet-valid-root"):
        if primary == "root-not-in-store":
            store = [f.issue(f.name("Other Root %s" % tag), f.key(), None).cert]
        if primary == "expired-root-in-store":
            renewed = f.issue(root_name, root.key, None, aki=None)     # same name and key, valid
            roots = [renewed.cert] if rng.random() < 0.7 else [root.cert]
    elif primary == "store-intermediate-root-on-wire":
        store = [intermediates[-1]]
        sent = sent + [root.cert]
        if rng.random() < 0.5:
            roots = []
    elif primary == "expired-store-copy":
        top = cas[1]
        old = f.issue(top.name, top.key, root, start=f.now - 500 * DAY, days=100)
        store = [root.cert, old.cert]
    elif primary in ("expired-server-copy", "renewal-in-from", "renewal-served"):
        top = cas[-1]
        old = f.issue(top.name, top.key, cas[-2], start=f.now - 500 * DAY, days=100)
        position = 1
        sent = [leaf.cert] + [old.cert if i == 0 else c for i, c in enumerate(intermediates)]
        if primary == "renewal-in-from":
            extra.append(top.cert)
        elif primary == "renewal-served":
            sent.insert(position + (1 if rng.random() < 0.5 else 0), top.cert)
        elif rng.random() < 0.5:
            store = [root.cert, top.cert]
    elif primary == "not-yet-valid-intermediate":
        pass
    elif primary.startswith("cross-"):
        other = f.issue(f.name("Cross Root %s" % tag), key(), None)
        cross = f.issue(root_name, root.key, other)                # root R cross-signed by R2
        roots = [root.cert, other.cert]
        if primary == "cross-alone":
            sent = sent + [cross.cert]
            store = rng.choice([[other.cert], [root.cert], [other.cert, root.cert]])
        elif primary == "cross-before-root":
            sent = sent + [cross.cert, root.cert]
            store = rng.choice([[other.cert], [root.cert], []]) or [f.issue(f.name("X %s" % tag), key(), None).cert]
        elif primary == "cross-after-root":
            sent = sent + [root.cert, cross.cert]
            store = rng.choice([[other.cert], [root.cert]])
        elif primary == "cross-in-store":
            store = rng.choice([[cross.cert, other.cert], [cross.cert], [cross.cert, root.cert]])
        elif primary == "cross-sent-first":
            # an intermediate with the same name and key issued by an untrusted CA, sent before the good one
            bad_root = f.issue(f.name("Untrusted Root %s" % tag), key(), None)
            top = cas[1]
            twin = f.issue(top.name, top.key, bad_root)
            sent = [leaf.cert] + intermediates[:-1] + [twin.cert, intermediates[-1]]
            if rng.random() < 0.5:
                sent.append(bad_root.cert)
    elif primary == "aki-missing-twins":
        twin = f.issue(cas[-1].name, f.key(), cas[-2] if len(cas) > 1 else root)
        if rng.random() < 0.5:
            sent = [leaf.cert, twin.cert] + intermediates
        else:
            store = [root.cert, twin.cert]
    elif primary == "twin-in-store":
        twin = f.issue(cas[-1].name, f.key(), cas[-2])
        store = [twin.cert, root.cert] if rng.random() < 0.5 else [root.cert, twin.cert]
    elif primary == "twin-sent":
        twin = f.issue(cas[-1].name, f.key(), cas[-2])
        sent = [leaf.cert, twin.cert] + intermediates
    elif primary == "leaf-only-intermediates-in-store":
        sent = [leaf.cert]
        store = [root.cert] + intermediates[:rng.randint(1, len(intermediates))]
    elif primary == "private-root":
        roots = [f.issue(f.name("Someone Else %s" % tag), f.key(), None).cert]
        store = [f.issue(f.name("Store Root %s" % tag), f.key(), None).cert]
        if rng.random() < 0.5:
            sent = sent + [root.cert]
    if "root-served" in want and root.cert not in sent:
        sent = sent + [root.cert]
    if "unrelated-ca-served" in want:
        sent = sent + [f.issue(f.name("Unrelated CA %s" % tag), f.key(), None).cert]
    if "shuffled" in want and len(sent) > 2:
        tail = sent[1:]
        rng.shuffle(tail)
        sent = [sent[0]] + tail
    if rng.random() < 0.15 and primary not in ("private-root",):
        store = store + [f.issue(f.name("Bystander Root %s" % tag), f.key(), None).cert]
    return Scenario(seed=seed, classes=classes, level=level, host=host, sent=sent, leaf=leaf,
                    store=_unique(store), roots=_unique(roots), extra=_unique(extra))


def _constraints(kind: str, rng: random.Random):
    if kind == "nc-permitted":
        return (rng.choice([["example.test"], ["other.test"], ["mx.example.test"]]), [])
    if kind == "nc-excluded":
        return ([], rng.choice([["example.test"], ["mx.example.test"], ["other.test"]]))
    if kind == "nc-leading-dot":
        return (rng.choice([[".example.test"], [".mx.example.test"]]), [])
    # a wildcard SAN under a constraint
    return rng.choice([([".example.test"], []), (["example.test"], []), ([], ["mx.example.test"]),
                       ([], ["example.test"])])


def _unique(certs: List[Cert]) -> List[Cert]:
    seen, out = set(), []
    for cert in certs:
        if cert.sha256 not in seen:
            seen.add(cert.sha256)
            out.append(cert)
    return out
