"""An exclusive writer lock on a trust store, with who-holds-it and a journal.

The lock is a POSIX record lock (`fcntl.lockf`, i.e. fcntl(F_SETLK)) on a
small lock file beside the store. Record locks are what AIX and IBM i PASE
implement natively (IBM i documents fcntl() F_SETLK/F_SETLKW for the
integrated file system); `flock` is emulated on some of those systems, so it
is not used. The kernel drops the lock when its process ends, however it
ends: a stale lock file never blocks anyone.

POSIX record locks belong to the process, not to the open file: a second
`lockf` from the same process would succeed, and closing *any* descriptor of
the file would release the lock. So the lock file is only ever opened here,
and a process-wide table refuses a second holder inside one process (another
thread, or a nested write).

While held, the file records `pid`, `host` and `since` (shown to a writer who
has to wait) and the write journal (`state`, `backup`) that
`ibmi_trust.store.transaction` uses to finish or undo an interrupted write.
"""
import errno
import fcntl
import os
import socket
import threading
import time
from pathlib import Path
from typing import Dict, Optional, Set

from ibmi_trust.errors import StoreError, StoreLocked
from ibmi_trust.timestamps import iso_utc

_HELD: Set[str] = set()             # real paths of the locks this process holds
_HELD_GUARD = threading.Lock()
_POLL_SECONDS = 0.05


class StoreLock:
    """`with StoreLock(path, timeout=10, what="capath:/etc/mail/certs") as lock:`"""

    def __init__(self, path, *, timeout: float = 10.0, what: str = ""):
        self.path = Path(path)
        self.timeout = max(0.0, float(timeout))
        self.what = what or str(path)
        self._fd: Optional[int] = None
        self._key = ""
        self._since = ""
        self.found: Dict[str, str] = {}   # the record left by the previous holder

    # -- acquiring --------------------------------------------------------
    def __enter__(self) -> "StoreLock":
        key = os.path.realpath(str(self.path))
        deadline = time.monotonic() + self.timeout
        while True:
            if self._try_acquire(key):
                break
            if time.monotonic() >= deadline:
                raise self._locked_error()
            time.sleep(_POLL_SECONDS)
        self._since = iso_utc()
        self.found = self._read_record()
        self.record(state=self.found.get("state", "idle"), backup=self.found.get("backup", ""))
        return self

    def _try_acquire(self, key: str) -> bool:
        with _HELD_GUARD:
            if key in _HELD:
                return False
            try:
                fd = os.open(str(self.path), os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError("cannot open the lock file %s: %s" % (self.path, exc.strerror or exc),
                                 hint="the store's directory must be writable by this user") from None
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return False
                raise StoreError("cannot lock %s: %s" % (self.path, exc.strerror or exc)) from None
            _HELD.add(key)
            self._key = key
            self._fd = fd
            return True

    def _locked_error(self) -> StoreLocked:
        holder = read_record(self.path)
        who = "another writer"
        if self._held_here():
            who = "another write in this process"
        elif holder.get("pid"):
            who = "pid %s" % holder["pid"]
            if holder.get("host"):
                who += " on %s" % holder["host"]
            if holder.get("since"):
                who += ", since %s" % holder["since"]
        return StoreLocked(
            "%s is locked by %s (waited %gs)" % (self.what, who, self.timeout),
            hint="wait for that write to finish and retry; the lock (%s) is released when its "
                 "process ends" % self.path,
        )

    def _held_here(self) -> bool:
        with _HELD_GUARD:
            return os.path.realpath(str(self.path)) in _HELD

    # -- the record -------------------------------------------------------
    def record(self, **fields: str) -> None:
        """Rewrite the lock file: holder facts plus the given journal fields."""
        if self._fd is None:
            raise StoreError("lock %s is not held" % self.path)
        lines = {"pid": str(os.getpid()), "host": socket.gethostname(), "since": self._since}
        lines.update(fields)
        data = "".join("%s=%s\n" % (k, v) for k, v in lines.items()).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def _read_record(self) -> Dict[str, str]:
        size = os.fstat(self._fd).st_size
        return _parse(os.pread(self._fd, min(size, 4096), 0)) if size else {}

    # -- releasing --------------------------------------------------------
    def __exit__(self, *exc_info) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            with _HELD_GUARD:
                _HELD.discard(self._key)


def read_record(path) -> Dict[str, str]:
    """What the lock file says now, plus held=yes|no (for readers).

    held=yes: a live writer holds the lock now. Readers never take the lock;
    they only test it with a shared lock attempt, released at once.
    """
    path = Path(path)
    # Under the guard, so no thread of this process can take the lock while
    # the file is open here (closing it would drop that thread's lock).
    with _HELD_GUARD:
        if os.path.realpath(str(path)) in _HELD:
            return {"held": "yes", "pid": str(os.getpid())}
        try:
            fd = os.open(str(path), os.O_RDONLY)
        except OSError:
            return {}
        try:
            record = _parse(os.read(fd, 4096))
            try:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                record["held"] = "no"
            except OSError:
                record["held"] = "yes"
            return record
        finally:
            os.close(fd)


def _parse(data: bytes) -> Dict[str, str]:
    out = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out

