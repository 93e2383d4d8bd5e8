"""What a probe found: the distinct chains (each exactly as sent), who served
them and how often, the failures, and the guarantee reached. `to_json()` is
the documented contract (docs/probe-json.md).
"""
import hashlib
import time
from collections import Counter, OrderedDict
from typing import Dict, List, NamedTuple, Optional, Tuple

from ibmi_trust.certs import Cert, to_pem_bundle

SCHEMA_VERSION = 1


class Combo(NamedTuple):
    address: str
    sni: Optional[str]
    key_type: str                       # "ecdsa", "rsa" or "system"

    def __str__(self):
        return "%s %s %s" % (self.address, "sni=" + self.sni if self.sni else "no-sni", self.key_type)

    def to_json(self) -> dict:
        return {"address": self.address, "sni": self.sni, "key_type": self.key_type}


class Failure(NamedTuple):
    address: str
    sni: Optional[str]
    key_type: str
    reason: str

    def __str__(self):
        return "%s: %s" % (Combo(self.address, self.sni, self.key_type), self.reason)


class Handshake(NamedTuple):
    """One attempt as it happened (the history records these)."""
    offset: float                       # seconds since the probe started
    combo: Combo
    outcome: str                        # "ok", or why it failed
    tls_version: Optional[str] = None
    chain: Optional[str] = None         # ChainVariant.sha256 of a success


class ChainVariant:
    """One distinct chain (same certificates in the same order)."""

    def __init__(self, certificates: List[Cert]):
        self.certificates = certificates
        self.sha256 = hashlib.sha256(b"".join(c.der for c in certificates)).hexdigest()
        self.count = 0
        self.share = 0.0
        self.combo_counts: "OrderedDict[Combo, int]" = OrderedDict()

    @property
    def combos(self) -> List[Combo]:
        return list(self.combo_counts)

    def pem(self) -> str:
        return to_pem_bundle(self.certificates)

    def to_json(self) -> dict:
        return {
            "chain_sha256": self.sha256,
            "count": self.count,
            "share": round(self.share, 6),
            "served_to": [dict(combo.to_json(), count=n) for combo, n in self.combo_counts.items()],
            "certificates": [dict(c.summary(), pem=c.pem()) for c in self.certificates],
        }


class ProbeResult:
    def __init__(self, target, options, addresses: List[str], combos: List[Combo]):
        self.target = target
        self.options = options
        self.addresses = addresses
        self.combos = combos
        self.handshakes = 0              # successful captures
        self.attempts = 0
        self.rounds = 0
        self.chains: List[ChainVariant] = []
        self.failures: List[Failure] = []
        self.failure_counts: Counter = Counter()
        self.abandoned: List[Combo] = []
        self.methods: Counter = Counter()
        self.tls_versions: Counter = Counter()
        self.guarantee: Dict = {}
        self.notes: List[str] = []
        self.elapsed = 0.0
        self.time_limit = 0.0            # seconds the whole probe was allowed
        self.time_limit_reached = False  # True when it ended the probe before the plan was done
        self.started = time.monotonic()
        self.log: List[Handshake] = []   # every attempt, in order
        self.resolutions = 1             # name resolutions made (the first, plus re-resolutions)
        self._by_key: Dict[Tuple[bytes, ...], ChainVariant] = {}

    # -- filled in by discovery -------------------------------------------
    def add_chain(self, combo: Combo, ders: List[bytes], method: str, tls_version: str) -> None:
        key = tuple(ders)
        variant = self._by_key.get(key)
        if variant is None:
            variant = self._by_key[key] = ChainVariant([Cert(der) for der in ders])
            self.chains.append(variant)
        variant.count += 1
        variant.combo_counts[combo] = variant.combo_counts.get(combo, 0) + 1
        self.handshakes += 1
        self.methods[method] += 1
        self.tls_versions[tls_version] += 1
        self.log.append(Handshake(time.monotonic() - self.started, combo, "ok", tls_version, variant.sha256))

    def add_failure(self, combo: Combo, reason: str) -> None:
        failure = Failure(combo.address, combo.sni, combo.key_type, reason)
        if failure not in self.failure_counts:
            self.failures.append(failure)
        self.failure_counts[failure] += 1
        self.log.append(Handshake(time.monotonic() - self.started, combo, reason))

    def finish(self) -> None:
        order = {combo: index for index, combo in enumerate(self.combos)}
        for variant in self.chains:
            variant.share = variant.count / self.handshakes if self.handshakes else 0.0
            variant.combo_counts = OrderedDict(sorted(variant.combo_counts.items(), key=lambda kv: order[kv[0]]))
        self.chains.sort(key=lambda v: (-v.count, order[next(iter(v.combo_counts))], v.sha256))

    # -- views ------------------------------------------------------------
    @property
    def capture_method(self) -> str:
        return ", ".join(m for m, _ in self.methods.most_common()) or "none"

    def covered(self) -> List[Combo]:
        seen = set()
        for variant in self.chains:
            seen.update(variant.combo_counts)
        return [c for c in self.combos if c in seen]

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "probe",
            "target": self.target.to_json(),
            "addresses": list(self.addresses),
            "resolutions": self.resolutions,
            "handshakes": self.handshakes,
            "attempts": self.attempts,
            "rounds": self.rounds,
            "combinations": [c.to_json() for c in self.combos],
            "abandoned": [c.to_json() for c in self.abandoned],
            "guarantee": dict(self.guarantee),
            "capture_method": self.capture_method,
            "tls_versions": dict(self.tls_versions),
            "chains": [v.to_json() for v in self.chains],
            "failures": [dict(combo_json(f), reason=f.reason, count=self.failure_counts[f]) for f in self.failures],
            "notes": list(self.notes),
            "options": self.options.to_json(),
            "elapsed_seconds": round(self.elapsed, 3),
            "time_limit_seconds": round(self.time_limit, 3),
            "time_limit_reached": self.time_limit_reached,
        }


def combo_json(failure: Failure) -> dict:
    return Combo(failure.address, failure.sni, failure.key_type).to_json()
