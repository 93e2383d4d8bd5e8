"""What makes one candidate path unacceptable, whatever certificates are added.

`path_problems` returns critical findings for a path leaf .. end: validity,
CA and key-usage bits, path length, name constraints, extensions a client
must understand, the leaf's purpose, and the state of the store anchor it
ends at (the host name is judged apart: analyse.report.name_mismatch).
Importing certificates cannot cure any of them
(except by choosing another path, which the builder tries).
"""
import datetime
from typing import List, Optional

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from ibmi_trust.analyse.model import CRITICAL, ENABLE_REMEDY, Finding
from ibmi_trust.analyse.names import name_constraints_problem
from ibmi_trust.certs import Cert
from ibmi_trust.store.base import StoreEntry

# Extensions a verifier understands and that may be critical (RFC 5280 4.2);
# AKI, SKI and AIA are not here: they MUST NOT be critical.
MAY_BE_CRITICAL = {
    ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.CERTIFICATE_POLICIES, ExtensionOID.POLICY_CONSTRAINTS, ExtensionOID.POLICY_MAPPINGS,
    ExtensionOID.INHIBIT_ANY_POLICY, ExtensionOID.ISSUER_ALTERNATIVE_NAME,
    ExtensionOID.CRL_DISTRIBUTION_POINTS, ExtensionOID.FRESHEST_CRL,
    ExtensionOID.SUBJECT_DIRECTORY_ATTRIBUTES, ExtensionOID.TLS_FEATURE, ExtensionOID.OCSP_NO_CHECK,
}
_SERVER_PURPOSES = {ExtendedKeyUsageOID.SERVER_AUTH, x509.ObjectIdentifier("2.5.29.37.0")}


def path_problems(certs: List[Cert], ends_at_anchor: bool, anchor_entry: Optional[StoreEntry],
                  now: datetime.datetime, max_chain_depth: int) -> List[Finding]:
    """Critical findings for `certs` (leaf first).

    `ends_at_anchor`: the last certificate is the trust point (store anchor or
    a root to be imported), so it is not counted as an intermediate.
    """
    out: List[Finding] = []
    leaf = certs[0]
    out.extend(_leaf_problems(leaf, now))
    inner = certs[1:-1] if ends_at_anchor else certs[1:]
    intermediates = sum(1 for c in inner if not c.self_issued)   # self-issued ones do not count (RFC 5280)
    if intermediates > max_chain_depth:
        out.append(_finding("chain-too-long", "the path needs %d intermediate CAs, more than the limit of %d"
                            % (intermediates, max_chain_depth), leaf, intermediates=intermediates))
    below = 0   # non-self-issued intermediates between the leaf and the current CA
    for index in range(1, len(certs)):
        ca = certs[index]
        is_anchor = ends_at_anchor and index == len(certs) - 1
        in_store = is_anchor and anchor_entry is not None
        out.extend(_ca_problems(ca, now, in_store, below))
        if not is_anchor and not _serves_tls_servers(ca):
            out.append(_finding("wrong-purpose", "intermediate CA %s is restricted to other purposes "
                                "(extendedKeyUsage lacks serverAuth)" % ca.common_name, ca))
        if not ca.self_issued:
            below += 1
    if ends_at_anchor and anchor_entry is not None:
        out.extend(_anchor_state(anchor_entry))
    for cert in certs:
        reason = _extension_problem(cert)
        if reason:
            out.append(_finding(reason[0], reason[1], cert))
        if cert.key_info.explicit_ec:
            # RFC 5480 2.1.1: specifiedCurve MUST NOT be used; cryptography's verifier refuses such
            # keys. GSKit's answer is unconfirmed (docs/verify-on-your-system.md); the OpenSSL
            # validator follows OpenSSL instead (accepted unless -x509_strict).
            out.append(_finding("explicit-curve-key", "%s has an EC key with explicit curve parameters instead "
                                "of a named curve (RFC 5480 forbids them)" % cert.common_name, cert))
    reason = name_constraints_problem(certs)
    if reason:
        out.append(_finding("name-constraints-violated", "name constraints forbid this path: %s" % reason, leaf))
    return out


def _leaf_problems(leaf: Cert, now) -> List[Finding]:
    out = []
    if now > leaf.not_after:
        out.append(_finding("leaf-expired", "the server certificate expired on %s" % _day(leaf.not_after), leaf))
    elif now < leaf.not_before:
        out.append(_finding("leaf-not-yet-valid", "the server certificate is valid only from %s"
                            % _day(leaf.not_before), leaf))
    if not _serves_tls_servers(leaf):
        out.append(_finding("wrong-purpose", "the server certificate is not issued for TLS servers "
                            "(extendedKeyUsage lacks serverAuth)", leaf))
    return out


def _ca_problems(ca: Cert, now, in_store: bool, below: int) -> List[Finding]:
    out = []
    where = " in the store" if in_store else ""
    suffix = "-in-store" if in_store else ""
    if now > ca.not_after:
        out.append(_finding("ca-expired" + suffix, "CA certificate%s %s expired on %s"
                            % (where, ca.common_name, _day(ca.not_after)), ca))
    elif now < ca.not_before:
        out.append(_finding("ca-not-yet-valid" + suffix, "CA certificate%s %s is valid only from %s"
                            % (where, ca.common_name, _day(ca.not_before)), ca))
    if not ca.is_ca:
        out.append(_finding("not-a-ca", "%s is used as an issuer but is not a CA (basicConstraints)"
                            % ca.common_name, ca))
    elif not ca.can_sign_certs:
        out.append(_finding("ca-cannot-sign", "%s may not sign certificates (keyUsage lacks keyCertSign)"
                            % ca.common_name, ca))
    if ca.path_length is not None and below > ca.path_length:
        out.append(_finding("path-length-exceeded", "%s allows %d intermediate CAs below it, the path has %d"
                            % (ca.common_name, ca.path_length, below), ca))
    return out


def _anchor_state(entry: StoreEntry) -> List[Finding]:
    if entry.enabled is False or entry.trusted is False:
        state = "disabled" if entry.enabled is False else "not trusted"
        return [_finding("ca-disabled-in-store", "store certificate %s is %s (label %s): %s"
                         % (entry.cert.common_name, state, entry.label, ENABLE_REMEDY), entry.cert,
                         label=entry.label, remedy="enable-in-dcm")]
    return []


def _extension_problem(cert: Cert):
    try:
        extensions = cert.x509.extensions
    except Exception as exc:  # duplicate or malformed extensions
        return "malformed-certificate", "%s has unreadable extensions: %s" % (
            cert.common_name, (str(exc) or type(exc).__name__).splitlines()[0][:120])
    for ext in extensions:
        if ext.critical and ext.oid not in MAY_BE_CRITICAL:
            name = getattr(ext.oid, "_name", None) or ext.oid.dotted_string
            return "unknown-critical-extension", "%s carries critical extension %s, which clients must reject" % (
                cert.common_name, name)
    return None


def _serves_tls_servers(cert: Cert) -> bool:
    """No extendedKeyUsage, or one that allows serverAuth (or any purpose)."""
    try:
        purposes = cert.x509.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    except Exception:
        return False
    return bool(set(purposes) & _SERVER_PURPOSES)


def _finding(code: str, message: str, cert: Cert, **detail) -> Finding:
    return Finding(code, CRITICAL, message, cert.subject, cert.sha256, detail)


def _day(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
