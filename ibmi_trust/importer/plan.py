"""What to import, from where, and whether it is allowed.

The plan is the union of every variant's minimal `to_add` set, deduplicated.
It re-checks the security rule on its own (defence in depth): a self-signed
certificate enters the plan only with provenance from the operator's root
program or an explicitly approved SHA-256 fingerprint. Anything a variant
still lacks becomes a blocker, and a plan with blockers is never applied:
fix would not be able to prove every variant afterwards.
"""
from dataclasses import dataclass, field
from typing import Iterable, List, Set

from ibmi_trust.store.base import normalise_fingerprint

@dataclass
class PlannedCert:
    cert: object                 # Cert
    provenance: str              # "aia:URL", "root-program:NAME", "file:PATH", "approved:SHA256"
    role: str                    # "root" | "intermediate"
    variants: List[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "sha256": self.cert.sha256,
            "subject": self.cert.subject,
            "issuer": self.cert.issuer,
            "not_after": self.cert.summary()["not_after"],
            "role": self.role,
            "provenance": self.provenance,
            "variants": list(self.variants),
        }


@dataclass
class ImportPlan:
    items: List[PlannedCert] = field(default_factory=list)
    blockers: List[str] = field(default_factory=list)      # why a variant cannot be fixed
    already_trusted: List[int] = field(default_factory=list)

    @property
    def certs(self):
        return [item.cert for item in self.items]

    def to_json(self) -> dict:
        return {
            "add": [item.to_json() for item in self.items],
            "blockers": list(self.blockers),
            "already_trusted": list(self.already_trusted),
        }


def _root_allowed(item, approved: Set[str]) -> bool:
    """A root comes from the operator's root program or an approved fingerprint."""
    return item.cert.sha256 in approved or item.provenance.startswith("root-program:")


def build_plan(variant_reports: Iterable, approved_roots: Iterable[str] = ()) -> ImportPlan:
    approved = {normalise_fingerprint(fp) for fp in approved_roots}
    plan = ImportPlan()
    by_fp = {}
    for vr in variant_reports:
        report = vr.report
        if report.verdict == "trusted":
            plan.already_trusted.append(vr.index)
            continue
        if report.verdict != "fixable":
            reasons = [f.message for f in report.findings if f.severity == "critical"] or ["no trusted path found"]
            plan.blockers.append("chain %d cannot be fixed: %s" % (vr.index, "; ".join(reasons)))
            continue
        for sourced in report.to_add:
            cert = sourced.cert
            if cert.sha256 in by_fp:
                by_fp[cert.sha256].variants.append(vr.index)
                continue
            item = PlannedCert(cert=cert, provenance=sourced.provenance, role=sourced.role, variants=[vr.index])
            if cert.self_issued and not _root_allowed(item, approved):
                plan.blockers.append(
                    "chain %d needs root %s (sha256 %s) that is not in the root program and not approved; "
                    "approve it with --trust-root %s after checking the fingerprint with its owner"
                    % (vr.index, cert.subject, cert.sha256, cert.sha256))
                continue
            by_fp[cert.sha256] = item
            plan.items.append(item)
    return plan
