"""One write protocol for every store: lock, back up, write, confirm, roll back.

    with Transaction(guard) as txn:        # lock; undo an interrupted write
        plan = ...                         # decide under the lock
        if plan needs a change:
            backup = txn.write(apply, confirm)

`write` copies the store aside (BackupArea), records `state=writing` and the
backup id in the lock file, runs `apply`, then `confirm` (which re-reads the
store and raises if it is not what was intended). Any failure or interrupt
puts the backup back and raises StoreWriteError; success records
`state=idle` (the commit point) and prunes old backups. If the process dies
before the commit point (power, SIGKILL), the lock file still says
`state=writing`: the next Transaction on that store restores the named
backup before doing anything else; readers see a warning until then.

A backend supplies a `Guard`: where the lock and backups are, how to copy the
store into a directory, how to put such a copy back, and whether the store
equals a copy. The IBM i backend can use the same class.

Test hook: the environment variable IBMI_TRUST_TEST_FAIL_AT (read here and
nowhere else) makes `checkpoint(name)` fail at one point of a write:
`after-backup`, `mid-write` (called before every file rename and between
steps) or `before-confirm`; `mid-write@3` fails at the third such point of
a write; append `:kill` to SIGKILL the process there instead of raising.
Operators never set it.
"""
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, List, Optional

from ibmi_trust.errors import StoreError, StoreWriteError
from ibmi_trust.store.base import Backup
from ibmi_trust.store.lock import StoreLock, read_record

if TYPE_CHECKING:  # backup.py writes through fsops, which calls checkpoint()
    from ibmi_trust.store.backup import BackupArea

FAIL_AT_ENV = "IBMI_TRUST_TEST_FAIL_AT"


class InjectedFailure(Exception):
    """Raised by `checkpoint` when the test hook asks for a failure there."""


_passed = {}  # checkpoint name -> times passed in the current write


def checkpoint(name: str) -> None:
    """A point where a write may be interrupted on purpose (test hook)."""
    wanted = os.environ.get(FAIL_AT_ENV, "")
    if not wanted:
        return
    where, _sep, action = wanted.partition(":")
    point, _at, nth = where.partition("@")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] != int(nth or 1):
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFailure("%s=%s" % (FAIL_AT_ENV, wanted))


@dataclass
class Guard:
    """What the protocol needs to know about one store."""
    spec: str
    lock: StoreLock
    backups: "BackupArea"
    snapshot: Callable[[Path], None]        # copy the store into this new, empty backup directory
    put_back: Callable[[Path], None]        # make the store equal to the copy in this backup directory
    matches: Callable[[Path], bool]         # does the store equal the copy in this backup directory?
    tidy: Callable[[], List[str]] = field(default=lambda: [])  # remove leftovers of a dead writer


class Transaction:
    def __init__(self, guard: Guard):
        self.guard = guard
        self.notes: List[str] = []

    def __enter__(self) -> "Transaction":
        self.guard.lock.__enter__()
        try:
            self._recover()
        except BaseException:
            self.guard.lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.guard.lock.__exit__(*exc_info)

    # -- the write --------------------------------------------------------
    def write(self, apply: Callable[[], None], confirm: Callable[[], None]) -> Backup:
        guard = self.guard
        _passed.clear()
        backup = guard.backups.create(guard.snapshot)
        guard.lock.record(state="writing", backup=backup.id)
        try:
            checkpoint("after-backup")
            apply()
            checkpoint("before-confirm")
            confirm()
        except BaseException as exc:
            self._roll_back(backup, exc)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise StoreWriteError(
                "writing %s failed (%s); the store was rolled back to backup %s"
                % (guard.spec, _reason(exc), backup.id),
                hint="nothing changed; the backup stays in %s" % guard.backups.root,
            ) from None
        guard.lock.record(state="idle", backup="")
        for pruned in guard.backups.prune():
            self.notes.append("retention: removed old backup %s" % pruned.id)
        return backup

    def _roll_back(self, backup: Backup, cause: BaseException) -> None:
        try:
            self._put_back(backup)
        except BaseException as exc:
            raise StoreError(
                "writing %s failed (%s) and so did the rollback (%s)"
                % (self.guard.spec, _reason(cause), _reason(exc)),
                hint="the next write retries the rollback; or restore backup %s "
                     "(ibmi-trust store restore %s)" % (backup.location, backup.id),
            ) from None
        self.guard.lock.record(state="idle", backup="")

    def _put_back(self, backup: Backup) -> None:
        copy = Path(backup.location)
        self.guard.put_back(copy)
        self.guard.tidy()
        if not self.guard.matches(copy):
            raise StoreError("the store still differs from backup %s" % backup.id)

    # -- recovery ---------------------------------------------------------
    def _recover(self) -> None:
        found = self.guard.lock.found
        if found.get("state") != "writing":
            return
        backup_id = found.get("backup", "")
        try:
            backup = self.guard.backups.find(backup_id) if backup_id else None
        except StoreError:
            backup = None
        if backup is None:
            raise StoreError(
                "%s: an interrupted write (pid %s) left the store unconfirmed and its backup %s is gone"
                % (self.guard.spec, found.get("pid", "?"), backup_id or "(none)"),
                hint="check the store by hand, then delete %s to clear the mark" % self.guard.lock.path,
            )
        try:
            self._put_back(backup)
        except Exception as exc:
            raise StoreError("%s: could not roll back an interrupted write to backup %s: %s"
                             % (self.guard.spec, backup.id, _reason(exc)),
                             hint="restore it by hand from %s" % backup.location) from None
        self.guard.lock.record(state="idle", backup="")
        self.notes.append(
            "rolled back an interrupted write (pid %s, since %s) to backup %s"
            % (found.get("pid", "?"), found.get("since", "?"), backup.id)
        )


def pending_write(lock_path: Path) -> Optional[str]:
    """A reader's warning when a write is running or died midway, else None."""
    record = read_record(lock_path)
    if record.get("held") == "yes":
        return "a write by pid %s is in progress; this view may be incomplete" % record.get("pid", "?")
    if record.get("state") == "writing":
        return ("a write by pid %s (since %s) did not finish; the next write or `store restore` "
                "rolls it back to backup %s" % (record.get("pid", "?"), record.get("since", "?"),
                                                record.get("backup", "?")))
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
