"""The certificates-only PKCS#12 that QYKMIMPK imports, and its DCM labels.

Labels (the PKCS#12 friendly names become DCM certificate labels, as in
DCM-tools; UNCONFIRMED for files not made by Java, ref 4.4):
- derived from the subject (CN, else O, else OU), so operators recognise
  them in DCM; reduced to printable ASCII (accents dropped) because
  QycdAddCACertTrust takes the label in the job CCSID (ref 8.1);
- at most LABEL_MAX characters (IBMI_TRUST_LABEL_MAX; DCM's own limit is
  UNCONFIRMED);
- unique, case-insensitively, against the store's labels and each other: a
  clash gets the expiry year, "ISRG Root X1 (2035)", then a number.

Encryption (ref 7, UNCONFIRMED which ones DCM reads): "legacy" (default)
= PBES1 SHA-1 + 3DES with a SHA-1 MAC, the most widely readable profile;
"default" = what the library picks (AES-256/PBES2 with OpenSSL 3).
Setting: IBMI_TRUST_PKCS12_ENCRYPTION=legacy|default.

Building: cryptography >= 37 writes names itself; older cryptography cannot,
so the openssl binary writes the file (openssl_pkcs12); without either, the
file carries no names and the caller is told (labels_carried False).
"""
import os
import re
import unicodedata
from typing import Iterable, List, Sequence, Tuple

from cryptography.x509.oid import NameOID

from ibmi_trust.certs import Cert, compat
from ibmi_trust.errors import ConfigError
from ibmi_trust.ibmi import openssl_pkcs12

ENCRYPTIONS = ("legacy", "default")
DEFAULT_LABEL_MAX = 64


def label_max() -> int:
    raw = os.environ.get("IBMI_TRUST_LABEL_MAX", "")
    if not raw:
        return DEFAULT_LABEL_MAX
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 16 <= value <= 1024:
        raise ConfigError("IBMI_TRUST_LABEL_MAX must be a number from 16 to 1024, not %r" % raw)
    return value


def encryption_setting() -> str:
    value = os.environ.get("IBMI_TRUST_PKCS12_ENCRYPTION", "legacy").strip().lower()
    if value not in ENCRYPTIONS:
        raise ConfigError("IBMI_TRUST_PKCS12_ENCRYPTION must be one of %s, not %r" % (", ".join(ENCRYPTIONS), value))
    return value


def base_label(cert: Cert) -> str:
    """A readable ASCII label from the subject."""
    name = cert.x509.subject
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME):
        attrs = name.get_attributes_for_oid(oid)
        if attrs and str(attrs[0].value).strip():
            text = str(attrs[0].value)
            break
    else:
        text = cert.subject or "CA"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9 ._()&+,-]", " ", ascii_text)
    cleaned = " ".join(cleaned.split())
    return cleaned or "CA " + cert.sha256[:8].upper()


def make_labels(certs: Sequence[Cert], existing: Iterable[str]) -> List[str]:
    """One unique label per certificate, in order."""
    limit = label_max()
    taken = {label.lower() for label in existing}
    out = []
    for cert in certs:
        base = base_label(cert)
        candidates = [base, "%s (%d)" % (base, cert.not_after.year)]
        candidates += ["%s (%d) %d" % (base, cert.not_after.year, n) for n in range(2, 1000)]
        for candidate in candidates:
            label = _fit(candidate, base, limit)
            if label.lower() not in taken:
                break
        else:  # pragma: no cover - a thousand clashes
            label = _fit("%s %s" % (base, cert.sha256[:16]), base, limit)
        taken.add(label.lower())
        out.append(label)
    return out


def _fit(candidate: str, base: str, limit: int) -> str:
    """Shorten the subject part so that the suffix survives the length limit."""
    if len(candidate) <= limit:
        return candidate
    suffix = candidate[len(base):]
    return base[: max(1, limit - len(suffix))].rstrip() + suffix


def build_import_file(items: Sequence[Tuple[Cert, str]], password: bytes, *, encryption: str = "",
                      builder: str = "auto") -> Tuple[bytes, bool]:
    """(PKCS#12 bytes, labels_carried). builder: auto | cryptography | openssl."""
    legacy = (encryption or encryption_setting()) == "legacy"
    if builder == "auto":
        if compat.pkcs12_labels_carried():
            builder = "cryptography"
        elif openssl_pkcs12.binary():
            builder = "openssl"
        else:
            builder = "cryptography"
    if builder == "openssl":
        return openssl_pkcs12.write(items, password, legacy=legacy), True
    data = compat.serialize_ca_pkcs12([(cert.x509, label) for cert, label in items], bytes(password), legacy=legacy)
    return data, compat.pkcs12_labels_carried()
