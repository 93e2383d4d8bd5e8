"""Text renderings of job results: the human report of check (fix's is in
render_fix.py; the monitoring formats in nagios.py and prometheus.py).

JSON renderings are the results' own to_json(); SCHEMA_VERSION is documented
in docs/json-schema.md. `paint` colours a status word (cli/output.py gives
one on a terminal; by default the text is plain).
"""
from typing import List

from ibmi_trust.words import days_text, short_fingerprint

SCHEMA_VERSION = 1


def _plain(status: str) -> str:
    return status


def check_text(result, paint=_plain) -> str:
    lines: List[str] = []
    target = result.target.display()
    lines.append("%s: %s (store %s)" % (paint(result.status), target, result.store_spec))
    lines.extend(_validator_lines(result))
    if result.error:
        lines.append("  could not probe: %s" % result.error)
    probe = result.probe
    source = getattr(probe, "source", None)
    if source is not None:
        lines.append("  %d capture%s read from %s (%s), %d distinct chain%s; no connection was made to %s" % (
            probe.chains_read, "" if probe.chains_read == 1 else "s", source, probe.form, len(result.variants),
            "" if len(result.variants) == 1 else "s", target))
    elif probe is not None:
        lines.append("  %d handshakes, %d distinct chain%s%s" % (
            probe.handshakes, len(result.variants), "" if len(result.variants) == 1 else "s",
            _guarantee_text(probe)))
        lines.extend(failure_lines(probe.failures))
    lines.extend(_history_lines(getattr(result, "history", None)))
    if result.critical_days is not None:
        for number, cert, days in result.expiring(result.critical_days):
            lines.append("  %s chain %d: %s expires %s (%s; --critical-days %d)" % (
                paint("CRITICAL"), number, cert.subject, cert.not_after.strftime("%Y-%m-%d"), days_text(days),
                result.critical_days))
    for v in result.variants:
        lines.append("")
        if getattr(v, "source", "tonight") == "history":
            seen = "from the history (not served in this run's handshakes)"
        elif source is not None:
            seen = "%.0f%% of the captures read" % (100.0 * v.variant.share)
        else:
            combos = ", ".join(str(c) for c in v.variant.combos[:6])
            more = "" if len(v.variant.combos) <= 6 else " (+%d more)" % (len(v.variant.combos) - 6)
            seen = "seen on %.0f%% of handshakes (%s%s)" % (100.0 * v.variant.share, combos, more)
        lines.append("Chain %d: %s, %s" % (v.index, v.report.verdict.upper(), seen))
        if getattr(v, "history", None):
            lines.append("  " + _seen_text(v.history))
        for pos, cert in enumerate(v.variant.certificates):
            lines.append("  sent[%d] %s" % (pos, cert.subject))
            lines.append("          issuer %s; sha256 %s; until %s" % (
                cert.issuer, short_fingerprint(cert.sha256), cert.not_after.strftime("%Y-%m-%d")))
        said = _client_line(v.report)
        if said:
            lines.append("  " + said)
        if v.report.anchor is not None:
            lines.append("  trusted by: %s (sha256 %s)" % (v.report.anchor.subject,
                                                          short_fingerprint(v.report.anchor.sha256)))
        for m in v.report.missing:
            src = ", ".join(m.sources) or "no known source"
            fp = m.sha256
            lines.append("  MISSING %s%s [%s]" % (m.subject, " sha256 " + fp if fp else "", src))
        for f in v.report.findings:
            word = {"critical": "CRITICAL", "warning": "WARNING"}.get(f.severity)
            lines.append("  %s%s %s: %s" % (paint(word) if word else f.severity.upper(),
                                           " " * (8 - len(word or f.severity)), f.code, f.message))
    for problem in result.store_problems:
        lines.append("store: %s" % problem)
    return "\n".join(lines)


def _history_lines(history) -> List[str]:
    """The window's guarantee and what the history said (lines under the probe's)."""
    if not history:
        return []
    lines = []
    guarantee = history.get("guarantee") or {}
    if guarantee.get("statement"):
        lines.append("  history: %s (window %d days; %s)" % (guarantee["statement"], history["window_days"],
                                                             history.get("location")))
    for chain in history.get("retired") or []:
        lines.append("  history: chain %s... (last seen %s) not judged: this run's handshakes would have met it had "
                     "it still been served (renewed or withdrawn)" % (chain["chain_sha256"][:16], chain["last_seen"][:10]))
    new = history.get("new") or {}
    if new.get("chains") or new.get("addresses"):
        lines.append("  NEW since earlier runs: %d chain(s), %d issuer(s), %d address(es)%s" % (
            len(new.get("chains", [])), len(new.get("issuers", [])), len(new.get("addresses", [])),
            ": " + ", ".join(new["addresses"]) if new.get("addresses") else ""))
    for note in history.get("notes") or []:
        lines.append("  history: %s" % note)
    for warning in history.get("warnings") or []:
        lines.append("  WARNING  history: %s" % warning)
    return lines


def _seen_text(seen: dict) -> str:
    where = ", ".join("%s %s %s" % (s["address"], "sni=" + s["sni"] if s["sni"] else "no-sni", s["key_type"])
                      for s in seen.get("served_by", [])[:4])
    return "%sfirst seen %s, last seen %s, %d handshake(s) in the window (%.1f%%)%s" % (
        "NEW: " if seen.get("new") else "", seen["first_seen"][:10], seen["last_seen"][:10], seen["handshakes"],
        100.0 * seen["share"], "; served by " + where if where else "")


def _validator_lines(result) -> List[str]:
    validator = getattr(result, "validator", None) or {}
    if not validator:
        return []
    lines = ["  judged by: %s%s" % (validator.get("description", validator.get("kind", "?")),
                                    " (%s)" % validator["security_level_source"]
                                    if validator.get("security_level_source") else "")]
    if result.referee:
        lines.append("  referee: %s" % result.referee)
    return lines


def _client_line(report) -> str:
    """What the client will say, and who decided: the real OpenSSL or the model."""
    referee = report.referee or {}
    if referee.get("validator") == "gskit":
        return _gskit_line(referee)
    who = "the real OpenSSL" if report.decided_by == "openssl" else "the %s" % (
        "model" if (report.validator or {}).get("kind") != "gskit" else "GSKit model")
    if referee.get("ran"):
        if referee.get("ok"):
            return "OpenSSL accepts this chain (decided by %s)" % who
        return "OpenSSL rejects it: error %s at depth %s (%s) (decided by %s)" % (
            referee.get("code"), referee.get("depth"), referee.get("text"), who)
    prediction = report.prediction
    if prediction:
        error = prediction.get("error")
        if not error:
            return "OpenSSL will accept this chain (decided by %s)" % who
        return "OpenSSL will reject it: error %s at depth %s (%s) (decided by %s)" % (
            error["code"], error["depth"], error["text"], who)
    if (report.validator or {}).get("kind") == "gskit":
        return "verdict of the GSKit model (a model of IBM i System TLS, not GSKit itself)"
    return ""


def _gskit_line(answer: dict) -> str:
    """GSKit's own handshake (GSKPROBE): what it said, or why the model decided."""
    if answer.get("decision") == "accepts":
        return "GSKit accepts this chain (gsk_secure_soc_init 0%s; decided by GSKit's own handshake)" % (
            ", " + answer["protocol"] if answer.get("protocol") else "")
    if answer.get("decision") == "rejects":
        return "GSKit rejects it: %s: %s (decided by GSKit's own handshake)" % (
            answer.get("words"), answer.get("gsk_strerror") or "")
    return "verdict of the GSKit model (GSKit's handshakes gave no verdict: %s)" % (answer.get("reason") or "?")


def failure_lines(failures) -> List[str]:
    """Identical failures once, with the combinations that met them: a server
    without an RSA certificate refuses every RSA-only offer in the same way."""
    groups = {}
    for f in failures:
        prefix = "%s:" % f.address
        reason = f.reason.split(": ", 1)[1] if f.reason.startswith(prefix) and ": " in f.reason else f.reason
        groups.setdefault((f.key_type, reason), []).append(f)
    lines = []
    for (key_type, reason), members in groups.items():
        addresses = sorted({f.address for f in members})
        lines.append("  %d %s-offer handshake(s) failed on %s: %s" % (
            len(members), key_type, ", ".join(addresses), reason))
    return lines


def _guarantee_text(probe) -> str:
    g = probe.guarantee or {}
    share, prob = g.get("min_share"), g.get("probability") or g.get("achieved")
    if share is None or prob is None:
        return ""
    return "; a chain served on >= %g%% of connections would have been seen with probability >= %.1f%%" % (
        100.0 * share, 100.0 * prob)
