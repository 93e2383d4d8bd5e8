"""Cumulative discovery: tonight's chains plus every chain the history saw
for the target within the window (default 30 days), and the guarantee all
those handshakes give together.

Independent handshakes over nights add up: after M handshakes in the
window, a chain served on a share p of connections has been seen with
probability 1 - (1 - p)^M. 60 handshakes a night find a 1% chain with 45%
probability in one night and with 99.2% within 8 nights (480 handshakes).
The window's line states the smallest share seen with 95% probability:
p = 1 - 0.05^(1/M), rounded up (never overstated).

A chain from the history that tonight's handshakes should have met and did
not is *retired* (the server stopped serving it, e.g. the certificate was
renewed). Per address x SNI x key-type combination c that answered tonight
(n_c handshakes), the chain had a share s_c of that combination's earlier
handshakes in the window; missing it tonight has probability
prod_c (1 - s_c)^n_c, and below RETIRE_BELOW it is no longer judged (and
said so). A rare chain is never retired this way ((0.99)^60 = 0.55), nor
one whose combinations did not answer tonight (an address that is down, or
gone from the DNS, explains the miss).
"""
import datetime
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from ibmi_trust.history.records import RunRow, SummaryRow, day

DEFAULT_WINDOW_DAYS = 30
CONFIDENCE = 0.95
RETIRE_BELOW = 0.001


@dataclass
class ChainSeen:
    """What the history (and tonight) know about one chain of the target."""
    sha256: str
    first_seen: datetime.datetime              # in the whole history kept
    last_seen: datetime.datetime
    handshakes: int = 0                        # in the window, tonight included
    share: float = 0.0                         # of the window's successful handshakes
    served_by: Dict[tuple, int] = field(default_factory=dict)   # (address, sni, key_type) -> handshakes
    tonight: int = 0                           # handshakes tonight
    new: bool = False                          # never seen before tonight

    def to_json(self) -> dict:
        return {"first_seen": iso_seconds(self.first_seen), "last_seen": iso_seconds(self.last_seen),
                "handshakes": self.handshakes, "share": round(self.share, 6),
                "tonight": self.tonight, "new": self.new,
                "served_by": [{"address": a, "sni": s, "key_type": k, "count": n}
                              for (a, s, k), n in sorted(self.served_by.items(), key=lambda kv: -kv[1])]}


def iso_seconds(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Recall:
    """The history of one target as read before tonight's probe."""

    def __init__(self, now: datetime.datetime, window_days: int, runs: List[RunRow], window: List[SummaryRow],
                 everything: List[SummaryRow], all_runs: int):
        self.now = now
        self.window_days = window_days
        self.runs = runs                                   # in the window, before tonight
        self.window = window
        self.everything = everything                       # the whole history kept
        self.all_runs = all_runs                           # runs before tonight in the whole history
        self.known_chains: Set[str] = {r.chain for r in everything if r.chain}
        self.known_addresses: Set[str] = {r.address for r in everything}
        self.handshakes = sum(r.count for r in window if r.chain)     # successful, in the window
        self.combo_total: Dict[tuple, int] = {}                       # (address, sni, key_type) -> successes
        self.chain_combo: Dict[tuple, int] = {}                       # (chain, combo) -> successes
        for r in window:
            if r.chain:
                combo = (r.address, r.sni, r.key_type)
                self.combo_total[combo] = self.combo_total.get(combo, 0) + r.count
                self.chain_combo[(r.chain, combo)] = self.chain_combo.get((r.chain, combo), 0) + r.count
        first = {}
        for r in everything:
            if r.chain:
                first[r.chain] = min(first.get(r.chain, r.first_at), r.first_at)
        self.first_seen = first

    @property
    def since(self) -> Optional[datetime.datetime]:
        return min((r.started_at for r in self.runs), default=None)

    def addresses(self) -> List[str]:
        """Addresses that served a chain in the window, most recently seen first."""
        last: Dict[str, datetime.datetime] = {}
        for r in self.window:
            if r.chain:
                last[r.address] = max(last.get(r.address, r.last_at), r.last_at)
        return [a for a, _ in sorted(last.items(), key=lambda kv: kv[1], reverse=True)]

    def seen(self, probe_result) -> Dict[str, ChainSeen]:
        """Every chain of the window and of tonight, with tonight's handshakes added."""
        total = self.handshakes + probe_result.handshakes
        out: Dict[str, ChainSeen] = {}
        for r in self.window:
            if not r.chain:
                continue
            item = out.get(r.chain)
            if item is None:
                item = out[r.chain] = ChainSeen(r.chain, self.first_seen.get(r.chain, r.first_at), r.last_at)
            item.last_seen = max(item.last_seen, r.last_at)
            item.handshakes += r.count
            key = (r.address, r.sni, r.key_type)
            item.served_by[key] = item.served_by.get(key, 0) + r.count
        for variant in probe_result.chains:
            item = out.get(variant.sha256)
            if item is None:
                item = out[variant.sha256] = ChainSeen(variant.sha256, self.first_seen.get(variant.sha256, self.now),
                                                       self.now, new=variant.sha256 not in self.known_chains)
            item.last_seen = self.now
            item.tonight = variant.count
            item.handshakes += variant.count
            for combo, count in variant.combo_counts.items():
                key = (combo.address, combo.sni, combo.key_type)
                item.served_by[key] = item.served_by.get(key, 0) + count
        for item in out.values():
            item.share = item.handshakes / total if total else 0.0
        return out

    def miss_probability(self, item: ChainSeen, probe_result) -> float:
        """P(tonight's handshakes all missed this chain, had it been served as before)."""
        tonight: Dict[tuple, int] = {}
        for variant in probe_result.chains:
            for combo, count in variant.combo_counts.items():
                key = (combo.address, combo.sni, combo.key_type)
                tonight[key] = tonight.get(key, 0) + count
        probability = 1.0
        for combo, count in tonight.items():
            total = self.combo_total.get(combo, 0)
            if total:
                probability *= (1.0 - self.chain_combo.get((item.sha256, combo), 0) / total) ** count
        return probability

    def retired(self, item: ChainSeen, probe_result) -> bool:
        return not item.tonight and self.miss_probability(item, probe_result) < RETIRE_BELOW


def window_guarantee(runs: int, handshakes: int, since: Optional[datetime.datetime], window_days: int,
                     confidence: float = CONFIDENCE) -> dict:
    """What all the handshakes of the window guarantee together."""
    share = smallest_share(handshakes, confidence)
    text = ("over %d run%s and %d handshake%s since %s, a chain served on >= %s of connections would have been seen "
            "with probability >= %g%%" % (runs, "" if runs == 1 else "s", handshakes, "" if handshakes == 1 else "s",
                                          day(since) if since else "today", percent_up(share), 100 * confidence)
            if share is not None else "no handshake in the window: nothing is guaranteed")
    return {"runs": runs, "handshakes": handshakes, "since": iso_seconds(since) if since else None,
            "window_days": window_days, "confidence": confidence, "min_share": share, "statement": text}


def smallest_share(handshakes: int, confidence: float = CONFIDENCE) -> Optional[float]:
    """The smallest share p with 1 - (1 - p)^handshakes >= confidence."""
    if handshakes <= 0:
        return None
    return 1.0 - (1.0 - confidence) ** (1.0 / handshakes)


def percent_up(share: float) -> str:
    """A share as a percentage with two significant digits, rounded up."""
    value = 100.0 * share
    digits = max(0, 1 - int(math.floor(math.log10(value)))) if value > 0 else 0
    factor = 10 ** digits
    shown = math.ceil(value * factor - 1e-9) / factor
    return ("%." + str(digits) + "f%%") % shown
