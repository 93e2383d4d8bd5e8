"""A CApath directory read the way OpenSSL reads it: one name at a time.

OpenSSL never reads a whole CApath directory. To find the certificates with
a given subject it computes X509_NAME_hash of the name and opens
`HHHHHHHH.0`, `.1`, ... until a name does not exist (crypto/x509/by_dir.c,
get_cert_by_subject_ex). Every certificate in each PEM file is loaded
(X509_load_cert_file: `CERTIFICATE`, `X509 CERTIFICATE` and `TRUSTED
CERTIFICATE` blocks, other blocks skipped). Only a name that does not exist
(lstat fails) always ends the scan; a name OpenSSL cannot use (a dangling
link, an empty or unparsable file, a directory) is skipped or ends the scan
depending on the OpenSSL release (store/capath_rule.py: settled for this
machine; tests/test_openssl_profile.py holds the model to the real binary).
The bucket may hold other names
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
from typing import Dict, List, Tuple

from ibmi_trust.errors import CertificateError
from ibmi_trust.certs.loading import CERT_LABELS, MAX_INPUT_BYTES, scan_pem
from ibmi_trust.store import pemfile
from ibmi_trust.store.base import ReadProblem, StoreEntry
from ibmi_trust.store.capath_rule import SKIP, STOP, broken_name_rule

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
                certs, why = [], "a dangling link"
            else:
                certs, why = self._certificates(path, info)
            label = _label(self.directory, name)
            out.extend(StoreEntry(cert, label, enabled=True, order=(hash_value, index)) for cert in certs)
            if why:
                rule = broken_name_rule()
                self.problems.append(ReadProblem(path, "%s: %s (%s)" % (
                    why, "OpenSSL skips it" if rule.name == SKIP else "OpenSSL's lookups of this subject stop here",
                    rule.source)))
                if rule.name == STOP:
                    break
        return out

    def _certificates(self, path: str, info) -> Tuple[list, str]:
        """The certificates OpenSSL loads from the file, and why it fails to load
        it ("" when it does not: X509_load_cert_file's answer)."""
        if not stat.S_ISREG(info.st_mode):
            return [], "not a regular file"
        if info.st_size > MAX_INPUT_BYTES:
            return [], "larger than %d bytes" % MAX_INPUT_BYTES
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            return [], "cannot read it: %s" % (exc.strerror or exc)
        certs = []
        for raw in scan_pem(data).blocks:
            if raw.label not in CERT_LABELS:
                continue                                 # other PEM blocks are skipped
            try:
                certs.append(pemfile.cert_of(raw))
            except CertificateError as exc:              # PEM_read_bio_X509_AUX stops at the first bad one
                return certs, str(exc)
        return certs, "" if certs else "no PEM certificate in it"


def _label(directory: str, name: str) -> str:
    """The file a hash link points to (inside the directory), else the hash name itself."""
    try:
        target = os.readlink(os.path.join(directory, name))
    except OSError:
        return name
    return target if "/" not in target else name
