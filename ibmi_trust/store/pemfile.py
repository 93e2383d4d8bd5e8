"""PEM blocks with their positions, as the file stores need them.

`ibmi_trust.certs.loading` turns PEM into certificates; the stores also need
to know where each block sits (to cut one out of a bundle) and which kind it
is (OpenSSL's rehash links a file only when it holds exactly one certificate
or CRL). This module adds only that, on top of the same block parser.
"""
from dataclasses import dataclass
from typing import List

from ibmi_trust.certs import Cert
from ibmi_trust.certs.loading import CERT_LABELS, PEM_BLOCK_RE, cert_from_block, pem_blocks
from ibmi_trust.errors import CertificateError

CRL_LABEL = "X509 CRL"


@dataclass
class PemBlock:
    label: str
    der: bytes          # b"" when the base64 is broken
    start: int          # offset of "-----BEGIN"
    end: int            # offset just after "-----END ...-----"

    @property
    def is_cert(self) -> bool:
        return self.label in CERT_LABELS

    @property
    def is_crl(self) -> bool:
        return self.label == CRL_LABEL

    @property
    def is_key(self) -> bool:
        return self.label.endswith("PRIVATE KEY")


def blocks(data: bytes) -> List[PemBlock]:
    out = []
    for match in PEM_BLOCK_RE.finditer(data):
        label, der = pem_blocks(match.group(0))[0]
        out.append(PemBlock(label, der, match.start(), match.end()))
    return out


def cert_of(block: PemBlock) -> Cert:
    """The certificate in a CERTIFICATE / TRUSTED CERTIFICATE block.

    A TRUSTED CERTIFICATE keeps only its certificate (certs.loading).
    """
    if not block.der:
        raise CertificateError("the base64 of a %s block is broken" % block.label)
    return cert_from_block(block.label, block.der)
