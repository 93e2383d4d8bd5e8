"""The root program: the set of roots the operator already relies on.

Roots only ever come from here or from an explicit --trust-root SHA256
approval, never because a server (or an AIA URL) sent them. Default: the
first bundle found of
  1. certifi (when installed),
  2. PASE's ca-certificates bundle /QOpenSys/var/lib/ca-certificates/ca-bundle.pem
     (built from the ca-certificates-mozilla RPM plus local anchors),
  3. the system bundle: ssl.get_default_verify_paths().cafile,
     /etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt.
`--roots FILE` picks another. The bundle is parsed on first use only, so a
chain the store already trusts never pays for it.
"""
import os
import ssl
import threading
from typing import List, Optional, Tuple

from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.certs import Cert, load_certificate_file
from ibmi_trust.errors import CertificateError

PASE_BUNDLE = "/QOpenSys/var/lib/ca-certificates/ca-bundle.pem"
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


class RootProgram:
    """A named bundle of roots, indexed by subject and key id."""

    def __init__(self, name: str, path: str, certs: Optional[List[Cert]] = None):
        self.name = name
        self.path = path
        self.problems: List[str] = []
        self._index: Optional[CertIndex] = None
        self._lock = threading.Lock()
        if certs is not None:
            self._index = CertIndex((c, None) for c in certs)

    def __repr__(self):
        return "<RootProgram %s %s>" % (self.name, self.path)

    @property
    def provenance(self) -> str:
        return "root-program:" + self.name

    # -- construction --------------------------------------------------
    @classmethod
    def from_file(cls, path: str, name: Optional[str] = None) -> "RootProgram":
        """Load now, so a bad --roots file is reported at once (CertificateError)."""
        program = cls(name or os.path.basename(path), path)
        if not len(program):
            raise CertificateError("%s holds no certificate" % path)
        return program

    @classmethod
    def default(cls) -> Optional["RootProgram"]:
        for name, path in default_candidates():
            if path and os.path.isfile(path):
                return cls(name, path)
        return None

    # -- queries ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self._loaded())

    def certificates(self) -> List[Cert]:
        return [cert for cert, _ in self._loaded()]

    def contains(self, cert: Cert) -> bool:
        return self._loaded().get(cert.sha256) is not None

    def issuers_of(self, child: Cert) -> List[Cert]:
        return [cert for cert, _ in self._loaded().issuers_of(child)]

    def _loaded(self) -> CertIndex:
        with self._lock:
            if self._index is None:
                problems: List[str] = []
                certs = load_certificate_file(self.path, strict=False, problems=problems)
                self.problems = problems
                self._index = CertIndex((c, None) for c in certs)
            return self._index


def default_candidates() -> List[Tuple[str, str]]:
    """(name, path) in the order the default root program is looked for."""
    out: List[Tuple[str, str]] = []
    try:
        import certifi

        out.append(("certifi", certifi.where()))
    except Exception:  # not installed, or broken: the next source will do
        pass
    out.append(("pase-ca-certificates", PASE_BUNDLE))
    cafile = ssl.get_default_verify_paths().cafile
    if cafile:
        out.append(("system", cafile))
    out.extend(("system", path) for path in SYSTEM_BUNDLES)
    return out
