"""What may go into a trust store, and what needs the operator's explicit word.

A certificate that names itself as its issuer (a root, or a self-issued
key-rollover certificate) becomes a trust anchor the moment it is in a
store. It is never added implicitly: the operator names its SHA-256
fingerprint (`--trust-root`), after checking it out of band. Intermediates
may be added freely (they only help build chains up to a root that is
already trusted). End-entity certificates do not belong in a trust store.
"""
from typing import Iterable, List, Sequence, Tuple

from ibmi_trust.certs import Cert
from ibmi_trust.errors import FixRefused
from ibmi_trust.store.base import normalise_fingerprint


def needs_approval(cert: Cert) -> bool:
    return cert.self_issued


def unapproved_roots(certs: Sequence[Cert], approved: Iterable[str]) -> List[Cert]:
    ok = {normalise_fingerprint(a) for a in approved}
    return [c for c in certs if needs_approval(c) and c.sha256 not in ok]


def unused_approvals(certs: Sequence[Cert], approved: Iterable[str]) -> List[str]:
    present = {c.sha256 for c in certs}
    return [a for a in approved if normalise_fingerprint(a) not in present]


def split_server_certificates(certs: Sequence[Cert]) -> Tuple[List[Cert], List[Cert]]:
    """(CA certificates, server certificates) of a file such as a fullchain.pem,
    where the server's certificate comes with its CAs; a self-issued
    certificate counts as a CA (a root, approved or refused as one)."""
    cas = [c for c in certs if c.is_ca or needs_approval(c)]
    return cas, [c for c in certs if c not in cas]


def check_addable(certs: Sequence[Cert], approved: Iterable[str]) -> None:
    """Raise FixRefused unless every certificate may be added as asked."""
    approved = list(approved)
    leaves = [c for c in certs if not c.is_ca and not needs_approval(c)]
    if leaves:
        raise FixRefused("%s is not a CA certificate; a trust store holds CA certificates"
                         % leaves[0].subject,
                         hint="add the CA that issued it instead")
    roots = unapproved_roots(certs, approved)
    if roots:
        raise FixRefused(
            "%d root certificate(s) need explicit approval; nothing was added: %s"
            % (len(roots), "; ".join("%s (SHA-256 %s)" % (c.subject, c.sha256) for c in roots)),
            hint="check each fingerprint with the CA out of band, then repeat with "
                 + " ".join("--trust-root %s" % c.sha256 for c in roots),
        )
