"""`--like-system`: offer what IBM i System TLS (GSKit) would offer and send no
SNI, so the probe sees the chain a GSKit client such as the SMTP client sees.

What System TLS offers comes from the Retrieve TLS Attributes API
(QsoRtvTLSA: its default protocols and cipher suites, which QSSLPCL *OPSYS
leaves unsaid), else from the system values QSSLPCL (protocols) and QSSLCSL
(cipher suites): ibmi_trust.ibmi.tls_attributes.

The IBM names come from IBM's "Cipher suite configuration" table
(https://www.ibm.com/docs/en/i/7.5?topic=settings-cipher-suite-configuration)
and the QSSLCSL / QSSLPCL system value pages; the mapping table is in
docs/probe.md. Python's ssl module cannot restrict TLS 1.3 suites, so a TLS
1.3 offer carries OpenSSL's default 1.3 suites (a note says so).
"""
import ssl
from typing import Dict, List, Tuple

from ibmi_trust.errors import ConfigError, IbmiTrustError
from ibmi_trust.probe.offers import Offer

PROTOCOLS = {"*TLSV1.3": "1.3", "*TLSV1.2": "1.2", "*TLSV1.1": "1.1", "*TLSV1": "1.0"}

TLS13_SUITES = {
    "*AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
    "*AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
    "*CHACHA20_POLY1305_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
}
# QSSLCSL name -> OpenSSL cipher name (TLS 1.2 and older).
SUITES = {
    "*ECDHE_ECDSA_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "*ECDHE_ECDSA_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "*ECDHE_RSA_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "*ECDHE_RSA_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "*ECDHE_ECDSA_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "*ECDHE_RSA_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "*RSA_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "*RSA_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "*ECDHE_ECDSA_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "*ECDHE_ECDSA_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "*ECDHE_RSA_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "*ECDHE_RSA_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "*RSA_AES_128_CBC_SHA256": "AES128-SHA256",
    "*RSA_AES_128_CBC_SHA": "AES128-SHA",
    "*RSA_AES_256_CBC_SHA256": "AES256-SHA256",
    "*RSA_AES_256_CBC_SHA": "AES256-SHA",
    "*ECDHE_ECDSA_3DES_EDE_CBC_SHA": "ECDHE-ECDSA-DES-CBC3-SHA",
    "*ECDHE_RSA_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "*RSA_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "*ECDHE_ECDSA_RC4_128_SHA": "ECDHE-ECDSA-RC4-SHA",
    "*ECDHE_RSA_RC4_128_SHA": "ECDHE-RSA-RC4-SHA",
    "*RSA_RC4_128_SHA": "RC4-SHA",
    "*RSA_RC4_128_MD5": "RC4-MD5",
    "*RSA_DES_CBC_SHA": "DES-CBC-SHA",
    "*RSA_EXPORT_RC4_40_MD5": "EXP-RC4-MD5",
    "*RSA_EXPORT_RC2_CBC_40_MD5": "EXP-RC2-CBC-MD5",
    "*ECDHE_ECDSA_NULL_SHA": "ECDHE-ECDSA-NULL-SHA",
    "*ECDHE_RSA_NULL_SHA": "ECDHE-RSA-NULL-SHA",
    "*RSA_NULL_SHA256": "NULL-SHA256",
    "*RSA_NULL_SHA": "NULL-SHA",
    "*RSA_NULL_MD5": "NULL-MD5",
}
SSLV2_ONLY = {"*RSA_RC2_CBC_128_MD5", "*RSA_DES_CBC_MD5", "*RSA_3DES_EDE_CBC_MD5"}
_ORDER = ("1.0", "1.1", "1.2", "1.3")


def _names(values: Dict, key: str) -> List[str]:
    raw = values.get(key) or []
    if isinstance(raw, str):
        raw = raw.split()
    return [str(v).strip().upper() for v in raw if str(v).strip()]


def _openssl_has(cipher: str) -> bool:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.set_ciphers(cipher + ":@SECLEVEL=0")
    except ssl.SSLError:
        return False
    return any(c["name"] == cipher for c in ctx.get_ciphers())


def offer_from_system_values(values: Dict) -> Tuple[Offer, List[str]]:
    """The "system" offer for QSSLPCL/QSSLCSL values, and notes on what could not be mirrored."""
    notes: List[str] = list(values.get("notes") or [])
    protocols = _names(values, "QSSLPCL")
    if not protocols or "*OPSYS" in protocols:
        versions = list(_ORDER)
        notes.append("QSSLPCL is *OPSYS: the release's protocol set is not known here (QsoRtvTLSA would say); "
                     "offering TLS 1.0-1.3")
    else:
        versions = sorted({PROTOCOLS[p] for p in protocols if p in PROTOCOLS}, key=_ORDER.index)
        dropped = [p for p in protocols if p not in PROTOCOLS]
        if dropped:
            notes.append("QSSLPCL %s cannot be offered by OpenSSL" % " ".join(dropped))
        gaps = [v for v in _ORDER if versions and versions[0] <= v <= versions[-1] and v not in versions]
        if gaps:
            notes.append("QSSLPCL leaves out TLS %s inside the offered range; offering the whole range"
                         % ", ".join(gaps))
    if not versions:
        raise ConfigError("QSSLPCL allows no protocol this OpenSSL can offer (%s)" % " ".join(protocols))

    suites = _names(values, "QSSLCSL")
    tls13 = [s for s in suites if s in TLS13_SUITES]
    legacy, unavailable, unknown = [], [], []
    for name in suites:
        if name in TLS13_SUITES:
            continue
        if name in SUITES and _openssl_has(SUITES[name]):
            legacy.append(SUITES[name])
        elif name in SUITES or name in SSLV2_ONLY:
            unavailable.append(name)
        else:
            unknown.append(name)
    if unavailable:
        notes.append("QSSLCSL suites this OpenSSL cannot offer: %s" % " ".join(unavailable))
    if unknown:
        notes.append("QSSLCSL names not in the mapping table: %s" % " ".join(unknown))

    if "1.3" in versions and suites and not tls13:
        versions = [v for v in versions if v != "1.3"]
        notes.append("QSSLCSL has no TLS 1.3 suite: not offering TLS 1.3")
    if "1.3" in versions and tls13:
        notes.append("TLS 1.3 suites cannot be restricted from Python; OpenSSL's defaults are offered")
    if suites and not legacy:
        versions = [v for v in versions if v == "1.3"]
        if not versions:
            raise ConfigError("QSSLCSL has no cipher suite this OpenSSL can offer")
    ciphers = ":".join(legacy) if legacy else "DEFAULT"
    if not versions:
        raise ConfigError("QSSLPCL and QSSLCSL leave no protocol to offer")
    return Offer("system", versions[0], versions[-1], ciphers + ":@SECLEVEL=0"), notes


def read_system_values() -> Dict:
    """QsoRtvTLSA's default lists, else QSSLPCL/QSSLCSL (with "notes" saying which)."""
    from ibmi_trust.ibmi.tls_attributes import system_tls_values

    return system_tls_values()


def system_offer() -> Tuple[Offer, List[str]]:
    """The offer of this IBM i's System TLS; ConfigError anywhere else."""
    from ibmi_trust.platform import is_ibmi

    if not is_ibmi():
        raise ConfigError("--like-system reads IBM i system values and works only on IBM i",
                          hint="use --no-sni and --tls-version to imitate a client by hand")
    try:
        values = read_system_values()
    except IbmiTrustError as exc:
        raise ConfigError("--like-system could not read QSSLPCL/QSSLCSL: %s" % exc.message, hint=exc.hint) from None
    return offer_from_system_values(values)


def describe(offer: Offer) -> str:
    return "TLS %s..%s, ciphers %s" % (offer.min_version, offer.max_version, offer.ciphers)
