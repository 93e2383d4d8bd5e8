"""Warnings about a path that works: weak signatures, small keys, near expiry."""
import datetime
from typing import List

from ibmi_trust.analyse.model import WARNING, Finding
from ibmi_trust.certs import Cert

WEAK_HASHES = {"md5", "sha1", "md2", "md4"}
MIN_BITS = {"RSA": 2048, "DSA": 2048, "EC": 224}


def path_warnings(certs: List[Cert], trust_point_is_last: bool, now: datetime.datetime,
                  warn_days: int) -> List[Finding]:
    """Warnings for `certs` (leaf first).

    The trust point's own signature is not judged (nobody verifies it), so a
    SHA-1 self-signed root is fine; every other signature on the path is.
    """
    out: List[Finding] = []
    signed = certs[:-1] if trust_point_is_last else certs
    for cert in signed:
        alg = cert.signature_hash_name()
        if alg in WEAK_HASHES:
            out.append(Finding("weak-signature", WARNING, "%s is signed with %s, which many clients reject"
                               % (cert.common_name, alg.upper()), cert.subject, cert.sha256, {"hash": alg}))
    for cert in certs:
        kind, bits = cert.key_description()
        if bits < MIN_BITS.get(kind, 0):
            out.append(Finding("small-key", WARNING, "%s has a %d-bit %s key (at least %d expected)"
                               % (cert.common_name, bits, kind, MIN_BITS[kind]), cert.subject, cert.sha256,
                               {"algorithm": kind, "bits": bits}))
        days = cert.days_left(now)
        if 0 <= days <= warn_days:
            out.append(Finding("expires-soon", WARNING, "%s expires in %.0f days (%s)"
                               % (cert.common_name, days, cert.not_after.strftime("%Y-%m-%d")),
                               cert.subject, cert.sha256,
                               {"days_left": round(days, 2), "not_after": cert.not_after.strftime("%Y-%m-%d")}))
    return out
