"""Monitoring-plugin output (Nagios, Icinga, Naemon), to the letter of the
Monitoring Plugins guidelines (conventions.md sections 1-3):

- stdout, always: a first line `IBMI-TRUST STATE - summary | perfdata` for
  every outcome, errors included (`error_output`: exit 3, UNKNOWN);
- the summary says what and when: the failing chains and their real
  reason (from the findings: a name mismatch, an expiry, a CA missing from
  the store...), the certificate that expires and its date;
- long output on lines 2..n: one line per chain (per target for verify),
  the missing CAs and the next command;
- text that came from outside (server names, EHLO keywords, certificate
  subjects, error messages) is sanitised: no `|` (it would start the
  perfdata), no line breaks or control characters;
- perfdata `'label'=value;warn;crit;min;max` with range expressions
  (`30:` alerts below 30), integers only.
"""
from typing import List, Optional

from ibmi_trust.jobs import status as st
from ibmi_trust.words import days_text, short_fingerprint, whole_days

PREFIX = "IBMI-TRUST"
MAX_SUMMARY = 300              # characters of the first line before the perfdata

# Findings that mean "the store lacks what the chain needs": GSKit reports
# them as -23 SSL_ERROR_NOT_TRUSTED_ROOT.
TRUST_CODES = frozenset((
    "missing-issuer", "root-not-in-store", "unapproved-root", "store-needs-intermediate",
    "store-ca-without-issuer", "issuer-not-found", "root-not-trusted", "store-root-differs",
    "ca-disabled-in-store", "ca-state-unknown"))
NOT_TRUSTED = "SSL_ERROR_NOT_TRUSTED_ROOT"


def clean(text, limit: Optional[int] = None) -> str:
    """`text` safe for a plugin line: `|` becomes `/`, control characters
    (line breaks included) a space; cut to `limit` characters with "..."."""
    out = "".join(" " if (ch < " " or ch == "\x7f") else ("/" if ch == "|" else ch) for ch in str(text))
    out = " ".join(out.split())
    if limit is not None and len(out) > limit:
        out = out[:max(0, limit - 3)] + "..."
    return out


_MISSING_WORDS = {
    "intermediate": "intermediate CA %s is missing from the store",
    "root": "root CA %s is missing from the store",
    "unapproved-root": "root CA %s is in neither the store nor the root program",
    "unknown-issuer": "issuing CA %s was not found",
    "renewal": "the store's copy of CA %s has expired",
}


def reason(report) -> str:
    """Why the client rejects this chain, in a few words, from its findings:
    the missing CA for a trust gap (-23), else the first critical finding
    (a name mismatch, an expired certificate, ...)."""
    critical = [f for f in report.findings if f.severity == "critical"]
    if not critical:
        return report.verdict
    trust = [f for f in critical if f.code in TRUST_CODES]
    if trust:
        if report.missing:
            first = report.missing[0]
            words = _MISSING_WORDS.get(first.reason, "CA %s is missing from the store") % first.subject
            if len(report.missing) > 1:
                words += " (and %d more)" % (len(report.missing) - 1)
        else:
            words = trust[0].message
        return "not trusted (%s): %s" % (NOT_TRUSTED, words)
    return critical[0].message


def check_output(result, warn_days: int, next_lines: List[str] = ()) -> str:
    """The whole plugin output of one check: status line, long output."""
    return "\n".join([status_line(result, warn_days)] + [clean(line) for line in detail_lines(result, next_lines)])


def status_line(result, warn_days: int) -> str:
    return "%s %s - %s | %s" % (PREFIX, result.status, clean(summary(result, warn_days), MAX_SUMMARY),
                                " ".join(perfdata(result, warn_days)))


def summary(result, warn_days: int) -> str:
    text = _summary(result, warn_days)
    historic = sum(1 for v in result.variants if getattr(v, "source", "tonight") == "history")
    return text + (" (%d chain%s from the history)" % (historic, "" if historic == 1 else "s") if historic else "")


def _summary(result, warn_days: int) -> str:
    target = result.target.display()
    if result.status == st.UNKNOWN:
        return "%s: could not probe: %s" % (target, result.error or "unknown error")
    count = len(result.variants)
    failing = [v for v in result.variants if not v.report.client_accepts or v.report.status == st.CRITICAL]
    if failing:
        first = failing[0]
        text = "%s: %d of %d chain%s would fail: chain %d: %s" % (
            target, len(failing), count, "" if count == 1 else "s", first.index, reason(first.report))
        return text + _expiry_words(result, result.critical_days)
    if result.status == st.CRITICAL:            # --critical-days
        return "%s: all %d chain%s trusted%s" % (target, count, "" if count == 1 else "s",
                                                 _expiry_words(result, result.critical_days))
    if result.status == st.WARNING:
        warnings = [f for v in result.variants for f in v.report.findings if f.severity == "warning"]
        what = _expiry_words(result, warn_days) or ("; %s" % warnings[0].message if warnings else "")
        return "%s: all %d chain%s trusted, but%s" % (target, count, "" if count == 1 else "s", what[1:])
    return "%s: all %d chain%s trusted%s" % (target, count, "" if count == 1 else "s", _next_expiry(result))


def _expiry_words(result, within) -> str:
    if within is None:
        return ""
    soon = result.expiring(within)
    if not soon:
        return ""
    number, cert, days = soon[0]
    more = " (and %d more)" % (len(soon) - 1) if len(soon) > 1 else ""
    return "; %s (chain %d) expires %s, %s%s" % (cert.common_name or cert.subject, number,
                                                  cert.not_after.strftime("%Y-%m-%d"), days_text(days), more)


def _next_expiry(result) -> str:
    soon = result.expiring()
    if not soon:
        return ""
    _number, cert, days = soon[0]
    return "; first expiry %s on %s (%s)" % (cert.common_name or cert.subject, cert.not_after.strftime("%Y-%m-%d"),
                                            days_text(days))


def detail_lines(result, next_lines: List[str] = ()) -> List[str]:
    """Lines 2..n: each chain, what is missing, the next command."""
    lines = []
    for v in result.variants:
        share = "%.0f%%" % (100.0 * v.variant.share)
        if v.report.client_accepts and v.report.status != st.CRITICAL:
            anchor = v.report.anchor
            lines.append("chain %d (%s): %s, trusted%s" % (v.index, share, v.report.status,
                                                         " by %s" % anchor.subject if anchor is not None else ""))
        else:
            lines.append("chain %d (%s): CRITICAL: %s" % (v.index, share, reason(v.report)))
    for missing in result.missing():
        lines.append("missing: %s%s" % (missing.subject, " (sha256 %s)" % short_fingerprint(missing.sha256)
                                        if missing.sha256 else ""))
    if result.probe is not None:
        from ibmi_trust.jobs.render import failure_lines

        lines.extend(line.strip() for line in failure_lines(result.probe.failures))
    lines.extend(next_lines)
    return lines


def perfdata(result, warn_days: int) -> List[str]:
    failing = sum(1 for v in result.variants if not v.report.client_accepts)
    perf = []
    days = result.earliest_expiry_days()
    if days is not None:
        crit = "%d:" % result.critical_days if result.critical_days is not None else "0:"
        perf.append("'days_to_expiry'=%d;%d:;%s" % (whole_days(days), warn_days, crit))
    perf += ["'chains'=%d;;;0" % len(result.variants), "'failing_chains'=%d;;0;0" % failing,
             "'missing'=%d;;0;0" % len(result.missing())]
    if result.probe is not None:
        perf.append("'handshakes'=%d;;;0" % result.probe.handshakes)
    return perf


def error_output(message: str) -> str:
    """The status line for a run that could not be made (store, usage, configuration)."""
    return "%s %s - %s" % (PREFIX, st.UNKNOWN, clean(message, MAX_SUMMARY))


# -- verify ---------------------------------------------------------------------
def verify_output(result, warn_days: int, next_lines_for=lambda outcome: []) -> str:
    """One line for all targets (the worst status), one block per target below."""
    counts = result.counts()
    total = len(result.outcomes)
    worst = [o for o in result.outcomes if o.status == result.status and o.status != st.OK]
    head = "%d target%s: %s" % (total, "" if total == 1 else "s", ", ".join(
        "%d %s" % (counts[s], s) for s in (st.CRITICAL, st.UNKNOWN, st.WARNING, st.OK) if counts[s]))
    if worst:
        head += "; " + "; ".join(_target_summary(o, warn_days) for o in worst[:3])
        if len(worst) > 3:
            head += "; and %d more" % (len(worst) - 3)
    perf = ["'targets'=%d;;;0" % total] + ["'%s'=%d;;%s;0" % (s.lower(), counts[s], "0" if s != st.OK else "")
                                          for s in (st.CRITICAL, st.WARNING, st.UNKNOWN, st.OK)]
    lines = ["%s %s - %s | %s" % (PREFIX, result.status, clean(head, MAX_SUMMARY), " ".join(perf))]
    order = {s: i for i, s in enumerate((st.CRITICAL, st.UNKNOWN, st.WARNING, st.OK))}
    for outcome in sorted(result.outcomes, key=lambda o: order[o.status]):
        lines.append(clean("[%s] %s" % (outcome.status, _target_summary(outcome, warn_days))))
        if outcome.result is not None:
            lines.extend("  " + clean(line) for line in detail_lines(outcome.result, next_lines_for(outcome)))
        else:
            lines.extend("  " + clean(line) for line in next_lines_for(outcome))
    return "\n".join(lines)


def _target_summary(outcome, warn_days: int) -> str:
    if outcome.result is None:
        return "%s: could not check: %s" % (outcome.config.target, outcome.error or "unknown error")
    return summary(outcome.result, outcome.config.warn_days if outcome.config.warn_days is not None else warn_days)
