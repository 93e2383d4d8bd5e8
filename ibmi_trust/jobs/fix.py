"""`fix`: check, source what is missing, plan, check the plan, confirm,
import with backup, prove, roll back when the proof fails.

    check (probe + analysis, refereed by the real OpenSSL where it is here)
      -> plan (importer.plan: roots only from the root program or an approval)
      -> the plan checked on a scratch copy of the store (importer.overlay):
         OpenSSL-profile stores, by `openssl verify`; a plan that leaves any
         chain failing is refused, nothing written
      -> confirm -> store.add (lock, backup, atomic write, re-read)
      -> proof (importer.proof): real verifying handshakes for CApath and
         bundle stores ("proof: OpenSSL handshake"); GSKit's own handshakes
         (GSKPROBE) for *SYSTEM and .KDB ("proof: GSKit handshake"), or, where
         that program is not installed or --proof model is asked for, the
         GSKit model re-run on a re-probe ("proof: GSKit model", and why)
      -> kept, or the backup is put back (RolledBack)

Chains the plan cannot fix (a root nobody approved, an issuer not found)
are "blocked": without `partial` fix refuses (the dry run still shows the
plan for the others); with `partial` it imports what the fixable chains
need, and the plan check and the proof count only those (outcome
"partial", exit 7); the blocked chains are reported, not a proof failure.

Refusals and roll-backs raise FixRefused / RolledBack (exit 5 / 6) with the
FixResult so far attached as `.result`, so `--json` still prints it.
"""
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from ibmi_trust.errors import EXIT_PARTIAL, FixRefused, RolledBack
from ibmi_trust.jobs import status as st
from ibmi_trust.jobs.check import CheckOptions, CheckResult, analyse_probe, referee_words, run_check, validator_for

OUTCOMES = ("fixed", "partial", "nothing-to-do", "dry-run", "refused", "rolled-back", "unknown")


@dataclass
class FixResult:
    before: CheckResult
    plan: object = None                    # importer.plan.ImportPlan
    change: object = None                  # store ChangeReport
    after: Optional[CheckResult] = None    # the chains seen before, judged against the store after the import
    dry_run: bool = False
    messages: List[str] = field(default_factory=list)
    elapsed: float = 0.0
    overlay: object = None                 # importer.overlay.OverlayResult
    proof: object = None                   # importer.proof.Proof
    outcome: str = "nothing-to-do"
    error: Optional[str] = None            # why it was refused or rolled back
    partial: bool = False                  # --partial: import for the fixable chains, report the blocked ones

    @property
    def status(self) -> str:
        if self.after is not None:
            return self.after.status
        return self.before.status

    @property
    def exit_code(self) -> int:
        if self.outcome == "refused":
            return FixRefused.exit_code
        if self.outcome == "rolled-back":
            return RolledBack.exit_code
        blocked = self.plan is not None and bool(self.plan.blocked)
        if self.dry_run:
            if self.before.status == st.UNKNOWN:
                return st.exit_code(st.UNKNOWN)
            if blocked:                                 # what the run without --dry-run would end with
                return EXIT_PARTIAL if self.partial else FixRefused.exit_code
            return 0
        if self.outcome == "partial":
            return EXIT_PARTIAL
        return st.exit_code(self.status)

    def to_json(self) -> dict:
        from ibmi_trust.jobs.render import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "fix",
            "dry_run": self.dry_run,
            "partial": self.partial,
            "outcome": self.outcome,
            "status": self.status,
            "error": self.error,
            "before": self.before.to_json(),
            "plan": self.plan.to_json() if self.plan is not None else None,
            "plan_check": self.overlay.to_json() if self.overlay is not None else None,
            "change": self.change.summary() if self.change is not None else None,
            "proof": self.proof.to_json() if self.proof is not None else None,
            "after": self.after.to_json() if self.after is not None else None,
            "messages": list(self.messages),
            "elapsed_seconds": round(self.elapsed, 3),
        }


def run_fix(target, options: CheckOptions, *, approved_roots=(), dry_run: bool = False, partial: bool = False,
            confirm: Optional[Callable[[object], bool]] = None, store=None,
            progress=None, announce: Callable[[str], None] = lambda line: None) -> FixResult:
    """`confirm(plan)` is asked before writing (None = yes); `partial`: see the module's words."""
    from ibmi_trust.importer.plan import build_plan

    started = time.monotonic()
    if store is None:
        from ibmi_trust.jobs.check import open_configured_store

        store = open_configured_store(options)
    before = run_check(target, options, store=store, progress=progress)
    result = FixResult(before=before, dry_run=dry_run, partial=partial)
    try:
        if before.status == st.UNKNOWN:
            result.outcome = "unknown"
            result.messages.append("could not probe: %s" % before.error)
            return result
        plan = build_plan(before.variants, approved_roots)
        result.plan = plan
        if plan.blocked and not plan.items:
            _refuse(result, "nothing was changed: " + " | ".join(plan.blockers))
        if not plan.items:
            result.messages.append("every chain is already trusted: nothing to import")
            return result
        if plan.blocked and not partial and not dry_run:
            _refuse(result, "%s; nothing was changed (--partial imports what %s need and leaves %s failing)"
                    % (" | ".join(plan.blockers), _chain_words(plan.fixable), _chain_words(plan.blocked_chains)))
        validator = validator_for(store, options)
        _refuse_without_gskit_environment(result, target)
        result.overlay = _check_on_scratch_copy(store, plan, _unblocked(before, plan), validator, options)
        if result.overlay is not None:
            from ibmi_trust.importer.overlay import scratch_note

            result.messages.append(scratch_note(result.overlay))
            if not result.overlay.ok:
                _refuse(result, "the plan would not make every chain verify, so nothing was changed: %s"
                        % "; ".join(result.overlay.failures),
                        hint="run `ibmi-trust check %s` for the findings of each chain" % target.display())
        if dry_run:
            result.outcome = "dry-run"
            result.messages.append("dry run: nothing was changed")
            if plan.blocked and not partial:
                result.messages.append("without --partial, fix refuses: %s" % " | ".join(plan.blockers))
            return result
        try:
            agreed = confirm is None or confirm(plan)
        except FixRefused as exc:                   # e.g. no terminal to ask on
            _refuse(result, exc.message, exc.hint)
        if not agreed:
            _refuse(result, "the operator declined; nothing was changed")
        _apply(result, target, options, store, validator, announce)
        return result
    finally:
        result.elapsed = time.monotonic() - started


def _refuse(result: FixResult, message: str, hint: str = "") -> None:
    result.outcome = "refused"
    result.error = message
    error = FixRefused(message, hint=hint)
    error.result = result
    raise error


def _refuse_without_gskit_environment(result: FixResult, target) -> None:
    """GSKit could not open the store (or the application) before the import: its
    proof could never pass, so nothing is written."""
    run = (result.before.gskit or {}).get("run") or {}
    handshakes = run.get("handshakes") or []
    if handshakes and all(h.get("decision") == "environment" for h in handshakes):
        first = handshakes[0]
        gsk = first.get("gsk") or {}
        _refuse(result, "GSKit cannot open %s for %s (%s %s: %s), so an import could not be proven; nothing was "
                "changed" % (first.get("store"), target.display(), gsk.get("code"), gsk.get("constant"),
                             first.get("gsk_strerror")),
                hint="`ibmi-trust explain %s` says what to do; --proof model proves by the GSKit model alone"
                % gsk.get("code"))


def _chain_words(numbers) -> str:
    return "chain%s %s" % ("" if len(numbers) == 1 else "s", ", ".join(str(n) for n in numbers))


def _verify_words(plan) -> str:
    if not plan.blocked:
        return "every chain verifies"
    return "%s verif%s" % (_chain_words(plan.fixable), "ies" if len(plan.fixable) == 1 else "y")


def _unblocked(check: CheckResult, plan) -> list:
    """The variants the plan must make (or keep) verifying: all but the blocked ones."""
    blocked = set(plan.blocked_chains) if plan is not None else set()
    return [v for v in check.variants if v.index not in blocked]


def _blocked(check: CheckResult, plan) -> list:
    blocked = set(plan.blocked_chains) if plan is not None else set()
    return [v for v in check.variants if v.index in blocked]


def _check_on_scratch_copy(store, plan, variants, validator, options: CheckOptions):
    from ibmi_trust.importer import overlay

    if validator.kind != "openssl" or not overlay.supported(store):
        return None
    from ibmi_trust.analyse.core import utc
    from ibmi_trust.analyse.referee import cached

    referee = cached() if options.referee else None
    return overlay.check_plan(store, plan, variants, validator, referee, utc(None))


def _apply(result: FixResult, target, options: CheckOptions, store, validator, announce) -> None:
    from ibmi_trust.importer.apply import apply_plan

    plan = result.plan
    announce("importing %d certificate(s) into %s" % (len(plan.items), store.spec))

    def prove():
        announce("proving that %s now (%s)" % (_verify_words(plan), _proof_kind(validator, store, options,
                                                                                result.before)))
        result.proof = _prove(target, options, store, validator, result.before, plan)
        _prove_historic(result.proof, result.before, store, validator, options)
        return result.proof

    try:
        outcome = apply_plan(store, plan, prove)
    except RolledBack as exc:
        result.outcome = "rolled-back"
        result.error = exc.message
        exc.result = result
        raise
    result.change = outcome.change
    if outcome.change.changed:
        result.outcome = "fixed"
        result.messages.append("imported %d certificate(s); backup %s" % (
            len(outcome.change.added), outcome.change.backup.id if outcome.change.backup else "?"))
    else:
        result.messages.append("the store already held every planned certificate; nothing changed")
    if plan.blocked:
        result.outcome = "partial"
        result.messages.append("--partial: %s fixed; left failing: %s" % (_chain_words(plan.fixable),
                                                                         " | ".join(plan.blockers)))
    if result.proof is not None:
        result.messages.append("proof: %s: %s" % (result.proof.kind, _verify_words(plan) if result.proof.ok
                                                  else "; ".join(result.proof.failures)))
        result.after = result.proof.detail if result.proof.detail is not None else _reanalyse(
            target, options, store, validator, result.before)


def _proof_kind(validator, store, options: CheckOptions, before: CheckResult = None) -> str:
    from ibmi_trust.analyse.referee import store_location
    from ibmi_trust.importer.proof import KIND_GSKIT, KIND_GSKIT_HANDSHAKE, KIND_HANDSHAKE, KIND_VERIFY

    if validator.kind == "openssl" and store_location(store):
        return KIND_VERIFY if options.chain_file else KIND_HANDSHAKE
    if not options.chain_file and ((before.gskit if before is not None else None) or {}).get("run") is not None:
        return KIND_GSKIT_HANDSHAKE
    return KIND_GSKIT


def _prove(target, options: CheckOptions, store, validator, before: CheckResult, plan=None):
    from ibmi_trust.analyse.core import utc
    from ibmi_trust.analyse.referee import cached, store_location
    from ibmi_trust.importer.proof import KIND_GSKIT, Proof, prove_by_handshakes, prove_offline

    location = store_location(store)
    if validator.kind == "openssl" and location:
        referee = cached() if options.referee else None
        if options.chain_file:          # --chain: nothing to shake hands with
            return prove_offline(_unblocked(before, plan), store, validator, referee=referee, now=utc(None),
                                 source=options.chain_file)
        return prove_by_handshakes(target, before.probe, _unblocked(before, plan), location, validator,
                                   referee=referee, now=utc(None), blocked=_blocked(before, plan))
    from ibmi_trust.jobs import gskit

    setting = gskit.setting_for(store, options, target) if gskit.applies(store) else None
    if setting is not None and setting.runner is not None and (before.gskit or {}).get("run") is not None \
            and not options.chain_file:
        return _prove_by_gskit(target, options, store, validator, before, setting, plan)
    # *SYSTEM / .KDB without GSKPROBE (or --chain): probe again (or read --chain again) and judge with the
    # GSKit model (a model, and said so); the re-check is not a run of its own in the history
    again = run_check(target, dataclasses.replace(options, sourcing=None, history=None), store=store)
    left_failing = {v.variant.sha256 for v in _blocked(before, plan)}
    failures = ["chain %d: %s" % (v.index, v.report.verdict) for v in again.variants
                if v.report.verdict not in ("trusted", "unconfirmed") and v.variant.sha256 not in left_failing]
    if again.status == st.UNKNOWN:
        failures.append("could not probe: %s" % (again.error or "unknown"))
    proof = Proof(ok=not failures, failures=failures, kind=KIND_GSKIT, detail=again)
    if setting is not None:
        proof.notes.append("the GSKit handshake was not made (%s): this proof is the GSKit model's"
                           % (setting.reason or (before.gskit or {}).get("error") or "unavailable"))
    return proof


def _prove_by_gskit(target, options: CheckOptions, store, validator, before: CheckResult, setting, plan=None):
    """GSKit's handshakes prove the import; the chains seen before, judged against the
    store as it is now, take GSKit's answers and are the after-state (chains --partial
    leaves failing are not proven)."""
    from ibmi_trust.importer.proof import prove_by_gskit
    from ibmi_trust.jobs.gskit import Referee

    after = _reanalyse(target, options, store, validator, before)
    proof = prove_by_gskit(target, before.probe, after.variants, setting,
                           blocked={v.index for v in _blocked(before, plan)})
    after.status = st.worst(v.status for v in after.variants) if after.variants else st.UNKNOWN
    referee = Referee(available=True, program=setting.runner.describe(), run=proof.run)
    after.referee = referee.words()
    after.gskit = referee.to_json()
    proof.detail = after
    return proof


def _prove_historic(proof, before: CheckResult, store, validator, options: CheckOptions) -> None:
    """Chains from the history cannot be served again on demand: each is proven on
    the chain as captured, by `openssl verify` against the new store (OpenSSL
    profile; prove_by_handshakes did that already, as for any chain not served
    again) or by the GSKit model (*SYSTEM, .KDB), and the proof says so."""
    historic = [v for v in before.variants if v.source == "history"]
    if not historic:
        return
    from ibmi_trust.importer.proof import KIND_GSKIT

    if proof.kind == KIND_GSKIT:
        judged = _reanalyse_variants(historic, store, validator, options, before.target)
        for v in judged:
            if v.report.verdict in ("trusted", "unconfirmed"):
                proof.proven[v.index] = "GSKit model on the chain as captured (from the history)"
            else:
                proof.failures.append("chain %d (from the history): the GSKit model says %s"
                                      % (v.index, v.report.verdict))
        if proof.detail is not None:
            import dataclasses

            base = len(proof.detail.variants)
            proof.detail.variants.extend(dataclasses.replace(v, index=base + n) for n, v in enumerate(judged, 1))
            proof.detail.status = st.worst(v.status for v in proof.detail.variants)
    for v in historic:
        if v.index in proof.proven and proof.proven[v.index].startswith("openssl verify"):
            proof.proven[v.index] = "openssl verify of the chain as captured (from the history, last seen %s: it " \
                                    "cannot be served again on demand)" % ((v.history or {}).get("last_seen") or "?")
    proof.notes.append("%d chain(s) from the history proven on the chain as captured" % len(historic))
    proof.ok = not proof.failures


def _reanalyse_variants(variants, store, validator, options: CheckOptions, target):
    from ibmi_trust.jobs.check import VariantReport, store_view

    quiet = CheckOptions(store_spec=options.store_spec, store_options=options.store_options,
                         probe_options=options.probe_options, sourcing=None, warn_days=options.warn_days,
                         validator_options=options.validator_options, referee=options.referee)
    chains = type("Chains", (), {"chains": [v.variant for v in variants]})()
    view, _problems = store_view(store, validator)
    judged = analyse_probe(chains, view, target, quiet, validator=validator, store=store)
    return [VariantReport(index=old.index, variant=old.variant, report=new.report, source=old.source,
                          history=old.history) for old, new in zip(variants, judged)]


def _reanalyse(target, options: CheckOptions, store, validator, before: CheckResult) -> CheckResult:
    """The chains seen before, judged against the store as it is now (no new probe)."""
    import time as _time

    from ibmi_trust.timestamps import iso_utc

    started = _time.monotonic()
    quiet = CheckOptions(store_spec=options.store_spec, store_options=options.store_options,
                         probe_options=options.probe_options, sourcing=None, warn_days=options.warn_days,
                         validator_options=options.validator_options, referee=options.referee)
    variants = _reanalyse_variants(before.variants, store, validator, options, target)
    status = st.worst(v.status for v in variants) if variants else st.UNKNOWN
    return CheckResult(target=target, store_spec=store.spec, status=status, variants=variants, probe=before.probe,
                       elapsed=_time.monotonic() - started, checked_at=iso_utc(), validator=validator.to_json(),
                       referee=referee_words(store, validator, quiet))
