"""The analysis result as data: ChainReport, Finding, Missing, Sourced.

Nothing here raises for a trust gap: a gap is a Finding. `to_json()` gives
the documented JSON shape (docs/analysis.md).
"""
from dataclasses import dataclass, field
from typing import List, Optional

from ibmi_trust.certs import Cert

CRITICAL = "critical"
WARNING = "warning"
INFO = "info"

TRUSTED = "trusted"
FIXABLE = "fixable"
UNTRUSTED = "untrusted"
UNCONFIRMED = "unconfirmed"     # the path ends at a store CA whose enabled state the store does not report

# What cures a CA the store holds but does not trust (IBM: only enabled CAs in *SYSTEM are
# trusted, DCM "Defining a CA trust list for an application"); importing it again cannot.
ENABLE_REMEDY = ("enable it in Digital Certificate Manager (DCM: Manage Certificates > Set CA status); "
                 "importing it again does not help")


@dataclass
class Finding:
    code: str                   # stable kebab-case id (docs/analysis.md lists them)
    severity: str               # critical | warning | info
    message: str                # one line, operator words
    subject: str = ""
    sha256: Optional[str] = None
    detail: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "subject": self.subject, "sha256": self.sha256, "detail": dict(self.detail)}


# Missing.reason values
NEEDS_INTERMEDIATE = "intermediate"        # a CA the server does not send and the store lacks
NEEDS_ROOT = "root"                        # a root the root program (or an approval) vouches for
NEEDS_APPROVAL = "unapproved-root"         # a root nobody vouches for: --trust-root after checking it
NEEDS_UNKNOWN_ISSUER = "unknown-issuer"    # the issuer was not found at all
NEEDS_RENEWAL = "renewal"                  # the store's copy expired: a renewed CA with the same key


@dataclass
class Missing:
    """A certificate the path needs that neither the server nor the store has."""
    subject: str
    key_id: Optional[str]           # the child's authority key id (hex), when it has one
    sha256: Optional[str] = None    # known when a candidate was obtained
    sources: List[str] = field(default_factory=list)   # "aia:URL", "root-program:NAME", "file:PATH", ...
    cert: Optional[Cert] = None     # set when obtained and checked
    reason: str = NEEDS_UNKNOWN_ISSUER

    def to_json(self) -> dict:
        return {"subject": self.subject, "key_id": self.key_id, "sha256": self.sha256,
                "sources": list(self.sources), "reason": self.reason, "obtained": self.cert is not None,
                "pem": self.cert.pem() if self.cert is not None else None}


@dataclass
class Sourced:
    """A certificate to import, with where it came from."""
    cert: Cert
    provenance: str                 # same strings as Missing.sources
    role: str                       # "root" | "intermediate"

    def to_json(self) -> dict:
        return {"role": self.role, "provenance": self.provenance, "subject": self.cert.subject,
                "sha256": self.cert.sha256, "not_after": self.cert.summary()["not_after"],
                "pem": self.cert.pem()}


@dataclass
class ChainReport:
    verdict: str                    # trusted | fixable | untrusted
    anchor: Optional[Cert]
    path: List[Cert]
    missing: List[Missing] = field(default_factory=list)
    to_add: List[Sourced] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    host: Optional[str] = None
    crosscheck: str = "not-run"     # agreed | disagreed | not-run | unavailable (GSKit model only)
    validator: dict = field(default_factory=dict)      # which client's rules: kind, version, level, model
    decided_by: str = "model"       # "model", or "openssl" when the real OpenSSL's answer decided
    prediction: Optional[dict] = None   # OpenSSL profile: the error the model expects the client to report
    referee: Optional[dict] = None  # the real validator's answer (RefereeVerdict.to_json()), when asked

    @property
    def status(self) -> str:
        if self.verdict in (FIXABLE, UNTRUSTED) or any(f.severity == CRITICAL for f in self.findings):
            return "CRITICAL"
        if self.verdict == UNCONFIRMED or any(f.severity == WARNING for f in self.findings):
            return "WARNING"
        return "OK"

    @property
    def client_accepts(self) -> bool:
        """Would the client accept this chain now (path, and the name where it checks names)?"""
        return self.verdict == TRUSTED and not any(f.code == "name-mismatch" for f in self.findings)

    def codes(self) -> List[str]:
        return [f.code for f in self.findings]

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "status": self.status,
            "host": self.host,
            "anchor": self.anchor.summary() if self.anchor is not None else None,
            "path": [c.summary() for c in self.path],
            "missing": [m.to_json() for m in self.missing],
            "to_add": [s.to_json() for s in self.to_add],
            "findings": [f.to_json() for f in self.findings],
            "crosscheck": self.crosscheck,
            "validator": dict(self.validator),
            "decided_by": self.decided_by,
            "prediction": self.prediction,
            "referee": self.referee,
        }
