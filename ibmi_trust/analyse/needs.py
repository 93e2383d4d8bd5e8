"""What to carry in: the missing certificates of several chains, merged.

`ibmi-trust needs` prints this list so an operator can fetch each
certificate on another machine: subject, SHA-256 when known, key id, and
where it can be had (AIA URL, root program, file), per distinct certificate
across every chain a server presents.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ibmi_trust.analyse.model import ChainReport, Missing
from ibmi_trust.certs import Cert


@dataclass
class Need:
    subject: str
    key_id: Optional[str]
    sha256: Optional[str]
    reason: str                                       # Missing.reason (model.NEEDS_*)
    sources: List[str] = field(default_factory=list)
    cert: Optional[Cert] = None
    chains: List[int] = field(default_factory=list)   # 1-based numbers of the chains that need it

    @property
    def urls(self) -> List[str]:
        return [s[4:] for s in self.sources if s.startswith("aia:")]

    def to_json(self) -> dict:
        return {"subject": self.subject, "key_id": self.key_id, "sha256": self.sha256, "reason": self.reason,
                "sources": list(self.sources), "urls": self.urls, "chains": list(self.chains),
                "obtained": self.cert is not None, "pem": self.cert.pem() if self.cert is not None else None}


def collect_needs(reports: Sequence[ChainReport]) -> List[Need]:
    """Distinct missing certificates, in first-seen order (by SHA-256, else subject + key id)."""
    merged: Dict[Tuple, Need] = {}
    for number, report in enumerate(reports, 1):
        for missing in report.missing:
            key = _key(missing)
            need = merged.get(key)
            if need is None:
                need = merged[key] = Need(missing.subject, missing.key_id, missing.sha256, missing.reason,
                                          cert=missing.cert)
            for source in missing.sources:
                if source not in need.sources:
                    need.sources.append(source)
            if number not in need.chains:
                need.chains.append(number)
    return list(merged.values())


def _key(missing: Missing) -> Tuple:
    if missing.sha256:
        return ("sha256", missing.sha256)
    return ("name", missing.subject, missing.key_id)
