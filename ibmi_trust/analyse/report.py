"""From a chosen path to a ChainReport: the findings every validator shares.

A validator decides the verdict and the path (the certificates from the
leaf to where the chain ends, as `paths.Node`s with their origins and store
entries), what must be imported, and its own critical problems. This module
adds what reads the same whatever the validator:

- the gaps: `missing-issuer`, `root-not-in-store`, `unapproved-root`, and
  the `missing` list with where each certificate can be had;
- the server's side: `incomplete-chain`, `expired-intermediate-sent`,
  `wrong-intermediate`, `unused-certificate`, `chain-out-of-order`,
  `self-signed-leaf`;
- renewals: a CA to import that replaces an expired or disabled store copy;
- the host name, as its own finding (`name-mismatch`): a certificate that
  does not name the host is not a trust-store problem, and never keeps a
  path from verifying or a fix from importing.
"""
import datetime
from typing import List, Optional, Sequence, Tuple

from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.analyse.model import (CRITICAL, ENABLE_REMEDY, FIXABLE, INFO, NEEDS_APPROVAL, NEEDS_INTERMEDIATE,
                                      NEEDS_RENEWAL, NEEDS_ROOT, NEEDS_UNKNOWN_ISSUER, TRUSTED, WARNING, ChainReport,
                                      Finding, Missing, Sourced)
from ibmi_trust.analyse.paths import SERVER, Node
from ibmi_trust.certs import Cert

_SEVERITY_RANK = {CRITICAL: 0, WARNING: 1, INFO: 2}


class ReportBuilder:
    def __init__(self, presented: Sequence[Cert], anchors: CertIndex, now: datetime.datetime,
                 host: Optional[str], events: Sequence[Finding] = ()):
        self.presented = list(presented)
        self.anchors = anchors
        self.now = now
        self.host = host
        self.events = list(events)
        self.leaf = presented[0]

    def build(self, *, verdict: str, nodes: List[Node], end: str, imports: Sequence[Tuple[int, str]],
              # imports: (index in nodes, role) of what the path lacks; `to_add` only when fixable
              problems: Sequence[Finding], warnings: Sequence[Finding], name_finding: Optional[Finding] = None,
              anchor: Optional[Cert] = None, budget_exhausted: bool = False) -> ChainReport:
        findings: List[Finding] = list(problems)
        missing: List[Missing] = []
        self._gaps(nodes, end, imports, findings, missing)
        self._server_side(nodes, end, verdict, findings)
        self._renewals(nodes, imports, findings)
        if name_finding is not None:
            findings.append(name_finding)
        findings.extend(warnings)
        findings.extend(self.events)
        if budget_exhausted:
            findings.append(Finding("search-limit", WARNING, "path search stopped at its budget; "
                                    "the certificates offered are pathological", self.leaf.subject, self.leaf.sha256))
        to_add = [Sourced(nodes[i].cert, nodes[i].origins[0], role) for i, role in imports] \
            if verdict == FIXABLE else []
        return ChainReport(verdict=verdict, anchor=anchor, path=[n.cert for n in nodes], missing=missing,
                           to_add=to_add, findings=ordered(unique(findings)), host=self.host)

    # -- gaps ----------------------------------------------------------------------
    def _gaps(self, nodes, end, imports, findings, missing) -> None:
        for index, role in imports:
            node = nodes[index]
            child = nodes[index - 1].cert if index > 0 else node.cert
            missing.append(Missing(node.cert.subject, child.aki, node.cert.sha256, list(node.origins), node.cert,
                                   NEEDS_ROOT if role == "root" else NEEDS_INTERMEDIATE))
            if role == "root":
                findings.append(Finding("root-not-in-store", CRITICAL, "root CA %s is not in the store; %s has it"
                                        % (node.cert.common_name, source_words(node.origins)),
                                        node.cert.subject, node.cert.sha256, {"sources": list(node.origins)}))
            elif SERVER in node.origins:
                findings.append(Finding("store-needs-intermediate", CRITICAL, "intermediate CA %s must be in the "
                                        "store although the server sends it: the client takes the store's "
                                        "certificates first and does not go back to the server's" % (
                                            node.cert.common_name), node.cert.subject, node.cert.sha256,
                                        {"key_id": child.aki, "sources": list(node.origins)}))
            else:
                findings.append(Finding("missing-issuer", CRITICAL, "intermediate CA %s is neither sent by the "
                                        "server nor in the store; %s has it" % (
                                            node.cert.common_name, source_words(node.origins)),
                                        node.cert.subject, node.cert.sha256,
                                        {"key_id": child.aki, "sources": list(node.origins)}))
        last = nodes[-1]
        if end == "dead-end":
            wrong = {f.detail.get("url") for f in self.events if f.code == "aia-unrelated-certificate"}
            sources = ["aia:" + url for url in last.cert.ca_issuers if url not in wrong]
            missing.append(Missing(last.cert.issuer, last.cert.aki, None, sources, None, NEEDS_UNKNOWN_ISSUER))
            where = ("its AIA names " + ", ".join(s[4:] for s in sources)) if sources else "no source is known"
            findings.append(Finding("missing-issuer", CRITICAL, "the issuer of %s (%s%s) is not available; %s"
                                    % (last.cert.common_name, last.cert.issuer,
                                       ", key id %s" % last.cert.aki if last.cert.aki else "", where),
                                    last.cert.issuer, None, {"key_id": last.cert.aki, "sources": sources}))
        elif end == "unapproved-root":
            child = nodes[-2].cert if len(nodes) > 1 else last.cert
            missing.append(Missing(last.cert.subject, child.aki, last.cert.sha256, list(last.origins), last.cert,
                                   NEEDS_APPROVAL))
            findings.append(Finding("unapproved-root", CRITICAL,
                                    "root CA %s (%s) is neither in the store nor in the root program; if you "
                                    "trust it, approve it with --trust-root %s"
                                    % (last.cert.common_name, source_words(last.origins), last.cert.sha256),
                                    last.cert.subject, last.cert.sha256, {"sources": list(last.origins)}))
        elif end == "anchor" and last.entry is not None and not last.cert.valid_at(self.now) and not imports:
            missing.append(Missing(last.cert.subject, last.cert.ski, None, [], None, NEEDS_RENEWAL))

    # -- what the server sends -----------------------------------------------------------
    def _server_side(self, nodes, end, verdict, findings) -> None:
        presented, leaf = self.presented, self.leaf
        not_sent = [n.cert for n in nodes[1:] if SERVER not in n.origins and not n.cert.self_issued]
        leaf_only_dead_end = end == "dead-end" and len(nodes) == 1 and len(presented) == 1
        if not_sent or leaf_only_dead_end:
            severity = INFO if verdict == TRUSTED else WARNING
            names = ", ".join(c.common_name for c in not_sent) or "the issuing CA"
            findings.append(Finding("incomplete-chain", severity, "the server does not send %s (its fault; "
                                    "other clients will fail too)" % names, leaf.subject, leaf.sha256,
                                    {"not_sent": [c.sha256 for c in not_sent]}))
        on_path = {n.cert.sha256 for n in nodes}
        path_keys = {(n.cert.subject_der, n.cert.spki_sha256): n.cert for n in nodes}
        unused = [c for c in presented[1:] if c.sha256 not in on_path]
        for cert in list(unused):
            renewal = path_keys.get((cert.subject_der, cert.spki_sha256)) or self._renewal_in_store(cert)
            if renewal is not None and not cert.valid_at(self.now) and renewal.valid_at(self.now):
                unused.remove(cert)
                findings.append(Finding(
                    "expired-intermediate-sent", WARNING if verdict == TRUSTED else CRITICAL,
                    "the server sends an %s copy of %s (valid %s to %s); a renewal with the same name and key "
                    "(valid to %s) exists: the server's operator should install it"
                    % ("expired" if self.now > cert.not_after else "not yet valid", cert.common_name, _day(
                        cert.not_before), _day(cert.not_after), _day(renewal.not_after)),
                    cert.subject, cert.sha256, {"renewal": renewal.sha256}))
        issuer_sent = len(nodes) > 1 and SERVER in nodes[1].origins
        if unused and not issuer_sent and not leaf.self_signed and not self._issued_leaf(unused):
            findings.append(Finding("wrong-intermediate", WARNING, "the server sends %s, which did not issue %s "
                                    "(issuer: %s)" % (", ".join(c.common_name for c in unused),
                                                      leaf.common_name, leaf.issuer),
                                    leaf.subject, leaf.sha256, {"sent": [c.sha256 for c in unused]}))
        else:
            for cert in unused:
                findings.append(Finding("unused-certificate", INFO, "the server also sends %s, which is not on "
                                        "the path" % cert.common_name, cert.subject, cert.sha256))
        sent_order = [presented.index(n.cert) for n in nodes if SERVER in n.origins and n.cert in presented]
        if sent_order != sorted(sent_order):
            findings.append(Finding("chain-out-of-order", INFO, "the server sends its CA certificates out of "
                                    "order (some clients insist on leaf, issuer, issuer's issuer, ...)",
                                    leaf.subject, leaf.sha256))
        if leaf.self_signed:
            if verdict == TRUSTED:
                findings.append(Finding("self-signed-leaf", INFO, "the server certificate is self-signed and "
                                        "pinned in the store", leaf.subject, leaf.sha256))
            else:
                findings.append(Finding("self-signed-leaf", CRITICAL, "the server certificate is self-signed",
                                        leaf.subject, leaf.sha256))

    def _issued_leaf(self, certs: Sequence[Cert]) -> bool:
        """Is one of `certs` a (perhaps expired) copy of the leaf's issuer: same name, and it signed the leaf?"""
        from ibmi_trust.analyse.index import issuer_name_matches

        return any(issuer_name_matches(self.leaf, c) and self.leaf.signed_by(c) for c in certs)

    def _renewal_in_store(self, cert: Cert) -> Optional[Cert]:
        for other, _entry in self.anchors.same_key(cert):
            if other.valid_at(self.now):
                return other
        return None

    # -- renewals -----------------------------------------------------------------------
    def _renewals(self, nodes, imports, findings) -> None:
        """A CA to import that replaces an expired or disabled copy in the store."""
        for index, _role in imports:
            node = nodes[index]
            for cert, entry in self.anchors.same_key(node.cert):
                if entry.enabled is False or entry.trusted is False:
                    findings.append(Finding("ca-disabled-in-store", CRITICAL, "CA certificate %s is in the store "
                                            "but disabled or not trusted (label %s): %s"
                                            % (cert.common_name, entry.label, ENABLE_REMEDY),
                                            cert.subject, cert.sha256, {"label": entry.label, "remedy": "enable-in-dcm"}))
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
                                                                      source_words(node.origins)),
                                        node.cert.subject, node.cert.sha256,
                                        {"replaces": cert.sha256, "sources": list(node.origins)}))


# -- shared helpers --------------------------------------------------------------------
def name_mismatch(leaf: Cert, host: str, checked_by: str) -> Finding:
    names = leaf.dns_names() + leaf.ip_names()
    return Finding("name-mismatch", CRITICAL, "the server certificate is not issued for %s (it names: %s); "
                   "a client that checks names fails, whatever the store holds"
                   % (host, ", ".join(names[:8]) or "no subjectAltName"), leaf.subject, leaf.sha256,
                   {"host": host, "names": names, "rules": checked_by})


def source_words(origins: Sequence[str]) -> str:
    words = []
    for origin in origins:
        kind, _, where = origin.partition(":")
        words.append({"aia": "AIA URL %s" % where, "root-program": "the root program (%s)" % where,
                      "file": "file %s" % where, "approved": "your approval",
                      "server": "sent by the server", "store": "the store"}.get(kind, origin))
    return ", ".join(words) or "nowhere known"


# One finding per certificate for these, whichever part of the analysis noticed first.
_ONCE_PER_CERTIFICATE = {"ca-expired-in-store", "ca-not-yet-valid-in-store", "ca-disabled-in-store"}


def unique(findings: Sequence[Finding]) -> List[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.sha256) if f.code in _ONCE_PER_CERTIFICATE else (
            f.code, f.sha256, f.subject, str(f.detail.get("url", "")), f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def ordered(findings: Sequence[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 3))


def _day(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%d")

