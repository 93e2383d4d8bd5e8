"""PEM blocks with their positions, as the file stores need them.

`ibmi_trust.certs.loading` turns PEM into certificates; the stores also need
to know where each block sits (to cut one out of a bundle) and which kind it
is (OpenSSL's rehash links a file only when it holds exactly one certificate
or CRL). This module adds only that, on top of the same one-pass block
reader (linear in the input, whatever it holds).
"""
from dataclasses import dataclass
from typing import List

from ibmi_trust.certs import Cert
from ibmi_trust.certs.loading import CERT_LABELS, PemScan, certificate_der, scan_pem
from ibmi_trust.errors import CertificateError

CRL_LABEL = "X509 CRL"


@dataclass
class PemBlock:
    label: str
    der: bytes          # b"" when the block is broken
    start: int          # offset of "-----BEGIN"
    end: int            # offset just after "-----END ...-----"
    problem: str = ""   # why the block is broken ("" when it is not)

    @property
    def is_cert(self) -> bool:
        return self.label in CERT_LABELS

    @property
    def is_crl(self) -> bool:
        return self.label == CRL_LABEL

    @property
    def is_key(self) -> bool:
        return self.label.endswith("PRIVATE KEY")


def scan(data: bytes) -> PemScan:
    """The blocks (as PemBlock) and the count of unterminated BEGIN lines."""
    found = scan_pem(data)
    return found._replace(blocks=[PemBlock(*raw) for raw in found.blocks])


def blocks(data: bytes) -> List[PemBlock]:
    return scan(data).blocks


def cert_of(block) -> Cert:
    """The certificate in a CERTIFICATE / TRUSTED CERTIFICATE block.

    A TRUSTED CERTIFICATE keeps only its certificate (certs.loading).
    """
    return Cert(der_of(block))


def der_of(block) -> bytes:
    """The certificate DER of a CERTIFICATE / TRUSTED CERTIFICATE block (a PemBlock
    or a certs.loading.RawBlock), not yet checked."""
    if not block.der:
        raise CertificateError("the %s block is broken: %s" % (block.label, block.problem or "no content"))
    return certificate_der(block.label, block.der)
