"""ProbeOptions: every knob of a probe, validated once on creation.

A small hand-written frozen class rather than a dataclass: `dataclasses`
imports inspect (and ast on 3.13), 5-10 ms that a one-handshake probe
started by a CL command pays on every run (issue 13). It behaves as the
frozen dataclass did: the same constructor keywords, equality, hash and
repr over the fields in FIELDS order, attributes that cannot be set, and
`replace(**changes)` for dataclasses.replace.
"""
import math

from ibmi_trust.errors import ConfigError
from ibmi_trust.probe.offers import KEY_TYPES, TLS_VERSIONS
from ibmi_trust.probe.ratelimit import DEFAULT_CONCURRENCY, DEFAULT_RATE
from ibmi_trust.probe.wire import STEPS_PER_CONNECTION

SNI_CHOICES = ("on", "off")
MAX_TIMEOUT = 3600                              # seconds; beyond it sockets overflow (inf, 1e300)
MAX_DEADLINE = 86400                            # seconds: a whole probe, at most a day

FIELDS = ("timeout", "ehlo", "rounds", "min_share", "confidence", "sni", "key_types", "tls_version", "resolve",
          "rate", "concurrency", "like_system", "seed", "deadline")


class ProbeOptions:
    __slots__ = FIELDS

    def __init__(self,
                 timeout: float = 10.0,             # seconds per network step
                 ehlo: "str | None" = None,         # SMTP EHLO name (default: this host)
                 rounds: "int | None" = None,       # force N rounds over all combinations
                 min_share: float = 0.05,           # find chains served on >= this share ...
                 confidence: float = 0.95,          # ... with at least this probability
                 sni: "tuple[str, ...]" = SNI_CHOICES,     # "on" (send the target name) and/or "off"
                 key_types: "tuple[str, ...]" = KEY_TYPES,  # "ecdsa" and/or "rsa" offers
                 tls_version: "str | None" = None,  # pin one version: "1.0" .. "1.3"
                 resolve: "dict[str, list[str]] | None" = None,   # {"host:port": [addr, ...]} (--resolve)
                 rate: float = DEFAULT_RATE,        # handshakes per second per host
                 concurrency: int = DEFAULT_CONCURRENCY,   # handshakes at once per host
                 like_system: bool = False,         # IBM i: offer what QSSLPCL/QSSLCSL allow, no SNI
                 seed: "int | None" = None,         # shuffles the order of combinations in each round
                 deadline: "float | None" = None):  # seconds for the whole probe (None: time_limit() derives it)
        _check(0 < timeout <= MAX_TIMEOUT, "--timeout must be > 0 and at most %d seconds" % MAX_TIMEOUT)
        _check(ehlo is None or (ehlo.isascii() and ehlo.isprintable() and ehlo.split() == [ehlo]),
               "--ehlo must be one name: printable ASCII, no spaces")   # no second SMTP command
        _check(rounds is None or rounds >= 1, "--rounds must be >= 1")
        _check(0.0 < min_share < 1.0, "--min-share must lie between 0 and 1 (exclusive)")
        _check(0.0 < confidence < 1.0, "confidence must lie between 0 and 1 (exclusive)")
        _check(bool(sni) and set(sni) <= set(SNI_CHOICES), "sni choices are 'on' and 'off'")
        _check(bool(key_types) and set(key_types) <= set(KEY_TYPES), "key types are 'ecdsa' and 'rsa'")
        _check(tls_version is None or tls_version in TLS_VERSIONS,
               "--tls-version must be one of %s" % ", ".join(TLS_VERSIONS))
        _check(deadline is None or 0 < deadline <= MAX_DEADLINE,
               "--deadline must be > 0 and at most %d seconds" % MAX_DEADLINE)
        _check(rate > 0, "--rate must be > 0")
        _check(concurrency >= 1, "--concurrency must be >= 1")
        _check(tls_version != "1.3" or "ecdsa" in key_types,
               "--tls-version 1.3 needs the ecdsa offer (the RSA-only offer is TLS 1.2)")
        values = (timeout, ehlo, rounds, min_share, confidence, tuple(dict.fromkeys(sni)),
                  tuple(dict.fromkeys(key_types)), tls_version, resolve, rate, concurrency, like_system, seed,
                  deadline)
        for name, value in zip(FIELDS, values):
            object.__setattr__(self, name, value)

    # -- what the frozen dataclass gave ---------------------------------------
    def replace(self, **changes) -> "ProbeOptions":
        """A copy with `changes` (validated again), as dataclasses.replace makes it."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise TypeError("ProbeOptions has no field %s" % ", ".join(map(repr, unknown)))
        return ProbeOptions(**dict(self._fields(), **changes))

    def _fields(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in FIELDS)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        return "ProbeOptions(%s)" % ", ".join("%s=%r" % item for item in self._fields().items())

    def __setattr__(self, name, value):
        raise AttributeError("cannot assign to field %r: ProbeOptions is frozen (use replace())" % name)

    def __delattr__(self, name):
        raise AttributeError("cannot delete field %r: ProbeOptions is frozen" % name)

    def __reduce__(self):
        return (_rebuild, (self._fields(),))

    # -- derived ------------------------------------------------------------------
    def effective_key_types(self) -> "tuple[str, ...]":
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
        return dict(self._fields(), sni=list(self.sni), key_types=list(self.key_types))


def _rebuild(fields: dict) -> ProbeOptions:
    return ProbeOptions(**fields)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
