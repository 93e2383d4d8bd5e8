"""Text for fix: the plan an operator approves, and the outcome."""
from ibmi_trust.words import fingerprint


def plan_text(plan, dry_run: bool = False) -> str:
    """Every certificate the plan imports, for which chains, and each chain it cannot fix."""
    verb = "would import" if dry_run else "import"
    if not plan.items:
        lines = ["Plan: nothing to import."]
    else:
        lines = ["Plan%s: %s %d certificate(s)%s:" % (" (dry run: nothing is changed)" if dry_run else "", verb,
                                                     len(plan.items), _for_chains(plan))]
    for item in plan.items:
        lines.append("  + %s %s" % (item.role, item.cert.subject))
        lines.append("      sha256 %s" % fingerprint(item.cert.sha256))
        lines.append("      from %s; valid until %s; needed by chain(s) %s" % (
            item.provenance, item.cert.not_after.strftime("%Y-%m-%d"), ", ".join(map(str, item.variants))))
    if plan.blocked:
        lines.append("Cannot be fixed by an import%s:" % ("" if not plan.items else
                                                          " (--partial leaves them failing)"))
        for blocked in plan.blocked:
            for reason in blocked.reasons:
                lines.append("  - %s" % reason)
    return "\n".join(lines)


def _for_chains(plan) -> str:
    if not plan.blocked:
        return ""
    return " for chain%s %s" % ("" if len(plan.fixable) == 1 else "s", ", ".join(map(str, plan.fixable)))


def fix_text(result, paint=lambda word: word) -> str:
    from ibmi_trust.jobs.render import check_text

    lines = ["Before: %s" % paint(result.before.status)]
    lines.extend(result.messages)
    if result.change is not None:
        for entry in result.change.added:
            lines.append("  %s %s (%s)" % ("would add" if result.dry_run else "added", entry.cert.subject, entry.label))
        for entry in result.change.already_present:
            lines.append("  already present: %s (%s)" % (entry.cert.subject, entry.label))
        lines.extend("  note: %s" % note for note in result.change.notes)
    if result.proof is not None:
        proof = result.proof
        blocked = result.plan.blocked_chains if result.plan is not None else []
        verdict = "; ".join(proof.failures)
        if proof.ok:
            verdict = "every chain verifies" if not blocked else "chain(s) %s verify; chain(s) %s left failing" % (
                ", ".join(map(str, sorted(proof.proven))), ", ".join(map(str, blocked)))
        lines.append("proof: %s%s: %s" % (proof.kind, " (%d handshake(s))" % proof.handshakes
                                           if proof.handshakes else "", verdict))
        for number, how in sorted(result.proof.proven.items()):
            lines.append("  chain %d proven by %s" % (number, how))
        lines.extend("  note: %s" % note for note in result.proof.notes)
    if result.after is not None:
        lines.append("After: %s" % paint(result.after.status))
        lines.append(check_text(result.after, paint=paint))
    return "\n".join(lines)
