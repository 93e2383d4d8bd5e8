"""What a return code most likely means for a mail (STARTTLS) connection, and
what to do, in the project's own words.

The facts (code, constant, meaning, IBM i steps) come from the CSV
(ibmi_trust.explain.codes); this module adds the reading for a mail program
on IBM i that connects to an SMTP/IMAP/POP3 server, and names the ibmi-trust
command that fixes the problem where it is a trust problem. Texts are chosen
by the CSV's category, with a few groups of codes that deserve their own
words (expiry, self-signed, broken chains, no CAs at all, generic
validation failure).
"""
from ibmi_trust.explain.codes import GSKIT_API, SSL_API, Record, ReturnCode

CHECK = "ibmi-trust check HOST:PORT"
FIX = "ibmi-trust fix HOST:PORT"
CL_CHECK = "CHKTLSTRST HOST(host) PORT(port) ACTION(*CHECK)"
CL_FIX = "CHKTLSTRST HOST(host) PORT(port) ACTION(*FIX)"


class Advice(Record):
    __slots__ = ()
    _fields = ("cause", "remedy",
               "commands")         # ibmi-trust / CL commands that apply, in order of use


_TRUST_REMEDY = (
    "This is what ibmi-trust is for. '%s' shows, for every chain the server sends, which CA "
    "certificate this system is missing; '%s' fetches it (from the server's AIA URL or the root "
    "program), asks before a root is imported, backs up the store, imports it and proves the fix "
    "with a new handshake. From CL: %s, then ACTION(*FIX). If the program uses a DCM application ID "
    "with its own CA trust list, add --app-id ID (APPID)." % (CHECK, FIX, CL_CHECK))

_BY_CATEGORY = {
    "trust": Advice(
        "The mail server's chain does not lead to a CA this system trusts for the program: the root, "
        "or an intermediate the server does not send, is missing from *SYSTEM or disabled there, or the "
        "program's application ID has a CA trust list without it. Behind a load balancer some servers "
        "may send another chain, so the error can come and go.",
        _TRUST_REMEDY, (CHECK, FIX, CL_FIX)),
    "certificate": Advice(
        "A certificate in the exchange cannot be used as it is: for a mail connection usually the "
        "server's certificate or a CA copy in *SYSTEM (damaged, unsupported algorithm, wrong use), or "
        "the server asked for a client certificate.",
        "'%s' shows the chain the server sends and the CA copies it is checked against. A damaged or "
        "outdated CA copy in *SYSTEM can be replaced with '%s'; a defect in the server's own "
        "certificate is for the mail provider to fix." % (CHECK, FIX), (CHECK,)),
    "protocol": Advice(
        "The TLS conversation broke down. For STARTTLS this is often a handshake started before the "
        "server's 220 reply, the wrong port (465 is implicit TLS, 25 and 587 use STARTTLS), a proxy or "
        "firewall in the path, or no protocol version both sides allow.",
        "'%s' shows whether the server offers STARTTLS on that port and completes a handshake from this "
        "system. If it does, the fault is in how the program starts TLS; see the IBM i steps." % CHECK,
        (CHECK,)),
    "cipher": Advice(
        "The two sides have no cipher suite or protocol version in common; on IBM i the system values "
        "QSSLPCL, QSSLCSLCTL and QSSLCSL decide, unless the program sets its own list.",
        "Not a trust problem: compare the server's protocols and suites with DSPSYSVAL QSSLPCL and "
        "QSSLCSL (see the IBM i steps).", ()),
    "keystore": Advice(
        "The program could not use its certificate store on IBM i: wrong path or password, missing "
        "stash, missing authority or a damaged store. The mail server is not involved.",
        "Not something ibmi-trust changes: follow the IBM i steps.", ()),
    "configuration": Advice(
        "The program's TLS set-up on IBM i is incomplete or contradictory (application ID, option 34, "
        "attribute settings); the mail server is rarely involved.",
        "Not something ibmi-trust changes: follow the IBM i steps.", ()),
    "io": Advice(
        "The connection failed or was closed during TLS: the server dropped it (often because it "
        "rejected what was offered), a firewall or timeout intervened, or the program used the wrong port.",
        "'%s' shows whether the server answers, offers STARTTLS and completes a handshake from this "
        "system; if it does, look at the program's port and STARTTLS sequence and at firewalls." % CHECK,
        (CHECK,)),
    "resource": Advice("The job ran short of storage or another resource.",
                       "Not a trust problem: follow the IBM i steps.", ()),
    "internal": Advice(
        "An error inside GSKit or a wrong call sequence in the program; rarely caused by the mail server.",
        "Not a trust problem: follow the IBM i steps.", ()),
    "other": Advice("An informational or rarely seen code; see the meaning.",
                    "Usually nothing to do; see the IBM i steps.", ()),
}

_EXPIRY = {(SSL_API, -24), (SSL_API, -25), (GSKIT_API, 107), (GSKIT_API, 401),
           (GSKIT_API, 575016), (GSKIT_API, 575017), (GSKIT_API, 575018), (GSKIT_API, 575059)}
_SELF_SIGNED = {(SSL_API, -18), (GSKIT_API, 417)}
_BROKEN_CHAIN = {(GSKIT_API, 575025), (GSKIT_API, 575027), (GSKIT_API, 575028), (GSKIT_API, 575029),
                 (GSKIT_API, 575049)}
_NO_CAS = {(SSL_API, -1011), (GSKIT_API, 6005)}
_GENERIC_VALIDATION = {(GSKIT_API, 8), (SSL_API, -92), (GSKIT_API, 575007)}

_GROUPS = (
    (_EXPIRY, Advice(
        "A certificate on the path is outside its validity dates: the server's certificate expired, an "
        "old CA copy in *SYSTEM expired (a renewed CA with the same name may exist), or the IBM i date, "
        "time or time zone is wrong.",
        "'%s' lists the validity dates of every certificate on the path and of the CA copies in the "
        "store (--warn-days N, WARNDAYS, warns ahead). '%s' imports the current CA when the store's copy "
        "is the expired one; an expired server certificate is for the mail provider to renew; check "
        "DSPSYSVAL QDATETIME and QTIMZON." % (CHECK, FIX), (CHECK, FIX))),
    (_SELF_SIGNED, Advice(
        "The server presents a self-signed certificate (typical for an internal relay) that no CA in "
        "*SYSTEM vouches for.",
        _TRUST_REMEDY + " fix imports a self-signed certificate only after you approve its SHA-256 "
        "fingerprint with --trust-root (TRUSTROOT), checked with the server's owner.",
        (CHECK, FIX, CL_FIX))),
    (_BROKEN_CHAIN, Advice(
        "A certificate in the server's chain is not allowed to issue certificates (basic constraints, "
        "key usage or path length): the server sends a broken chain.",
        "'%s' names the offending certificate and whether another valid path exists; otherwise the mail "
        "provider must fix its chain. Importing CAs does not help." % CHECK, (CHECK,))),
    (_NO_CAS, Advice(
        "No CA certificate is enabled in the store, or the application's CA trust list is empty.",
        _TRUST_REMEDY, (CHECK, FIX, CL_FIX))),
    (_GENERIC_VALIDATION, Advice(
        "Validation of the server's chain failed; most often the chain does not lead to a CA trusted on "
        "this system, sometimes an expired or revoked certificate. The GSKit validation reason "
        "(GSK_LAST_VALIDATION_ERROR, a 575xxx code: 'ibmi-trust explain 575009') narrows it down.",
        _TRUST_REMEDY, (CHECK, FIX, CL_FIX))),
)


def advice_for(code: ReturnCode) -> Advice:
    for keys, advice in _GROUPS:
        if code.key in keys:
            return advice
    return _BY_CATEGORY.get(code.category, _BY_CATEGORY["other"])
