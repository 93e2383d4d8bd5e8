"""Host names and name constraints exactly as OpenSSL compares them.

- `check_host` / `check_ip`: X509_check_host / X509_check_ip
  (crypto/x509/v3_utl.c: do_x509_check, equal_wildcard, valid_star,
  wildcard_match, equal_nocase). dNSName SANs first; the subject's common
  names only when the certificate has no dNSName SAN. Wildcards: one `*`,
  in the first label, at the start or end of it (partial wildcards such as
  `f*.example.com` are allowed unless the client sets
  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, as Python does), at least two dots,
  never in an IDNA (`xn--`) label; a full-label `*` matches exactly one
  non-empty label.
- `name_constraints_error`: NAME_CONSTRAINTS_check + NAME_CONSTRAINTS_check_CN
  (crypto/x509/v3_ncons.c: nc_match, nc_dns, nc_email, nc_uri, nc_ip, nc_dn).
  dNSName constraints compare the right-hand side, case-insensitively, with
  `*` an ordinary character (so `*.example.org` is inside `.example.org`
  and not caught by an exclusion of `x.example.org`); directoryName
  constraints are a byte prefix of the canonical name encoding.
"""
from typing import Iterable, Optional

from ibmi_trust.analyse.openssl import codes
from ibmi_trust.analyse.openssl.facts import Facts, GeneralName, NameConstraints
from ibmi_trust.certs.fields import GEN_DIRNAME, GEN_DNS, GEN_EMAIL, GEN_IPADD, GEN_OTHERNAME, GEN_URI

NAME_CHECK_MAX = 1 << 20
_IA5, _UTF8, _BMP, _UNIVERSAL = 22, 12, 30, 28


# -- host names ------------------------------------------------------------------
def check_host(facts: Facts, host: str, *, partial_wildcards: bool = True, check_subject: bool = True) -> bool:
    reference = host.encode("utf-8", "replace")
    dns = [n.value for n in facts.sans if n.type == GEN_DNS]
    for pattern in dns:
        if pattern and _equal_wildcard(pattern, reference, partial_wildcards):
            return True
    if dns or not check_subject:
        return False
    for tag, raw in facts.subject_cns:
        text = _to_utf8(tag, raw)
        if text and _equal_wildcard(text, reference, partial_wildcards):
            return True
    return False


def check_ip(facts: Facts, address: bytes) -> bool:
    return any(n.type == GEN_IPADD and n.value == address for n in facts.sans)


def _equal_nocase(pattern: bytes, subject: bytes) -> bool:
    if len(pattern) != len(subject) or b"\0" in pattern:
        return False
    return pattern.lower() == subject.lower()


def _ascii_lower(data: bytes) -> bytes:
    return data.lower()          # bytes.lower() changes ASCII letters only, as ossl_tolower


def _valid_star(pattern: bytes, partial_wildcards: bool) -> Optional[int]:
    star = None
    label_start, label_hyphen, label_idna = True, False, False
    dots = 0
    size = len(pattern)
    for i, byte in enumerate(pattern):
        if byte == 0x2A:                                   # '*'
            at_start = label_start
            at_end = i == size - 1 or pattern[i + 1] == 0x2E
            if star is not None or label_idna or dots:
                return None
            if not partial_wildcards and (not at_start or not at_end):
                return None
            if not at_start and not at_end:
                return None
            star = i
            label_start = False
        elif 0x61 <= byte <= 0x7A or 0x41 <= byte <= 0x5A or 0x30 <= byte <= 0x39:
            if label_start and size - i >= 4 and pattern[i:i + 4].lower() == b"xn--":
                label_idna = True
            label_hyphen = label_start = False
        elif byte == 0x2E:                                 # '.'
            if label_hyphen or label_start:
                return None
            label_start, label_hyphen, label_idna = True, False, False
            dots += 1
        elif byte == 0x2D:                                 # '-'
            if label_start:
                return None
            label_hyphen = True
        else:
            return None
    if label_start or label_hyphen or dots < 2:
        return None
    return star


def _wildcard_match(prefix: bytes, suffix: bytes, subject: bytes) -> bool:
    if len(subject) < len(prefix) + len(suffix):
        return False
    if not _equal_nocase(prefix, subject[:len(prefix)]):
        return False
    wild_end = len(subject) - len(suffix)
    if not _equal_nocase(subject[wild_end:], suffix):
        return False
    middle = subject[len(prefix):wild_end]
    allow_idna = False
    if not prefix and suffix[:1] == b".":
        if not middle:
            return False
        allow_idna = True
    if not allow_idna and len(subject) >= 4 and subject[:4].lower() == b"xn--":
        return False
    if middle == b"*":
        return True
    return all(0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x2D for c in middle)


def _equal_wildcard(pattern: bytes, subject: bytes, partial_wildcards: bool) -> bool:
    star = None
    if not (len(subject) > 1 and subject[:1] == b"."):
        star = _valid_star(pattern, partial_wildcards)
    if star is None:
        return _equal_nocase(pattern, subject)
    return _wildcard_match(pattern[:star], pattern[star + 1:], subject)


# -- name constraints -----------------------------------------------------------------
def name_constraints_error(facts: Facts, nc: NameConstraints, *, is_leaf: bool) -> int:
    """0 when `facts`' names satisfy `nc`, else the X509_V_ERR code."""
    names = len(facts.sans) + (1 if not facts.subject_empty else 0) + len(facts.subject_emails)
    constraints = len(nc.permitted) + len(nc.excluded)
    if names and constraints > NAME_CHECK_MAX // names:
        return codes.UNSPECIFIED
    if not facts.subject_empty and facts.subject_canon is not None:
        rv = _nc_match(GeneralName(GEN_DIRNAME, facts.subject_canon), nc)
        if rv:
            return rv
        for tag, raw in facts.subject_emails:
            if tag != _IA5:
                return codes.UNSUPPORTED_NAME_SYNTAX
            rv = _nc_match(GeneralName(GEN_EMAIL, raw), nc)
            if rv:
                return rv
    for name in facts.sans:
        rv = _nc_match(name, nc)
        if rv:
            return rv
    if is_leaf and not facts.has_dns_san():
        return _check_cn(facts, nc)
    return 0


def _check_cn(facts: Facts, nc: NameConstraints) -> int:
    for tag, raw in facts.subject_cns:
        text = _to_utf8(tag, raw)
        if text is None:
            return codes.UNSUPPORTED_NAME_SYNTAX
        dnsid = _cn2dnsid(text)
        if dnsid is None:
            return codes.UNSUPPORTED_NAME_SYNTAX
        if not dnsid:
            continue
        rv = _nc_match(GeneralName(GEN_DNS, dnsid), nc)
        if rv:
            return rv
    return 0


def _cn2dnsid(text: bytes) -> Optional[bytes]:
    """The CN as a DNS-ID when it looks like a host name; b"" when it does not;
    None for an embedded NUL (UNSUPPORTED_NAME_SYNTAX)."""
    if b"\0" in text:
        return None
    if text.endswith(b"."):
        text = text[:-1]
    size = len(text)
    looks = False
    for i, c in enumerate(text):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39 or c == 0x5F:
            continue
        if 0 < i < size - 1:
            if c == 0x2D:
                continue
            if c == 0x2E and text[i + 1] != 0x2E and text[i - 1] != 0x2D and text[i + 1] != 0x2D:
                looks = True
                continue
        looks = False
        break
    return text if looks else b""


def _nc_match(name: GeneralName, nc: NameConstraints) -> int:
    match = 0
    for sub in nc.permitted:
        if sub.base.type != name.type:
            continue
        if not sub.minmax_ok:
            return codes.SUBTREE_MINMAX
        if match == 2:
            continue
        match = match or 1
        rv = _match_single(name, sub.base)
        if rv == 0:
            match = 2
        elif rv != codes.PERMITTED_VIOLATION:
            return rv
    if match == 1:
        return codes.PERMITTED_VIOLATION
    for sub in nc.excluded:
        if sub.base.type != name.type:
            continue
        if not sub.minmax_ok:
            return codes.SUBTREE_MINMAX
        rv = _match_single(name, sub.base)
        if rv == 0:
            return codes.EXCLUDED_VIOLATION
        if rv != codes.PERMITTED_VIOLATION:
            return rv
    return 0


def _match_single(name: GeneralName, base: GeneralName) -> int:
    if name.type == GEN_DIRNAME:
        return 0 if name.value.startswith(base.value) else codes.PERMITTED_VIOLATION
    if name.type == GEN_DNS:
        return _nc_dns(name.value, base.value)
    if name.type == GEN_EMAIL:
        return _nc_email(name.value, base.value)
    if name.type == GEN_URI:
        return _nc_uri(name.value, base.value)
    if name.type == GEN_IPADD:
        return _nc_ip(name.value, base.value)
    if name.type == GEN_OTHERNAME:
        return codes.UNSUPPORTED_CONSTRAINT_TYPE
    return codes.UNSUPPORTED_CONSTRAINT_TYPE


def _nc_dns(dns: bytes, base: bytes) -> int:
    if not base:
        return 0
    if len(dns) < len(base):
        return codes.PERMITTED_VIOLATION
    tail = dns[len(dns) - len(base):]
    if len(dns) > len(base) and base[:1] != b"." and dns[len(dns) - len(base) - 1:len(dns) - len(base)] != b".":
        return codes.PERMITTED_VIOLATION
    return 0 if _ascii_lower(tail) == _ascii_lower(base) else codes.PERMITTED_VIOLATION


def _nc_email(email: bytes, base: bytes) -> int:
    email_at = email.rfind(b"@")
    base_at = base.rfind(b"@")
    if email_at < 0:
        return codes.UNSUPPORTED_NAME_SYNTAX
    if base_at < 0 and base[:1] == b".":
        if len(email) > len(base) and _ascii_lower(email[len(email) - len(base):]) == _ascii_lower(base):
            return 0
        return codes.PERMITTED_VIOLATION
    base_host = base
    if base_at >= 0:
        if base_at != 0:
            if base_at != email_at:
                return codes.PERMITTED_VIOLATION
            if b"\0" in base[:base_at] or b"\0" in email[:email_at]:
                return codes.UNSUPPORTED_NAME_SYNTAX
            if base[:base_at] != email[:email_at]:
                return codes.PERMITTED_VIOLATION
        base_host = base[base_at + 1:]
    email_host = email[email_at + 1:]
    if len(base_host) != len(email_host) or _ascii_lower(base_host) != _ascii_lower(email_host):
        return codes.PERMITTED_VIOLATION
    return 0


def _nc_uri(uri: bytes, base: bytes) -> int:
    colon = uri.find(b":")
    if colon < 0 or len(uri) - colon < 3 or uri[colon + 1:colon + 3] != b"//":
        return codes.UNSUPPORTED_NAME_SYNTAX
    host = uri[colon + 3:]
    end = host.find(b":")
    if end < 0:
        end = host.find(b"/")
    if end >= 0:
        host = host[:end]
    if not host:
        return codes.UNSUPPORTED_NAME_SYNTAX
    if base[:1] == b".":
        if len(host) > len(base) and _ascii_lower(host[len(host) - len(base):]) == _ascii_lower(base):
            return 0
        return codes.PERMITTED_VIOLATION
    return 0 if len(base) == len(host) and _ascii_lower(host) == _ascii_lower(base) \
        else codes.PERMITTED_VIOLATION


def _nc_ip(address: bytes, base: bytes) -> int:
    if len(address) not in (4, 16) or len(base) not in (8, 32):
        return codes.UNSUPPORTED_NAME_SYNTAX
    if len(address) * 2 != len(base):
        return codes.PERMITTED_VIOLATION
    size = len(address)
    mask = base[size:]
    for i in range(size):
        if address[i] & mask[i] != base[i] & mask[i]:
            return codes.PERMITTED_VIOLATION
    return 0


def _to_utf8(tag: int, raw: bytes) -> Optional[bytes]:
    """ASN1_STRING_to_UTF8: one-byte string types are read as Latin-1."""
    try:
        if tag == _UTF8:
            raw.decode("utf-8")
            return raw
        if tag == _BMP:
            return raw.decode("utf-16-be").encode("utf-8")
        if tag == _UNIVERSAL:
            return raw.decode("utf-32-be").encode("utf-8")
        return raw.decode("latin-1").encode("utf-8")
    except UnicodeError:
        return None


def any_constraints(chain: Iterable[Facts]) -> bool:
    return any(f.nc is not None for f in chain)
