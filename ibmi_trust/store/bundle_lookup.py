"""A PEM bundle indexed by subject name, for the analysis of a few chains.

An OpenSSL client loads a whole CAfile, and so does this: every block is
decoded and checked as OpenSSL's loading checks it (the structure and the
names: certs.cert.loadable_subject_key; problems listed as `store list` lists
them, store/bundle.py read_blocks), and each certificate's subject is indexed
by its canonical encoding, as X509_STORE finds issuers. What is not made is a
Cert (and its StoreEntry) for each of thousands of CAs: only the certificates
a lookup names become Certs, on first use; one that cannot be (malformed
validity times, which OpenSSL loads and fails only on use) is then a problem. `check` against a
5,000-CA bundle so costs little more than against 150
(benchmarks/bench_store_scaling.py).

`named(canonical name)` answers as CApathLookup does (store/capath_lookup.py):
the entries with that subject, in file order, an exact duplicate once (as
X509_STORE_add_cert keeps the first).
"""
import threading
from typing import Dict, List, Optional, Tuple

from ibmi_trust.certs import Cert
from ibmi_trust.certs.cert import loadable_subject_key
from ibmi_trust.errors import CertificateError
from ibmi_trust.store import pemfile
from ibmi_trust.store.base import ReadProblem, StoreEntry


def _indexable(block) -> Tuple[bytes, Optional[bytes]]:
    der = block.der
    if not der or block.label == "TRUSTED CERTIFICATE":
        der = pemfile.der_of(block)                # the reason it is broken, or the certificate alone
    return der, loadable_subject_key(der)


class BundleLookup:
    def __init__(self, data: Optional[bytes], where: str):
        from ibmi_trust.store.bundle import read_blocks

        self.where = where
        self.problems: List[ReadProblem] = []
        self._items: List[Tuple[int, str, bytes]] = []         # (number, "#N", DER) of each readable certificate
        self._by_name: Dict[bytes, List[int]] = {}
        self._entries: Dict[int, StoreEntry] = {}
        self._lock = threading.Lock()
        for number, label, _block, _previous_end, item in read_blocks(data, where, _indexable, self.problems):
            if item is None:
                continue
            der, name = item
            if name is not None:
                self._by_name.setdefault(name, []).append(len(self._items))
            self._items.append((number, label, der))

    @property
    def size(self) -> int:
        """Readable certificates in the bundle."""
        return len(self._items)

    def named(self, canonical: Optional[bytes]) -> List[StoreEntry]:
        if canonical is None:
            return []
        out: List[StoreEntry] = []
        seen = set()
        with self._lock:
            for index in self._by_name.get(canonical, ()):
                entry = self._entries.get(index)
                if entry is None:
                    entry = self._entries[index] = self._entry(index)
                if entry is not False and entry.cert.sha256 not in seen:
                    seen.add(entry.cert.sha256)
                    out.append(entry)
        return out

    def _entry(self, index: int):
        number, label, der = self._items[index]
        try:
            return StoreEntry(Cert(der), label, order=(number,))
        except CertificateError as exc:
            self.problems.append(ReadProblem("%s %s" % (self.where, label), str(exc)))
            return False
