"""`ibmi-trust history TARGET`: the chains a target served over time.

Per chain: first and last seen, handshakes and share in the period, which
address / SNI / key-type offer served it, and whether the store trusts it
now (judged again, with the store's own validator, when a store is known).
Per address: first and last seen, handshakes, failures. The JSON document
is kind "history" (docs/schema/history.schema.json). "Now" is the store
alone, nothing fetched: `verdict_now` "untrusted" means the store alone
does not make the chain verify; `fix --dry-run` says what would.
"""
import datetime
import shlex
from typing import Dict, List, Optional

from ibmi_trust.history import cumulative
from ibmi_trust.history.records import TargetKey, utc

SCHEMA_VERSION = 1


def build(backend, target, *, since_days: int, store=None, validator_options=None, referee: bool = True,
          now: Optional[datetime.datetime] = None) -> dict:
    from ibmi_trust.certs import Cert

    now = utc(now)
    key = TargetKey.of(target)
    since = now - datetime.timedelta(days=since_days)
    runs = backend.runs(key, since)
    rows = backend.summary(key, since)
    successes = sum(r.count for r in rows if r.chain)
    chains: Dict[str, dict] = {}
    addresses: Dict[str, dict] = {}
    for r in rows:
        a = addresses.setdefault(r.address, {"address": r.address, "first_seen": r.first_at, "last_seen": r.last_at,
                                             "handshakes": 0, "failures": 0, "last_success": None})
        a["first_seen"], a["last_seen"] = min(a["first_seen"], r.first_at), max(a["last_seen"], r.last_at)
        if not r.chain:
            a["failures"] += r.count
            continue
        a["handshakes"] += r.count
        a["last_success"] = max(a["last_success"] or r.last_at, r.last_at)
        c = chains.setdefault(r.chain, {"chain_sha256": r.chain, "first_seen": r.first_at, "last_seen": r.last_at,
                                        "handshakes": 0, "served_by": []})
        c["first_seen"], c["last_seen"] = min(c["first_seen"], r.first_at), max(c["last_seen"], r.last_at)
        c["handshakes"] += r.count
        c["served_by"].append({"address": r.address, "sni": r.sni, "key_type": r.key_type, "count": r.count})
    ders = backend.chain_certs(list(chains))
    ordered = sorted(chains.values(), key=lambda c: (-c["handshakes"], c["chain_sha256"]))
    certs = {sha: [Cert(der) for der in ders[sha]] for sha in ders}
    verdicts = _judge(certs, target, store, validator_options, referee, now) if store is not None else {}
    out_chains = []
    for index, c in enumerate(ordered, 1):
        chain_certs = certs.get(c["chain_sha256"], [])
        judged = verdicts.get(c["chain_sha256"])
        out_chains.append({
            "index": index, "chain_sha256": c["chain_sha256"], "first_seen": _t(c["first_seen"]),
            "last_seen": _t(c["last_seen"]), "handshakes": c["handshakes"],
            "share": round(c["handshakes"] / successes, 6) if successes else 0.0,
            "served_by": sorted(c["served_by"], key=lambda s: -s["count"]),
            "certificates": [cert.summary() for cert in chain_certs],
            "trusted_now": None if judged is None else judged["verdict"] == "trusted",
            "verdict_now": None if judged is None else judged["verdict"],
            "missing_now": [] if judged is None else judged["missing"],
        })
    first = min((r.started_at for r in runs), default=None)
    doc = {
        "schema_version": SCHEMA_VERSION, "kind": "history", "target": key.display(), "host": key.host,
        "port": key.port, "protocol": key.protocol, "history": backend.location, "since_days": since_days,
        "generated_at": _t(now), "first_run": _t(first) if first else None,
        "runs": [{"run_id": r.run_id, "started_at": _t(r.started_at), "command": r.command,
                  "handshakes": r.handshakes, "attempts": r.attempts, "status": r.status, "store": r.store}
                 for r in runs],
        "handshakes": successes,
        "guarantee": cumulative.window_guarantee(len(runs), successes, first, since_days) if runs else None,
        "store": store.spec if store is not None else None,
        "chains": out_chains,
        "addresses": [dict(a, first_seen=_t(a["first_seen"]), last_seen=_t(a["last_seen"]),
                           last_success=_t(a["last_success"]) if a["last_success"] else None)
                      for a in sorted(addresses.values(), key=lambda a: a["address"])],
    }
    doc["next"] = next_commands(doc)
    return doc


def _judge(certs: Dict[str, list], target, store, validator_options, referee: bool, now) -> Dict[str, dict]:
    """Each chain against the store as it is now (no sourcing: trusted or not)."""
    from ibmi_trust.jobs.check import CheckOptions, analyse_probe, store_view, validator_for
    from ibmi_trust.probe.result import ChainVariant

    options = CheckOptions(store_spec=store.spec, validator_options=validator_options, referee=referee)
    validator = validator_for(store, options)
    view, _problems = store_view(store, validator)
    variants = [ChainVariant(chain) for chain in certs.values()]
    judged = analyse_probe(type("Chains", (), {"chains": variants})(), view, target, options,
                           validator=validator, store=store, now=now)
    return {v.variant.sha256: {"verdict": v.report.verdict,
                               "missing": [m.subject for m in v.report.missing]} for v in judged}


def next_commands(doc: dict) -> List[str]:
    target = doc["target"]
    proto = protocol_flag(doc["target"], doc["protocol"])
    hist = " --history %s" % shlex.quote(doc["history"])
    out = []
    failing = [c for c in doc["chains"] if c["trusted_now"] is False]
    if failing:
        out.append("ibmi-trust fix %s%s --store %s%s --dry-run" % (target, proto, shlex.quote(doc["store"]), hist))
    if doc["store"] is None and doc["chains"]:
        out.append("ibmi-trust history %s%s%s --store SPEC   # to say which chains the store trusts now"
                   % (target, proto, hist))
    if len(doc["runs"]) >= 2:
        out.append("ibmi-trust diff --target %s%s%s   # what changed between the last two runs" % (target, proto, hist))
    if not doc["runs"]:
        out.append("ibmi-trust check %s%s --store SPEC%s   # nothing recorded yet for this target" % (target, proto, hist))
    return out


def protocol_flag(target: str, protocol: str) -> str:
    """" --protocol P" unless the port alone says P."""
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.probe.target import Target

    try:
        inferred = Target.parse(target).protocol
    except ConfigError:
        inferred = None
    return "" if inferred == protocol else " --protocol %s" % protocol


def text(doc: dict) -> str:
    lines = ["%s (%s): %d run(s), %d handshake(s) in the last %d days (history %s)" % (
        doc["target"], doc["protocol"], len(doc["runs"]), doc["handshakes"], doc["since_days"], doc["history"])]
    if doc["guarantee"]:
        lines.append("  " + doc["guarantee"]["statement"])
    for c in doc["chains"]:
        state = ("not judged (no --store)" if c["trusted_now"] is None else "TRUSTED now" if c["trusted_now"]
                 else "NOT TRUSTED now by the store alone%s" % (
                     " (missing: %s)" % "; ".join(c["missing_now"]) if c["missing_now"] else ""))
        lines.append("")
        lines.append("Chain %d %s...: %s" % (c["index"], c["chain_sha256"][:16], state))
        lines.append("  first seen %s, last seen %s, %d handshake(s), %.1f%% of the period's" % (
            c["first_seen"].replace("T", " ")[:16], c["last_seen"].replace("T", " ")[:16], c["handshakes"],
            100.0 * c["share"]))
        for pos, cert in enumerate(c["certificates"]):
            lines.append("  sent[%d] %s (until %s)" % (pos, cert["subject"], cert["not_after"][:10]))
        for s in c["served_by"][:6]:
            lines.append("  served by %s %s %s: %d" % (s["address"], "sni=" + s["sni"] if s["sni"] else "no-sni",
                                                       s["key_type"], s["count"]))
    if doc["addresses"]:
        lines.append("")
        lines.append("Addresses:")
        for a in doc["addresses"]:
            lines.append("  %-39s first %s, last %s, %d handshake(s), %d failure(s)%s" % (
                a["address"], a["first_seen"][:10], a["last_seen"][:10], a["handshakes"], a["failures"],
                "" if a["last_success"] else "; never answered"))
    for command in doc["next"]:
        lines.append("next: %s" % command)
    return "\n".join(lines)


def _t(when) -> str:
    return cumulative.iso_seconds(utc(when))
