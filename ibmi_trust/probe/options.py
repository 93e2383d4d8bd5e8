"""ProbeOptions: every knob of a probe, validated once on creation."""
import dataclasses
import math
from typing import Dict, List, Optional, Tuple

from ibmi_trust.errors import ConfigError
from ibmi_trust.probe.offers import KEY_TYPES, TLS_VERSIONS
from ibmi_trust.probe.ratelimit import DEFAULT_CONCURRENCY, DEFAULT_RATE
from ibmi_trust.probe.wire import STEPS_PER_CONNECTION

SNI_CHOICES = ("on", "off")
MAX_TIMEOUT = 3600                              # seconds; beyond it sockets overflow (inf, 1e300)
MAX_DEADLINE = 86400                            # seconds: a whole probe, at most a day


@dataclasses.dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 10.0                       # seconds per network step
    ehlo: Optional[str] = None                  # SMTP EHLO name (default: this host)
    rounds: Optional[int] = None                # force N rounds over all combinations
    min_share: float = 0.05                     # find chains served on >= this share ...
    confidence: float = 0.95                    # ... with at least this probability
    sni: Tuple[str, ...] = SNI_CHOICES          # "on" (send the target name) and/or "off"
    key_types: Tuple[str, ...] = KEY_TYPES      # "ecdsa" and/or "rsa" offers
    tls_version: Optional[str] = None           # pin one version: "1.0" .. "1.3"
    resolve: Optional[Dict[str, List[str]]] = None   # {"host:port": [addr, ...]} (--resolve)
    rate: float = DEFAULT_RATE                  # handshakes per second per host
    concurrency: int = DEFAULT_CONCURRENCY      # handshakes at once per host
    like_system: bool = False                   # IBM i: offer what QSSLPCL/QSSLCSL allow, no SNI
    seed: Optional[int] = None                  # shuffles the order of combinations in each round
    deadline: Optional[float] = None            # seconds for the whole probe (None: time_limit() derives it)

    def __post_init__(self):
        _check(0 < self.timeout <= MAX_TIMEOUT, "--timeout must be > 0 and at most %d seconds" % MAX_TIMEOUT)
        _check(self.ehlo is None or (self.ehlo.isascii() and self.ehlo.isprintable() and self.ehlo.split() == [self.ehlo]),
               "--ehlo must be one name: printable ASCII, no spaces")   # no second SMTP command
        _check(self.rounds is None or self.rounds >= 1, "--rounds must be >= 1")
        _check(0.0 < self.min_share < 1.0, "--min-share must lie between 0 and 1 (exclusive)")
        _check(0.0 < self.confidence < 1.0, "confidence must lie between 0 and 1 (exclusive)")
        _check(bool(self.sni) and set(self.sni) <= set(SNI_CHOICES), "sni choices are 'on' and 'off'")
        _check(bool(self.key_types) and set(self.key_types) <= set(KEY_TYPES), "key types are 'ecdsa' and 'rsa'")
        _check(self.tls_version is None or self.tls_version in TLS_VERSIONS,
               "--tls-version must be one of %s" % ", ".join(TLS_VERSIONS))
        _check(self.deadline is None or 0 < self.deadline <= MAX_DEADLINE,
               "--deadline must be > 0 and at most %d seconds" % MAX_DEADLINE)
        _check(self.rate > 0, "--rate must be > 0")
        _check(self.concurrency >= 1, "--concurrency must be >= 1")
        _check(self.tls_version != "1.3" or "ecdsa" in self.key_types,
               "--tls-version 1.3 needs the ecdsa offer (the RSA-only offer is TLS 1.2)")
        object.__setattr__(self, "sni", tuple(dict.fromkeys(self.sni)))
        object.__setattr__(self, "key_types", tuple(dict.fromkeys(self.key_types)))

    def effective_key_types(self) -> Tuple[str, ...]:
        """The offers to make; the RSA-only offer cannot be made under TLS 1.3."""
        if self.tls_version == "1.3":
            return tuple(k for k in self.key_types if k != "rsa")
        return self.key_types

    def time_limit(self, planned_handshakes: int) -> float:
        """Seconds the whole probe may take: --deadline, else one --timeout per
        planned handshake at --concurrency at once, plus the --rate spacing
        (never less than one whole conversation). 21 s at --timeout 1 and 156 s
        at the defaults (60 planned handshakes, 4 at once, 10 a second)."""
        if self.deadline is not None:
            return float(self.deadline)
        planned = max(1, planned_handshakes)
        derived = math.ceil(planned / self.concurrency) * self.timeout + planned / self.rate
        return max(derived, STEPS_PER_CONNECTION * self.timeout)

    def to_json(self) -> dict:
        return {
            "timeout": self.timeout, "ehlo": self.ehlo, "rounds": self.rounds, "min_share": self.min_share,
            "confidence": self.confidence, "sni": list(self.sni), "key_types": list(self.key_types),
            "tls_version": self.tls_version, "resolve": self.resolve, "rate": self.rate,
            "concurrency": self.concurrency, "like_system": self.like_system, "seed": self.seed,
            "deadline": self.deadline,
        }


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
