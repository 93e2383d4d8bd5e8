"""Simulated nights for cumulative discovery (tests/test_history_nights.py and
benchmarks/bench_history_nights.py).

A loopback server serves a rare chain (share 1%) on a seeded random share of
connections; each "night" is one real `check` (the real probe, 60 handshakes
by default, the real analysis) with a real SQLite history, its clock set to
that night. The question: on which night does the check first report the
rare chain (served tonight, or remembered from an earlier night)?
"""
import datetime
import math
import os
from dataclasses import dataclass, field
from typing import List, Optional

from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import ChainPlan, MailServer

HOST = "mx.example.test"
T0 = datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.timezone.utc)


def theory(share: float, per_night: int, nights: int) -> float:
    """P(a chain of `share` is seen at least once in `nights` x `per_night` handshakes)."""
    return 1.0 - (1.0 - share) ** (per_night * nights)


@dataclass
class Pki:
    store_pem: str
    common: list             # [(chain_pem, key_pem)] RSA + EC, trusted
    rare: list               # the 1% variant, RSA + EC, not trusted
    rare_leaves: set = field(default_factory=set)


def make_pki(directory: str) -> Pki:
    root = CA.root("Nights Trusted Root")
    inter = root.intermediate("Nights Trusted CA")
    odd = CA.root("Nights Other Root").intermediate("Nights Other CA")
    common = [(l.chain_pem(), l.key_pem()) for l in (inter.leaf([HOST], key_type="rsa"), inter.leaf([HOST]))]
    rare_leaves = [odd.leaf([HOST], key_type="rsa"), odd.leaf([HOST])]
    store = os.path.join(directory, "store.pem")
    with open(store, "w") as handle:
        handle.write(root.cert.pem())
    return Pki(store, common, [(l.chain_pem(), l.key_pem()) for l in rare_leaves], {l.cert.sha256 for l in rare_leaves})


@dataclass
class Repetition:
    seed: int
    found_on: Optional[int] = None              # night (1-based) the rare chain was first reported
    handshakes: int = 0
    rare_served: int = 0                         # handshakes that captured the rare chain
    nights: List[dict] = field(default_factory=list)


def run_repetition(pki: Pki, seed: int, history_path: str, *, share: float = 0.01, max_nights: int = 8,
                   nights_after: int = 0, min_share: float = 0.05) -> Repetition:
    """Nights until the rare chain is reported (at most `max_nights`), then
    `nights_after` more; every night a real check with the real history file."""
    from ibmi_trust.history import location
    from ibmi_trust.history.journal import HistorySettings, Journal
    from ibmi_trust.jobs.check import CheckOptions, run_check
    from ibmi_trust.probe import ProbeOptions, Target
    from ibmi_trust.store.spec import StoreOptions

    rep = Repetition(seed)
    plan = ChainPlan(pki.common, minority=pki.rare, minority_share=share)
    with MailServer("smtp", chains=plan, seed=seed, name=HOST) as srv:
        target = Target.parse("%s:%d" % (HOST, srv.port), protocol="smtp")
        night = 0
        while night < max_nights + (nights_after if rep.found_on else 0):
            night += 1
            when = T0 + datetime.timedelta(days=night - 1)
            journal = Journal.open(HistorySettings(location=location.Location("sqlite", history_path, "test"),
                                                   clock=lambda when=when: when))
            options = CheckOptions(store_spec="bundle:" + pki.store_pem, store_options=StoreOptions(),
                                   probe_options=ProbeOptions(resolve=srv.resolve_map(HOST), rate=1000.0,
                                                              concurrency=8, timeout=5.0, seed=seed * 100 + night,
                                                              min_share=min_share),
                                   history=journal)
            result = run_check(target, options)
            rare_tonight = sum(v.variant.count for v in result.variants
                               if v.source == "tonight" and v.variant.certificates[0].sha256 in pki.rare_leaves)
            reported = [v for v in result.variants if v.variant.certificates[0].sha256 in pki.rare_leaves]
            rep.handshakes += result.probe.handshakes if result.probe else 0
            rep.rare_served += rare_tonight
            rep.nights.append({"night": night, "status": result.status, "handshakes": result.probe.handshakes,
                               "rare_tonight": rare_tonight, "reported": [v.source for v in reported],
                               "history": result.history})
            if reported and rep.found_on is None:
                rep.found_on = night
            if rep.found_on is not None and night >= rep.found_on + nights_after:
                break
    return rep


def binomial_tail_at_most(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))
