"""Text for fix: the plan an operator approves, and the outcome."""


def plan_text(plan) -> str:
    if not plan.items:
        return "Plan: nothing to import."
    lines = ["Plan: import %d certificate(s):" % len(plan.items)]
    for item in plan.items:
        lines.append("  + %s %s" % (item.role, item.cert.subject))
        lines.append("      sha256 %s" % item.cert.sha256)
        lines.append("      from %s; valid until %s; needed by chain(s) %s" % (
            item.provenance, item.cert.not_after.strftime("%Y-%m-%d"), ", ".join(map(str, item.variants))))
    return "\n".join(lines)


def fix_text(result) -> str:
    from ibmi_trust.jobs.render import check_text

    lines = ["Before: %s" % result.before.status]
    lines.extend(result.messages)
    if result.change is not None:
        for entry in result.change.added:
            lines.append("  %s %s (%s)" % ("would add" if result.dry_run else "added", entry.cert.subject, entry.label))
        for entry in result.change.already_present:
            lines.append("  already present: %s (%s)" % (entry.cert.subject, entry.label))
        lines.extend("  note: %s" % note for note in result.change.notes)
    if result.proof is not None:
        lines.append("proof: %s (%d handshake(s)): %s" % (result.proof.kind, result.proof.handshakes,
                                                         "every chain verifies" if result.proof.ok
                                                         else "; ".join(result.proof.failures)))
        for number, how in sorted(result.proof.proven.items()):
            lines.append("  chain %d proven by %s" % (number, how))
        lines.extend("  note: %s" % note for note in result.proof.notes)
    if result.after is not None:
        lines.append("After: %s" % result.after.status)
        lines.append(check_text(result.after))
    return "\n".join(lines)
