"""Backups of a DCM certificate store: its .KDB, .RDB and (if present) .STH.

`*SYSTEM` is the two files DEFAULT.KDB and DEFAULT.RDB in
/QIBM/UserData/ICSS/Cert/Server (ref 10); a stash file (.STH) beside them is
copied too when it exists (UNCONFIRMED for *SYSTEM).

Backups use the shared timestamped area with retention
(ibmi_trust.store.backup), created with mode 0700, copies 0600: a KDB holds
every server private key, encrypted with the store password.

Where: NOT beside the store. /QIBM/UserData/ICSS is IBM's tree ("All DCM
data lives under /QIBM/UserData/ICSS ... Do not delete the directories",
https://www.ibm.com/support/pages/digital-certificate-manager-dcm-data-locations-cleanup-and-recovery-information),
copies of DEFAULT.KDB there would be saved, restored and migrated with DCM's
own data, and their authority would follow that directory's. The default is
DEFAULT_BACKUP_ROOT (IBMI_TRUST_KDB_BACKUP_DIR, or --backup-dir), one
subdirectory per store, every level owner-only (0700). Every report names
the place. A profile with *ALLOBJ (which DCM writes need) may still use an
area another such profile created.

Restore writes each file back IN PLACE (truncate and rewrite the existing
file) rather than renaming a new file over it, so the store keeps its owner
and IBM i authorities; an interrupted restore is finished by the write
journal of ibmi_trust.store.transaction.

Not covered by a file restore (ref 10): the operating system's copy of the
store password (the "certificate store system password stash", saved by
SAVSYS/SAVSECDTA, restored with RSTUSRPRF ... SECDTA(*DCM)) and the
application assignments in QUSRSYS/QYCDCERTI (incl. CA trust lists). If the
store password changed after a backup was taken, restoring that backup
brings back files that open only with the OLD password.
"""
import hashlib
import os
import shutil
from pathlib import Path
from typing import List

from ibmi_trust.errors import StoreError
from ibmi_trust.store.backup import BackupArea, area_for
from ibmi_trust.store.lock import StoreLock
from ibmi_trust.store.transaction import Guard

COMPANION_SUFFIXES = (".kdb", ".rdb", ".sth")
LOCK_NAME = "write.lock"
DEFAULT_BACKUP_ROOT = "/QOpenSys/var/ibmi-trust/kdb-backups"
BACKUP_ROOT_ENV = "IBMI_TRUST_KDB_BACKUP_DIR"
RESTORE_NOTE = ("a file restore does not restore the OS stash of the store password nor the "
                "DCM application assignments/CA trust lists (QUSRSYS/QYCDCERTI); if the store "
                "password changed since the backup, the restored store opens only with the old one")


def companions(kdb_path) -> List[Path]:
    """The store's files that exist now: KDB, RDB, STH (any letter case)."""
    kdb = Path(kdb_path)
    stem = kdb.stem.lower()
    try:
        names = os.listdir(str(kdb.parent))
    except OSError:
        return []
    found = {}
    for name in names:
        base, ext = os.path.splitext(name)
        if base.lower() == stem and ext.lower() in COMPANION_SUFFIXES:
            found[ext.lower()] = kdb.parent / name
    return [found[s] for s in COMPANION_SUFFIXES if s in found]


def snapshot(kdb_path, directory: Path) -> None:
    os.chmod(str(directory), 0o700)
    for source in companions(kdb_path):
        target = Path(directory) / source.name
        with open(str(source), "rb") as src:
            fd = os.open(str(target), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst)


def put_back(kdb_path, directory: Path) -> None:
    """Rewrite each store file from the copy, in place (owner and authorities stay)."""
    store_dir = Path(kdb_path).parent
    for copy in sorted(Path(directory).iterdir()):
        target = store_dir / copy.name
        with open(str(copy), "rb") as src, open(str(target), "r+b" if target.exists() else "wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.truncate()
            dst.flush()
            os.fsync(dst.fileno())


def matches(kdb_path, directory: Path) -> bool:
    store_dir = Path(kdb_path).parent
    copies = list(Path(directory).iterdir())
    return bool(copies) and all(
        (store_dir / copy.name).is_file() and _sha256(store_dir / copy.name) == _sha256(copy) for copy in copies
    )


def backup_root(options) -> str:
    """The directory that holds the backup areas of the DCM stores."""
    return (getattr(options, "backup_dir", None) or os.environ.get(BACKUP_ROOT_ENV, "").strip()
            or DEFAULT_BACKUP_ROOT)


def backup_area(kdb_path, options, *, create: bool = False) -> BackupArea:
    base = backup_root(options)
    root = area_for(Path(kdb_path), base)
    if create:
        try:
            _private_directory(Path(base), own=False)     # e.g. --backup-dir /home/me: made, never changed
            _private_directory(root, own=True)            # DEFAULT.KDB-<hash>: ours, always 0700
        except OSError as exc:
            raise StoreError("cannot create the backup directory %s: %s" % (root, exc.strerror or exc),
                             hint="choose a directory outside /QIBM/UserData/ICSS with --backup-dir "
                                  "(or %s)" % BACKUP_ROOT_ENV) from None
    return BackupArea(root, retention=getattr(options, "retention", 10) or 10)


def backup_note(backup) -> str:
    """Where a backup of a DCM store went (every report says it)."""
    return ("backup %s of the store files in %s (owner-only: it holds the store's private keys)"
            % (backup.id, backup.location))


def _private_directory(path: Path, *, own: bool) -> None:
    """mkdir -p with every directory this call creates at 0700; an existing `path`
    is set to 0700 only when it is ibmi-trust's own (`own`)."""
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700)
        os.chmod(str(directory), 0o700)      # mkdir's mode is filtered by the umask
    if own:
        os.chmod(str(path), 0o700)


def lock_path(kdb_path, options) -> Path:
    return backup_area(kdb_path, options).root / LOCK_NAME


def guard(spec: str, kdb_path, options) -> Guard:
    """The write protocol's view of this store (ibmi_trust.store.transaction)."""
    area = backup_area(kdb_path, options, create=True)
    lock = StoreLock(area.root / LOCK_NAME, timeout=getattr(options, "lock_timeout", 10.0), what=spec)
    return Guard(spec=spec, lock=lock, backups=area,
                 snapshot=lambda directory: snapshot(kdb_path, directory),
                 put_back=lambda directory: put_back(kdb_path, directory),
                 matches=lambda directory: matches(kdb_path, directory))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(str(path), "rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()
