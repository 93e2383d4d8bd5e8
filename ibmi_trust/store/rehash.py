"""OpenSSL's CApath naming, in pure Python: subject-name hash and `.N` numbering.

OpenSSL finds an issuer in a CApath directory by file name only: it computes
`X509_NAME_hash` of the issuer name and opens `HHHHHHHH.0`, `.1`, ... until
one is missing (CRLs: `HHHHHHHH.r0`, ...). `openssl rehash` makes those names
as symbolic links to the certificate files. This module reproduces both:

- `name_hash(subject_der_of(cert_der))`: X509_NAME_hash (OpenSSL >= 1.0.0,
  crypto/x509/x_name.c x509_name_canon + asn1_string_canon). Every value of
  a string type becomes UTF-8 (one-byte types read as Latin-1, BMP/Universal
  as UTF-16/32), leading and trailing whitespace is dropped, inner runs of
  whitespace become one space, ASCII letters are lower-cased (other bytes are
  kept) and the value is re-tagged UTF8String; other types are kept as they
  are. Each RDN is DER-encoded as a SET (members sorted by their encoding),
  the SETs are concatenated without the outer SEQUENCE header, hashed with
  SHA-1, and the first 4 bytes are read little-endian. The name is taken as
  encoded in the certificate (`subject_der_of`), never re-encoded.
- `number_links(...)`: the ids `openssl rehash` (apps/rehash.c, do_dir) gives.
  Files are visited in byte order of their names; per hash bucket, identical
  certificates count once (the first one visited); a file whose existing link
  id is below the number of certificates in the bucket keeps it; the others
  take the lowest free ids, in the order they were first seen (as a file or
  as a link target). Deliberate differences, documented in docs/stores.md:
  links to files that are gone are dropped (openssl keeps them, openssl issue
  25272), a file keeps exactly one link, and ids held by things this package
  does not manage (foreign links, regular files named like links) are never
  reused.
"""
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from ibmi_trust.certs.der import signed_fields
from ibmi_trust.certs.fields import NameHashError, canonical_name  # noqa: F401 (also used by callers)

CERT, CRL = "", "r"        # link suffixes: HHHHHHHH.N and HHHHHHHH.rN
# The names lookups open ("%08lx.%d"): lower-case hex, no leading zeros.
LINK_NAME_RE = re.compile(r"^([0-9a-f]{8})\.(r?)(0|[1-9][0-9]*)$")
REHASH_EXTENSIONS = (".pem", ".crt", ".cer", ".crl")  # what openssl rehash reads


# -- the subject-name hash ------------------------------------------------
def name_hash(name_der: bytes) -> int:
    """X509_NAME_hash of a DER-encoded Name (what `-subject_hash` prints)."""
    digest = hashlib.sha1(canonical_name(name_der)).digest()
    return int.from_bytes(digest[:4], "little")


def hash_text(value: int) -> str:
    return "%08x" % value


def subject_der_of(cert_der: bytes) -> bytes:
    """The subject Name exactly as encoded in a DER certificate.

    Hash this, not a re-encoding: cryptography 3.4 re-encodes a parsed Name
    from decoded text (a T61String comes back with other bytes).
    """
    fields = signed_fields(cert_der)
    if fields and cert_der[fields[0][0]] == 0xA0:     # [0] EXPLICIT version
        fields = fields[1:]
    if len(fields) < 5:
        raise NameHashError("not a certificate")
    start, end = fields[4]                           # serial, signature, issuer, validity, subject
    return cert_der[start:end]


def crl_issuer_der(crl_der: bytes) -> bytes:
    """The issuer Name of a DER CertificateList (what CRL links are named by)."""
    fields = signed_fields(crl_der)
    if fields and crl_der[fields[0][0]] == 0x02:     # optional version
        fields = fields[1:]
    if len(fields) < 2:
        raise NameHashError("not a CRL")
    start, end = fields[1]                           # signature, issuer
    return crl_der[start:end]


# -- link naming and numbering ----------------------------------------------
@dataclass(frozen=True)
class Linkable:
    """A file `openssl rehash` links: one certificate (or one CRL) in PEM."""
    name: str
    kind: str          # CERT or CRL
    hash: int
    digest: str        # identical objects are linked once


@dataclass(frozen=True)
class Link:
    """An existing HHHHHHHH.N link whose target is a Linkable's bare name."""
    name: str
    kind: str
    hash: int
    index: int
    target: str


def link_name(kind: str, hash_value: int, index: int) -> str:
    return "%s.%s%d" % (hash_text(hash_value), kind, index)


def parse_link_name(name: str) -> Optional[Tuple[str, int, int]]:
    """(kind, hash, index) when `name` looks like HHHHHHHH.N / HHHHHHHH.rN."""
    match = LINK_NAME_RE.match(name)
    if not match:
        return None
    return match.group(2), int(match.group(1), 16), int(match.group(3))


def visit_order(names: Iterable[str]) -> List[str]:
    """The order openssl rehash visits a directory: by the names' bytes."""
    return sorted(names, key=os.fsencode)


def number_links(files: Sequence[Linkable], links: Sequence[Link],
                 reserved: Mapping[Tuple[str, int], Set[int]]) -> Dict[str, str]:
    """The wanted {link name: target file name} for the whole directory.

    `files` and `links` may come in any order; `reserved` maps (kind, hash)
    to ids taken by things that must not be replaced.
    """
    position = {name: i for i, name in enumerate(visit_order(
        [f.name for f in files] + [link.name for link in links]))}
    first_seen: Dict[str, int] = {f.name: position[f.name] for f in files}
    ids_of: Dict[str, List[int]] = {}
    for link in links:
        first_seen[link.target] = min(first_seen.get(link.target, position[link.name]),
                                      position[link.name])
        ids_of.setdefault(link.target, []).append(link.index)

    buckets: Dict[Tuple[str, int], List[Linkable]] = {}
    seen_digests: Set[Tuple[str, int, str]] = set()
    for item in sorted(files, key=lambda f: position[f.name]):
        key = (item.kind, item.hash, item.digest)
        if key in seen_digests:
            continue  # a duplicate: openssl links only the first copy
        seen_digests.add(key)
        buckets.setdefault((item.kind, item.hash), []).append(item)

    wanted: Dict[str, str] = {}
    for (kind, hash_value), members in buckets.items():
        needed = len(members)
        used = set(reserved.get((kind, hash_value), ()))
        chosen: Dict[str, int] = {}
        for item in members:
            ids = sorted(ids_of.get(item.name, ()))
            if ids and ids[0] < needed and ids[0] not in used:
                chosen[item.name] = ids[0]
                used.add(ids[0])
        for item in sorted(members, key=lambda f: first_seen[f.name]):
            if item.name in chosen:
                continue
            index = 0
            while index in used:
                index += 1
            chosen[item.name] = index
            used.add(index)
        for name, index in chosen.items():
            wanted[link_name(kind, hash_value, index)] = name
    return wanted
