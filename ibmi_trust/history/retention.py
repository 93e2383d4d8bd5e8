"""Retention: runs older than --history-retention days (90 by default) are
deleted, with the handshakes and verdicts that belong to them, then chains
and certificates nothing refers to any more. Done at most once per process
and history (the first time a run is written), so verify's many targets
do not each repeat it."""
import datetime
import threading
from typing import Optional

DEFAULT_RETENTION_DAYS = 90
MIN_DAYS, MAX_DAYS = 1, 3650

_done = set()
_lock = threading.Lock()


def cutoff(now: datetime.datetime, days: int) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


def prune_once(backend, now: datetime.datetime, days: int) -> Optional[str]:
    """Prune `backend` unless this process already did; a note when runs were deleted.
    HistoryError propagates (the journal makes it a warning)."""
    with _lock:
        if backend.location in _done:
            return None
        _done.add(backend.location)
    deleted = backend.prune(cutoff(now, days))
    if deleted:
        return "retention: %d run(s) older than %d days deleted from the history" % (deleted, days)
    return None


def forget(location: str) -> None:
    """Let this process prune `location` again (tests, and a history pointed elsewhere)."""
    with _lock:
        _done.discard(location)
