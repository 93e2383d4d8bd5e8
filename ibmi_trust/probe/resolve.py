"""Host name -> every address to probe (all A and AAAA records, or --resolve pins)."""
import socket
from typing import Dict, List, Optional

from ibmi_trust.errors import ResolveError
from ibmi_trust.probe.target import Target, pinned_addresses


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
        infos = socket.getaddrinfo(target.host, target.port, socket.AF_UNSPEC, socket.SOCK_STREAM)
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


def _unique(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
