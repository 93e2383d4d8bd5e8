"""The GSKit model: how IBM i System TLS is expected to judge a chain against
*SYSTEM or a .KDB store. A MODEL: GSKit cannot run off IBM i, and IBM does
not document its path building; the rules below follow RFC 5280 and
cryptography's verifier, and the uncertain ones are configurable and listed
in docs/verify-on-your-system.md (partial-chain anchors:
IBMI_TRUST_GSKIT_PARTIAL_CHAIN; the enabled state of a CA).

Two phases. First the presented certificates and the store alone (cheap, no
network, no root program): if that gives a clean trusted path, done. If
not, and sourcing is given, search again with the root program, --from
files, approvals and AIA, and pick the best path:

  1. usable (ends at a store anchor or an acceptable root, no critical
     problem) before anything else;
  2. fewest problems, then the most useful end (store anchor, root,
     unapproved root, dead end);
  3. fewest certificates to import, fewest roots among them (so a
     cross-signed CA that chains to an anchor already in the store wins
     over importing a new root), fewest warnings (a root about to expire
     loses to its successor), then the shortest path.

A path that ends at a store CA whose enabled state the store does not
report is `unconfirmed`, never `trusted` (IBM: only enabled CAs are trusted).
"""
import datetime
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ibmi_trust.analyse import crosscheck as cross
from ibmi_trust.analyse.model import (FIXABLE, TRUSTED, UNCONFIRMED, UNTRUSTED, WARNING, ChainReport, Finding)
from ibmi_trust.analyse.names import host_matches
from ibmi_trust.analyse.paths import SERVER, Path, PathBuilder
from ibmi_trust.analyse.policy import path_problems
from ibmi_trust.analyse.quality import path_warnings
from ibmi_trust.analyse.report import ReportBuilder, name_mismatch

_END_RANK = {"anchor": 0, "root": 1, "unapproved-root": 2, "dead-end": 3, "too-long": 4, "search-limit": 5}


class GSKitModel:
    kind = "gskit"

    def __init__(self, *, partial_chain: bool = True, max_chain_depth: int = 8, crosscheck: bool = True,
                 check_names: bool = True, unknown_state_unconfirmed: bool = False):
        self.unknown_state_unconfirmed = unknown_state_unconfirmed   # the store's entries say None = unknown
        self.partial_chain = partial_chain
        self.max_chain_depth = max_chain_depth
        self.crosscheck = crosscheck
        self.check_names = check_names

    def describe(self) -> str:
        return "GSKit model (IBM i System TLS; a model, not GSKit itself)"

    def to_json(self) -> dict:
        return {"kind": self.kind, "model": True, "partial_chain_anchors": self.partial_chain,
                "check_names": self.check_names, "description": self.describe()}

    def analyse(self, presented, anchors, host, sourcing, now: datetime.datetime, warn_days: int) -> ChainReport:
        judge = _Judge(now, self.max_chain_depth, warn_days)
        signatures: Dict = {}
        first = PathBuilder(presented, anchors, now=now, max_chain_depth=self.max_chain_depth,
                            signature_cache=signatures, partial_chain=self.partial_chain).search(
            stop_when=lambda p: judge(p).clean)
        result, events = first, list(first.events)
        best = judge.best(first.paths)
        if not best.trusted and sourcing is not None:
            result = PathBuilder(presented, anchors, now=now, max_chain_depth=self.max_chain_depth,
                                 sourcing=sourcing, signature_cache=signatures,
                                 partial_chain=self.partial_chain).search()
            events.extend(result.events)
            best = judge.best(result.paths) if result.paths else best
        verdict = TRUSTED if best.trusted else FIXABLE if best.usable else UNTRUSTED
        problems = list(best.problems)
        last = best.path.nodes[-1]
        anchor = last.cert if best.usable and best.path.end == "anchor" else None
        if verdict == TRUSTED and self.unknown_state_unconfirmed and last.entry is not None \
                and _state_unknown(last.entry):
            verdict = UNCONFIRMED
            problems.append(Finding("ca-state-unknown", WARNING, "the path ends at CA %s (label %s), which the "
                                    "store holds, but the store does not say whether it is enabled; only enabled "
                                    "CAs are trusted: check it in Digital Certificate Manager"
                                    % (last.cert.common_name, last.entry.label), last.cert.subject, last.cert.sha256,
                                    {"label": last.entry.label}))
        name = None
        if host and self.check_names and not host_matches(presented[0], host):
            name = name_mismatch(presented[0], host, "subjectAltName only (RFC 6125), a model of GSKit")
        report = ReportBuilder(presented, anchors, now, host, events).build(
            verdict=verdict, nodes=best.path.nodes, end=best.path.end,
            imports=best.imports, problems=problems, warnings=best.warnings,
            name_finding=name, anchor=anchor, budget_exhausted=result.budget_exhausted)
        report.validator = self.to_json()
        report.decided_by = "model"
        if self.crosscheck:
            _crosscheck(report, presented, anchors, now, host if name is None else None, self.max_chain_depth)
        return report


def _state_unknown(entry) -> bool:
    return entry.enabled is None and entry.trusted is None


# -- judging paths ---------------------------------------------------------------
@dataclass
class _Judged:
    path: Path
    problems: List[Finding]
    imports: List[Tuple[int, str]]        # (index in path.nodes, role): not yet in the store
    ends_at_trust_point: bool
    warnings: List[Finding]

    @property
    def usable(self) -> bool:
        return self.ends_at_trust_point and not self.problems

    @property
    def trusted(self) -> bool:
        return self.usable and not self.imports

    @property
    def clean(self) -> bool:
        return self.trusted and not self.warnings

    def rank(self) -> Tuple:
        gap = 0 if self.ends_at_trust_point else 1
        return (0 if self.usable else 1, len(self.problems) + gap, _END_RANK[self.path.end],
                len(self.imports), sum(1 for _, role in self.imports if role == "root"), len(self.warnings),
                len(self.path.nodes))


@dataclass
class _Judge:
    now: datetime.datetime
    max_chain_depth: int
    warn_days: int
    _seen: Dict[int, _Judged] = field(default_factory=dict)

    def __call__(self, path: Path) -> _Judged:
        judged = self._seen.get(id(path))
        if judged is None:
            judged = self._judge(path)
            self._seen[id(path)] = judged
        return judged

    def best(self, paths: List[Path]) -> _Judged:
        return min((self(p) for p in paths), key=_Judged.rank)

    def _judge(self, path: Path) -> _Judged:
        ends = path.end in ("anchor", "root")
        last = path.nodes[-1]
        anchor_entry = last.entry if path.end == "anchor" else None
        problems = path_problems(path.certs, ends, anchor_entry, self.now, self.max_chain_depth)
        imports = []
        last_index = len(path.nodes) - 1
        for index, node in enumerate(path.nodes):
            is_trust_point = ends and index == last_index
            if node.entry is not None or (path.end == "unapproved-root" and index == last_index):
                continue
            if is_trust_point and path.end == "root":
                imports.append((index, "root" if node.cert.self_issued else "intermediate"))
            elif index > 0 and SERVER not in node.origins:
                imports.append((index, "intermediate"))
        warnings = path_warnings(path.certs, ends, self.now, self.warn_days)
        return _Judged(path, problems, imports, ends, warnings)


def _crosscheck(report: ChainReport, presented, anchors, now, host: Optional[str], max_chain_depth: int) -> None:
    """cryptography's verifier (42+) as a second opinion on a usable path; a warning when it disagrees."""
    if report.verdict == UNTRUSTED:
        return
    if not cross.available():
        report.crosscheck = "unavailable"
        return
    if not host:
        return
    intermediates = list(presented[1:]) + [s.cert for s in report.to_add if s.role == "intermediate"]
    # only anchors named as an issuer can take part, so the verifier gets those (not the whole store)
    roots = {c.sha256: c for cert in [presented[0]] + intermediates for c, e in anchors.issuers_of(cert)
             if e.enabled is not False and e.trusted is not False}
    roots.update((s.cert.sha256, s.cert) for s in report.to_add if s.role == "root")
    error = cross.verify(presented[0], intermediates, list(roots.values()), host, now, max_chain_depth)
    report.crosscheck = "agreed" if error is None else "disagreed"
    if error is not None:
        report.findings.append(Finding("verifier-disagrees", WARNING, "cryptography's verifier rejects this path: %s"
                                       % error, presented[0].subject, presented[0].sha256, {"error": error}))
