"""`ibmi-trust diff`: what changed between two runs of the history, or two
--json reports (check or verify documents).

Chains are compared by the certificates they hold, in order (the chain's
identity in the history and in reports alike); issuers by name; addresses
as strings. The JSON document is kind "diff" (docs/schema/diff.schema.json).
"""
import json
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ibmi_trust.errors import ConfigError

SCHEMA_VERSION = 1
MAX_REPORT_BYTES = 64 * 1024 * 1024


@dataclass
class Chain:
    certs: tuple                         # SHA-256 of each certificate, as sent
    chain_sha256: Optional[str]
    leaf: str                            # the server certificate's subject
    issuers: List[str]
    verdict: Optional[str]               # None: not judged (a history run without verdicts)
    source: str = "tonight"

    def to_json(self) -> dict:
        return {"chain_sha256": self.chain_sha256, "certificates": list(self.certs), "leaf": self.leaf,
                "issuers": list(self.issuers), "verdict": self.verdict, "source": self.source}


@dataclass
class Snapshot:
    """One target as one run or report saw it."""
    target: str
    protocol: Optional[str]
    label: str                           # "run 12" or the report's path
    when: Optional[str]
    status: Optional[str]
    chains: Dict[tuple, Chain] = field(default_factory=dict)
    addresses: List[str] = field(default_factory=list)

    def issuers(self) -> set:
        return {i for c in self.chains.values() if c.source == "tonight" for i in c.issuers}


# -- reading ---------------------------------------------------------------------------
def from_run(backend, run_id: int) -> Snapshot:
    from ibmi_trust.certs import Cert
    from ibmi_trust.history.cumulative import iso_seconds
    from ibmi_trust.history.records import HistoryError

    found = backend.run(run_id)
    if found is None:
        raise HistoryError("run %d is not in the history %s" % (run_id, backend.location),
                           hint="`ibmi-trust history TARGET --json` lists the runs (run_id) it holds")
    key, run = found
    rows = backend.run_summary(run_id)
    verdicts = {r.chain: r for r in backend.run_chains(run_id)}
    seen = {r.chain for r in rows if r.chain}
    ders = backend.chain_certs(sorted(seen | set(verdicts)))
    snap = Snapshot(target=key.display(), protocol=key.protocol, label="run %d" % run_id,
                    when=iso_seconds(run.started_at), status=run.status,
                    addresses=sorted({r.address for r in rows if r.chain}))
    for sha, chain_ders in ders.items():
        certs = [Cert(der) for der in chain_ders]
        judged = verdicts.get(sha)
        source = "history" if (sha not in seen and judged is not None and judged.from_history) else "tonight"
        if sha not in seen and source != "history":
            continue
        snap.chains[tuple(c.sha256 for c in certs)] = Chain(
            tuple(c.sha256 for c in certs), sha, certs[0].subject, _unique(c.issuer for c in certs),
            judged.verdict if judged else None, source)
    return snap


def from_report(path: str) -> List[Snapshot]:
    """Every target of a check (or fix) or verify JSON document."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    if len(data) > MAX_REPORT_BYTES:
        raise ConfigError("%s is larger than %d MiB: not an ibmi-trust report" % (path, MAX_REPORT_BYTES >> 20))
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError("%s is not a JSON report: %s" % (path, exc)) from None
    if not isinstance(doc, dict) or doc.get("kind") not in ("check", "verify", "fix"):
        raise ConfigError("%s is not a check, fix or verify --json report" % path,
                          hint="make one with `ibmi-trust check TARGET --json > FILE` or `verify --report FILE`")
    try:
        if doc["kind"] == "verify":
            return [_from_check(t["check"], path) for t in doc.get("targets", []) if t.get("check")]
        check = doc["before"] if doc["kind"] == "fix" else doc
        return [_from_check(check, path)]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError("%s does not have the shape of an ibmi-trust report (%s)" % (path, exc)) from None


def _from_check(check: dict, path: str) -> Snapshot:
    probe = check.get("probe") or {}
    target = probe.get("target") or {}
    snap = Snapshot(target=check["target"], protocol=target.get("protocol"), label=path,
                    when=check.get("checked_at"), status=check.get("status"),
                    addresses=sorted({s["address"] for c in check.get("chains", []) if c.get("source") != "history"
                                      for s in c.get("served_by", [])}))
    for c in check.get("chains", []):
        certs = tuple(x["sha256"] for x in c["certificates"])
        snap.chains[certs] = Chain(certs, c.get("chain_sha256"), c["certificates"][0]["subject"] if certs else "",
                                   _unique(x["issuer"] for x in c["certificates"]), c.get("verdict"),
                                   c.get("source") or "tonight")
    return snap


# -- comparing ---------------------------------------------------------------------------
def compare(old: Snapshot, new: Snapshot) -> dict:
    added = [new.chains[k] for k in new.chains if k not in old.chains]
    removed = [old.chains[k] for k in old.chains if k not in new.chains]
    both = [k for k in new.chains if k in old.chains]
    changed = [{"chain_sha256": new.chains[k].chain_sha256, "leaf": new.chains[k].leaf,
                "old": old.chains[k].verdict, "new": new.chains[k].verdict}
               for k in both if old.chains[k].verdict != new.chains[k].verdict
               and None not in (old.chains[k].verdict, new.chains[k].verdict)]
    moved = [{"chain_sha256": new.chains[k].chain_sha256, "leaf": new.chains[k].leaf,
              "old": old.chains[k].source, "new": new.chains[k].source}
             for k in both if old.chains[k].source != new.chains[k].source]
    out = {
        "target": new.target, "protocol": new.protocol or old.protocol,
        "old": {"label": old.label, "when": old.when, "status": old.status},
        "new": {"label": new.label, "when": new.when, "status": new.status},
        "chains_added": [c.to_json() for c in added], "chains_removed": [c.to_json() for c in removed],
        "verdicts_changed": changed, "sources_changed": moved,
        "issuers_added": sorted(new.issuers() - old.issuers()), "issuers_removed": sorted(old.issuers() - new.issuers()),
        "addresses_added": sorted(set(new.addresses) - set(old.addresses)),
        "addresses_removed": sorted(set(old.addresses) - set(new.addresses)),
    }
    out["changed"] = bool(added or removed or changed or moved or out["issuers_added"] or out["issuers_removed"]
                          or out["addresses_added"] or out["addresses_removed"] or old.status != new.status)
    return out


def document(old: List[Snapshot], new: List[Snapshot], history: Optional[str]) -> dict:
    """Pair the targets of both sides (a verify report has many) and compare each pair."""
    olds = {s.target: s for s in old}
    targets, unmatched = [], []
    for snap in new:
        if snap.target in olds:
            targets.append(compare(olds.pop(snap.target), snap))
        else:
            unmatched.append({"target": snap.target, "only_in": "new"})
    unmatched.extend({"target": t, "only_in": "old"} for t in olds)
    doc = {"schema_version": SCHEMA_VERSION, "kind": "diff", "history": history,
           "changed": any(t["changed"] for t in targets) or bool(unmatched), "targets": targets,
           "unmatched": unmatched}
    doc["next"] = next_commands(doc)
    return doc


def next_commands(doc: dict) -> List[str]:
    from ibmi_trust.history.report import protocol_flag

    out = []
    hist = " --history %s" % shlex.quote(doc["history"]) if doc["history"] else ""
    for t in doc["targets"]:
        proto = protocol_flag(t["target"], t["protocol"]) if t["protocol"] else ""
        failing = [c for c in t["chains_added"] if c["verdict"] not in (None, "trusted")]
        failing += [c for c in t["verdicts_changed"] if c["new"] != "trusted"]
        if failing:
            out.append("ibmi-trust fix %s%s --store SPEC%s --dry-run" % (t["target"], proto, hist))
        elif t["changed"]:
            out.append("ibmi-trust history %s%s%s" % (t["target"], proto, hist))
    return out


def text(doc: dict) -> str:
    lines = []
    if not doc["targets"] and not doc["unmatched"]:
        lines.append("nothing to compare")
    for t in doc["targets"]:
        head = "%s: %s (%s, %s) -> %s (%s, %s)" % (
            t["target"], t["old"]["label"], t["old"]["when"] or "?", t["old"]["status"] or "?",
            t["new"]["label"], t["new"]["when"] or "?", t["new"]["status"] or "?")
        lines.append(head if t["changed"] else head + ": no change")
        for c in t["chains_added"]:
            lines.append("  + chain %s (%s)%s: %s" % ((c["chain_sha256"] or c["certificates"][0])[:16],
                                                    c["verdict"] or "not judged",
                                                    " from the history" if c["source"] == "history" else "",
                                                    c["leaf"]))
        for c in t["chains_removed"]:
            lines.append("  - chain %s (%s): %s" % ((c["chain_sha256"] or c["certificates"][0])[:16],
                                                   c["verdict"] or "not judged", c["leaf"]))
        for c in t["verdicts_changed"]:
            lines.append("  ~ chain %s: %s -> %s" % ((c["chain_sha256"] or "?")[:16], c["old"], c["new"]))
        for c in t["sources_changed"]:
            lines.append("  ~ chain %s: %s" % ((c["chain_sha256"] or "?")[:16], "served -> judged from the history only"
                                              if c["new"] == "history" else "from the history -> served again"))
        for issuer in t["issuers_added"]:
            lines.append("  + issuer %s" % issuer)
        for issuer in t["issuers_removed"]:
            lines.append("  - issuer %s" % issuer)
        for address in t["addresses_added"]:
            lines.append("  + address %s" % address)
        for address in t["addresses_removed"]:
            lines.append("  - address %s" % address)
    for u in doc["unmatched"]:
        lines.append("%s: only in the %s report" % (u["target"], u["only_in"]))
    for command in doc["next"]:
        lines.append("next: %s" % command)
    if not doc["next"]:
        lines.append("next: nothing to do (no chain appeared that fails)")
    return "\n".join(lines)


def _unique(items) -> List[str]:
    return list(dict.fromkeys(items))
