"""Certificates indexed by subject name: as encoded (DER), and as OpenSSL
compares names (the canonical encoding, Cert.subject_key).

Issuer look-up is one dict access, whatever the store size: the path
builder never scans a store (benchmarks/bench_analysis_scaling.py).
"""
from collections import defaultdict
from typing import Dict, Generic, Iterable, List, Tuple, TypeVar

from ibmi_trust.certs import Cert
from ibmi_trust.certs.cert import names_match

T = TypeVar("T")


def issuer_name_matches(child: Cert, issuer: Cert) -> bool:
    """`issuer`'s subject is `child`'s issuer name: same DER, or the same name
    in another string encoding, letter case or spacing (as OpenSSL compares
    names: their canonical encoding)."""
    return issuer.subject_der == child.issuer_der or names_match(issuer.subject_key, child.issuer_key)


class CertIndex(Generic[T]):
    """(Cert, payload) pairs; payload is whatever the owner attaches."""

    def __init__(self, items: Iterable[Tuple[Cert, T]] = ()):
        self._by_subject: Dict[bytes, List[Tuple[Cert, T]]] = defaultdict(list)
        self._by_name_key: Dict[tuple, List[Tuple[Cert, T]]] = defaultdict(list)
        self._by_sha256: Dict[str, Tuple[Cert, T]] = {}
        for cert, payload in items:
            self.add(cert, payload)

    def add(self, cert: Cert, payload: T) -> None:
        if cert.sha256 in self._by_sha256:
            return
        self._by_sha256[cert.sha256] = (cert, payload)
        self._by_subject[cert.subject_der].append((cert, payload))
        if cert.subject_key is not None:
            self._by_name_key[cert.subject_key].append((cert, payload))

    def __len__(self) -> int:
        return len(self._by_sha256)

    def __iter__(self):
        return iter(self._by_sha256.values())

    def get(self, sha256: str):
        return self._by_sha256.get(sha256)

    def entry_for(self, cert: Cert):
        """The payload of `cert` when it is indexed, else None."""
        found = self._by_sha256.get(cert.sha256)
        return found[1] if found is not None else None

    def issuers_of(self, child: Cert) -> List[Tuple[Cert, T]]:
        """Certificates named as `child`'s issuer, key-id matches first.

        Names are compared as encoded (DER) first; when nothing matches, as
        RFC 5280 7.1 and OpenSSL compare them (another string encoding,
        letter case, white space: Cert.subject_key). The key id only orders
        candidates, since many CAs omit or mis-set it. Signatures are checked
        by the caller.
        """
        named = self._by_subject.get(child.issuer_der)
        if named is None and child.issuer_key is not None:
            named = self._by_name_key.get(child.issuer_key)
        if named is None:
            return []
        if not child.aki or len(named) < 2:
            return list(named)
        return sorted(named, key=lambda item: item[0].ski != child.aki)

    def same_key(self, cert: Cert) -> List[Tuple[Cert, T]]:
        """Other certificates with `cert`'s subject and public key (renewals, copies)."""
        return [(c, p) for c, p in self._by_subject.get(cert.subject_der, [])
                if c.spki_sha256 == cert.spki_sha256 and c.sha256 != cert.sha256]
