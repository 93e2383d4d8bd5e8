"""A CApath directory read the way OpenSSL reads it: one name at a time.

OpenSSL never reads a whole CApath directory. To find the certificates with
a given subject it computes X509_NAME_hash of the name and opens
`HHHHHHHH.0`, `.1`, ... until a name does not exist (crypto/x509/by_dir.c,
get_cert_by_subject_ex). Every certificate in each PEM file is loaded
(X509_load_cert_file: `CERTIFICATE`, `X509 CERTIFICATE` and `TRUSTED
CERTIFICATE` blocks, other blocks skipped). What OpenSSL 3.0.22 does, measured
with the real binary (tests/test_openssl_profile.py keeps it so): a dangling
link, an empty or unparsable file and a directory under a hash name are
skipped and the next suffix is tried; only a name that does not exist at all
(lstat fails) ends the scan. The bucket may hold other names
(hash collisions); only the certificates whose subject equals the name
(canonically) answer.

`CApathLookup.named(canonical name)` does exactly that, caching each bucket,
so a `check` against a directory of 5,000 CAs reads the few files its chains
need, as the client does. `store list` and every write still read the
whole directory (store/capath.py), where reachability and stale links are
judged.
"""
import hashlib
import os
import stat
import threading
from typing import Dict, List

from ibmi_trust.errors import CertificateError
from ibmi_trust.certs.loading import MAX_INPUT_BYTES, scan_pem
from ibmi_trust.store import pemfile
from ibmi_trust.store.base import ReadProblem, StoreEntry

MAX_BUCKET = 10000            # `.N` names tried per hash at the most


class CApathLookup:
    def __init__(self, directory: str):
        self.directory = str(directory)
        self.problems: List[ReadProblem] = []
        self._buckets: Dict[int, List[StoreEntry]] = {}
        self._lock = threading.Lock()

    def named(self, canonical: bytes) -> List[StoreEntry]:
        """The entries OpenSSL finds for this subject (canonical encoding), in load order."""
        if canonical is None:
            return []
        bucket = self.bucket(int.from_bytes(hashlib.sha1(canonical).digest()[:4], "little"))
        return [e for e in bucket if e.cert.subject_key == canonical]

    def bucket(self, hash_value: int) -> List[StoreEntry]:
        with self._lock:
            found = self._buckets.get(hash_value)
            if found is None:
                found = self._buckets[hash_value] = self._read_bucket(hash_value)
            return found

    def _read_bucket(self, hash_value: int) -> List[StoreEntry]:
        out: List[StoreEntry] = []
        for index in range(MAX_BUCKET):
            name = "%08x.%d" % (hash_value, index)
            path = os.path.join(self.directory, name)
            try:
                os.lstat(path)
            except OSError:
                break                                    # the name does not exist: lookups stop here
            try:
                info = os.stat(path)
            except OSError:
                self.problems.append(ReadProblem(path, "a dangling link: OpenSSL skips it"))
                continue
            certs = self._certificates(path, info)
            label = _label(self.directory, name)
            out.extend(StoreEntry(cert, label, enabled=True, order=(hash_value, index)) for cert in certs)
        return out

    def _certificates(self, path: str, info) -> list:
        if not stat.S_ISREG(info.st_mode):
            self.problems.append(ReadProblem(path, "not a regular file: OpenSSL skips it"))
            return []
        if info.st_size > MAX_INPUT_BYTES:
            self.problems.append(ReadProblem(path, "larger than %d bytes" % MAX_INPUT_BYTES))
            return []
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            self.problems.append(ReadProblem(path, "cannot read it: %s" % (exc.strerror or exc)))
            return []
        certs = []
        for raw in scan_pem(data).blocks:
            block = pemfile.PemBlock(*raw)
            if not block.is_cert:
                continue                                 # other PEM blocks are skipped
            try:
                certs.append(pemfile.cert_of(block))
            except CertificateError as exc:              # PEM_read_bio_X509_AUX stops at the first bad one
                self.problems.append(ReadProblem(path, str(exc)))
                break
        if not certs:
            self.problems.append(ReadProblem(path, "no PEM certificate in it: OpenSSL skips it"))
        return certs


def _label(directory: str, name: str) -> str:
    """The file a hash link points to (inside the directory), else the hash name itself."""
    try:
        target = os.readlink(os.path.join(directory, name))
    except OSError:
        return name
    return target if "/" not in target else name
