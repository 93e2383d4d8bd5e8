"""Variant discovery: repeated handshakes over every address x SNI x key-type
combination until the stopping rule (probe.stopping) is met.

Handshakes run in rounds (each active combination once per round, in an
order shuffled per round so a round-robin load balancer cannot alias with
our order), through the shared per-host limiter (probe.ratelimit). A
combination that has failed twice and never succeeded is abandoned (an RSA
offer to an ECDSA-only server will not start working), and so is one that
stalled twice (no answer within --timeout, or a conversation trickled past
its cap), even after a success: a stall costs up to a whole conversation,
so a server that answers once and then stalls cannot keep the probe going.
If that leaves fewer successful handshakes than the rule needs, whole extra
rounds over the working combinations top them up (at most as many rounds
again).

Addresses over time: a name (not an IP literal, not a --resolve pin) is
resolved again before every round after the first (at most
MAX_RERESOLUTIONS times, each within RESOLVE_TIMEOUT), and an address that
appears joins the following rounds with every SNI x key-type combination.
Addresses the caller knows from earlier runs (`known_addresses`, the
history) are probed too; one that no longer answers is abandoned like any
other combination that fails twice.

The whole probe has a time limit (ProbeOptions.time_limit, on by default):
no handshake starts after it, and every conversation under way ends at it.
What was captured by then is the result, with notes saying what was not
done; no chain at all is a ProbeError.
"""
from collections import Counter
import time
from typing import Callable, Dict, List, Optional, Tuple

from ibmi_trust.errors import CertificateError, ConnectTimeout, ProbeDeadline, ProbeError, ProbeTimeout
from ibmi_trust.probe import offers, ratelimit, stopping
from ibmi_trust.probe.capture import capture_offer
from ibmi_trust.probe.options import ProbeOptions
from ibmi_trust.probe.resolve import addresses_for, reresolve, resolves_by_name
from ibmi_trust.probe.result import Combo, ProbeResult
from ibmi_trust.probe.target import Target

Progress = Optional[Callable[[int, int], None]]
ABANDON_AFTER = 2               # failures without any success
STALLS_TO_ABANDON = 2           # stalls, successes or not
MAX_RERESOLUTIONS = 32          # per probe: once per round, at most this often
RESOLVE_TIMEOUT = 5.0           # seconds for one re-resolution (never beyond --timeout)


def plan(target: Target, options: ProbeOptions, addresses: List[str]) -> Tuple[List[Combo], dict, List[str]]:
    """(combinations, {key_type: Offer}, notes)."""
    notes = []
    if options.like_system:
        from ibmi_trust.probe import like_system

        offer, notes = like_system.system_offer()
        notes = ["like-system offer: %s" % like_system.describe(offer)] + notes
        offer_map, snis = {"system": offer}, [None]
    else:
        key_types = options.effective_key_types()
        if key_types != options.key_types:
            notes.append("the RSA-only offer needs TLS 1.2; skipped under --tls-version 1.3")
        offer_map = {k: offers.offer_for(k, options.tls_version) for k in key_types}
        sni_name = None if target.is_ip else target.host
        snis = list(dict.fromkeys(sni_name if choice == "on" else None for choice in options.sni))
        if target.is_ip and "on" in options.sni:
            notes.append("the target is an IP address: no SNI is sent")
    combos = [Combo(a, s, k) for a in addresses for s in snis for k in offer_map]
    return combos, offer_map, notes


def probe(target: Target, options: Optional[ProbeOptions] = None, progress: Progress = None,
          known_addresses=()) -> ProbeResult:
    """Capture every chain `target` presents; raises ProbeError when no handshake succeeded.
    `known_addresses`: addresses seen for the name before (ignored under a --resolve pin)."""
    options = options or ProbeOptions()
    started = time.monotonic()
    addresses = addresses_for(target, options.resolve)
    earlier = [a for a in known_addresses if a not in addresses] if resolves_by_name(target, options.resolve) else []
    combos, offer_map, notes = plan(target, options, addresses + earlier)
    result = ProbeResult(target, options, addresses + earlier, combos)
    result.notes.extend(notes)
    if earlier:
        result.notes.append("also probed, from earlier runs: %s (the name does not resolve to %s now)"
                            % (", ".join(earlier), "it" if len(earlier) == 1 else "them"))
    needed = stopping.handshakes_needed(options.min_share, options.confidence)
    planned = options.rounds or stopping.rounds_needed(needed, len(combos))
    result.time_limit = options.time_limit(planned * len(combos))
    errors = _run_rounds(result, offer_map, needed, planned, started + result.time_limit, progress)
    result.finish()
    result.elapsed = time.monotonic() - started
    result.guarantee = dict(stopping.guarantee(result.handshakes, options.min_share, options.confidence),
                            combinations=len(result.combos), combinations_covered=len(result.covered()),
                            rounds=result.rounds)
    if result.time_limit_reached:
        result.notes.append(_not_done(result, planned))
    if not result.handshakes:
        raise _no_chain(target, result, errors)
    return result


def _run_rounds(result: ProbeResult, offer_map: dict, needed: int, planned: int, deadline: float,
                progress: Progress) -> Dict[str, ProbeError]:
    """Handshake round after round until the rule is met or time is up;
    returns reason -> first exception."""
    target, options = result.target, result.options
    limit = planned if options.rounds else 2 * planned          # top-up rounds at most double the plan
    limiter = ratelimit.limiter_for(target.host, options.rate, options.concurrency)
    rng = None                           # random.Random(--seed), made for the first round with 2+ to order
    successes, failures, stalls = Counter(), Counter(), Counter()
    errors: Dict[str, ProbeError] = {}
    total = planned * len(result.combos)

    def attempt(combo: Combo):
        if time.monotonic() >= deadline:
            return None                                          # not started: the time is up
        with limiter.slot():
            if time.monotonic() >= deadline:
                return None
            try:
                return capture_offer(combo.address, target.port, target.dialogue, sni=combo.sni,
                                     offer=offer_map[combo.key_type], ehlo=options.ehlo, timeout=options.timeout,
                                     deadline=deadline)
            except ProbeError as exc:
                return exc

    def more_to_do() -> bool:
        return bool(active) and result.rounds < limit and not (result.rounds >= planned and result.handshakes >= needed)

    active = list(result.combos)
    pool = None                          # threads only when a round has several handshakes to run at once
    try:
        while more_to_do() and time.monotonic() < deadline:
            if result.rounds:
                added = _resolve_again(result, deadline)
                active.extend(added)
                total += len(added) * max(0, planned - result.rounds)
            order = list(active)
            if len(order) > 1:                   # one combination needs no order (nor the random module)
                if rng is None:
                    import random

                    rng = random.Random(options.seed)
                rng.shuffle(order)
            if result.rounds >= planned:
                total += len(order)
            cut = 0
            if len(order) > 1 and options.concurrency > 1:
                if pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    pool = ThreadPoolExecutor(max_workers=options.concurrency)
                outcomes = pool.map(attempt, order)
            else:
                outcomes = map(attempt, order)
            for combo, outcome in zip(order, outcomes):
                if outcome is None or isinstance(outcome, ProbeDeadline):
                    cut += 1                                     # ended by the time limit, not by the server
                    continue
                result.attempts += 1
                if not isinstance(outcome, ProbeError):
                    try:
                        result.add_chain(combo, outcome.ders, outcome.method, outcome.tls_version)
                        successes[combo] += 1
                    except CertificateError as exc:
                        outcome = ProbeError("%s sent a certificate that cannot be parsed: %s" % (combo.address, exc))
                if isinstance(outcome, ProbeError):
                    failures[combo] += 1
                    if isinstance(outcome, (ProbeTimeout, ConnectTimeout)):
                        stalls[combo] += 1
                    result.add_failure(combo, outcome.message)
                    errors.setdefault(outcome.message, outcome)
                if progress is not None:
                    progress(result.attempts, total)
            if cut:
                result.time_limit_reached = True
                break
            result.rounds += 1
            dead = [c for c in active if (successes[c] == 0 and failures[c] >= ABANDON_AFTER)
                    or stalls[c] >= STALLS_TO_ABANDON]
            for combo in dead:
                if successes[combo] and stalls[combo] >= STALLS_TO_ABANDON:
                    result.notes.append("%s abandoned after %d stalls, although it had succeeded %d time%s"
                                        % (combo, stalls[combo], successes[combo], "" if successes[combo] == 1 else "s"))
            result.abandoned.extend(dead)
            active = [c for c in active if c not in dead]
    finally:
        if pool is not None:
            pool.shutdown()
    if more_to_do() and time.monotonic() >= deadline:
        result.time_limit_reached = True
    return errors


def _resolve_again(result: ProbeResult, deadline: float) -> List[Combo]:
    """New combinations for addresses the name resolves to now and did not before."""
    target, options = result.target, result.options
    if result.resolutions > MAX_RERESOLUTIONS or not resolves_by_name(target, options.resolve):
        return []
    timeout = min(RESOLVE_TIMEOUT, options.timeout, max(0.0, deadline - time.monotonic()))
    result.resolutions += 1
    found = reresolve(target, options.resolve, timeout) or []
    fresh = [a for a in found if a not in result.addresses]
    if not fresh:
        return []
    kinds = list(dict.fromkeys((c.sni, c.key_type) for c in result.combos))
    added = [Combo(address, sni, key_type) for address in fresh for (sni, key_type) in kinds]
    result.addresses.extend(fresh)
    result.combos.extend(added)
    result.notes.append("round %d: the name now also resolves to %s; probed from then on"
                        % (result.rounds + 1, ", ".join(fresh)))
    return added


def _not_done(result: ProbeResult, planned: int) -> str:
    """The note saying what the time limit left undone."""
    never = [str(c) for c in result.combos if c not in set(result.covered()) and c not in result.abandoned]
    text = ("time limit of %gs reached after %d handshake%s in %d of %d planned rounds; not done: the remaining "
            "rounds (the guarantee is what the handshakes made give)"
            % (result.time_limit, result.handshakes, "" if result.handshakes == 1 else "s", result.rounds, planned))
    if never:
        text += "; never captured: %s" % ", ".join(never[:8]) + (" (+%d more)" % (len(never) - 8) if len(never) > 8 else "")
    return text


def _no_chain(target: Target, result: ProbeResult, errors: dict) -> ProbeError:
    """The most frequent failure, raised as the exception class that reported it."""
    if not result.failure_counts:
        return ProbeDeadline("no handshake completed within the probe's time limit of %gs" % result.time_limit,
                             hint="raise --deadline (or --timeout, which it is derived from)")
    by_reason = Counter()
    for failure, count in result.failure_counts.items():
        by_reason[failure.reason] += count
    reason, count = by_reason.most_common(1)[0]
    others = result.attempts - count
    more = " (and %d other failed attempt%s)" % (others, "s" if others != 1 else "") if others else ""
    error = errors[reason]
    late = "; the probe's time limit of %gs ran out" % result.time_limit if result.time_limit_reached else ""
    return type(error)("%s%s%s" % (reason, more, late), hint=error.hint)
