"""The trust-store interface every backend implements.

Reads return `StoreEntry`s. Writes (add/remove/restore) follow one protocol,
whatever the backend:
  lock -> back up (timestamped, retention) -> write atomically -> re-read
  and confirm each change -> on any failure restore the backup and raise
  StoreWriteError -> unlock.
`dry_run=True` computes and returns the same `ChangeReport` (the plan) and
writes nothing, takes no backup.
"""
import abc
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence

from ibmi_trust.certs import Cert


@dataclass
class StoreEntry:
    cert: Cert
    label: str                     # DCM label, or file name in a CApath, or "#N" in a bundle
    enabled: Optional[bool] = None  # None: the store does not record it
    trusted: Optional[bool] = None  # None: the store does not record it
    order: Optional[tuple] = None   # where OpenSSL's lookup meets it (CAfile order; CApath hash, .N)

    def summary(self) -> dict:
        out = self.cert.summary()
        out.update({"label": self.label, "enabled": self.enabled, "trusted": self.trusted})
        return out


@dataclass
class Backup:
    id: str                        # timestamp-like id, sortable
    location: str                  # file or directory holding the copy
    created: str                   # ISO-8601 UTC


@dataclass
class ChangeReport:
    store: str
    dry_run: bool
    added: List[StoreEntry] = field(default_factory=list)
    already_present: List[StoreEntry] = field(default_factory=list)
    removed: List[StoreEntry] = field(default_factory=list)
    not_found: List[str] = field(default_factory=list)
    backup: Optional[Backup] = None
    notes: List[str] = field(default_factory=list)
    # IBM i --app-id: per CA, what DCM says the application trusts and what was done
    # (ibmi_trust.ibmi.trust_check.TrustDecision.as_dict()).
    trust_list: List[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def summary(self) -> dict:
        return {
            "store": self.store,
            "dry_run": self.dry_run,
            "added": [e.summary() for e in self.added],
            "already_present": [e.summary() for e in self.already_present],
            "removed": [e.summary() for e in self.removed],
            "not_found": list(self.not_found),
            "backup": None if self.backup is None else vars(self.backup),
            "notes": list(self.notes),
            "trust_list": list(self.trust_list),
        }


@dataclass
class ReadProblem:
    """Something in the store that could not be read (reported, not fatal)."""
    where: str
    reason: str


class TrustStore(abc.ABC):
    """A set of CA certificates a TLS client trusts."""

    spec: str = ""
    # Which validator the clients of this store run (analyse.validators): OpenSSL
    # for CApath directories and bundles; the IBM i stores say "gskit".
    validator: str = "openssl"
    # May a chain end at any certificate of this store, or only at a root?
    # OpenSSL clients (sendmail's CACertPath/CAfile) need a self-signed anchor
    # unless built with X509_V_FLAG_PARTIAL_CHAIN; GSKit: see SystemStore.
    partial_chain_anchors: bool = False
    # Does the store keep an enabled state per certificate (DCM does), so that a
    # None there means "unknown" rather than "not recorded"?
    records_enabled_state: bool = False

    @abc.abstractmethod
    def list(self) -> List[StoreEntry]:
        """Every certificate in the store (unreadable items go to `problems`)."""

    @property
    def problems(self) -> List[ReadProblem]:
        return []

    def lookup(self):
        """A reader that finds certificates by subject name without reading the
        whole store (as OpenSSL reads a CApath directory), or None."""
        return None

    @property
    def notes(self) -> List[str]:
        """Facts about the listing as a whole (e.g. a state the backend cannot read)."""
        return []

    @abc.abstractmethod
    def add(self, certs: Sequence[Cert], *, dry_run: bool = False) -> ChangeReport:
        """Add CA certificates; present ones are reported in already_present."""

    @abc.abstractmethod
    def remove(self, selectors: Iterable[str], *, dry_run: bool = False) -> ChangeReport:
        """Remove by SHA-256 fingerprint (hex, any case, colons allowed) or label."""

    @abc.abstractmethod
    def backup(self) -> Backup:
        """Copy the store aside now."""

    @abc.abstractmethod
    def backups(self) -> List[Backup]:
        """Backups available for restore, newest first."""

    @abc.abstractmethod
    def restore(self, backup_id: Optional[str] = None, *, dry_run: bool = False) -> ChangeReport:
        """Put a backup back (newest when None); the current state is backed up first."""

    # -- helpers for every backend -------------------------------------
    def anchors(self) -> List[Cert]:
        """Certificates a chain may end at (enabled/trusted ones, or all)."""
        return [e.cert for e in self.list() if e.enabled is not False and e.trusted is not False]

    def contains(self, cert: Cert) -> bool:
        return any(e.cert.sha256 == cert.sha256 for e in self.list())


def normalise_fingerprint(text: str) -> str:
    return text.replace(":", "").replace(" ", "").strip().lower()
