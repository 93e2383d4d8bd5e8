"""Certificates as the stages pass them around: `Cert` (DER + parsed view).

Everything that touches cryptography's version differences lives in
`compat`; `loading` turns bytes in any common container into `Cert`s.
"""
import warnings

# Some roots in real root programs carry non-positive serial numbers; newer
# cryptography warns on every parse. Not actionable for an operator.
warnings.filterwarnings("ignore", message=r"Parsed a serial number", module=r"ibmi_trust\.certs\.")

from ibmi_trust.certs.cert import Cert  # noqa: E402
from ibmi_trust.certs.loading import load_certificate_file, load_certificates, to_pem_bundle  # noqa: E402

__all__ = ["Cert", "load_certificates", "load_certificate_file", "to_pem_bundle"]
