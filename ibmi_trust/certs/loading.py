"""Bytes in any common container -> [Cert]: PEM (one or many), DER, PKCS#7.

Broken blocks in a PEM bundle are skipped and reported, not fatal: a store
with one garbage entry must still be readable.
"""
import base64
import binascii
import re
from pathlib import Path
from typing import List, Tuple

from ibmi_trust.certs.cert import Cert
from ibmi_trust.errors import CertificateError

PEM_BLOCK_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL
)
MAX_INPUT_BYTES = 64 * 1024 * 1024
CERT_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")


def pem_blocks(data: bytes) -> List[Tuple[str, bytes]]:
    """[(label, der)] for each well-formed PEM block; bad base64 is skipped."""
    out = []
    for match in PEM_BLOCK_RE.finditer(data):
        label = match.group(1).decode("ascii")
        body = b"".join(line.strip() for line in match.group(2).splitlines() if b":" not in line)
        try:
            out.append((label, base64.b64decode(body, validate=True)))
        except (binascii.Error, ValueError):
            out.append((label, b""))
    return out


def cert_from_block(label: str, der: bytes) -> Cert:
    """The certificate of a CERTIFICATE / TRUSTED CERTIFICATE block. A TRUSTED
    CERTIFICATE is the certificate followed by OpenSSL's trust settings; only
    the certificate is kept (the settings are not modelled)."""
    if label == "TRUSTED CERTIFICATE":
        from ibmi_trust.certs.der import DerError, der_tlv

        try:
            der = der[:der_tlv(der, 0)[2]]
        except DerError:
            raise CertificateError("a TRUSTED CERTIFICATE block is not DER") from None
    return Cert(der)


def load_certificates(data: bytes, *, strict: bool = True, problems: list = None) -> List[Cert]:
    """Certificates in `data`, in order.

    PEM text may hold CERTIFICATE and PKCS7 blocks (other blocks, such as
    keys, are ignored). Binary input is tried as one DER certificate, then as
    DER PKCS#7 (a .p7c from AIA). With strict=False broken PEM blocks are
    appended to `problems` instead of raising.
    """
    if len(data) > MAX_INPUT_BYTES:
        raise CertificateError("input is larger than %d bytes" % MAX_INPUT_BYTES)
    if b"-----BEGIN" in data:
        certs: List[Cert] = []
        for index, (label, der) in enumerate(pem_blocks(data)):
            try:
                if label in CERT_LABELS:
                    if not der:
                        raise CertificateError("PEM block %d is not valid base64" % (index + 1))
                    certs.append(cert_from_block(label, der))
                elif label == "PKCS7":
                    certs.extend(_pkcs7(der))
            except CertificateError as exc:
                if strict:
                    raise
                if problems is not None:
                    problems.append("block %d: %s" % (index + 1, exc))
        if not certs and strict:
            raise CertificateError("no certificate found in PEM input")
        return certs
    try:
        return [Cert(data)]
    except CertificateError:
        pass
    try:
        certs = _pkcs7(data)
    except CertificateError:
        raise CertificateError("not a certificate (tried PEM, DER and PKCS#7)") from None
    if not certs:
        raise CertificateError("PKCS#7 structure holds no certificate")
    return certs


def _pkcs7(der: bytes) -> List[Cert]:
    from ibmi_trust.certs import compat

    try:
        objs = compat.load_pkcs7(der)
    except Exception as exc:
        raise CertificateError("not a PKCS#7 certificate bundle: %s" % (str(exc)[:120] or type(exc).__name__)) from None
    from cryptography.hazmat.primitives.serialization import Encoding

    return [Cert(c.public_bytes(Encoding.DER)) for c in objs]


def load_certificate_file(path, *, strict: bool = True, problems: list = None) -> List[Cert]:
    p = Path(path)
    try:
        with open(str(p), "rb") as handle:      # a device or pipe may not know its size:
            data = handle.read(MAX_INPUT_BYTES + 1)   # read no more than the limit
    except OSError as exc:
        raise CertificateError("cannot read %s: %s" % (p, exc.strerror or exc)) from None
    if len(data) > MAX_INPUT_BYTES:
        raise CertificateError("%s is larger than %d bytes" % (p, MAX_INPUT_BYTES))
    try:
        return load_certificates(data, strict=strict, problems=problems)
    except CertificateError as exc:
        raise CertificateError("%s: %s" % (p, exc)) from None


def to_pem_bundle(certs) -> str:
    return "".join(c.pem() for c in certs)
