"""Sourcing: where missing issuers may come from, and what may end a path.

One Sourcing object serves a whole run (all chains, all targets, threads
included): it holds the AIA cache, so no URL is fetched twice, and the
run's download limits. The path builder asks it
  issuer_candidates(child)  root program, --from files, certificates that
                            came in AIA bundles (no network)
  fetch_issuers(child)      the child's AIA URLs (network; only if fetch=True)
  trust_point(cert)         "root-program:NAME" / "approved:SHA256" when a
                            path may end at `cert`, else None
  candidate_problem(...)    the gate of fetch.check
"""
import threading
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Set, Tuple

from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.certs import Cert, load_certificate_file
from ibmi_trust.fetch.aia import AiaAnswer, AiaClient
from ibmi_trust.fetch.check import candidate_problem
from ibmi_trust.fetch.roots import RootProgram
from ibmi_trust.store.base import normalise_fingerprint


@dataclass
class Sourcing:
    fetch: bool = True
    root_program: Optional[RootProgram] = None
    extra: List[Cert] = field(default_factory=list)          # --from certificates
    approved_roots: Set[str] = field(default_factory=set)    # SHA-256 hex (any case, colons allowed)
    timeout: float = 10.0                                    # per AIA URL, redirects included
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3
    max_fetches: int = 32                                    # AIA downloads per run
    fetch_budget: float = 60.0                               # seconds of AIA downloading per run

    def __post_init__(self):
        self.approved_roots = {normalise_fingerprint(s) for s in self.approved_roots}
        self._extra = CertIndex((c, "file:-") for c in self.extra)
        self._aia_pool: CertIndex = CertIndex()
        self._pool_lock = threading.Lock()
        self.aia = AiaClient(timeout=self.timeout, max_bytes=self.max_bytes, max_redirects=self.max_redirects,
                             max_fetches=self.max_fetches, budget=self.fetch_budget)

    def add_files(self, paths: Iterable[str]) -> List[Cert]:
        """Load --from files (PEM, DER, PKCS#7, bundles); CertificateError if unreadable."""
        added: List[Cert] = []
        for path in paths:
            for cert in load_certificate_file(path):
                self.extra.append(cert)
                self._extra.add(cert, "file:%s" % path)
                added.append(cert)
        return added

    # -- what the path builder asks ----------------------------------------
    def issuer_candidates(self, child: Cert) -> List[Tuple[Cert, str]]:
        out: List[Tuple[Cert, str]] = []
        if self.root_program is not None:
            out.extend((c, self.root_program.provenance) for c in self.root_program.issuers_of(child))
        out.extend(self._extra.issuers_of(child))
        with self._pool_lock:
            out.extend(self._aia_pool.issuers_of(child))
        return out

    def fetch_issuers(self, child: Cert) -> List[AiaAnswer]:
        if not self.fetch:
            return []
        answers = self.aia.answers_for(child)
        with self._pool_lock:
            for answer in answers:
                for cert in answer.certs:
                    self._aia_pool.add(cert, "aia:" + answer.url)
        return answers

    def trust_point(self, cert: Cert) -> Optional[str]:
        if cert.sha256 in self.approved_roots:
            return "approved:" + cert.sha256
        if self.root_program is not None and cert.self_issued and self.root_program.contains(cert):
            return self.root_program.provenance
        return None

    candidate_problem = staticmethod(candidate_problem)
