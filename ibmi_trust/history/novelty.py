"""What changed: a chain, an issuer or an address never seen before for the target.

Each becomes a finding on the chain concerned (codes below) and a field of
the check document (`history.new`). A new chain that the store does not
trust is CRITICAL, as any failing chain is (its verdict already makes it
so); a new chain the store trusts is reported as info, not alarmed. A new
issuer or address is info: it often shows before something fails. The
first run for a target has nothing to compare with and flags nothing.

| code | severity | meaning |
|---|---|---|
| `new-chain` | info (trusted) / the chain's own status otherwise | the server presented a chain never seen for the target |
| `new-issuer` | info | a certificate of the chain names an issuer never seen in the target's chains |
| `new-address` | info | the chain came from an address never seen for the target |
"""
from typing import Callable, Dict, Iterable, List, Set

from ibmi_trust.certs import Cert


def issuers_of(certs: Iterable[Cert]) -> Set[str]:
    return {cert.issuer for cert in certs}


def flag(variants, recall, known_certs: Callable[[Iterable[str]], Dict[str, List[bytes]]]) -> dict:
    """Append new-chain / new-issuer / new-address findings to tonight's variants;
    returns the `new` summary {"chains", "issuers", "addresses", "compared_with_runs"}."""
    from ibmi_trust.analyse.model import INFO, Finding
    from ibmi_trust.analyse.report import ordered

    summary = {"compared_with_runs": recall.all_runs, "chains": [], "issuers": [], "addresses": []}
    if not recall.all_runs:
        return summary
    tonight = [v for v in variants if v.source == "tonight"]
    fresh = [v for v in tonight if v.variant.sha256 not in recall.known_chains]
    known_issuers: Set[str] = set()
    if fresh:
        for ders in known_certs(sorted(recall.known_chains)).values():
            known_issuers |= issuers_of(Cert(der) for der in ders)
    new_addresses = set()
    for v in tonight:
        findings = []
        if v in fresh:
            severity = INFO if v.report.verdict == "trusted" else v.report.status.lower()
            findings.append(Finding("new-chain", severity, "a chain never seen before for this target (%s, %s)"
                                    % (v.report.verdict, "its first appearance" if v.report.verdict == "trusted"
                                       else "it fails"), v.variant.certificates[0].subject,
                                    v.variant.certificates[0].sha256, {"chain_sha256": v.variant.sha256}))
            summary["chains"].append(v.variant.sha256)
            for cert in v.variant.certificates:
                if cert.issuer not in known_issuers and cert.issuer not in summary["issuers"]:
                    summary["issuers"].append(cert.issuer)
                    findings.append(Finding("new-issuer", INFO, "issuer never seen before for this target: %s"
                                            % cert.issuer, cert.subject, cert.sha256, {"issuer": cert.issuer}))
        for combo in v.variant.combos:
            if combo.address not in recall.known_addresses:
                new_addresses.add(combo.address)
                findings.append(Finding("new-address", INFO, "served from an address never seen before for this "
                                        "target: %s" % combo.address, "", None, {"address": combo.address}))
        if findings:
            seen_codes = set()
            unique = []
            for f in findings:
                key = (f.code, f.message)
                if key not in seen_codes:
                    seen_codes.add(key)
                    unique.append(f)
            v.report.findings = ordered(list(v.report.findings) + unique)
    summary["addresses"] = sorted(new_addresses)
    return summary
