"""The OpenSSL profile: a chain judged as an OpenSSL TLS client judges it
against a CApath directory or a CAfile bundle (sendmail, Postfix, Python,
curl, ...), by the emulation in analyse.openssl (x509_vfy.c, rule by rule),
at the client's security level.

1. The chain as sent is verified against the store as it is. No error: the
   verdict is `trusted` (a host-name mismatch is its own finding).
2. Otherwise candidate paths from the leaf to a trust point (a root in the
   store, a root the root program has, an approved root) are searched with
   everything the sources offer (analyse.paths: what the server sent, the
   store, the root program, --from files, AIA). For each, the certificates
   to import are derived the way OpenSSL will use them: once a store
   certificate is on the chain everything above it must come from the store
   too, so the smallest set is "every certificate above the first one the
   store holds or must receive"; larger sets (down to the leaf's issuer)
   come next, because putting a certificate the server sends into the store
   is what overrides a wrong or expired copy OpenSSL would otherwise pick.
   Each set is verified again with the emulation against the store plus the
   set; the smallest that verifies is the plan (`fixable`). A root enters a
   plan only from the root program or an approval.
3. No set verifies: `untrusted`, with OpenSSL's errors explained.

The verdict is a prediction; jobs.check asks the real OpenSSL (the referee)
whenever it is on the machine, and its answer decides.
"""
import datetime
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from ibmi_trust.analyse.model import CRITICAL, FIXABLE, TRUSTED, UNTRUSTED, WARNING, ChainReport, Finding
from ibmi_trust.analyse.openssl import codes
from ibmi_trust.analyse.openssl.facts import KU_KEY_CERT_SIGN, dotted, facts_of
from ibmi_trust.analyse.openssl.verify import (Outcome, Settings, StoreModel, likely_issued, signature_ok,
                                               verify)
from ibmi_trust.analyse.paths import SERVER, STORE, Node, Path, PathBuilder
from ibmi_trust.analyse.quality import path_warnings
from ibmi_trust.analyse.report import ReportBuilder, name_mismatch
from ibmi_trust.certs import Cert

SEARCH_DEPTH = 8


class _Plan(NamedTuple):
    path: Path
    imports: Tuple[int, ...]          # indices into path.nodes
    after: Outcome

    def rank(self) -> Tuple:
        roots = sum(1 for i in self.imports if self.path.nodes[i].cert.self_issued)
        return (len(self.imports), roots, len(self.after.chain))


class OpenSSLProfile:
    kind = "openssl"

    def __init__(self, *, version: str = "3", level: int = 2, level_source: str = "", check_names: bool = True,
                 partial_wildcards: bool = True):
        self.version = version
        self.level = level
        self.level_source = level_source
        self.check_names = check_names
        self.partial_wildcards = partial_wildcards

    def describe(self) -> str:
        return "OpenSSL %s rules at security level %d" % ("3.x" if self.version == "3" else self.version,
                                                           self.level)

    def to_json(self) -> dict:
        return {"kind": self.kind, "model": False, "openssl_version": "3.x" if self.version == "3" else self.version,
                "security_level": self.level, "security_level_source": self.level_source,
                "check_names": self.check_names, "description": self.describe()}

    def settings(self, host: Optional[str], now: datetime.datetime) -> Settings:
        return Settings(version=self.version, level=self.level, host=host if self.check_names else None, now=now,
                        partial_wildcards=self.partial_wildcards)

    # -- the analysis -----------------------------------------------------------------
    def analyse(self, presented: List[Cert], anchors, host, sourcing, now: datetime.datetime,
                warn_days: int) -> ChainReport:
        store: StoreModel = anchors.openssl_model()
        outcome = verify(presented, store, self.settings(host, now))
        name = None
        if any(e.code in codes.NAME_CODES for e in outcome.errors):
            name = name_mismatch(presented[0], host, "OpenSSL's X509_check_host rules")
        builder = ReportBuilder(presented, anchors, now, host)
        if not outcome.path_errors():
            nodes = _nodes(outcome.chain, outcome.from_store, presented, anchors, {})
            report = builder.build(verdict=TRUSTED, nodes=nodes, end="anchor", imports=[], problems=[],
                                   warnings=path_warnings(outcome.chain, True, now, warn_days),
                                   name_finding=name, anchor=outcome.chain[-1])
        else:
            report = self._not_trusted(presented, anchors, store, host, sourcing, now, warn_days, outcome, name)
        report.validator = self.to_json()
        report.decided_by = "model"
        report.prediction = _prediction(outcome, self.version)
        return report

    def _not_trusted(self, presented, anchors, store, host, sourcing, now, warn_days, outcome,
                     name) -> ChainReport:
        search = PathBuilder(presented, anchors, now=now, max_chain_depth=SEARCH_DEPTH, sourcing=sourcing,
                             partial_chain=False).search()
        builder = ReportBuilder(presented, anchors, now, host, search.events)
        problems = self._explain(outcome, presented, anchors, store, search.paths, now)
        plan = self._plan(presented, store, search.paths, now)
        if plan is not None:
            known = {n.cert.sha256: n for i, n in enumerate(plan.path.nodes) if i in plan.imports}
            nodes = _nodes(plan.after.chain, plan.after.from_store, presented, anchors, known)
            imported = {plan.path.nodes[i].cert.sha256 for i in plan.imports}
            imports = [(i, "root" if n.cert.self_issued else "intermediate")
                       for i, n in enumerate(nodes) if n.cert.sha256 in imported]
            end = "root" if nodes[-1].cert.sha256 in imported else "anchor"
            report = builder.build(verdict=FIXABLE, nodes=nodes, end=end, imports=imports, problems=problems,
                                   warnings=path_warnings(plan.after.chain, True, now, warn_days), name_finding=name,
                                   anchor=None, budget_exhausted=search.budget_exhausted)
        else:
            best = _best_for_report(search.paths) or Path(_nodes(outcome.chain, outcome.from_store, presented,
                                                                 anchors, {}), "dead-end")
            end = best.end if best.end in ("dead-end", "unapproved-root") else "anchor"
            report = builder.build(verdict=UNTRUSTED, nodes=best.nodes, end=end, imports=_lacking(best),
                                   problems=problems,
                                   warnings=[], name_finding=name, budget_exhausted=search.budget_exhausted)
        return report

    # -- planning ---------------------------------------------------------------------
    def _plan(self, presented, store: StoreModel, paths: Sequence[Path], now) -> Optional[_Plan]:
        settings = self.settings(None, now)
        best: Optional[_Plan] = None
        tried = set()
        for path in paths:
            if path.end not in ("anchor", "root"):
                continue
            for imports in _import_sets(path):
                key = frozenset(path.nodes[i].cert.sha256 for i in imports)
                if not imports or key in tried or not _roots_allowed(path, imports):
                    continue
                tried.add(key)
                certs = [path.nodes[i].cert for i in imports]
                after = verify(presented, store.with_added(certs), settings)
                if after.path_errors():
                    continue
                used = {c.sha256 for c in after.chain}
                if any(c.sha256 not in used for c in certs):      # drop what the chain does not use
                    trimmed = tuple(i for i in imports if path.nodes[i].cert.sha256 in used)
                    retry = verify(presented, store.with_added([path.nodes[i].cert for i in trimmed]), settings)
                    if not retry.path_errors():
                        imports, after = trimmed, retry
                candidate = _Plan(path, tuple(imports), after)
                if best is None or candidate.rank() < best.rank():
                    best = candidate
                break
        return best

    # -- explaining OpenSSL's errors --------------------------------------------------------
    def _explain(self, outcome: Outcome, presented, anchors, store: StoreModel, paths, now) -> List[Finding]:
        out: List[Finding] = []
        seen = set()
        for error in outcome.path_errors():
            if (error.code, error.depth) in seen:
                continue
            seen.add((error.code, error.depth))
            out.extend(self._finding_for(error, outcome, presented, anchors, store, now))
        out.extend(_no_backtracking(outcome, presented, paths))
        return out

    def _finding_for(self, error, outcome: Outcome, presented, anchors, store, now) -> List[Finding]:
        code, depth = error.code, error.depth
        cert = error.cert or (outcome.chain[depth] if 0 <= depth < len(outcome.chain) else presented[0])
        in_store = 0 <= depth < len(outcome.from_store) and outcome.from_store[depth]
        label = _label(anchors, cert)
        detail = {"openssl": {"code": code, "depth": depth, "text": codes.text(code, self.version)}}
        words = "OpenSSL error %d at depth %d (%s)" % (code, depth, codes.text(code, self.version))

        def finding(kind, message, severity=CRITICAL, **extra):
            return Finding(kind, severity, "%s: %s" % (message, words), cert.subject, cert.sha256,
                           dict(detail, **extra))

        if code == codes.UNABLE_TO_GET_ISSUER_CERT:
            return [finding("store-ca-without-issuer", "the store holds CA %s (%s) but not its issuer %s; OpenSSL "
                            "takes the store's copy and then looks for the issuer in the store only (what the "
                            "server sends above it is not used)" % (cert.common_name, label, cert.issuer),
                            label=label)] + _mismatched_issuers(cert, store, presented, self.version)
        if code == codes.UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
            return [finding("issuer-not-found", "OpenSSL finds no issuer for %s (issuer name %s) among what the "
                            "server sends and the store" % (cert.common_name, cert.issuer))] + \
                _mismatched_issuers(cert, store, presented, self.version)
        if code == codes.SELF_SIGNED_CERT_IN_CHAIN:
            mimics = [c for c in store.named(facts_of(cert).subject_canon) if c.sha256 != cert.sha256]
            if mimics:
                return [finding("store-root-differs", "the server sends root %s; the store holds another "
                                "certificate with the same name (%s), and OpenSSL accepts only an identical copy"
                                % (cert.common_name, _label(anchors, mimics[0])))]
            return [finding("root-not-trusted", "the chain ends at root %s, which is not in the store"
                            % cert.common_name)]
        if code in (codes.CERT_HAS_EXPIRED, codes.CERT_NOT_YET_VALID):
            expired = code == codes.CERT_HAS_EXPIRED
            when = "expired on %s" % _day(cert.not_after) if expired else "is valid only from %s" % _day(
                cert.not_before)
            if depth == 0:
                return [finding("leaf-expired" if expired else "leaf-not-yet-valid",
                                "the server certificate %s" % when)]
            if in_store:
                return [finding("ca-expired-in-store" if expired else "ca-not-yet-valid-in-store",
                                "CA certificate %s in the store (%s) %s; OpenSSL takes the store's copy first"
                                % (cert.common_name, label, when), label=label)]
            return [finding("ca-expired" if expired else "ca-not-yet-valid", "CA certificate %s %s"
                            % (cert.common_name, when))]
        if code in (codes.INVALID_CA_111, codes.INVALID_CA_3) and code == codes.invalid_ca(self.version):
            facts = facts_of(cert)
            if facts.ku_rejects(KU_KEY_CERT_SIGN):
                return [finding("ca-cannot-sign", "%s may not sign certificates (keyUsage lacks keyCertSign)"
                                % cert.common_name)]
            if facts.invalid_for(self.version):
                return [finding("malformed-certificate", "%s is invalid for OpenSSL (%s)"
                                % (cert.common_name, facts.invalid_reason))]
            if facts.bcons:
                return [finding("not-a-ca", "%s is used as an issuer but is not a CA (basicConstraints CA:FALSE)"
                                % cert.common_name)]
            return [finding("not-a-ca", "%s has no basicConstraints%s" % (
                cert.common_name, "" if depth == len(outcome.chain) - 1 else
                " (only a trust anchor may do without it, and only with keyUsage keyCertSign)"))]
        if code == codes.INVALID_PURPOSE:
            what = "the server certificate" if depth == 0 else ("the store's CA %s (%s)" % (cert.common_name, label)
                                                                  if in_store else "CA %s" % cert.common_name)
            return [finding("wrong-purpose", "%s is restricted to other purposes than TLS servers (an "
                            "extendedKeyUsage without serverAuth; anyExtendedKeyUsage does not count%s)"
                            % (what, ", nor a keyUsage without digitalSignature/keyEncipherment/keyAgreement"
                               if depth == 0 else ""))]
        if code == codes.PATH_LENGTH_EXCEEDED:
            return [finding("path-length-exceeded", "%s allows fewer intermediate CAs below it (pathLenConstraint %d)"
                            % (cert.common_name, facts_of(cert).pathlen))]
        if code == codes.UNHANDLED_CRITICAL_EXTENSION:
            oid = facts_of(cert).critical_unsupported
            return [finding("unknown-critical-extension", "%s carries critical extension %s, which OpenSSL does "
                            "not support" % (cert.common_name, dotted(oid) if oid else "?"))]
        if code in (codes.PERMITTED_VIOLATION, codes.EXCLUDED_VIOLATION, codes.SUBTREE_MINMAX,
                    codes.UNSUPPORTED_CONSTRAINT_TYPE, codes.UNSUPPORTED_NAME_SYNTAX):
            return [finding("name-constraints-violated", "a CA's name constraints forbid a name of %s"
                            % cert.common_name)]
        if code in (codes.EE_KEY_TOO_SMALL, codes.CA_KEY_TOO_SMALL):
            kind, bits = cert.key_description()
            return [finding("key-below-security-level", "%s has a %d-bit %s key, too weak at security level %d"
                            % (cert.common_name, bits, kind, self.level), level=self.level)]
        if code == codes.CA_MD_TOO_WEAK:
            return [finding("signature-below-security-level", "%s is signed with %s, too weak at security level %d"
                            % (cert.common_name, (cert.signature_hash_name() or "?").upper(), self.level),
                            level=self.level)]
        if code == codes.CERT_SIGNATURE_FAILURE:
            issuer = outcome.chain[depth + 1] if depth + 1 < len(outcome.chain) else None
            return [finding("bad-signature", "%s is not signed by the %s OpenSSL picked as its issuer (same name%s)"
                            % (cert.common_name, issuer.common_name if issuer else "certificate",
                               ", no key id to tell them apart" if not cert.aki else ""))]
        if code == codes.CERT_CHAIN_TOO_LONG:
            return [finding("chain-too-long", "the chain is longer than OpenSSL's depth limit")]
        if code == codes.DEPTH_ZERO_SELF_SIGNED_CERT:
            return []                  # the report's self-signed-leaf says it
        return [finding("openssl-error", "OpenSSL rejects %s" % cert.common_name)]


# -- helpers -------------------------------------------------------------------------------
def _import_sets(path: Path) -> List[Tuple[int, ...]]:
    """Candidate import sets for a path, smallest first (see the module docstring)."""
    nodes = path.nodes
    last = len(nodes) - 1
    must = [i for i in range(1, last + 1) if nodes[i].entry is None and SERVER not in nodes[i].origins]
    if path.end == "root" and last not in must and nodes[last].entry is None:
        must.append(last)
    held = [i for i in range(1, last + 1) if nodes[i].entry is not None]
    start = min(must + held) if must + held else last
    out = []
    for first in range(start, 0, -1):
        out.append(tuple(i for i in range(first, last + 1) if nodes[i].entry is None))
    return out


def _lacking(path: Path) -> List[Tuple[int, str]]:
    """What a path lacks that the sources have (for `missing`), when no plan works."""
    last = len(path.nodes) - 1
    out = []
    for i, node in enumerate(path.nodes):
        if i == 0 or node.entry is not None or (i == last and path.end == "unapproved-root"):
            continue
        if SERVER not in node.origins or (i == last and path.end == "root"):
            out.append((i, "root" if node.cert.self_issued else "intermediate"))
    return out


def _roots_allowed(path: Path, imports: Sequence[int]) -> bool:
    """A self-issued certificate enters a plan only from the root program or an approval."""
    for i in imports:
        node = path.nodes[i]
        if node.cert.self_issued and not any(o.startswith(("root-program:", "approved:")) for o in node.origins):
            return False
    return True


def _nodes(chain: Sequence[Cert], from_store: Sequence[bool], presented: Sequence[Cert], anchors,
           known: Dict[str, Node]) -> List[Node]:
    sent = {c.sha256 for c in presented}
    out = []
    for cert, stored in zip(chain, from_store):
        if cert.sha256 in known:
            out.append(known[cert.sha256])
            continue
        entry = anchors.entry_for(cert)
        origins = ([STORE] if stored or (entry is not None and cert.sha256 not in sent) else []) + \
                  ([SERVER] if cert.sha256 in sent else [])
        out.append(Node(cert, origins or [SERVER], entry if stored else None))
    return out


def _best_for_report(paths: Sequence[Path]) -> Optional[Path]:
    rank = {"anchor": 0, "root": 1, "unapproved-root": 2, "dead-end": 3, "too-long": 4, "search-limit": 5}
    return min(paths, key=lambda p: (rank[p.end], len(p.nodes)), default=None)


def _mismatched_issuers(cert: Cert, store: StoreModel, presented: Sequence[Cert], version: str) -> List[Finding]:
    """Certificates named like `cert`'s issuer that signed it, but that OpenSSL's
    check_issued refuses (authority key id, key type): aki-mismatch."""
    child = facts_of(cert)
    candidates = store.named(child.issuer_canon) + [c for c in presented
                                                     if facts_of(c).subject_canon == child.issuer_canon]
    out = []
    for cand in candidates:
        if likely_issued(facts_of(cand), child, version) or not signature_ok(cert, cand):
            continue
        akid = child.akid.keyid.hex() if child.akid and child.akid.keyid else None
        ski = facts_of(cand).ski.hex() if facts_of(cand).ski else None
        out.append(Finding("aki-mismatch", CRITICAL, "%s names its issuer's key id %s, but %s, which did sign it, "
                           "has key id %s: OpenSSL does not take it as the issuer" % (
                               cert.common_name, akid or "(none)", cand.common_name, ski or "(none)"),
                           cert.subject, cert.sha256, {"issuer": cand.sha256, "authority_key_id": akid,
                                                       "issuer_key_id": ski}))
        break
    return out


def _no_backtracking(outcome: Outcome, presented, paths: Sequence[Path]) -> List[Finding]:
    """OpenSSL took the first fitting certificate the server sent and never tried
    another that would have led to a store root."""
    if not outcome.errors or outcome.trusted:
        return []
    chain = outcome.chain
    for path in paths:
        if path.end != "anchor" or any(n.entry is None and SERVER not in n.origins for n in path.nodes):
            continue
        for depth in range(1, min(len(chain), len(path.nodes))):
            taken, other = chain[depth], path.nodes[depth].cert
            if taken.sha256 != other.sha256:
                if taken in presented and other in presented and presented.index(taken) < presented.index(other):
                    return [Finding("first-match-no-backtracking", WARNING, "the server sends %s before %s; OpenSSL "
                                    "takes the first certificate that fits and never tries the other, which "
                                    "leads to a root in the store" % (_cn(taken), _cn(other)),
                                    taken.subject, taken.sha256, {"taken": taken.sha256, "not_tried": other.sha256})]
                break
    return []


def _prediction(outcome: Outcome, version: str) -> dict:
    first = outcome.first
    return {
        "accepts": outcome.ok,
        "error": None if first is None else {"code": first.code, "depth": first.depth,
                                             "text": codes.text(first.code, version)},
        "chain": [c.sha256 for c in outcome.chain],
    }


def _label(anchors, cert: Cert) -> str:
    entry = anchors.entry_for(cert)
    return "label %s" % entry.label if entry is not None else "not in the store"


def _cn(cert: Cert) -> str:
    return "%s (issued by %s)" % (cert.common_name, cert.issuer)


def _day(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%d")
