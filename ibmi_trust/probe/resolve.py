"""Host name -> every address to probe (all A and AAAA records, or --resolve pins).

`RESOLVER` is the one place a name is looked up (socket.getaddrinfo); tests
replace it (`resolver_override`) and never reach the real DNS. `reresolve`
asks again during a probe, bounded in time, since a load-balanced name
answers with different address sets from one query to the next.
"""
import socket
import threading
from typing import Callable, Dict, List, Optional

from ibmi_trust.errors import ResolveError
from ibmi_trust.probe.target import Target, pinned_addresses

RESOLVER: Callable = socket.getaddrinfo


def resolver_override(func: Callable):
    """`with resolver_override(func):` use `func(host, port, family, type)`
    (getaddrinfo's shape) instead of the DNS. (contextlib is imported here
    only: a probe does not need it.)"""
    import contextlib

    @contextlib.contextmanager
    def overridden():
        global RESOLVER
        saved, RESOLVER = RESOLVER, func
        try:
            yield
        finally:
            RESOLVER = saved
    return overridden()


def addresses_for(target: Target, resolve: Optional[Dict[str, List[str]]] = None) -> List[str]:
    """Every address of `target`, IPv4 first, duplicates removed.

    A --resolve pin replaces resolution entirely (curl's rule); an IP literal
    is its own address. Raises ResolveError when the name does not resolve
    (its message does not repeat the name: callers put the target in front).
    """
    pinned = pinned_addresses(target, resolve)
    if pinned is not None:
        return _unique(pinned)
    if target.is_ip:
        return [target.host]
    try:
        infos = RESOLVER(target.host, target.port, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ResolveError("the name does not resolve: %s" % reason,
                           hint="check the name, or pin addresses with --resolve %s:%d:ADDR"
                                % (target.host, target.port)) from None
    v4 = [info[4][0] for info in infos if info[0] == socket.AF_INET]
    v6 = [info[4][0] for info in infos if info[0] == socket.AF_INET6]
    found = _unique(v4 + v6)
    if not found:
        raise ResolveError("the name has no IPv4 or IPv6 address")
    return found


def resolves_by_name(target: Target, resolve: Optional[Dict[str, List[str]]] = None) -> bool:
    """False when the addresses are fixed (an IP literal or a --resolve pin)."""
    return not target.is_ip and pinned_addresses(target, resolve) is None


def reresolve(target: Target, resolve: Optional[Dict[str, List[str]]], timeout: float) -> Optional[List[str]]:
    """The name's addresses now, or None (pinned, no answer within `timeout`, or
    no longer resolving: the addresses already known stay in use)."""
    if not resolves_by_name(target, resolve):
        return None
    answer: List[Optional[List[str]]] = [None]

    def ask():
        try:
            answer[0] = addresses_for(target, resolve)
        except ResolveError:
            pass

    worker = threading.Thread(target=ask, name="ibmi-trust-resolve", daemon=True)   # a stuck resolver is left behind
    worker.start()
    worker.join(max(0.0, timeout))
    return answer[0]


def _unique(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
