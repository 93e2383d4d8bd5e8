"""X509_V_ERR_* codes as the verifier reports them, per OpenSSL version.

Numbers moved between 1.1.1 and 3.x (include/openssl/x509_vfy.h vs
x509_vfy.h.in): INVALID_CA is 24 in 1.1.1 and 79 in 3.x, and 3.x adds
EC_KEY_EXPLICIT_PARAMS (94). Texts are those of
X509_verify_cert_error_string (crypto/x509/x509_txt.c), 3.x spelling.
"""
from typing import Dict

UNSPECIFIED = 1
UNABLE_TO_GET_ISSUER_CERT = 2
UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY = 6
CERT_SIGNATURE_FAILURE = 7
CERT_NOT_YET_VALID = 9
CERT_HAS_EXPIRED = 10
DEPTH_ZERO_SELF_SIGNED_CERT = 18
SELF_SIGNED_CERT_IN_CHAIN = 19
UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
CERT_CHAIN_TOO_LONG = 22
PATH_LENGTH_EXCEEDED = 25
INVALID_PURPOSE = 26
CERT_REJECTED = 28
KEYUSAGE_NO_CERTSIGN = 32
UNHANDLED_CRITICAL_EXTENSION = 34
PERMITTED_VIOLATION = 47
EXCLUDED_VIOLATION = 48
SUBTREE_MINMAX = 49
UNSUPPORTED_CONSTRAINT_TYPE = 51
UNSUPPORTED_NAME_SYNTAX = 53
HOSTNAME_MISMATCH = 62
IP_ADDRESS_MISMATCH = 64
EE_KEY_TOO_SMALL = 66
CA_KEY_TOO_SMALL = 67
CA_MD_TOO_WEAK = 68
INVALID_CA_111 = 24
INVALID_CA_3 = 79
EC_KEY_EXPLICIT_PARAMS_3 = 94


def invalid_ca(version: str) -> int:
    return INVALID_CA_111 if version == "1.1.1" else INVALID_CA_3


_TEXT: Dict[int, str] = {
    UNSPECIFIED: "unspecified certificate verification error",
    UNABLE_TO_GET_ISSUER_CERT: "unable to get issuer certificate",
    UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: "unable to decode issuer public key",
    CERT_SIGNATURE_FAILURE: "certificate signature failure",
    CERT_NOT_YET_VALID: "certificate is not yet valid",
    CERT_HAS_EXPIRED: "certificate has expired",
    DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
    SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in certificate chain",
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unable to get local issuer certificate",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the first certificate",
    CERT_CHAIN_TOO_LONG: "certificate chain too long",
    PATH_LENGTH_EXCEEDED: "path length constraint exceeded",
    INVALID_PURPOSE: "unsupported certificate purpose",
    CERT_REJECTED: "certificate rejected",
    KEYUSAGE_NO_CERTSIGN: "key usage does not include certificate signing",
    UNHANDLED_CRITICAL_EXTENSION: "unhandled critical extension",
    PERMITTED_VIOLATION: "permitted subtree violation",
    EXCLUDED_VIOLATION: "excluded subtree violation",
    SUBTREE_MINMAX: "name constraints minimum and maximum not supported",
    UNSUPPORTED_CONSTRAINT_TYPE: "unsupported name constraint type",
    UNSUPPORTED_NAME_SYNTAX: "unsupported or invalid name syntax",
    HOSTNAME_MISMATCH: "hostname mismatch",
    IP_ADDRESS_MISMATCH: "IP address mismatch",
    EE_KEY_TOO_SMALL: "EE certificate key too weak",
    CA_KEY_TOO_SMALL: "CA certificate key too weak",
    CA_MD_TOO_WEAK: "CA signature digest algorithm too weak",
    INVALID_CA_111: "invalid CA certificate",
    INVALID_CA_3: "invalid CA certificate",
    EC_KEY_EXPLICIT_PARAMS_3: "Certificate public key has explicit ECC parameters",
}
# 1.1.1 numbers that mean something else in 3.x
_TEXT_111 = {24: "invalid CA certificate", 79: "EC key has explicit parameters"}


def text(code: int, version: str = "3") -> str:
    if version == "1.1.1" and code in _TEXT_111:
        return _TEXT_111[code]
    return _TEXT.get(code, "verification error %d" % code)


# Codes that the path (the store) decides, as opposed to the name the client asked for.
NAME_CODES = {HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH}
