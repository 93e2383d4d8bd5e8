"""`fix`: check, source what is missing, plan, confirm, import with backup,
re-probe to prove it, roll back when the proof fails."""
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from ibmi_trust.errors import FixRefused
from ibmi_trust.jobs import status as st
from ibmi_trust.jobs.check import CheckOptions, CheckResult, run_check


@dataclass
class FixResult:
    before: CheckResult
    plan: object = None                    # importer.plan.ImportPlan
    change: object = None                  # store ChangeReport
    after: Optional[CheckResult] = None
    dry_run: bool = False
    messages: List[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def status(self) -> str:
        if self.after is not None:
            return self.after.status
        return self.before.status

    @property
    def exit_code(self) -> int:
        if self.dry_run:
            return 0 if self.before.status != st.UNKNOWN else st.exit_code(st.UNKNOWN)
        return st.exit_code(self.status)

    def to_json(self) -> dict:
        from ibmi_trust.jobs.render import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "fix",
            "dry_run": self.dry_run,
            "status": self.status,
            "before": self.before.to_json(),
            "plan": self.plan.to_json() if self.plan is not None else None,
            "change": self.change.summary() if self.change is not None else None,
            "after": self.after.to_json() if self.after is not None else None,
            "messages": list(self.messages),
            "elapsed_seconds": round(self.elapsed, 3),
        }


def _proof_from(check: CheckResult):
    from ibmi_trust.importer.apply import Proof

    failures = ["chain %d: %s" % (v.index, v.report.verdict) for v in check.variants if v.report.verdict != "trusted"]
    if check.status == st.UNKNOWN:
        failures.append("could not probe: %s" % (check.error or "unknown"))
    return Proof(ok=not failures, failures=failures, detail=check)


def run_fix(target, options: CheckOptions, *, approved_roots=(), dry_run: bool = False,
            confirm: Optional[Callable[[object], bool]] = None, store=None,
            progress=None, announce: Callable[[str], None] = lambda line: None) -> FixResult:
    """`confirm(plan)` is asked before writing (None = yes). Raises FixRefused
    (nothing written) when the plan cannot make every variant trusted, and
    RolledBack when the re-probe disproves the import."""
    from ibmi_trust.importer.apply import apply_plan
    from ibmi_trust.importer.plan import build_plan

    started = time.monotonic()
    if store is None:
        from ibmi_trust.jobs.check import open_configured_store

        store = open_configured_store(options)
    before = run_check(target, options, store=store, progress=progress)
    result = FixResult(before=before, dry_run=dry_run)
    if before.status == st.UNKNOWN:
        result.messages.append("could not probe: %s" % before.error)
        result.elapsed = time.monotonic() - started
        return result
    plan = build_plan(before.variants, approved_roots)
    result.plan = plan
    if plan.blockers:
        raise FixRefused("nothing was changed: " + " | ".join(plan.blockers),
                         hint="`ibmi-trust needs %s` lists what to fetch by hand; bring it with --from FILE"
                         % target.display())
    if not plan.items:
        result.messages.append("every chain is already trusted: nothing to import")
        result.elapsed = time.monotonic() - started
        return result
    if not dry_run and confirm is not None and not confirm(plan):
        raise FixRefused("the operator declined; nothing was changed")
    announce("importing %d certificate(s) into %s" % (len(plan.items), store.spec))
    reprobe_options = CheckOptions(store_spec=options.store_spec, store_options=options.store_options,
                                   probe_options=options.probe_options, sourcing=None,
                                   warn_days=options.warn_days)

    def reprobe():
        announce("re-probing to prove every chain now verifies")
        return _proof_from(run_check(target, reprobe_options, store=store))

    outcome = apply_plan(store, plan, reprobe, dry_run=dry_run)
    result.change = outcome.change
    result.after = outcome.proof.detail if outcome.proof is not None else None
    if dry_run:
        result.messages.append("dry run: nothing was changed")
    elif outcome.change.changed:
        result.messages.append("imported %d certificate(s); backup %s" % (
            len(outcome.change.added), outcome.change.backup.id if outcome.change.backup else "?"))
    else:
        result.messages.append("the store already held every planned certificate; nothing changed")
    result.elapsed = time.monotonic() - started
    return result
