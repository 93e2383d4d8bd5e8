"""Timestamped backups of one store, with retention.

Layout: `<area>/<id>/` holds a copy of the store taken by the backend (a
CApath directory's files and links, a bundle file, a .KDB and its .RDB).
Ids are UTC timestamps with microseconds (`20250102T030405.123456Z`), so
they sort by age. A backup is written under a hidden temporary name and
renamed into place only when complete; unfinished ones are never listed.

The area lies beside the store (`<store>.ibmi-trust-backups`) unless
`--backup-dir D` is given (then `D/<store name>-<tag>`, one area per store).
"""
import datetime
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Callable, List, Optional

from ibmi_trust.errors import StoreError
from ibmi_trust.store.base import Backup
from ibmi_trust.store.fsops import sync_directory
from ibmi_trust.store.spec import DEFAULT_RETENTION

_ID_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z$")
_PARTIAL = ".partial-"
AREA_SUFFIX = ".ibmi-trust-backups"


def area_for(store_path: Path, backup_dir: Optional[str] = None) -> Path:
    """Where the backups of the store at `store_path` live."""
    store_path = Path(os.path.abspath(str(store_path)))
    if backup_dir:
        tag = hashlib.sha1(os.fsencode(str(store_path))).hexdigest()[:8]
        return Path(os.path.abspath(os.path.expanduser(backup_dir))) / ("%s-%s" % (store_path.name, tag))
    return store_path.parent / (store_path.name + AREA_SUFFIX)


class BackupArea:
    """The backups of one store: create, list (newest first), find, prune."""

    def __init__(self, root: Path, retention: int = DEFAULT_RETENTION):
        self.root = Path(root)
        self.retention = retention

    def create(self, fill: Callable[[Path], None]) -> Backup:
        """A new backup: `fill(directory)` copies the store into `directory`."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError("cannot create the backup directory %s: %s" % (self.root, exc.strerror or exc),
                             hint="choose another place with --backup-dir") from None
        self._remove_partials()
        backup_id = self._new_id()
        partial = self.root / (_PARTIAL + backup_id)
        try:
            partial.mkdir()
            fill(partial)
            _sync_tree(partial)
            os.rename(str(partial), str(self.root / backup_id))
        except OSError as exc:
            shutil.rmtree(str(partial), ignore_errors=True)
            raise StoreError("cannot write a backup in %s: %s" % (self.root, exc.strerror or exc),
                             hint="nothing was changed; free space or choose --backup-dir") from None
        sync_directory(self.root)
        return self._backup(backup_id)

    def list(self) -> List[Backup]:
        try:
            names = os.listdir(str(self.root))
        except OSError:
            return []
        return [self._backup(n) for n in sorted((n for n in names if _ID_RE.match(n)), reverse=True)]

    def find(self, backup_id: Optional[str] = None) -> Backup:
        """The backup with this id (the newest when None)."""
        backups = self.list()
        if not backups:
            raise StoreError("no backups in %s" % self.root)
        if backup_id is None:
            return backups[0]
        for backup in backups:
            if backup.id == backup_id:
                return backup
        raise StoreError("no backup %s in %s" % (backup_id, self.root),
                         hint="available: %s" % ", ".join(b.id for b in backups[:5]))

    def prune(self) -> List[Backup]:
        """Delete all but the `retention` newest backups; returns the deleted."""
        doomed = self.list()[self.retention:]
        for backup in doomed:
            shutil.rmtree(backup.location, ignore_errors=True)
        return doomed

    # -- helpers ----------------------------------------------------------
    def _new_id(self) -> str:
        now = datetime.datetime.now(datetime.timezone.utc)
        while True:
            backup_id = now.strftime("%Y%m%dT%H%M%S.%fZ")
            if not (self.root / backup_id).exists() and not (self.root / (_PARTIAL + backup_id)).exists():
                return backup_id
            now += datetime.timedelta(microseconds=1)

    def _backup(self, backup_id: str) -> Backup:
        when = datetime.datetime.strptime(backup_id, "%Y%m%dT%H%M%S.%fZ")
        return Backup(id=backup_id, location=str(self.root / backup_id),
                      created=when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def _remove_partials(self) -> None:
        for name in os.listdir(str(self.root)):
            if name.startswith(_PARTIAL):
                shutil.rmtree(str(self.root / name), ignore_errors=True)


def _sync_tree(directory: Path) -> None:
    for current, _dirs, files in os.walk(str(directory)):
        for name in files:
            path = os.path.join(current, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        sync_directory(Path(current))
