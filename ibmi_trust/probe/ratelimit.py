"""A process-wide, per-host limit on handshakes: at most `rate` a second and
`concurrency` at once, shared by every probe of the same host in the process
(the `verify` job probes many targets from several threads).
"""
import threading
import time
from typing import Dict, Tuple

DEFAULT_RATE = 10.0
DEFAULT_CONCURRENCY = 4


class HostLimiter:
    def __init__(self, rate: float, concurrency: int):
        if rate <= 0 or concurrency < 1:
            raise ValueError("rate must be > 0 and concurrency >= 1")
        self.rate = rate
        self.concurrency = concurrency
        self._interval = 1.0 / rate
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._next = 0.0

    def slot(self) -> "_Slot":
        """`with limiter.slot():` holds one of the concurrent slots, starting no
        sooner than the rate allows."""
        return _Slot(self)

    def _wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


class _Slot:
    """HostLimiter.slot() (a class: contextlib is not otherwise needed by a probe)."""

    def __init__(self, limiter: HostLimiter):
        self._limiter = limiter

    def __enter__(self):
        self._limiter._slots.acquire()
        try:
            self._limiter._wait_turn()
        except BaseException:
            self._limiter._slots.release()
            raise
        return None

    def __exit__(self, *exc):
        self._limiter._slots.release()
        return False


_LIMITERS: Dict[Tuple[str, float, int], HostLimiter] = {}
_LOCK = threading.Lock()


def limiter_for(host: str, rate: float = DEFAULT_RATE, concurrency: int = DEFAULT_CONCURRENCY) -> HostLimiter:
    """The shared limiter of `host` (by name, case-insensitive) for these limits."""
    key = (host.lower().rstrip("."), float(rate), int(concurrency))
    with _LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = HostLimiter(float(rate), int(concurrency))
        return limiter
