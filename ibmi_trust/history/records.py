"""What the history holds, as plain data shared by both stores (SQLite, Db2 for i).

A run is one probe of one target (check, fix or one target of verify); it
has handshakes (one row per attempt: time, address, SNI, key-type offer,
TLS version, outcome and, for a success, the chain) and the verdict each
chain got in that run. A chain is stored once, by the SHA-256 of its
certificates' DER in the order sent; a certificate once, by its SHA-256,
as DER.
"""
import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Tuple

from ibmi_trust.errors import IbmiTrustError

SCHEMA_VERSION = 1              # of the stored layout (tables and columns)
OK = "ok"                       # the outcome of a handshake that captured a chain
MAX_OUTCOME = 512               # characters of a failure reason kept
MAX_SNI = 253


class HistoryError(IbmiTrustError):
    """The history could not be read or written (never fails a check: a warning)."""


class TargetKey(NamedTuple):
    host: str
    port: int
    protocol: str

    @classmethod
    def of(cls, target) -> "TargetKey":
        return cls(target.host, target.port, target.protocol)

    def display(self) -> str:
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)


class HandshakeRow(NamedTuple):
    at: datetime.datetime               # aware, UTC
    address: str
    sni: Optional[str]
    key_type: str
    tls_version: Optional[str]
    outcome: str                        # OK or the failure reason
    chain: Optional[str]                # chain SHA-256 for a success


@dataclass
class RunRecord:
    """One run to write: the run row, its handshakes, the chains they captured
    (chain SHA-256 -> certificate DERs, leaf first) and the verdict of every
    chain the run judged (chain SHA-256 -> (verdict, from_history))."""
    target: TargetKey
    started_at: datetime.datetime
    command: str
    status: str
    store: str
    handshakes: List[HandshakeRow] = field(default_factory=list)
    chains: Dict[str, List[bytes]] = field(default_factory=dict)
    verdicts: Dict[str, Tuple[str, bool]] = field(default_factory=dict)

    @property
    def successes(self) -> int:
        return sum(1 for h in self.handshakes if h.outcome == OK)


class SummaryRow(NamedTuple):
    """Handshakes of one target grouped by chain x address x SNI x key type
    (chain None: failed attempts)."""
    chain: Optional[str]
    address: str
    sni: Optional[str]
    key_type: str
    count: int
    first_at: datetime.datetime
    last_at: datetime.datetime


class RunRow(NamedTuple):
    run_id: int
    started_at: datetime.datetime
    command: str
    handshakes: int                     # successful ones
    attempts: int
    status: str
    store: str


class RunChainRow(NamedTuple):
    chain: str
    verdict: str
    from_history: bool


def utc(when: Optional[datetime.datetime] = None) -> datetime.datetime:
    """`when` as an aware UTC datetime (naive values are taken as UTC); now by default."""
    if when is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if when.tzinfo is None:
        return when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def iso(when: datetime.datetime) -> str:
    """Stored time text: ISO 8601 UTC with microseconds (sorts as text)."""
    return utc(when).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text) -> datetime.datetime:
    if isinstance(text, datetime.datetime):
        return utc(text)
    text = str(text).strip().rstrip("Z").replace(" ", "T")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc)


def day(when: datetime.datetime) -> str:
    return utc(when).strftime("%Y-%m-%d")


def cert_id(der: bytes) -> str:
    """A certificate's key in the history: the SHA-256 of its DER (as Cert.sha256)."""
    return hashlib.sha256(der).hexdigest()
