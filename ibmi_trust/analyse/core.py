"""analyse_chain: one presented chain against one store -> ChainReport.

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

Phase 1 stops at the first trusted path without warnings.

Everything found is reported as Findings (docs/analysis.md catalogue).
"""
import datetime
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple, Union

from ibmi_trust.analyse import crosscheck as cross
from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.analyse.model import (CRITICAL, FIXABLE, INFO, NEEDS_APPROVAL, NEEDS_INTERMEDIATE, NEEDS_RENEWAL,
                                      NEEDS_ROOT, NEEDS_UNKNOWN_ISSUER, TRUSTED, UNTRUSTED, WARNING, ChainReport,
                                      Finding, Missing, Sourced)
from ibmi_trust.analyse.paths import SERVER, Path, PathBuilder
from ibmi_trust.analyse.policy import path_problems
from ibmi_trust.analyse.quality import path_warnings
from ibmi_trust.certs import Cert
from ibmi_trust.store.base import StoreEntry

DEFAULT_MAX_CHAIN_DEPTH = 8
_END_RANK = {"anchor": 0, "root": 1, "unapproved-root": 2, "dead-end": 3, "too-long": 4, "search-limit": 5}
_SEVERITY_RANK = {CRITICAL: 0, WARNING: 1, INFO: 2}

AnchorIndex = CertIndex  # CertIndex[StoreEntry]


def index_store(entries: Iterable[StoreEntry]) -> AnchorIndex:
    """Index store entries once, to analyse many chains against one store."""
    return CertIndex((e.cert, e) for e in entries)


def analyse_chain(presented: List[Cert], store_entries: Union[Iterable[StoreEntry], AnchorIndex],
                  host: Optional[str] = None, sourcing=None, now: Optional[datetime.datetime] = None,
                  warn_days: int = 30, *, max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH,
                  crosscheck: bool = True, partial_chain: bool = True) -> ChainReport:
    """Judge `presented` (leaf first, as the server sent it) against the store.

    sourcing: a fetch.Sourcing, or None to use only what was sent and stored.
    now: aware datetime (naive is taken as UTC); default the current time.
    """
    if not presented:
        raise ValueError("analyse_chain needs at least the server certificate")
    now = _utc(now)
    anchors = store_entries if isinstance(store_entries, CertIndex) else index_store(store_entries)
    judge = _Judge(now, host, max_chain_depth, warn_days)
    signatures: Dict = {}

    first = PathBuilder(presented, anchors, now=now, max_chain_depth=max_chain_depth,
                        signature_cache=signatures, partial_chain=partial_chain).search(stop_when=lambda p: judge(p).clean)
    result, events = first, list(first.events)
    best = judge.best(first.paths)
    if not best.trusted and sourcing is not None:
        result = PathBuilder(presented, anchors, now=now, max_chain_depth=max_chain_depth,
                             sourcing=sourcing, signature_cache=signatures, partial_chain=partial_chain).search()
        events.extend(result.events)
        best = judge.best(result.paths) if result.paths else best
    report = _Reporter(best, presented, anchors, now, host, events).report(result.budget_exhausted)
    if crosscheck:
        _crosscheck(report, presented, anchors, now, host, max_chain_depth)
    return report


# -- judging paths -------------------------------------------------------------
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
    host: Optional[str]
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
        problems = path_problems(path.certs, ends, anchor_entry, self.now, self.host, self.max_chain_depth)
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


# -- the report -----------------------------------------------------------------
class _Reporter:
    def __init__(self, best: _Judged, presented: List[Cert], anchors: AnchorIndex, now, host,
                 events: List[Finding]):
        self.best = best
        self.events = events
        self.presented = presented
        self.anchors = anchors
        self.now = now
        self.host = host
        self.nodes = best.path.nodes
        self.leaf = presented[0]

    def report(self, budget_exhausted: bool) -> ChainReport:
        best = self.best
        verdict = TRUSTED if best.trusted else FIXABLE if best.usable else UNTRUSTED
        findings: List[Finding] = list(best.problems)
        missing: List[Missing] = []
        self._gaps(findings, missing)
        self._server_side(findings, verdict)
        self._renewals(findings)
        findings.extend(best.warnings)
        findings.extend(self.events)
        if budget_exhausted:
            findings.append(Finding("search-limit", WARNING, "path search stopped at its budget; "
                                    "the certificates offered are pathological", self.leaf.subject, self.leaf.sha256))
        to_add = [Sourced(self.nodes[i].cert, self.nodes[i].origins[0], role)
                  for i, role in best.imports] if best.usable else []
        anchor = self.nodes[-1].cert if best.usable and best.path.end == "anchor" else None
        return ChainReport(verdict=verdict, anchor=anchor, path=best.path.certs, missing=missing,
                           to_add=to_add, findings=_ordered(_unique(findings)), host=self.host)

    def _gaps(self, findings: List[Finding], missing: List[Missing]) -> None:
        """missing-issuer / root-not-in-store / unapproved-root, and the Missing list."""
        best, nodes = self.best, self.nodes
        for index, role in best.imports:
            node = nodes[index]
            child = nodes[index - 1].cert if index > 0 else node.cert
            missing.append(Missing(node.cert.subject, child.aki, node.cert.sha256, list(node.origins), node.cert,
                                   NEEDS_ROOT if role == "root" else NEEDS_INTERMEDIATE))
            if role == "root":
                findings.append(Finding("root-not-in-store", CRITICAL, "root CA %s is not in the store; %s has it"
                                        % (node.cert.common_name, _source_words(node.origins)),
                                        node.cert.subject, node.cert.sha256, {"sources": list(node.origins)}))
            else:
                findings.append(Finding("missing-issuer", CRITICAL, "intermediate CA %s is neither sent by the "
                                        "server nor in the store; %s has it" % (
                                            node.cert.common_name, _source_words(node.origins)),
                                        node.cert.subject, node.cert.sha256,
                                        {"key_id": child.aki, "sources": list(node.origins)}))
        last = nodes[-1]
        if best.path.end == "dead-end":
            wrong = {f.detail.get("url") for f in self.events if f.code == "aia-unrelated-certificate"}
            sources = ["aia:" + url for url in last.cert.ca_issuers if url not in wrong]
            missing.append(Missing(last.cert.issuer, last.cert.aki, None, sources, None, NEEDS_UNKNOWN_ISSUER))
            where = ("its AIA names " + ", ".join(s[4:] for s in sources)) if sources else "no source is known"
            findings.append(Finding("missing-issuer", CRITICAL, "the issuer of %s (%s%s) is not available; %s"
                                    % (last.cert.common_name, last.cert.issuer,
                                       ", key id %s" % last.cert.aki if last.cert.aki else "", where),
                                    last.cert.issuer, None, {"key_id": last.cert.aki, "sources": sources}))
        elif best.path.end == "unapproved-root":
            child = nodes[-2].cert if len(nodes) > 1 else last.cert
            missing.append(Missing(last.cert.subject, child.aki, last.cert.sha256, list(last.origins), last.cert,
                                   NEEDS_APPROVAL))
            findings.append(Finding("unapproved-root", CRITICAL,
                                    "root CA %s (%s) is neither in the store nor in the root program; if you "
                                    "trust it, approve it with --trust-root %s"
                                    % (last.cert.common_name, _source_words(last.origins), last.cert.sha256),
                                    last.cert.subject, last.cert.sha256, {"sources": list(last.origins)}))
        elif best.path.end == "anchor" and last.entry is not None and not last.cert.valid_at(self.now):
            missing.append(Missing(last.cert.subject, last.cert.ski, None, [], None, NEEDS_RENEWAL))

    def _server_side(self, findings: List[Finding], verdict: str) -> None:
        """incomplete-chain, wrong-intermediate, unused-certificate, self-signed-leaf."""
        nodes, best = self.nodes, self.best
        # a server should send every CA certificate of the path except a root
        not_sent = [n.cert for n in nodes[1:] if SERVER not in n.origins and not n.cert.self_issued]
        leaf_only_dead_end = best.path.end == "dead-end" and len(nodes) == 1 and len(self.presented) == 1
        if not_sent or leaf_only_dead_end:
            severity = INFO if verdict == TRUSTED else WARNING
            names = ", ".join(c.common_name for c in not_sent) or "the issuing CA"
            findings.append(Finding("incomplete-chain", severity, "the server does not send %s (its fault; "
                                    "other clients will fail too)" % names, self.leaf.subject, self.leaf.sha256,
                                    {"not_sent": [c.sha256 for c in not_sent]}))
        on_path = {n.cert.sha256 for n in nodes}
        unused = [c for c in self.presented[1:] if c.sha256 not in on_path]
        issuer_sent = len(nodes) > 1 and SERVER in nodes[1].origins
        if unused and not issuer_sent and not self.leaf.self_signed:
            findings.append(Finding("wrong-intermediate", WARNING, "the server sends %s, which did not issue %s "
                                    "(issuer: %s)" % (", ".join(c.common_name for c in unused),
                                                      self.leaf.common_name, self.leaf.issuer),
                                    self.leaf.subject, self.leaf.sha256, {"sent": [c.sha256 for c in unused]}))
        else:
            for cert in unused:
                findings.append(Finding("unused-certificate", INFO, "the server also sends %s, which is not on "
                                        "the path" % cert.common_name, cert.subject, cert.sha256))
        sent_order = [self.presented.index(n.cert) for n in nodes if SERVER in n.origins]
        if sent_order != sorted(sent_order):
            findings.append(Finding("chain-out-of-order", INFO, "the server sends its CA certificates out of "
                                    "order (some clients insist on leaf, issuer, issuer's issuer, ...)",
                                    self.leaf.subject, self.leaf.sha256))
        if self.leaf.self_signed:
            if verdict == TRUSTED:
                findings.append(Finding("self-signed-leaf", INFO, "the server certificate is self-signed and "
                                        "pinned in the store", self.leaf.subject, self.leaf.sha256))
            else:
                findings.append(Finding("self-signed-leaf", CRITICAL, "the server certificate is self-signed",
                                        self.leaf.subject, self.leaf.sha256))

    def _renewals(self, findings: List[Finding]) -> None:
        """A CA to import that replaces an expired or disabled copy in the store."""
        for index, _role in self.best.imports:
            node = self.nodes[index]
            for cert, entry in self.anchors.same_key(node.cert):
                if entry.enabled is False or entry.trusted is False:
                    findings.append(Finding("ca-disabled-in-store", CRITICAL, "CA certificate %s is in the store "
                                            "but disabled or not trusted (label %s)" % (cert.common_name, entry.label),
                                            cert.subject, cert.sha256, {"label": entry.label}))
                elif not cert.valid_at(self.now):
                    code = "ca-expired-in-store" if self.now > cert.not_after else "ca-not-yet-valid-in-store"
                    findings.append(Finding(code, CRITICAL, "CA certificate %s in the store is valid %s to %s "
                                            "(label %s)" % (cert.common_name, cert.not_before.strftime("%Y-%m-%d"),
                                                            cert.not_after.strftime("%Y-%m-%d"), entry.label),
                                            cert.subject, cert.sha256, {"label": entry.label}))
                else:
                    continue
                findings.append(Finding("renewed-ca-available", INFO, "a renewed %s with the same key (valid to "
                                        "%s) is available from %s" % (node.cert.common_name,
                                                                      node.cert.not_after.strftime("%Y-%m-%d"),
                                                                      _source_words(node.origins)),
                                        node.cert.subject, node.cert.sha256,
                                        {"replaces": cert.sha256, "sources": list(node.origins)}))


def _crosscheck(report: ChainReport, presented, anchors, now, host, max_chain_depth) -> None:
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


# -- helpers --------------------------------------------------------------------
def _utc(now: Optional[datetime.datetime]) -> datetime.datetime:
    """Aware UTC, whole seconds (validity dates have second granularity)."""
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    return now.replace(microsecond=0)


def _source_words(origins: List[str]) -> str:
    words = []
    for origin in origins:
        kind, _, where = origin.partition(":")
        words.append({"aia": "AIA URL %s" % where, "root-program": "the root program (%s)" % where,
                      "file": "file %s" % where, "approved": "your approval",
                      "server": "sent by the server", "store": "the store"}.get(kind, origin))
    return ", ".join(words) or "nowhere known"


def _unique(findings: List[Finding]) -> List[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.sha256, f.subject, str(f.detail.get("url", "")), f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _ordered(findings: List[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 3))
