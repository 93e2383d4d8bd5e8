"""A second opinion from cryptography.x509.verification (cryptography 42+).

The feature check lives in certs.compat (HAVE_X509_VERIFICATION); on older
cryptography `available()` is False and the own path builder stands alone.
The verifier follows the CA/Browser Forum web PKI profile, stricter than
many mail TLS clients: a disagreement is reported as a warning, the verdict
stays the path builder's (docs/analysis.md).
"""
import datetime
from typing import List, Optional

from ibmi_trust.analyse.names import parse_ip
from ibmi_trust.certs import Cert, compat


def available() -> bool:
    return compat.HAVE_X509_VERIFICATION


def verify(leaf: Cert, intermediates: List[Cert], roots: List[Cert], host: str,
           now: datetime.datetime, max_chain_depth: int) -> Optional[str]:
    """None when the verifier accepts, else its reason (one line)."""
    from cryptography import x509

    verification = compat.x509_verification
    ip = parse_ip(host)
    try:
        store = verification.Store([c.x509 for c in roots])
        subject = x509.IPAddress(ip) if ip is not None else x509.DNSName(host)
        verifier = (verification.PolicyBuilder().store(store).time(now)
                    .max_chain_depth(min(max_chain_depth, 255)).build_server_verifier(subject))
        verifier.verify(leaf.x509, [c.x509 for c in intermediates])
    except Exception as exc:  # VerificationError, or ValueError for input it refuses
        text = str(exc) or type(exc).__name__
        return text.splitlines()[0][:200]
    return None
