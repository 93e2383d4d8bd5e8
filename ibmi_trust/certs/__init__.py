"""Certificates as the stages pass them around: `Cert` (DER + parsed view).

Everything that touches cryptography's version differences lives in
`compat`; `loading` turns bytes in any common container into `Cert`s.
"""
from ibmi_trust.certs.cert import Cert
from ibmi_trust.certs.loading import load_certificates, load_certificate_file, to_pem_bundle

__all__ = ["Cert", "load_certificates", "load_certificate_file", "to_pem_bundle"]
