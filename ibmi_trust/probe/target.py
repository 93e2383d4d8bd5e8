"""What to probe: `Target` (host, port, protocol) and curl-style `--resolve` pins.

The protocol table lives here too: its default port, and which plaintext
dialogue (if any) comes before the TLS handshake.
"""
from typing import Dict, List, NamedTuple, Optional

from ibmi_trust.errors import ConfigError, shown


class Protocol(NamedTuple):
    name: str
    default_port: int
    dialogue: Optional[str]      # "smtp", "imap", "pop3" (STARTTLS/STLS) or None (implicit TLS)


PROTOCOLS: Dict[str, Protocol] = {p.name: p for p in (
    Protocol("smtp", 25, "smtp"),
    Protocol("submission", 587, "smtp"),
    Protocol("smtps", 465, None),
    Protocol("imap", 143, "imap"),
    Protocol("imaps", 993, None),
    Protocol("pop3", 110, "pop3"),
    Protocol("pop3s", 995, None),
    Protocol("https", 443, None),
)}

# Port -> protocol when --protocol is omitted. 2525 is the common alternative SMTP port.
_BY_PORT = {p.default_port: p.name for p in PROTOCOLS.values()}
_BY_PORT[2525] = "smtp"
MAX_HOST_NAME = 253                  # characters in a DNS name (RFC 1035 2.3.4, without the root dot)
_IPV4_CHARACTERS = "0123456789."


def dialogue_of(protocol: str) -> Optional[str]:
    """The plaintext dialogue before TLS ("smtp", "imap", "pop3") or None for implicit TLS."""
    try:
        return PROTOCOLS[protocol].dialogue
    except KeyError:
        raise ConfigError("unknown protocol %r (one of: %s)" % (protocol, ", ".join(PROTOCOLS))) from None


def is_ip_literal(host: str) -> bool:
    if ":" not in host:                  # only IPv6 has colons; IPv4 is ASCII digits and dots
        if host.strip(_IPV4_CHARACTERS):
            return False                 # a name: no need to import ipaddress (1-2 ms of a probe)
        if _canonical_ipv4(host):
            return True
    return ip_text(host) is not None


def ip_text(host: str) -> Optional[str]:
    """`host` as ipaddress writes the address (IPv6 compressed), or None when it is not one."""
    if _canonical_ipv4(host):
        return host
    import ipaddress

    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _canonical_ipv4(host: str) -> bool:
    """Four decimal octets as ipaddress writes them (0-255, no leading zero):
    what every Python's ipaddress accepts and writes back unchanged."""
    parts = host.split(".")
    return len(parts) == 4 and all(
        part.isascii() and part.isdigit() and len(part) <= 3 and (part == "0" or part[0] != "0") and int(part) <= 255
        for part in parts)


def _bracketed(host: str) -> str:
    return "[%s]" % host if ":" in host else host


class Target:
    """host[:port] plus its protocol. Immutable; build with Target.parse()."""

    __slots__ = ("host", "port", "protocol", "text")

    def __init__(self, host: str, port: int, protocol: str, text: str = ""):
        self.host = host
        self.port = port
        self.protocol = protocol
        self.text = text or "%s:%d" % (_bracketed(host), port)

    @classmethod
    def parse(cls, text: str, protocol: Optional[str] = None) -> "Target":
        """`host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal.

        Without a port the protocol's default port is used (smtp when neither
        is given); without a protocol it is inferred from the port.
        """
        raw = (text or "").strip()
        if protocol is not None and protocol not in PROTOCOLS:
            raise ConfigError("unknown protocol %r (one of: %s)" % (protocol, ", ".join(PROTOCOLS)))
        host, port = _split_host_port(raw)
        if port is None:
            protocol = protocol or "smtp"
            port = PROTOCOLS[protocol].default_port
        elif protocol is None:
            protocol = _BY_PORT.get(port)
            if protocol is None:
                raise ConfigError("cannot tell the protocol of port %d in %s" % (port, shown(raw)),
                                  hint="add --protocol (smtp, submission, smtps, imap, imaps, pop3, pop3s, https)")
        return cls(host.lower().rstrip(".") if not is_ip_literal(host) else host, port, protocol, raw)

    @property
    def dialogue(self) -> Optional[str]:
        return dialogue_of(self.protocol)

    @property
    def is_ip(self) -> bool:
        return is_ip_literal(self.host)

    @property
    def resolve_key(self) -> str:
        """The HOST:PORT key of a --resolve entry for this target."""
        return "%s:%d" % (self.host, self.port)

    def display(self) -> str:
        return "%s:%d" % (_bracketed(self.host), self.port)

    def to_json(self) -> dict:
        return {"host": self.host, "port": self.port, "protocol": self.protocol,
                "starttls": self.dialogue is not None}

    def __repr__(self):
        return "Target(%r, %d, %r)" % (self.host, self.port, self.protocol)

    def __eq__(self, other):
        return isinstance(other, Target) and (self.host, self.port, self.protocol) == (
            other.host, other.port, other.protocol)

    def __hash__(self):
        return hash((self.host, self.port, self.protocol))


def _split_host_port(raw: str):
    if not raw:
        raise ConfigError("empty target; expected host[:port]")
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise ConfigError("unclosed '[' in target %s" % shown(raw))
        host, rest = raw[1:end], raw[end + 1:]
        if not is_ip_literal(host):
            raise ConfigError("%s in brackets is not an IPv6 address" % shown(host))
        if rest == "":
            return host, None
        if not rest.startswith(":"):
            raise ConfigError("unexpected %s after ']' in target %s" % (shown(rest, 20), shown(raw)))
        return host, _port(rest[1:], raw)
    if raw.count(":") > 1:                 # bare IPv6 literal, no port
        if not is_ip_literal(raw):
            raise ConfigError("%s is neither host:port nor an IPv6 address (use [addr]:port)" % shown(raw))
        return raw, None
    host, sep, port = raw.partition(":")
    if not host or any(ch in "/@" or ch.isspace() or not ch.isprintable() for ch in host):
        raise ConfigError("%s is not a host name" % shown(host))
    if len(host) > MAX_HOST_NAME:
        raise ConfigError("host name %s is longer than %d characters (RFC 1035)" % (shown(host), MAX_HOST_NAME))
    return host, (_port(port, raw) if sep else None)


def _port(text: str, raw: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:   # not "²" or "٢٥"
        raise ConfigError("bad port %s in %s" % (shown(text, 20), shown(raw)))
    return int(text)


def parse_resolve(entry: str) -> Dict[str, List[str]]:
    """One curl-style `[+]HOST:PORT:ADDR[,ADDR]...` entry -> {"host:port": [addr, ...]}.

    IPv6 addresses go in brackets; HOST may be `*` (any host on that port).
    The leading `+` (curl's expiring entry) is accepted and has no effect.
    """
    text = entry.strip()
    if text.startswith("+"):
        text = text[1:]
    host, sep1, rest = text.partition(":")
    port, sep2, addrs = rest.partition(":")
    if not (sep1 and sep2 and host and addrs):
        raise ConfigError("--resolve %s: expected HOST:PORT:ADDR[,ADDR...]" % shown(entry))
    out = []
    for item in addrs.split(","):
        item = item.strip()
        if item.startswith("[") and item.endswith("]"):
            item = item[1:-1]
        address = ip_text(item)
        if address is None:
            raise ConfigError("--resolve %s: %s is not an IP address (IPv6 goes in brackets)" % (shown(entry, 40), shown(item, 40)))
        out.append(address)
    key_host = host if host == "*" else host.lower().rstrip(".")
    return {"%s:%d" % (key_host, _port(port, entry)): out}


def pinned_addresses(target: Target, resolve: Optional[Dict[str, List[str]]]) -> Optional[List[str]]:
    """The addresses --resolve pins for this target (exact entry first, then `*`), or None."""
    if not resolve:
        return None
    for key in (target.resolve_key, "*:%d" % target.port):
        if key in resolve:
            return list(resolve[key])
    return None
