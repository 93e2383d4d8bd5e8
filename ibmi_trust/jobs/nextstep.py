"""The next command after a decision, complete enough to paste.

Every output that ends in a decision (check, needs, fix, its refusals and
its dry run, verify) ends with "next:" lines. A command carries everything
the run that printed it was given and the next one needs: the store, the
protocol, --resolve, --ehlo, the probe shape (--no-sni, --like-system,
--tls-version), --chain, --no-fetch, --roots, --from, --trust-root,
--seclevel, --no-check-name and the store password's source (never the
password). Words are quoted for a POSIX shell (PASE's too).

`Invocation` is what was run; `for_check`, `for_needs` and `for_fix` turn a
result into `Step`s: a command and why, or advice when no command of ours
can help (a server-side fault). Tests run the printed commands.
"""
import shlex
from dataclasses import dataclass, replace
from typing import List, Optional, Sequence, Tuple

PROGRAM = "ibmi-trust"


@dataclass(frozen=True)
class Invocation:
    target: str
    store: Optional[str] = None
    protocol: Optional[str] = None
    resolve: Tuple[str, ...] = ()
    ehlo: Optional[str] = None
    no_sni: bool = False
    like_system: bool = False
    tls_version: Optional[str] = None
    chain: Optional[str] = None
    no_fetch: bool = False
    roots: Optional[str] = None
    from_files: Tuple[str, ...] = ()
    trust_roots: Tuple[str, ...] = ()
    seclevel: Optional[int] = None
    no_check_name: bool = False
    password_env: Optional[str] = None
    password_file: Optional[str] = None
    app_id: Optional[str] = None

    @classmethod
    def from_params(cls, params: dict, store: Optional[str] = None) -> "Invocation":
        """From a command's parameters; `store` is the spec the store opened as
        (the default *SYSTEM included), else the --store given."""
        return cls(
            target=params["target"], store=store or params.get("store_spec"), protocol=params.get("protocol"),
            resolve=tuple(params.get("resolve") or ()), ehlo=params.get("ehlo"),
            no_sni=bool(params.get("no_sni")), like_system=bool(params.get("like_system")),
            tls_version=params.get("tls_version"), chain=params.get("chain"), no_fetch=bool(params.get("no_fetch")),
            roots=params.get("roots"), from_files=tuple(params.get("from_files") or ()),
            trust_roots=tuple(params.get("trust_roots") or ()), seclevel=params.get("seclevel"),
            no_check_name=bool(params.get("no_check_name")), password_env=params.get("password_env"),
            password_file=params.get("password_file"), app_id=params.get("app_id"))

    def with_(self, **changes) -> "Invocation":
        return replace(self, **changes)

    def adding(self, from_files: Sequence[str] = (), trust_roots: Sequence[str] = ()) -> "Invocation":
        return replace(self, from_files=tuple(dict.fromkeys(self.from_files + tuple(from_files))),
                       trust_roots=tuple(dict.fromkeys(self.trust_roots + tuple(trust_roots))))

    def argv(self, verb: str, *extra: str) -> List[str]:
        """[ibmi-trust, verb, TARGET, options...]: probe takes only the probe's options."""
        out = [PROGRAM, verb, self.target]
        probe_only = verb == "probe"
        if self.store and not probe_only:
            out += ["--store", self.store]
        if self.protocol:
            out += ["--protocol", self.protocol]
        for entry in self.resolve:
            out += ["--resolve", entry]
        if self.ehlo:
            out += ["--ehlo", self.ehlo]
        if self.no_sni:
            out.append("--no-sni")
        if self.like_system:
            out.append("--like-system")
        if self.tls_version:
            out += ["--tls-version", self.tls_version]
        if probe_only:
            return out + list(extra)
        if self.password_env:
            out += ["--password-env", self.password_env]
        if self.password_file:
            out += ["--password-file", self.password_file]
        if self.chain:
            out += ["--chain", self.chain]
        if self.no_fetch:
            out.append("--no-fetch")
        if self.roots:
            out += ["--roots", self.roots]
        for path in self.from_files:
            out += ["--from", path]
        for fingerprint in self.trust_roots:
            out += ["--trust-root", fingerprint]
        if self.seclevel is not None:
            out += ["--seclevel", str(self.seclevel)]
        if self.no_check_name:
            out.append("--no-check-name")
        if self.app_id and verb == "fix":
            out += ["--app-id", self.app_id]
        return out + list(extra)

    def command(self, verb: str, *extra: str) -> str:
        return shlex.join(self.argv(verb, *extra))


@dataclass
class Step:
    """One thing to do next: a command (None when only advice fits) and why."""
    why: str
    command: Optional[str] = None

    def to_json(self) -> dict:
        return {"why": self.why, "command": self.command}


NOTHING = Step("nothing to do: every chain verifies")


def lines(steps: Sequence[Step]) -> List[str]:
    """The steps as text: "next: COMMAND" with its reason above it."""
    out = []
    for number, step in enumerate(steps):
        word = "next" if number == 0 else "or"
        if step.command:
            out.append("%s: %s" % (word, step.why))
            out.append("  %s" % step.command)
        else:
            out.append("%s: %s" % (word, step.why))
    return out


# -- after check ---------------------------------------------------------------
def for_check(result, inv: Invocation, approved: Sequence[str] = ()) -> List[Step]:
    """What follows a check (also the `after` of a fix, and a verify target)."""
    if result.status == "UNKNOWN":
        return unreachable(result, inv)
    from ibmi_trust.importer.plan import build_plan

    plan = build_plan(result.variants, list(approved) + list(inv.trust_roots))
    steps: List[Step] = _enable_steps(result, inv)
    if plan.items:
        steps.extend(_fix_steps(plan, inv))
    elif plan.blocked:
        steps.extend(_unblock_steps(plan, inv))
    steps.extend(_name_steps(result, inv))
    if not steps:
        steps.extend(_other_steps(result, inv))
    return steps or [NOTHING]


def _fix_steps(plan, inv: Invocation) -> List[Step]:
    """Import the plan; with blocked chains, --partial, or the approvals that unblock them."""
    fixable = "%s %s" % (_chains(plan.fixable), "needs" if len(plan.fixable) == 1 else "need")
    if not plan.blocked:
        return [Step("import what %s, prove it, or roll back" % fixable, inv.command("fix"))]
    steps = [Step("import what %s, prove it, and leave %s failing (exit 7)"
                  % (fixable, _chains(plan.blocked_chains)), inv.command("fix", "--partial"))]
    approvals = plan.approvals()
    if approvals:
        steps.append(Step("after checking each root's SHA-256 with its owner, fix every chain",
                          inv.adding(trust_roots=approvals).command("fix")))
    steps.extend(_carry_in_steps(plan, inv))
    return steps


def _unblock_steps(plan, inv: Invocation) -> List[Step]:
    steps = []
    approvals = plan.approvals()
    if approvals:
        steps.append(Step("%s end%s at a root nobody vouches for: check its SHA-256 with its owner, then"
                          % (_chains(plan.blocked_chains), "s" if len(plan.blocked) == 1 else ""),
                          inv.adding(trust_roots=approvals).command("fix")))
    steps.extend(_carry_in_steps(plan, inv))
    return steps


def _carry_in_steps(plan, inv: Invocation) -> List[Step]:
    if not any(b.missing for b in plan.blocked):
        return []
    return [Step("list the CA certificates to carry in (and where to get them)", inv.command("needs"))]


def _enable_steps(result, inv: Invocation) -> List[Step]:
    """A CA the store holds but does not trust (disabled in *SYSTEM): enable it in DCM,
    then check again; no import can do that."""
    disabled = dict.fromkeys("%s (label %s)" % (f.subject, (f.detail or {}).get("label", "?"))
                             for v in result.variants for f in v.report.findings if f.code == "ca-disabled-in-store")
    if not disabled:
        return []
    return [Step("enable %s in Digital Certificate Manager (DCM: Manage Certificates > Set CA status), then check "
                 "again" % "; ".join(disabled), inv.command("check"))]


def _name_steps(result, inv: Invocation) -> List[Step]:
    mismatched = [v.index for v in result.variants if any(f.code == "name-mismatch" for f in v.report.findings)]
    if not mismatched:
        return []
    return [Step("%s do%s not name %s: only the server's operator can fix that; if your client does not "
                 "check host names (sendmail, many IBM i programs), judge without the name"
                 % (_chains(mismatched), "es" if len(mismatched) == 1 else "", _host(inv.target)),
                 inv.with_(no_check_name=True).command("check"))]


def _other_steps(result, inv: Invocation) -> List[Step]:
    if result.status == "OK":
        return []
    failing = [v for v in result.variants if v.report.status == "CRITICAL"]
    if failing:
        return [Step("no store change fixes %s (%s): tell the server's operator, then check again"
                     % (_chains([v.index for v in failing]), failing[0].report.findings[0].message
                        if failing[0].report.findings else failing[0].report.verdict), inv.command("check"))]
    store_expiring = [f for v in result.variants for f in v.report.findings
                      if f.code == "expires-soon" and v.report.anchor is not None and f.sha256 == v.report.anchor.sha256]
    if store_expiring and inv.store:
        days = max(int((f.detail or {}).get("days_left", 0)) + 1 for f in store_expiring)
        return [Step("a CA in the store expires soon: see what else expires with it",
                     shlex.join([PROGRAM, "store", "list", "--store", inv.store, "--expiring", str(days)]))]
    return [Step("nothing to import; the warnings above are the server's to fix (check again later)",
                 inv.command("check"))]


def unreachable(result, inv: Invocation) -> List[Step]:
    """Could not probe: capture the chains where the server is reachable, judge them here."""
    if inv.chain:
        return [Step("the chain file gave nothing to judge: capture the chains again", None)]
    host_port = _host_port(inv.target, result)
    return [
        Step("on a machine that reaches %s, save every chain it presents" % host_port,
             inv.with_(store=None).command("probe", "--save-dir", "chains")),
        Step("copy the chains directory here, then judge them against this store without connecting",
             inv.with_(chain="chains").command("check")),
    ]


# -- after needs ---------------------------------------------------------------
def for_needs(needs, result, inv: Invocation) -> List[Step]:
    """needs -> curl what is not here yet, then fix --from those files (or fix, when sourcing found them)."""
    if result.status == "UNKNOWN" and not result.variants:
        return unreachable(result, inv)
    if not needs:
        return for_check(result, inv)
    steps: List[Step] = []
    files, approvals = [], []
    for number, need in enumerate(needs, 1):
        if need.reason == "unapproved-root" and need.sha256:
            approvals.append(need.sha256)
        if need.cert is not None or need.reason == "unapproved-root":
            continue                          # obtained here (fix gets it again), or sent by the server
        if need.reason == "root" and any(s.startswith("root-program:") for s in need.sources):
            continue                          # the root program supplies it
        name = "issuer-%d.crt" % number
        urls = [s[4:] for s in need.sources if s.startswith("aia:")]
        if urls:
            steps.append(Step("on a machine with internet access, fetch [%d] %s" % (number, need.subject),
                              shlex.join(["curl", "-fsS", "-o", name, urls[0]])))
        else:
            steps.append(Step("ask the server's operator for [%d] %s and save it as %s" % (
                number, need.subject, name), None))
        files.append(name)
    final = inv.adding(from_files=files, trust_roots=approvals)
    why = "import them, prove it, or roll back"
    if files:
        why = "copy %s here, then import, prove, or roll back" % ", ".join(files)
    if approvals:
        why += " (after checking each --trust-root fingerprint with the root's owner)"
    steps.append(Step(why, final.command("fix")))
    return steps


# -- after fix -----------------------------------------------------------------
def for_fix(result, inv: Invocation, *, partial: bool = False) -> List[Step]:
    """What follows a fix, whatever its outcome (a dry run, a refusal, a roll back)."""
    plan = result.plan
    outcome = result.outcome
    if outcome == "unknown":
        return unreachable(result.before, inv)
    if outcome == "rolled-back":
        return [Step("the proof failed and the store was put back: see what the server presents now",
                     inv.command("check"))]
    if outcome == "refused" and plan is not None and plan.items and (partial or not plan.blocked):
        if result.overlay is not None and not result.overlay.ok:
            return [Step("see each chain's findings", inv.command("check"))]
        return [Step("import without being asked", inv.command("fix", *(("--partial",) if plan.blocked else ()),
                                                                "--yes"))]
    if outcome in ("dry-run", "refused") and plan is not None:
        if plan.items:
            if plan.blocked and not partial:
                return _fix_steps(plan, inv)
            return [Step("import it, prove it, or roll back", inv.command("fix", *(("--partial",) if plan.blocked
                                                                                    else ())))]
        if plan.blocked:
            return _unblock_steps(plan, inv) or [Step("no store change fixes %s: see the findings"
                                                      % _chains(plan.blocked_chains), inv.command("check"))]
    if outcome == "partial":
        return _unblock_steps(plan, inv) or [Step("no store change fixes %s: see the findings"
                                                  % _chains(plan.blocked_chains), inv.command("check"))]
    after = result.after if result.after is not None else result.before
    steps = [s for s in for_check(after, inv) if s is not NOTHING]
    if inv.chain and result.outcome == "fixed":
        steps.append(Step("the proof read the chains from %s (no handshake): when %s is reachable from here, "
                          "prove it with a handshake" % (inv.chain, _host(inv.target)),
                          inv.with_(chain=None).command("check")))
    return steps or [NOTHING]


# -- words ---------------------------------------------------------------------
def _chains(numbers: Sequence[int]) -> str:
    numbers = list(numbers)
    if len(numbers) == 1:
        return "chain %d" % numbers[0]
    return "chains %s and %d" % (", ".join(str(n) for n in numbers[:-1]), numbers[-1])


def _host(target: str) -> str:
    from ibmi_trust.probe.target import Target

    try:
        return Target.parse(target).host
    except Exception:                       # the words only: the target was parsed before
        return target


def _host_port(target: str, result) -> str:
    t = getattr(result, "target", None)
    return t.display() if t is not None else target


