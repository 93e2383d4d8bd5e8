"""The human summary of a ProbeResult (`ibmi-trust probe` without --json)."""
import datetime
from typing import List

from ibmi_trust.probe.result import ProbeResult
from ibmi_trust.words import fingerprint


def _validity(cert, now: datetime.datetime) -> str:
    from ibmi_trust.words import days_text

    state = "NOT YET VALID" if now < cert.not_before else days_text(cert.days_left(now))
    return "%s .. %s (%s)" % (cert.not_before.strftime("%Y-%m-%d"), cert.not_after.strftime("%Y-%m-%d"), state)


def _dimensions(result: ProbeResult) -> str:
    snis = sorted({("sni=" + c.sni) if c.sni else "no-sni" for c in result.combos})
    keys = list(dict.fromkeys(c.key_type for c in result.combos))
    return "%d address%s x %s x %s" % (len(result.addresses), "" if len(result.addresses) == 1 else "es",
                                      "/".join(snis), "/".join(keys))


def text(result: ProbeResult, now: datetime.datetime = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    target = result.target
    mode = "STARTTLS" if target.dialogue else "implicit TLS"
    g = result.guarantee
    lines: List[str] = [
        "%s (%s, %s): %d distinct chain%s in %d handshake%s" % (
            target.display(), target.protocol, mode, len(result.chains), "" if len(result.chains) == 1 else "s",
            result.handshakes, "" if result.handshakes == 1 else "s"),
        "  addresses:    %s" % ", ".join(result.addresses),
        "  combinations: %d (%s), %d round%s, %d attempt%s" % (
            len(result.combos), _dimensions(result), result.rounds, "" if result.rounds == 1 else "s",
            result.attempts, "" if result.attempts == 1 else "s"),
        "  guarantee:    %s%s" % (g.get("statement", ""), "" if g.get("met") else " (below the %g%% asked for)"
                                  % (100.0 * g.get("confidence", 0))),
        "  capture:      %s; %s" % (result.capture_method, ", ".join(
            "%s x%d" % (v, n) for v, n in result.tls_versions.most_common())),
    ]
    for note in result.notes:
        lines.append("  note:         %s" % note)
    for index, variant in enumerate(result.chains, 1):
        lines.append("")
        lines.append("Chain %d: seen in %d of %d handshakes (%.1f%%), %d certificate%s" % (
            index, variant.count, result.handshakes, 100.0 * variant.share, len(variant.certificates),
            "" if len(variant.certificates) == 1 else "s"))
        lines.append("  served to: %s" % ", ".join("%s (%d)" % (c, n) for c, n in variant.combo_counts.items()))
        for pos, cert in enumerate(variant.certificates):
            lines.append("  [%d] subject  %s" % (pos, cert.subject))
            lines.append("      issuer   %s%s" % (cert.issuer, "  (self-signed)" if cert.self_issued else ""))
            lines.append("      sha256   %s" % fingerprint(cert.sha256))
            lines.append("      valid    %s" % _validity(cert, now))
            for url in cert.ca_issuers:
                lines.append("      AIA      %s" % url)
    if result.failures:
        lines.append("")
        lines.append("Failed handshakes (%d of %d attempts):" % (sum(result.failure_counts.values()), result.attempts))
        abandoned = set(result.abandoned)
        for failure in result.failures:
            combo_gone = (failure.address, failure.sni, failure.key_type) in abandoned
            lines.append("  %s (x%d%s)" % (failure, result.failure_counts[failure],
                                           ", combination abandoned" if combo_gone else ""))
    return "\n".join(lines)
