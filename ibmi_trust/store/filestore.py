"""What the CApath and bundle stores share: planning, dry run, the write protocol.

A backend reads its store into a `Scan` and turns a request into a `Plan`:
the ChangeReport the caller gets, the `Step`s that carry it out (each step
atomic on its own) and a `confirm` that re-reads the store and raises when
the result is not exactly what was planned. Dry run returns the plan's
report with the steps as notes and touches nothing. A real run plans again
under the lock (ibmi_trust.store.transaction), so two writers never plan
from the same old state.
"""
import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from ibmi_trust.certs import Cert
from ibmi_trust.errors import StoreError
from ibmi_trust.store import fsops
from ibmi_trust.store.backup import BackupArea, area_for
from ibmi_trust.store.base import (Backup, ChangeReport, ReadProblem, StoreEntry, TrustStore,
                                   normalise_fingerprint)
from ibmi_trust.store.lock import StoreLock
from ibmi_trust.store.transaction import Guard, Transaction, checkpoint, pending_write


@dataclass
class Step:
    describe: str
    run: Callable[[], None]


@dataclass
class Plan:
    report: ChangeReport
    steps: List[Step] = field(default_factory=list)
    confirm: Callable[[], None] = lambda: None


@dataclass
class Scan:
    """One reading of a store (backends extend it with their own details)."""
    entries: List[StoreEntry]
    problems: List[ReadProblem]


class FileStore(TrustStore):
    kind = ""

    def __init__(self, path: Path, options):
        self.path = Path(path)
        self.options = options
        self.spec = "%s:%s" % (self.kind, self.path)
        self.owner = fsops.owner_tag(self.path)
        self.area = BackupArea(area_for(self.path, options.backup_dir), options.retention)
        self._problems: List[ReadProblem] = []

    # -- what a backend provides -------------------------------------------
    @property
    @abc.abstractmethod
    def lock_path(self) -> Path:
        """The lock file (kept out of backups and listings)."""

    @abc.abstractmethod
    def require_location(self) -> None:
        """StoreError unless the store's place exists (checked before locking)."""

    @abc.abstractmethod
    def scan(self, *, for_write: bool = False) -> Scan:
        """Read the store; StoreError when it cannot be read at all."""

    @abc.abstractmethod
    def read_copy(self, directory: Path) -> List[StoreEntry]:
        """The entries of the copy of this store in a backup directory."""

    @abc.abstractmethod
    def plan_add(self, scan: Scan, certs: Sequence[Cert]) -> Plan: ...

    @abc.abstractmethod
    def plan_remove(self, scan: Scan, matched: List[StoreEntry], report: ChangeReport) -> Plan: ...

    # A backup directory holds the copy under the store's own name.
    @abc.abstractmethod
    def snapshot(self, directory: Path) -> None:
        """Copy the store into the (new, empty) backup directory."""

    @abc.abstractmethod
    def put_back(self, directory: Path) -> None:
        """Make the store equal to the copy in a backup directory."""

    @abc.abstractmethod
    def matches(self, directory: Path) -> bool:
        """Does the store equal the copy in a backup directory?"""

    @abc.abstractmethod
    def tidy(self) -> List[str]:
        """Remove temporary files a dead writer of this store left."""

    # -- TrustStore ---------------------------------------------------------
    def list(self) -> List[StoreEntry]:
        scan = self.scan()
        self._problems = list(scan.problems) + self.pending_write_problems()
        return scan.entries

    def pending_write_problems(self) -> List[ReadProblem]:
        """A warning when a writer died mid-change (its lock file says so)."""
        warning = pending_write(self.lock_path)
        return [ReadProblem(str(self.lock_path), warning)] if warning else []

    @property
    def problems(self) -> List[ReadProblem]:
        return list(self._problems)

    def add(self, certs: Sequence[Cert], *, dry_run: bool = False) -> ChangeReport:
        unique = list(dict.fromkeys(certs))
        return self._change(lambda scan: self.plan_add(scan, unique), dry_run)

    def remove(self, selectors: Iterable[str], *, dry_run: bool = False) -> ChangeReport:
        wanted = [s for s in dict.fromkeys(s.strip() for s in selectors) if s]

        def planner(scan: Scan) -> Plan:
            report = ChangeReport(store=self.spec, dry_run=False)
            matched = select(scan.entries, wanted, report)
            return self.plan_remove(scan, matched, report)
        return self._change(planner, dry_run)

    def backup(self) -> Backup:
        self.require_location()
        with Transaction(self._guard()):
            self.scan()  # refuse to back up a store that cannot be read
            backup = self.area.create(self.snapshot)
            self.area.prune()
            return backup

    def backups(self) -> List[Backup]:
        return self.area.list()

    def restore(self, backup_id: Optional[str] = None, *, dry_run: bool = False) -> ChangeReport:
        def planner(scan: Scan) -> Plan:
            chosen = self.area.find(backup_id)
            copy = Path(chosen.location)
            report = ChangeReport(store=self.spec, dry_run=False)
            after = {e.cert.sha256: e for e in self.read_copy(copy)}
            before = {e.cert.sha256: e for e in scan.entries}
            report.added = [e for sha, e in after.items() if sha not in before]
            report.removed = [e for sha, e in before.items() if sha not in after]
            if self.matches(copy):
                report.notes.append("the store already equals backup %s" % chosen.id)
                return Plan(report)

            def confirm() -> None:
                if not self.matches(copy):
                    raise_confirm("the store does not equal backup %s after restoring it" % chosen.id)
            return Plan(report, [Step("put back backup %s" % chosen.id, lambda: self.put_back(copy))], confirm)
        return self._change(planner, dry_run)

    # -- the write protocol ---------------------------------------------------
    def _change(self, planner: Callable[[Scan], Plan], dry_run: bool) -> ChangeReport:
        if dry_run:
            plan = planner(self.scan(for_write=True))
            plan.report.dry_run = True
            plan.report.notes.extend("would %s" % step.describe for step in plan.steps)
            return plan.report
        self.require_location()
        with Transaction(self._guard()) as txn:
            plan = planner(self.scan(for_write=True))
            if plan.steps:
                plan.report.backup = txn.write(lambda: self._run(plan.steps), plan.confirm)
                plan.report.notes.extend(step.describe for step in plan.steps)
            plan.report.notes[:0] = txn.notes
            return plan.report

    @staticmethod
    def _run(steps: List[Step]) -> None:
        for index, step in enumerate(steps):
            if index:
                checkpoint("mid-write")
            step.run()

    def _guard(self) -> Guard:
        return Guard(
            spec=self.spec,
            lock=StoreLock(self.lock_path, timeout=self.options.lock_timeout, what=self.spec),
            backups=self.area,
            snapshot=self.snapshot,
            put_back=self.put_back,
            matches=self.matches,
            tidy=self.tidy,
        )


def select(entries: List[StoreEntry], selectors: List[str], report: ChangeReport) -> List[StoreEntry]:
    """Entries named by SHA-256 fingerprint (all copies) or by label."""
    matched: Dict[str, StoreEntry] = {}
    for selector in selectors:
        fingerprint = normalise_fingerprint(selector)
        hits = [e for e in entries if e.label == selector or e.cert.sha256 == fingerprint]
        if not hits:
            report.not_found.append(selector)
        for entry in hits:
            matched.setdefault(entry.label, entry)
    return list(matched.values())


def raise_confirm(message: str) -> None:
    raise StoreError("confirm: " + message)
