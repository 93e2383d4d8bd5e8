"""Atomic file and link writes for the file stores.

Every change is a new object under a temporary name in the same directory,
made durable (fsync) and renamed over the old name, so a reader sees the old
or the new object, never a half-written one. Temporary names are
`.ibmi-trust-tmp-<owner>-<random>`, where <owner> identifies the store, so
`remove_temp_files` sweeps only what an interrupted write of that store left.
"""
import errno
import hashlib
import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import List, Optional

from ibmi_trust.store.transaction import checkpoint

OWN_PREFIX = ".ibmi-trust"           # lock file, temp files: never store content
TEMP_PREFIX = OWN_PREFIX + "-tmp-"
NEW_FILE_MODE = 0o644                 # CA certificates are public; services must read them


def owner_tag(store_path: Path) -> str:
    """A short stable tag naming one store in temporary file names."""
    return hashlib.sha1(os.fsencode(str(store_path))).hexdigest()[:8]


def temp_path(directory: Path, owner: str) -> Path:
    return directory / ("%s%s-%s" % (TEMP_PREFIX, owner, uuid.uuid4().hex))


def write_file(path: Path, data: bytes, *, owner: str,
               like: Optional[os.stat_result] = None) -> List[str]:
    """Replace `path` with `data` atomically; keep mode and owner of `like`.

    Returns notes (an owner that could not be kept).
    """
    notes: List[str] = []
    tmp = temp_path(path.parent, owner)
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, stat.S_IMODE(like.st_mode) if like else NEW_FILE_MODE)
            if like is not None:
                notes.extend(_keep_owner(fd, path, like))
            os.fsync(fd)
        finally:
            os.close(fd)
        checkpoint("mid-write")
        os.replace(str(tmp), str(path))
    except BaseException:
        _unlink_quietly(tmp)
        raise
    sync_directory(path.parent)
    return notes


def _keep_owner(fd: int, path: Path, like: os.stat_result) -> List[str]:
    if (like.st_uid, like.st_gid) == (os.geteuid(), os.getegid()):
        return []
    try:
        os.fchown(fd, like.st_uid, like.st_gid)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EACCES):
            raise
        return ["%s: could not keep owner %d:%d (%s); it is now owned by %d:%d"
                % (path, like.st_uid, like.st_gid, exc.strerror, os.geteuid(), os.getegid())]
    return []


def write_symlink(path: Path, target: str, *, owner: str) -> None:
    """Create or replace the symbolic link `path` -> `target` atomically."""
    tmp = temp_path(path.parent, owner)
    os.symlink(target, str(tmp))
    try:
        checkpoint("mid-write")
        os.replace(str(tmp), str(path))
    except BaseException:
        _unlink_quietly(tmp)
        raise
    sync_directory(path.parent)


def remove(path: Path) -> None:
    """Remove a file or link (not what a link points to); absent is fine."""
    try:
        os.unlink(str(path))
    except FileNotFoundError:
        return
    sync_directory(path.parent)


def copy_item(source: Path, destination: Path) -> None:
    """Copy a file (bytes, mode, owner where allowed) or re-create a link as it is."""
    info = os.lstat(str(source))
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(str(source)), str(destination))
    else:
        shutil.copy2(str(source), str(destination))
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.lchown(str(destination), info.st_uid, info.st_gid)
        except OSError:
            pass  # not privileged: the copy keeps this user's ownership


def sync_directory(directory: Path) -> None:
    """Make renames in `directory` durable (best effort where unsupported)."""
    try:
        fd = os.open(str(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory
    finally:
        os.close(fd)


def remove_temp_files(directory: Path, owner: str) -> List[str]:
    """Delete the temporary files an interrupted write left; returns their names."""
    removed = []
    try:
        names = os.listdir(str(directory))
    except OSError:
        return removed
    prefix = "%s%s-" % (TEMP_PREFIX, owner)
    for name in names:
        if name.startswith(prefix):
            _unlink_quietly(directory / name)
            removed.append(name)
    return removed


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(str(path))
    except OSError:
        pass
