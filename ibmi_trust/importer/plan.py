"""What to import, from where, and whether it is allowed.

Each chain variant is decided on its own: already trusted, fixable (its
minimal `to_add` set may be imported) or blocked (nothing the sources offer
makes it verify, or it needs a root nobody approved). The plan is the union
of the fixable variants' sets, deduplicated, so it never holds a
certificate only a blocked chain wanted.

The plan re-checks the security rule on its own (defence in depth): a
self-signed certificate enters the plan only with provenance from the
operator's root program or an explicitly approved SHA-256 fingerprint.
A plan with blocked chains is applied only with `fix --partial`, and then
only the fixable chains are counted in the plan check and the proof.
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
class BlockedChain:
    """A chain the plan cannot fix, and why."""
    chain: int                                           # the chain's number, as check numbers it
    reasons: List[str]                                   # one line each (the critical findings)
    approvals: List[str] = field(default_factory=list)   # root SHA-256s whose --trust-root would unblock it
    missing: bool = False                                # a CA not obtained: carry it in (needs, --from)

    def to_json(self) -> dict:
        return {"chain": self.chain, "reasons": list(self.reasons), "approvals": list(self.approvals),
                "missing": self.missing}


@dataclass
class ImportPlan:
    items: List[PlannedCert] = field(default_factory=list)
    blockers: List[str] = field(default_factory=list)      # one line per blocked chain (the refusal's words)
    already_trusted: List[int] = field(default_factory=list)
    fixable: List[int] = field(default_factory=list)       # chains the items make verify
    blocked: List[BlockedChain] = field(default_factory=list)

    @property
    def certs(self):
        return [item.cert for item in self.items]

    @property
    def blocked_chains(self) -> List[int]:
        return [b.chain for b in self.blocked]

    def approvals(self) -> List[str]:
        """Every root fingerprint an approval would unblock, once each."""
        return list(dict.fromkeys(fp for b in self.blocked for fp in b.approvals))

    def to_json(self) -> dict:
        return {
            "add": [item.to_json() for item in self.items],
            "blockers": list(self.blockers),
            "already_trusted": list(self.already_trusted),
            "fixable": list(self.fixable),
            "blocked": [b.to_json() for b in self.blocked],
        }


def _root_allowed(cert, provenance: str, approved: Set[str]) -> bool:
    """A root comes from the operator's root program or an approved fingerprint."""
    return cert.sha256 in approved or provenance.startswith("root-program:")


def build_plan(variant_reports: Iterable, approved_roots: Iterable[str] = ()) -> ImportPlan:
    approved = {normalise_fingerprint(fp) for fp in approved_roots}
    plan = ImportPlan()
    by_fp = {}
    for vr in variant_reports:
        report = vr.report
        if report.verdict == "trusted":
            plan.already_trusted.append(vr.index)
            continue
        blocked = _blocked(vr.index, report, approved)
        if blocked is not None:
            plan.blocked.append(blocked)
            plan.blockers.extend(blocked.reasons)
            continue
        plan.fixable.append(vr.index)
        for sourced in report.to_add:
            cert = sourced.cert
            if cert.sha256 in by_fp:
                by_fp[cert.sha256].variants.append(vr.index)
                continue
            item = by_fp[cert.sha256] = PlannedCert(cert=cert, provenance=sourced.provenance, role=sourced.role,
                                                    variants=[vr.index])
            plan.items.append(item)
    return plan


def _blocked(index: int, report, approved: Set[str]):
    """None when the chain's `to_add` may be imported as it is; else why not."""
    if report.verdict != "fixable":
        critical = [f for f in report.findings if f.severity == "critical"]
        reasons = [f.message for f in critical] or ["no trusted path found"]
        return BlockedChain(index, ["chain %d cannot be fixed: %s" % (index, "; ".join(reasons))],
                            approvals=[f.sha256 for f in critical if f.code == "unapproved-root" and f.sha256],
                            missing=any(m.cert is None for m in report.missing))
    roots = [s.cert for s in report.to_add if s.cert.self_issued and not _root_allowed(s.cert, s.provenance, approved)]
    if not roots:
        return None
    return BlockedChain(index, [
        "chain %d needs root %s (sha256 %s) that is not in the root program and not approved; "
        "approve it with --trust-root %s after checking the fingerprint with its owner"
        % (index, cert.subject, cert.sha256, cert.sha256) for cert in roots], approvals=[c.sha256 for c in roots])
