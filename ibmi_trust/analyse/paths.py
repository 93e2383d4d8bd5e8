"""Candidate paths from a leaf to wherever its issuers lead.

Depth-first over issuer candidates found by name (indexed), confirmed by
signature, ordered store first, then what the server sent, then sourced
ones (root program, --from files, AIA). Every path that ends somewhere is
handed to the caller, who judges and ranks it (analyse.core):

    anchor           ends at a certificate in the trust store (with partial_chain
                     False, as OpenSSL clients by default: only at a self-issued one)
    root             ends at a root the operator's root program has, or approved
    unapproved-root  ends at a self-signed certificate nobody vouched for
    dead-end         the last certificate's issuer was not found
    too-long         more intermediates than the depth limit allows
    search-limit     the budget ran out (pathological input)

No certificate (subject + key) appears twice on a path, so cycles end.
AIA is fetched for a node only when nothing found statically leads to a
usable store anchor (so a cross-signed CA that chains to an anchor already
in the store is found even when the root program also has the other root).
Bounded by a budget of signature checks, nodes and paths.
"""
import datetime
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.analyse.model import WARNING, Finding
from ibmi_trust.analyse.names import issuer_name_matches
from ibmi_trust.certs import Cert
from ibmi_trust.store.base import StoreEntry

SERVER = "server"
STORE = "store"
SELF_ISSUED_ALLOWANCE = 4   # self-issued intermediates (key rollover) beyond the depth limit


@dataclass
class Node:
    cert: Cert
    origins: List[str]                      # "server", "store", "root-program:NAME", "file:PATH", "aia:URL"
    entry: Optional[StoreEntry] = None      # set when the certificate is in the store

    @property
    def sourced(self) -> bool:
        """Neither sent by the server nor in the store: it would be imported."""
        return self.entry is None and SERVER not in self.origins


@dataclass
class Path:
    nodes: List[Node]
    end: str

    @property
    def certs(self) -> List[Cert]:
        return [n.cert for n in self.nodes]


@dataclass
class Budget:
    signature_checks: int = 3000
    nodes: int = 5000
    paths: int = 256
    exhausted: bool = False


@dataclass
class SearchResult:
    paths: List[Path] = field(default_factory=list)
    events: List[Finding] = field(default_factory=list)
    budget_exhausted: bool = False


class PathBuilder:
    """One search; `sourcing` None means presented + store only (phase 1)."""

    def __init__(self, presented: List[Cert], anchors: CertIndex, *, now: datetime.datetime,
                 max_chain_depth: int, sourcing=None, signature_cache: Optional[Dict] = None,
                 budget: Optional[Budget] = None, partial_chain: bool = True):
        self.partial_chain = partial_chain      # any store certificate ends a path, not only roots
        self.presented = CertIndex((c, None) for c in presented)
        self.leaf = presented[0]
        self.anchors = anchors
        self.now = now
        self.max_chain_depth = max_chain_depth
        self.sourcing = sourcing
        self.sig_cache = signature_cache if signature_cache is not None else {}
        self.budget = budget or Budget()
        self.result = SearchResult()
        self._stop: Callable[[Path], bool] = lambda path: False
        self._halt = False
        self._rejected: set = set()

    # -- public ----------------------------------------------------------
    def search(self, stop_when: Optional[Callable[[Path], bool]] = None) -> SearchResult:
        if stop_when is not None:
            self._stop = stop_when
        self._extend([self._node(self.leaf)])
        self.result.budget_exhausted = self.budget.exhausted
        return self.result

    # -- search ----------------------------------------------------------
    def _extend(self, nodes: List[Node]) -> bool:
        """Explore from nodes[-1]; True when a usable store anchor was reached below."""
        if self._halt:
            return False
        node = nodes[-1]
        self.budget.nodes -= 1
        if self.budget.nodes < 0 or self.budget.signature_checks < 0:
            self.budget.exhausted = True
            return self._emit(nodes, "search-limit")
        if node.entry is not None and (self.partial_chain or node.cert.self_issued):
            return self._emit(nodes, "anchor") or _usable_anchor(node.entry, self.now)
        # without partial chains (OpenSSL's default) a store intermediate is a
        # step on the way, and the path goes on to its root
        if self.sourcing is not None:
            approval = self.sourcing.trust_point(node.cert)
            if approval:
                if approval in node.origins:       # e.g. a root the server sends that the root program has
                    node.origins.remove(approval)
                node.origins.insert(0, approval)   # the reason it may be imported comes first
                return self._emit(nodes, "root")
        if node.cert.self_issued and self._issued(node.cert, node.cert):   # self-signed
            return self._emit(nodes, "unapproved-root")
        if self._too_deep(nodes):
            return self._emit(nodes, "too-long")
        candidates = self._static_candidates(nodes)
        good = False
        for candidate in candidates:
            good = self._extend(nodes + [candidate]) or good
        if not good and self.sourcing is not None and not self._halt:
            seen = {c.cert.sha256 for c in candidates}
            fetched = [c for c in self._aia_candidates(nodes) if c.cert.sha256 not in seen]
            for candidate in fetched:
                good = self._extend(nodes + [candidate]) or good
            candidates = candidates + fetched
        if not candidates:
            self._emit(nodes, "dead-end")
        return good

    def _emit(self, nodes: List[Node], end: str) -> bool:
        path = Path(list(nodes), end)
        self.result.paths.append(path)
        self.budget.paths -= 1
        if self.budget.paths <= 0:
            self.budget.exhausted = True
            self._halt = True
        if self._stop(path):
            self._halt = True
        return False

    def _too_deep(self, nodes: List[Node]) -> bool:
        """No room for another intermediate (self-issued ones are free, up to a few)."""
        counted = sum(1 for n in nodes[1:] if not n.cert.self_issued)
        return counted > self.max_chain_depth or len(nodes) > self.max_chain_depth + 1 + SELF_ISSUED_ALLOWANCE

    # -- candidates --------------------------------------------------------
    def _static_candidates(self, nodes: List[Node]) -> List[Node]:
        child = nodes[-1].cert
        merged: Dict[str, Node] = {}
        for cert, entry in self.anchors.issuers_of(child):
            merged[cert.sha256] = Node(cert, [STORE], entry)
        for cert, _ in self.presented.issuers_of(child):
            if cert.sha256 in merged:
                merged[cert.sha256].origins.append(SERVER)
            else:
                merged[cert.sha256] = Node(cert, [SERVER])
        if self.sourcing is not None:
            for cert, provenance in self.sourcing.issuer_candidates(child):
                if cert.sha256 in merged:
                    if provenance not in merged[cert.sha256].origins:
                        merged[cert.sha256].origins.append(provenance)
                else:
                    merged[cert.sha256] = Node(cert, [provenance])
        return self._usable(nodes, list(merged.values()))

    def _aia_candidates(self, nodes: List[Node]) -> List[Node]:
        child = nodes[-1].cert
        out: List[Node] = []
        for answer in self.sourcing.fetch_issuers(child):
            if answer.finding is not None:
                self._event(answer.finding)
                continue
            provenance = "aia:" + answer.url
            related = [Node(c, [provenance]) for c in answer.certs if issuer_name_matches(child, c)]
            usable = self._usable(nodes, related)
            if not any(self._issued(child, n.cert) for n in related):
                shown = answer.certs[0] if answer.certs else None
                self._event(Finding(
                    "aia-unrelated-certificate", WARNING,
                    "%s (AIA of %s) did not issue it: %s" % (
                        answer.url, child.common_name, shown.subject if shown else "no certificate"),
                    child.subject, shown.sha256 if shown else None, {"url": answer.url}))
            out.extend(usable)
        return out

    def _usable(self, nodes: List[Node], candidates: List[Node]) -> List[Node]:
        """Candidates that verify the child and do not repeat a path member."""
        child = nodes[-1].cert
        on_path = {(n.cert.subject_der, n.cert.spki_sha256) for n in nodes}
        out = []
        for cand in candidates:
            if (cand.cert.subject_der, cand.cert.spki_sha256) in on_path:
                continue
            if not self._issued(child, cand.cert):
                continue
            if cand.sourced and not self._sourced_ok(child, cand):
                continue
            out.append(cand)
        out.sort(key=lambda n: (_origin_rank(n), bool(child.aki) and n.cert.ski != child.aki,
                                not n.cert.valid_at(self.now), -n.cert.not_after.timestamp()))
        return out

    def _sourced_ok(self, child: Cert, cand: Node) -> bool:
        reason = self.sourcing.candidate_problem(child, cand.cert, self.now, issued=self._issued)
        if reason is None:
            return True
        key = (cand.cert.sha256, reason)
        if key not in self._rejected:
            self._rejected.add(key)
            self._event(Finding("sourced-certificate-rejected", WARNING,
                                "%s from %s is not used: %s" % (cand.cert.common_name, cand.origins[0], reason),
                                cand.cert.subject, cand.cert.sha256,
                                {"reason": reason, "source": cand.origins[0]}))
        return False

    def _issued(self, child: Cert, issuer: Cert) -> bool:
        key = (child.sha256, issuer.sha256)
        hit = self.sig_cache.get(key)
        if hit is None:
            self.budget.signature_checks -= 1
            hit = issuer_name_matches(child, issuer) and child.signed_by(issuer)
            self.sig_cache[key] = hit
        return hit

    def _node(self, cert: Cert) -> Node:
        found = self.anchors.get(cert.sha256)
        if found is not None:
            return Node(cert, [SERVER, STORE], found[1])
        return Node(cert, [SERVER])

    def _event(self, finding: Finding) -> None:
        self.result.events.append(finding)


def _origin_rank(node: Node) -> int:
    if node.entry is not None:
        return 0
    if SERVER in node.origins:
        return 1
    first = node.origins[0]
    return 2 if first.startswith("root-program:") else 3 if first.startswith("file:") else 4


def _usable_anchor(entry: StoreEntry, now: datetime.datetime) -> bool:
    return entry.enabled is not False and entry.trusted is not False and entry.cert.valid_at(now)

