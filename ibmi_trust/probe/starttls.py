"""The plaintext dialogues that come before TLS: SMTP (EHLO + STARTTLS),
IMAP (CAPABILITY + STARTTLS) and POP3 (CAPA + STLS).

Each function leaves the connection at the point where the next bytes on the
wire are our ClientHello, or raises a StartTLSError subclass that says what
the server did (no STARTTLS offered, refused, error greeting, not the
protocol at all). Replies are read whole, however they are split into TCP
segments; after the go-ahead nothing may be buffered (response injection).
Server lines are split with plain string operations (no regular expression:
linear whatever the server sends; a reply code is three ASCII digits).
"""
import re
import socket
from typing import Optional, Tuple

from ibmi_trust.errors import BadGreeting, NoStartTLS, ProbeTimeout, StartTLSError, StartTLSRefused
from ibmi_trust.probe.wire import Wire

MAX_REPLY_LINES = 1000


def _smtp_line(line: str) -> Optional[Tuple[str, str, str]]:
    """(code, "-" / " " / "", text) of an SMTP reply line, else None."""
    code, separator = line[:3], line[3:4]
    if len(code) == 3 and code.isascii() and code.isdigit() and separator in ("", " ", "-"):
        return code, separator, line[4:]
    return None


def _show(text: str, limit: int = 120) -> str:
    """Server text made safe for one line of output."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return clean if len(clean) <= limit else clean[:limit] + "..."


def _greeting_line(wire: Wire, proto: str) -> str:
    try:
        return wire.read_line("waiting for the %s greeting" % proto).decode("utf-8", "replace")
    except ProbeTimeout as exc:
        raise ProbeTimeout(exc.message, hint="if this port speaks TLS from the first byte, use the implicit-TLS "
                                             "protocol (smtps, imaps, pop3s)") from None


# -- SMTP (RFC 5321 + RFC 3207) ---------------------------------------------
def _smtp_reply(wire: Wire, doing: str, first_line: str = None):
    """(code, [text of each line]) of one possibly multi-line reply."""
    code, texts = None, []
    while True:
        line = first_line if first_line is not None else wire.read_line(doing).decode("utf-8", "replace")
        first_line = None
        parts = _smtp_line(line)
        if parts is None or (code is not None and parts[0] != code):
            raise StartTLSError("%s: not an SMTP reply %s: %r" % (wire.where, doing, _show(line)))
        code, separator, text = parts
        texts.append(text)
        if separator != "-":
            return int(code), texts
        if len(texts) >= MAX_REPLY_LINES:
            raise StartTLSError("%s: SMTP reply longer than %d lines %s" % (wire.where, MAX_REPLY_LINES, doing))


def default_ehlo(wire: Wire) -> str:
    """This host's name when it is fully qualified, else an address literal
    of our end of the connection (RFC 5321 4.1.4)."""
    name = socket.gethostname()
    if "." in name and re.match(r"^[A-Za-z0-9.-]+$", name):
        return name
    local = wire.sock.getsockname()[0]
    return "[IPv6:%s]" % local if ":" in local else "[%s]" % local


def smtp(wire: Wire, ehlo: str = None) -> None:
    line = _greeting_line(wire, "SMTP")
    if _smtp_line(line) is None:
        raise BadGreeting("%s does not speak SMTP (greeting: %r)" % (wire.where, _show(line)))
    code, texts = _smtp_reply(wire, "reading the greeting", first_line=line)
    if code != 220:
        raise BadGreeting("%s greeted with %d %s" % (wire.where, code, _show(" ".join(texts))))
    wire.send(("EHLO %s\r\n" % (ehlo or default_ehlo(wire))).encode("ascii", "replace"), "sending EHLO")
    code, texts = _smtp_reply(wire, "after EHLO")
    if code != 250:
        raise NoStartTLS("%s refused EHLO with %d %s (STARTTLS needs ESMTP)" % (wire.where, code, _show(" ".join(texts))))
    keywords = [t.split(" ", 1)[0].upper() for t in texts[1:] if t]
    if "STARTTLS" not in keywords:
        raise NoStartTLS("%s does not offer STARTTLS (EHLO lists: %s)"
                         % (wire.where, _show(", ".join(keywords) or "nothing")))
    wire.send(b"STARTTLS\r\n", "sending STARTTLS")
    code, texts = _smtp_reply(wire, "after STARTTLS")
    if code != 220:
        raise StartTLSRefused("%s refused STARTTLS with %d %s" % (wire.where, code, _show(" ".join(texts))))
    wire.expect_quiet("STARTTLS")


# -- IMAP (RFC 3501 / 9051) -------------------------------------------------
def _imap_command(wire: Wire, tag: str, command: str):
    """Send `tag command`; return (status, status text, [untagged lines])."""
    wire.send(("%s %s\r\n" % (tag, command)).encode("ascii"), "sending %s" % command)
    untagged = []
    for _ in range(MAX_REPLY_LINES):
        line = wire.read_line("after %s" % command).decode("utf-8", "replace")
        if line.startswith(tag + " "):
            status, _, text = line[len(tag) + 1:].partition(" ")
            return status.upper(), text, untagged
        untagged.append(line)
    raise StartTLSError("%s: IMAP answer to %s longer than %d lines" % (wire.where, command, MAX_REPLY_LINES))


def imap(wire: Wire, ehlo: str = None) -> None:
    line = _greeting_line(wire, "IMAP")
    upper = line.upper()
    if upper.startswith("* BYE"):
        raise BadGreeting("%s greeted with %r" % (wire.where, _show(line)))
    if upper.startswith("* PREAUTH"):
        raise NoStartTLS("%s greeted with PREAUTH, after which STARTTLS is not allowed" % wire.where)
    if not upper.startswith("* OK"):
        raise BadGreeting("%s does not speak IMAP (greeting: %r)" % (wire.where, _show(line)))
    status, text, untagged = _imap_command(wire, "A1", "CAPABILITY")
    if status != "OK":
        raise StartTLSError("%s answered CAPABILITY with %s %s" % (wire.where, status, _show(text)))
    caps = set()
    for item in untagged:
        if item.upper().startswith("* CAPABILITY "):
            caps.update(item[len("* CAPABILITY "):].upper().split())
    if "STARTTLS" not in caps:
        raise NoStartTLS("%s does not offer STARTTLS (capabilities: %s)"
                         % (wire.where, _show(" ".join(sorted(caps)) or "none")))
    status, text, _ = _imap_command(wire, "A2", "STARTTLS")
    if status != "OK":
        raise StartTLSRefused("%s refused STARTTLS with %s %s" % (wire.where, status, _show(text)))
    wire.expect_quiet("STARTTLS")


# -- POP3 (RFC 1939 + RFC 2449 + RFC 2595) ----------------------------------
def pop3(wire: Wire, ehlo: str = None) -> None:
    line = _greeting_line(wire, "POP3")
    if line.startswith("-ERR"):
        raise BadGreeting("%s greeted with %r" % (wire.where, _show(line)))
    if not line.startswith("+OK"):
        raise BadGreeting("%s does not speak POP3 (greeting: %r)" % (wire.where, _show(line)))
    wire.send(b"CAPA\r\n", "sending CAPA")
    answer = wire.read_line("after CAPA").decode("utf-8", "replace")
    caps = None                                   # None: the server has no CAPA; try STLS anyway
    if answer.startswith("+OK"):
        caps = set()
        for _ in range(MAX_REPLY_LINES):
            item = wire.read_line("reading the CAPA list").decode("utf-8", "replace")
            if item == ".":
                break
            caps.add(item.split(" ", 1)[0].upper())
        else:
            raise StartTLSError("%s: CAPA list longer than %d lines" % (wire.where, MAX_REPLY_LINES))
    elif not answer.startswith("-ERR"):
        raise StartTLSError("%s: not a POP3 answer to CAPA: %r" % (wire.where, _show(answer)))
    if caps is not None and "STLS" not in caps:
        raise NoStartTLS("%s does not offer STLS (CAPA lists: %s)"
                         % (wire.where, _show(" ".join(sorted(caps)) or "nothing")))
    wire.send(b"STLS\r\n", "sending STLS")
    answer = wire.read_line("after STLS").decode("utf-8", "replace")
    if not answer.startswith("+OK"):
        raise StartTLSRefused("%s refused STLS with %r" % (wire.where, _show(answer)))
    wire.expect_quiet("STLS")


DIALOGUES = {"smtp": smtp, "imap": imap, "pop3": pop3}


def negotiate(wire: Wire, dialogue, ehlo: str = None) -> None:
    """Run the plaintext dialogue named `dialogue` (None: implicit TLS, nothing to do)."""
    if dialogue is not None:
        DIALOGUES[dialogue](wire, ehlo)
