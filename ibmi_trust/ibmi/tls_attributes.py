"""What System TLS really offers: QsoRtvTLSA, falling back to the system values.

QSSLPCL *OPSYS means "the release's protocol set", which the system value
does not spell out. The Retrieve TLS Attributes API (QsoRtvTLSA, service
program QSOTLSA) reports the supported, eligible default and default
protocols, cipher suites and signature algorithms System TLS uses
(https://www.ibm.com/docs/en/ssw_ibm_i_74/apis/qsortvtlsa.htm; on 7.2-7.4 by
PTF, in the base of later releases: https://ibm.com/support/pages/node/6172701).
--like-system offers the DEFAULT lists, what a System TLS application such as
the SMTP client gets unless it sets its own.

Parameters (IBM): 1 format name Char(8) 'TLSA0100', 2 receiver Char(*),
3 length of receiver Binary(4) I/O, 4 error code. IBM's page names the
lists and says "Unused array elements will contain hexadecimal zeros";
the receiver's offsets and the value codes were not in the material
available when this was written. The layout below is an ASSUMPTION
(UNCONFIRMED): bytes returned, bytes available, then nine fixed arrays of
Binary(4) codes (protocol versions, cipher suites and signature schemes
by their IANA numbers). Every value is checked against the known codes and
the counts against the lengths; anything that does not fit makes the reply
"not understood" and --like-system falls back to QSSLPCL/QSSLCSL with a note
that says so. IBMI_TRUST_TLS_ATTRIBUTES=system-values skips the API. The
live suite prints the raw receiver so that the layout can be pinned
(docs/verify-on-your-system.md).
"""
import os
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ibmi_trust.errors import ConfigError, IbmiApiError

FORMAT = "TLSA0100"
SETTING = "IBMI_TRUST_TLS_ATTRIBUTES"
SOURCES = ("api", "system-values")
# (list, elements per kind); kinds in this order within each list (UNCONFIRMED layout)
COUNTS = (("protocols", 10), ("cipher_suites", 64), ("signature_algorithms", 32))
KINDS = ("supported", "eligible_default", "default")
HEADER = 8
RECEIVER_LENGTH = HEADER + 4 * 3 * sum(count for _name, count in COUNTS)

# IANA TLS version numbers -> QSSLPCL names
PROTOCOLS = {0x0304: "*TLSV1.3", 0x0303: "*TLSV1.2", 0x0302: "*TLSV1.1", 0x0301: "*TLSV1", 0x0300: "*SSLV3",
             0x0002: "*SSLV2"}
# IANA cipher suite numbers -> QSSLCSL names (IBM "Cipher suite configuration" table)
CIPHER_SUITES = {
    0x1301: "*AES_128_GCM_SHA256", 0x1302: "*AES_256_GCM_SHA384", 0x1303: "*CHACHA20_POLY1305_SHA256",
    0xC02B: "*ECDHE_ECDSA_AES_128_GCM_SHA256", 0xC02C: "*ECDHE_ECDSA_AES_256_GCM_SHA384",
    0xC02F: "*ECDHE_RSA_AES_128_GCM_SHA256", 0xC030: "*ECDHE_RSA_AES_256_GCM_SHA384",
    0xCCA9: "*ECDHE_ECDSA_CHACHA20_POLY1305_SHA256", 0xCCA8: "*ECDHE_RSA_CHACHA20_POLY1305_SHA256",
    0x009C: "*RSA_AES_128_GCM_SHA256", 0x009D: "*RSA_AES_256_GCM_SHA384",
    0xC023: "*ECDHE_ECDSA_AES_128_CBC_SHA256", 0xC024: "*ECDHE_ECDSA_AES_256_CBC_SHA384",
    0xC027: "*ECDHE_RSA_AES_128_CBC_SHA256", 0xC028: "*ECDHE_RSA_AES_256_CBC_SHA384",
    0x003C: "*RSA_AES_128_CBC_SHA256", 0x002F: "*RSA_AES_128_CBC_SHA", 0x003D: "*RSA_AES_256_CBC_SHA256",
    0x0035: "*RSA_AES_256_CBC_SHA", 0xC008: "*ECDHE_ECDSA_3DES_EDE_CBC_SHA", 0xC012: "*ECDHE_RSA_3DES_EDE_CBC_SHA",
    0x000A: "*RSA_3DES_EDE_CBC_SHA", 0xC007: "*ECDHE_ECDSA_RC4_128_SHA", 0xC011: "*ECDHE_RSA_RC4_128_SHA",
    0x0005: "*RSA_RC4_128_SHA", 0x0004: "*RSA_RC4_128_MD5", 0x0009: "*RSA_DES_CBC_SHA",
    0x0003: "*RSA_EXPORT_RC4_40_MD5", 0x0006: "*RSA_EXPORT_RC2_CBC_40_MD5", 0xC006: "*ECDHE_ECDSA_NULL_SHA",
    0xC010: "*ECDHE_RSA_NULL_SHA", 0x003B: "*RSA_NULL_SHA256", 0x0002: "*RSA_NULL_SHA", 0x0001: "*RSA_NULL_MD5",
}
# IANA TLS SignatureScheme numbers -> names
SIGNATURE_ALGORITHMS = {
    0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
    0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384", 0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519", 0x0808: "ed448", 0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512", 0x0201: "rsa_pkcs1_sha1", 0x0203: "ecdsa_sha1", 0x0101: "rsa_pkcs1_md5",
}
NAMES = {"protocols": PROTOCOLS, "cipher_suites": CIPHER_SUITES, "signature_algorithms": SIGNATURE_ALGORITHMS}


@dataclass
class TlsAttributes:
    lists: Dict[str, List[str]] = field(default_factory=dict)     # "default_protocols" -> names

    def get(self, kind: str, what: str) -> List[str]:
        return self.lists.get("%s_%s" % (kind, what), [])


def source_setting() -> str:
    value = (os.environ.get(SETTING, "") or "api").strip().lower()
    if value not in SOURCES:
        raise ConfigError("%s must be one of %s, not %r" % (SETTING, ", ".join(SOURCES), value))
    return value


def parse(receiver: bytes) -> Tuple[Optional[TlsAttributes], str]:
    """(attributes, "") or (None, why the reply is not understood)."""
    if len(receiver) < HEADER:
        return None, "reply shorter than its header"
    returned, available = struct.unpack(">II", receiver[:HEADER])
    if returned != RECEIVER_LENGTH or available < returned or len(receiver) < returned:
        return None, "reply of %d bytes (available %d), the assumed TLSA0100 layout has %d" % (
            returned, available, RECEIVER_LENGTH)
    out, pos = TlsAttributes(), HEADER
    for what, count in COUNTS:
        for kind in KINDS:
            codes = struct.unpack(">%dI" % count, receiver[pos:pos + 4 * count])
            pos += 4 * count
            used = [c for c in codes if c]
            if list(codes[:len(used)]) != used:
                return None, "%s %s: zeros between values" % (kind, what)
            unknown = [c for c in used if c not in NAMES[what]]
            if unknown:
                return None, "%s %s: unknown code(s) %s" % (kind, what, " ".join("0x%04X" % c for c in unknown))
            out.lists["%s_%s" % (kind, what)] = [NAMES[what][c] for c in used]
    if not out.get("default", "protocols"):
        return None, "no default protocol"
    return out, ""


def retrieve(session) -> Tuple[Optional[TlsAttributes], str, bytes]:
    """Call QsoRtvTLSA: (attributes or None, why not, the raw receiver)."""
    from ibmi_trust.ibmi import apiparm

    try:
        out = session.call_program(
            "QsoRtvTLSA", "QSOTLSA",
            [apiparm.fixed_char("tlsa_format", FORMAT, 8),
             apiparm.raw_bytes("tlsa_receiver", bytes(RECEIVER_LENGTH)),
             apiparm.int4("tlsa_length", RECEIVER_LENGTH)],
            lib="QSYS", func="QsoRtvTLSA", outputs=("tlsa_receiver", "tlsa_length"))
    except IbmiApiError as exc:
        return None, "QsoRtvTLSA is not available: %s" % exc.message, b""
    try:
        raw = bytes.fromhex(str(out.get("tlsa_receiver") or ""))
    except ValueError:
        return None, "QsoRtvTLSA returned a receiver that is not hex", b""
    attributes, why = parse(raw)
    return attributes, ("QsoRtvTLSA reply not understood (%s)" % why if why else ""), raw


def system_tls_values(session=None) -> Dict:
    """{"QSSLPCL": [...], "QSSLCSL": [...], "source": ..., "notes": [...]} for --like-system:
    System TLS's default lists from QsoRtvTLSA, else the TLS system values."""
    if session is None:
        from ibmi_trust.ibmi.session import IbmiSession

        with IbmiSession() as own:
            return system_tls_values(own)
    notes: List[str] = []
    if source_setting() == "api":
        attributes, why, _raw = retrieve(session)
        if attributes is not None:
            return {"QSSLPCL": attributes.get("default", "protocols"),
                    "QSSLCSL": attributes.get("default", "cipher_suites"),
                    "signature_algorithms": attributes.get("default", "signature_algorithms"),
                    "source": "QsoRtvTLSA",
                    "notes": ["System TLS defaults from QsoRtvTLSA: %s; signature algorithms %s" % (
                        " ".join(attributes.get("default", "protocols")),
                        " ".join(attributes.get("default", "signature_algorithms")) or "(none listed)")]}
        notes.append("%s: using the system values QSSLPCL/QSSLCSL" % why)
    else:
        notes.append("%s=system-values: using the system values QSSLPCL/QSSLCSL" % SETTING)
    from ibmi_trust.ibmi.sysvals import read_tls_system_values

    values = dict(read_tls_system_values(session))
    values.update(source="system values", notes=notes)
    return values
