"""Names: does a leaf serve this host, and do the CAs' name constraints allow it.

Host names are matched against subjectAltName only (RFC 6125 / CA/Browser
Forum rules, as cryptography's verifier does): the common name is not used.
A wildcard is only a whole leftmost label ("*.example.com"), matching one
label. IP addresses match iPAddress entries exactly.

Name constraints (RFC 5280 4.2.1.10) cover dNSName, iPAddress, rfc822Name
and directoryName; a constraint of another type rejects any name of that
type below it (it cannot be evaluated, so it is not assumed to permit).
Quadratic blow-up is bounded: more than MAX_NC_CHECKS comparisons rejects.
"""
import ipaddress
from typing import List, Optional, Tuple

from cryptography import x509

from ibmi_trust.certs import Cert

MAX_NC_CHECKS = 65536


def host_matches(cert: Cert, host: str) -> bool:
    ip = parse_ip(host)
    if ip is not None:
        return any(parse_ip(name) == ip for name in cert.ip_names())
    wanted = normalise_dns(host)
    return bool(wanted) and any(dns_pattern_matches(p, wanted) for p in cert.dns_names())


def parse_ip(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def normalise_dns(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    return name


def dns_pattern_matches(pattern: str, host: str) -> bool:
    pattern = pattern.rstrip(".").lower()
    if not pattern.startswith("*."):
        return "*" not in pattern and pattern == host
    rest = pattern[2:]
    if "*" in rest or rest.count(".") < 1:   # "*.com", "*.*.x": never
        return False
    label, _, host_rest = host.partition(".")
    return bool(label) and host_rest == rest


# -- name constraints --------------------------------------------------------
def name_constraints_problem(path: List[Cert]) -> Optional[str]:
    """None when every constraint on the path is met, else a reason.

    `path` runs leaf .. anchor. A CA's constraints apply to every
    certificate below it, except self-issued intermediates (RFC 5280 6.1.3).
    """
    budget = [MAX_NC_CHECKS]
    for i in range(1, len(path)):
        try:
            nc = path[i].x509.extensions.get_extension_for_class(x509.NameConstraints).value
        except x509.ExtensionNotFound:
            continue
        except Exception:
            return "unreadable name constraints in %s" % path[i].subject
        for j in range(i):
            if 0 < j and path[j].self_issued:
                continue
            names = _names_of(path[j])
            if names is None:
                return "unreadable subjectAltName in %s" % path[j].subject
            reason = _check_names(nc, names, budget)
            if reason:
                return "%s (constraint of %s, name in %s)" % (reason, path[i].subject, path[j].subject)
    return None


def _names_of(cert: Cert) -> Optional[List[x509.GeneralName]]:
    names: List[x509.GeneralName] = []
    if len(cert.x509.subject) > 0:
        names.append(x509.DirectoryName(cert.x509.subject))
    try:
        names.extend(cert.x509.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        pass
    except Exception:  # malformed: policy reports it as malformed-certificate too
        return None
    return names


def _check_names(nc: x509.NameConstraints, names, budget) -> Optional[str]:
    permitted = list(nc.permitted_subtrees or [])
    excluded = list(nc.excluded_subtrees or [])
    budget[0] -= len(names) * (len(permitted) + len(excluded))
    if budget[0] < 0:
        return "too many name-constraint comparisons"
    for name in names:
        for sub in excluded:
            if type(sub) is type(name) and _within(name, sub, excluded=True):
                return "%s is excluded" % _show(name)
        same_type = [sub for sub in permitted if type(sub) is type(name)]
        if same_type and not any(_within(name, sub, excluded=False) for sub in same_type):
            return "%s is not permitted" % _show(name)
    return None


def _within(name, subtree, excluded: bool) -> bool:
    if isinstance(name, x509.DNSName):
        return _dns_within(name.value, subtree.value, excluded)
    if isinstance(name, x509.IPAddress):
        return _ip_within(name.value, subtree.value, excluded)
    if isinstance(name, x509.RFC822Name):
        return _email_within(name.value, subtree.value)
    if isinstance(name, x509.DirectoryName):
        return _dn_within(name.value, subtree.value)
    return excluded   # a type we cannot evaluate: assume the worst either way


def _dns_within(name: str, constraint: str, excluded: bool) -> bool:
    name = name.rstrip(".").lower()
    constraint = constraint.rstrip(".").lower()
    if constraint == "":
        return True
    if constraint.startswith("."):
        constraint = constraint[1:]
    if name.startswith("*."):
        base = name[2:]
        if excluded:   # a wildcard could stand for the excluded name
            return _subdomain_or_same(base, constraint) or _one_label_below(constraint, base)
        return _subdomain_or_same(base, constraint)
    return _subdomain_or_same(name, constraint)


def _subdomain_or_same(name: str, parent: str) -> bool:
    return name == parent or name.endswith("." + parent)


def _one_label_below(name: str, parent: str) -> bool:
    label, _, rest = name.partition(".")
    return bool(label) and rest == parent


def _ip_within(address, network, excluded: bool) -> bool:
    if not isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return excluded
    return address.version == network.version and address in network


def _email_within(email: str, constraint: str) -> bool:
    email = email.lower()
    constraint = constraint.lower()
    if "@" in constraint:
        return email == constraint
    domain = email.rpartition("@")[2]
    if constraint.startswith("."):
        return domain.endswith(constraint)
    return domain == constraint


def _dn_within(name: x509.Name, subtree: x509.Name) -> bool:
    rdns: Tuple = tuple(name.rdns)
    prefix: Tuple = tuple(subtree.rdns)
    return len(prefix) <= len(rdns) and rdns[:len(prefix)] == prefix


def _show(name) -> str:
    value = getattr(name, "value", name)
    if isinstance(value, x509.Name):
        try:
            return value.rfc4514_string()
        except Exception:
            return repr(value)
    return "%s %s" % (type(name).__name__, value)
