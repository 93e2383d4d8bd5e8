"""`ibmi-trust store audit`: what in the trust store is about to bite.

Findings, one per store certificate concerned (codes are stable):

| code | severity | meaning |
|---|---|---|
| `ca-expired` | warning; critical when a chain seen in the window depends on it | the CA's notAfter has passed (anchors included) |
| `ca-not-yet-valid` | warning (critical when depended on) | its notBefore is in the future |
| `ca-expiring` | warning | it expires within --warn-days |
| `root-not-in-program` | info | a root the root program in use does not hold: `detail.kind` says what is knowable (below) |
| `weak-ca-signature` | warning; info for a root (its own signature is never checked) | MD5/SHA-1 (MD2, MD4) signature |
| `small-ca-key` | warning | RSA/DSA below 2048 bits, EC below 224 |
| `duplicate-ca` | info; warning when one copy is expired or disabled (a client may take that copy) | same subject and key, different certificates |
| `ca-disabled` | info; warning when a chain seen in the window depends on it | IBM i: the store marks the CA disabled (not trusted) |
| `ca-state-unknown` | info | IBM i: the store does not report whether these CAs are enabled (one finding for all) |
| `not-a-ca` | info | a certificate without basicConstraints CA (a pinned server certificate) |

What a root program can tell about a root it does not hold (`detail.kind`):
`superseded` (the program holds another certificate with the same name and
key: this copy is an older or other issue), `other-key` (the program holds a
CA of this name with another key), `unknown` (private, or removed or
distrusted by the program: a bundle lists what is trusted, not what was
removed, so which of these is not knowable from it).

With a history, every chain seen within the window (all targets) is judged
against the store with the store's validator, and each finding lists the
targets whose chains depend on the certificate (on their path or its anchor,
or a store copy with the same name and key): "mx.example.com:587's chains
end at this root, which expires in 40 days".

Status as `check`: CRITICAL, WARNING or OK from the worst finding; the
Nagios line follows the monitoring-plugin guidelines (conventions.md).
"""
import datetime
import math
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ibmi_trust.jobs import status as st

SCHEMA_VERSION = 1
WEAK_HASHES = {"md5", "sha1", "md2", "md4"}
MIN_BITS = {"RSA": 2048, "DSA": 2048, "EC": 224}
SEVERITY_STATUS = {"critical": st.CRITICAL, "warning": st.WARNING, "info": st.OK}


@dataclass
class AuditFinding:
    code: str
    severity: str
    message: str
    subject: str
    sha256: Optional[str]
    label: str = ""
    detail: dict = field(default_factory=dict)
    depended_on_by: List[dict] = field(default_factory=list)     # [{target, chains, last_seen}]
    next: Optional[str] = None

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message, "subject": self.subject,
                "sha256": self.sha256, "label": self.label, "detail": dict(self.detail),
                "depended_on_by": list(self.depended_on_by), "next": self.next}


@dataclass
class AuditResult:
    store_spec: str
    entries: int
    findings: List[AuditFinding] = field(default_factory=list)
    root_program: Optional[dict] = None
    history: Optional[dict] = None
    notes: List[str] = field(default_factory=list)
    store_problems: List[str] = field(default_factory=list)
    audited_at: str = ""
    warn_days: int = 60
    next_expiry_days: Optional[float] = None

    @property
    def status(self) -> str:
        return st.worst([SEVERITY_STATUS[f.severity] for f in self.findings] or [st.OK])

    @property
    def exit_code(self) -> int:
        return st.exit_code(self.status)

    def counts(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for f in self.findings:
            out[f.code] = out.get(f.code, 0) + 1
        return out

    def next_commands(self) -> List[str]:
        seen, out = set(), []
        for f in self.findings:
            if f.next and f.severity != "info" and f.next not in seen:
                seen.add(f.next)
                out.append(f.next)
        return out

    def to_json(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "kind": "store-audit", "store": self.store_spec,
                "status": self.status, "audited_at": self.audited_at, "warn_days": self.warn_days,
                "certificates": self.entries, "counts": self.counts(),
                "next_expiry_days": None if self.next_expiry_days is None else round(self.next_expiry_days, 2),
                "findings": [f.to_json() for f in self.findings], "root_program": self.root_program,
                "history": self.history, "notes": list(self.notes), "store_problems": list(self.store_problems),
                "next": self.next_commands()}


def run_audit(store, *, root_program=None, journal=None, warn_days: int = 60, now=None,
              validator_options=None) -> AuditResult:
    from ibmi_trust.analyse.core import utc
    from ibmi_trust.timestamps import iso_utc

    now = utc(now)
    entries = store.list()
    result = AuditResult(store_spec=store.spec, entries=len(entries), audited_at=iso_utc(now), warn_days=warn_days,
                         store_problems=["%s: %s" % (p.where, p.reason) for p in store.problems],
                         notes=list(getattr(store, "notes", []) or []))
    depends = _dependencies(store, entries, journal, now, validator_options, result)
    spec = shlex.quote(store.spec)
    for entry in entries:
        _validity(entry, now, warn_days, depends, spec, result)
        _strength(entry, result)
        _state(entry, store, depends, result)
    _duplicates(entries, now, result)
    _roots(entries, root_program, depends, result)
    _unknown_states(entries, store, result)
    alive = [e.cert.days_left(now) for e in entries if e.cert.not_after >= now]
    result.next_expiry_days = min(alive) if alive else None
    order = {"critical": 0, "warning": 1, "info": 2}
    result.findings.sort(key=lambda f: (order[f.severity], f.code, f.subject))
    return result


# -- the checks ------------------------------------------------------------------------
def _validity(entry, now, warn_days, depends, spec, result) -> None:
    cert = entry.cert
    users = depends.get(cert.sha256, [])
    days = cert.days_left(now)
    if cert.not_after < now:
        result.findings.append(_finding(
            "ca-expired", "critical" if users else "warning", "expired %s (%d days ago)" % (
                cert.not_after.strftime("%Y-%m-%d"), math.ceil(-days)), entry, users,
            {"not_after": _day(cert.not_after), "days_left": round(days, 2)},
            next_for_users(users, "fix", spec) if users else
            "ibmi-trust store remove %s --store %s --dry-run   # after checking nothing else needs it"
            % (cert.sha256, spec)))
    elif cert.not_before > now:
        result.findings.append(_finding(
            "ca-not-yet-valid", "critical" if users else "warning",
            "not valid before %s" % cert.not_before.strftime("%Y-%m-%d"), entry, users,
            {"not_before": _day(cert.not_before)}, next_for_users(users, "check", spec) if users else None))
    elif days <= warn_days:
        result.findings.append(_finding(
            "ca-expiring", "warning", "expires %s (in %d days)" % (cert.not_after.strftime("%Y-%m-%d"), math.floor(days)),
            entry, users, {"not_after": _day(cert.not_after), "days_left": round(days, 2)},
            next_for_users(users, "check", spec) if users else None))


def _strength(entry, result) -> None:
    cert = entry.cert
    root = cert.self_issued
    alg = cert.signature_hash_name()
    if alg in WEAK_HASHES:
        result.findings.append(_finding(
            "weak-ca-signature", "info" if root else "warning",
            "signed with %s%s" % (alg.upper(), " (a root's own signature is not checked by clients)" if root
                                  else ", which clients at security level 1 and above (OpenSSL 3) reject"),
            entry, [], {"hash": alg}))
    kind, bits = cert.key_description()
    if bits < MIN_BITS.get(kind, 0):
        result.findings.append(_finding("small-ca-key", "warning", "%d-bit %s key (at least %d expected)"
                                        % (bits, kind, MIN_BITS[kind]), entry, [], {"algorithm": kind, "bits": bits}))
    if not cert.is_ca and not root:
        result.findings.append(_finding("not-a-ca", "info", "not a CA certificate (a pinned server certificate?)",
                                        entry, [], {}))


def _state(entry, store, depends, result) -> None:
    if entry.enabled is False or entry.trusted is False:
        users = depends.get(entry.cert.sha256, [])
        result.findings.append(_finding(
            "ca-disabled", "warning" if users else "info",
            "the store marks it %s" % ("disabled" if entry.enabled is False else "not trusted"), entry, users,
            {"enabled": entry.enabled, "trusted": entry.trusted},
            "enable it in DCM (Manage certificates, Enable) if the targets above need it" if users else None))


def _unknown_states(entries, store, result) -> None:
    if not getattr(store, "records_enabled_state", False):
        return
    unknown = [e for e in entries if e.enabled is None]
    if unknown:
        result.findings.append(AuditFinding(
            "ca-state-unknown", "info", "the store does not report whether %d CA(s) are enabled: their state is "
            "unknown (DCM shows it; docs/verify-on-your-system.md)" % len(unknown), "", None,
            detail={"count": len(unknown), "labels": [e.label for e in unknown[:50]]}))


def _duplicates(entries, now, result) -> None:
    groups: Dict[tuple, list] = {}
    for entry in entries:
        groups.setdefault((entry.cert.subject, entry.cert.spki_sha256), []).append(entry)
    for (subject, _spki), members in groups.items():
        distinct = {e.cert.sha256: e for e in members}
        if len(distinct) < 2:
            continue
        bad = [e for e in distinct.values() if e.cert.not_after < now or e.enabled is False]
        copies = [{"sha256": e.cert.sha256, "label": e.label, "not_after": _day(e.cert.not_after),
                   "expired": e.cert.not_after < now, "enabled": e.enabled} for e in distinct.values()]
        result.findings.append(AuditFinding(
            "duplicate-ca", "warning" if bad else "info",
            "%d certificates with the same name and key%s" % (
                len(distinct), ", %d of them expired or disabled: a client may take that copy" % len(bad) if bad
                else ""), subject, None, detail={"copies": copies}))


def _roots(entries, program, depends, result) -> None:
    if program is None:
        result.notes.append("no root program found: roots were not compared with one (use --roots FILE)")
        return
    try:
        certs = program.certificates()
    except Exception as exc:                       # an unreadable bundle: say so, audit the rest
        result.notes.append("root program %s could not be read: %s" % (program.path, exc))
        return
    result.root_program = {"name": program.name, "path": program.path, "roots": len(certs)}
    held = {c.sha256 for c in certs}
    by_subject: Dict[str, list] = {}
    for c in certs:
        by_subject.setdefault(c.subject, []).append(c)
    for entry in entries:
        cert = entry.cert
        if not cert.self_issued or cert.sha256 in held:
            continue
        namesakes = by_subject.get(cert.subject, [])
        if any(c.spki_sha256 == cert.spki_sha256 for c in namesakes):
            kind, why = "superseded", "the root program holds another certificate of this CA (same name and key)"
        elif namesakes:
            kind, why = "other-key", "the root program holds a CA of this name with another key"
        else:
            kind, why = "unknown", ("private, or removed or distrusted by the root program: %s lists what it "
                                    "trusts, not what it removed, so which is not knowable from it" % program.name)
        users = depends.get(cert.sha256, [])
        result.findings.append(_finding("root-not-in-program", "info", "not in the root program %s: %s"
                                        % (program.name, why), entry, users, {"kind": kind, "program": program.name}))


# -- what the chains seen lately depend on ---------------------------------------------------
def _dependencies(store, entries, journal, now, validator_options, result) -> Dict[str, List[dict]]:
    """store certificate SHA-256 -> [{target, chains, last_seen}] from the history's window."""
    if journal is None or not journal.enabled:
        if journal is not None and journal.opening_problem:
            result.notes.append("history not used: %s" % journal.opening_problem)
        return {}
    import sqlite3

    from ibmi_trust.errors import IbmiTrustError

    try:
        return _chains_depend(store, entries, journal, now, validator_options, result)
    except (IbmiTrustError, sqlite3.Error, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        result.notes.append("history not read (the audit ran without it): %s" % message)
        result.history = dict(journal.describe(), read=False)
        return {}


def _chains_depend(store, entries, journal, now, validator_options, result) -> Dict[str, List[dict]]:
    from ibmi_trust.analyse import analyse_chain, index_store
    from ibmi_trust.analyse.validators import ValidatorOptions, for_store
    from ibmi_trust.certs import Cert
    from ibmi_trust.history.cumulative import iso_seconds
    from ibmi_trust.probe.target import Target

    backend = journal.backend
    since = now - datetime.timedelta(days=journal.settings.window_days)
    validator = for_store(store, validator_options or ValidatorOptions())
    view = index_store(entries)
    by_name_key: Dict[tuple, List[str]] = {}
    for entry in entries:
        by_name_key.setdefault((entry.cert.subject, entry.cert.spki_sha256), []).append(entry.cert.sha256)
    out: Dict[str, Dict[str, dict]] = {}
    targets = chains_seen = 0
    for key, _runs, last_run in backend.targets():
        if last_run < since:
            continue
        rows = [r for r in backend.summary(key, since) if r.chain]
        last = {}
        for r in rows:
            last[r.chain] = max(last.get(r.chain, r.last_at), r.last_at)
        if not last:
            continue
        targets += 1
        target = Target(key.host, key.port, key.protocol)
        for sha, ders in backend.chain_certs(sorted(last)).items():
            chains_seen += 1
            report = analyse_chain([Cert(d) for d in ders], view, host=target.host, sourcing=None, now=now,
                                   validator=validator)
            used = list(report.path) + ([report.anchor] if report.anchor is not None else [])
            hit = set()
            for cert in used:
                hit.update(by_name_key.get((cert.subject, cert.spki_sha256), []))
            for store_sha in hit:
                item = out.setdefault(store_sha, {}).setdefault(key.display(), {
                    "target": key.display(), "protocol": key.protocol, "chains": 0, "last_seen": ""})
                item["chains"] += 1
                item["last_seen"] = max(item["last_seen"], iso_seconds(last[sha]))
    result.history = dict(journal.describe(), read=True, targets=targets, chains=chains_seen)
    return {sha: sorted(users.values(), key=lambda u: u["target"]) for sha, users in out.items()}


# -- helpers -------------------------------------------------------------------------------
def _finding(code, severity, what, entry, users, detail, next_command=None) -> AuditFinding:
    cert = entry.cert
    message = "%s: %s" % (cert.common_name, what)
    if users:
        names = ", ".join("%s's" % u["target"] for u in users[:3]) + (" (+%d more)" % (len(users) - 3)
                                                                       if len(users) > 3 else "")
        message += "; %s chains %s" % (names, "end at this root" if cert.self_issued else "depend on this CA")
    return AuditFinding(code, severity, message, cert.subject, cert.sha256, entry.label, detail, list(users),
                        next_command)


def next_for_users(users, verb: str, spec: str) -> Optional[str]:
    if not users:
        return None
    from ibmi_trust.history.report import protocol_flag

    first = users[0]
    extra = " --dry-run" if verb == "fix" else ""
    return "ibmi-trust %s %s%s --store %s%s" % (verb, first["target"], protocol_flag(first["target"],
                                                                                     first["protocol"]), spec, extra)


def _day(when) -> str:
    return when.strftime("%Y-%m-%d")


# -- renderings -------------------------------------------------------------------------------
def audit_text(result: AuditResult) -> str:
    program = result.root_program
    lines = ["%s: store audit of %s: %d certificate(s), %d finding(s)%s" % (
        result.status, result.store_spec, result.entries, len(result.findings),
        " (root program %s, %d roots)" % (program["name"], program["roots"]) if program else "")]
    for f in result.findings:
        lines.append("  %-8s %-20s %s%s" % (f.severity.upper(), f.code, f.message,
                                             " [%s]" % f.label if f.label else ""))
    history = result.history
    if history and history.get("read"):
        lines.append("  history: %d target(s), %d chain(s) seen in the last %d days checked for what they depend on "
                     "(%s)" % (history["targets"], history["chains"], history["window_days"], history["location"]))
    for note in result.notes:
        lines.append("  note: %s" % note)
    for problem in result.store_problems:
        lines.append("  store: %s" % problem)
    commands = result.next_commands()
    for command in commands:
        lines.append("next: %s" % command)
    if not commands:
        lines.append("next: nothing to do now; run it again tomorrow (e.g. in the nightly job)")
    return "\n".join(lines)


def nagios_line(result: AuditResult) -> str:
    counts = result.counts()
    worst: Dict[str, int] = {}
    for f in result.findings:
        if f.severity != "info":
            worst[f.code] = worst.get(f.code, 0) + 1
    if worst:
        summary = "%s: %s" % (result.store_spec, "; ".join("%d %s" % (n, code) for code, n in sorted(worst.items())))
    else:
        summary = "%s: %d CA certificate(s), nothing expiring within %d days" % (
            result.store_spec, result.entries, result.warn_days)
    perf = ["'certificates'=%d;;;0" % result.entries]
    for code in ("ca-expired", "ca-expiring", "root-not-in-program", "weak-ca-signature", "small-ca-key",
                 "duplicate-ca", "ca-disabled"):
        perf.append("'%s'=%d;;;0" % (code.replace("-", "_"), counts.get(code, 0)))
    if result.next_expiry_days is not None:
        perf.insert(1, "'days_to_next_ca_expiry'=%d;%d:;;0" % (math.floor(result.next_expiry_days), result.warn_days))
    return "IBMI-TRUST-AUDIT %s - %s | %s" % (result.status, summary, " ".join(perf))


def unknown_line(message: str) -> str:
    return "IBMI-TRUST-AUDIT UNKNOWN - could not audit the store: %s" % message
