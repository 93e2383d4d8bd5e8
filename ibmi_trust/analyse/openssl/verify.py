"""X509_verify_cert as a TLS client runs it, in Python.

The functions mirror crypto/x509/x509_vfy.c (3.0 names; 1.1.1 where it
differs), in the order `verify_chain` calls them:

  leaf key level (66) -> build_chain (2, 18, 19, 20, 22)
  -> check_extensions (34, INVALID_CA 24/79, 94, 26, 25)
  -> check_auth_level (67, 68) -> check_id (62, 64)
  -> internal_verify (32, 6, 7, then 9/10 from the top down)
  -> check_name_constraints (47, 48, 49, 51, 53)

`verify()` records every error, as a verify callback that always continues
would see them (Postfix's does); the first one is what a client with
OpenSSL's default callback reports and what `openssl verify` prints first.

Chain building (`build_chain`) is trusted-first, as every TLS client since
OpenSSL 1.1.0: at each step the store is asked first; the first store
certificate on the chain switches the server's certificates off for good
(everything above it must come from the store); there is no backtracking.
Issuer candidates are matched by canonical name, authority key id and key
type (`check_issued` -> `ossl_x509_likely_issued`, `X509_check_akid`), never by
signature or key usage; among several, the first currently valid one wins,
else (3.x) the latest notAfter or (1.1.1) the last one.
"""
import datetime
import ipaddress
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ibmi_trust.analyse.openssl import codes
from ibmi_trust.analyse.openssl.facts import (KU_DIGITAL_SIGNATURE, KU_KEY_AGREEMENT, KU_KEY_CERT_SIGN,
                                              KU_KEY_ENCIPHERMENT, NS_ANY_CA, NS_SSL_CA, NS_SSL_SERVER, Facts,
                                              facts_of, key_security_bits, signature_security_bits)
from ibmi_trust.analyse.openssl.names import check_host, check_ip, name_constraints_error
from ibmi_trust.certs import Cert

LEVEL_BITS = (80, 112, 128, 192, 256)
DEFAULT_DEPTH = 100                        # the "default" X509_VERIFY_PARAM
VERSIONS = ("1.1.1", "3")


@dataclass(frozen=True)
class Settings:
    """What the client sets before verifying: version profile, security level, name."""
    version: str = "3"                     # "3" (3.0 .. 3.5) or "1.1.1"
    level: int = 2                         # SSL security level = verifier auth level
    host: Optional[str] = None             # reference name (None: not checked)
    now: Optional[datetime.datetime] = None
    depth: int = DEFAULT_DEPTH
    partial_wildcards: bool = True         # OpenSSL's default; Python clients turn them off

    def __post_init__(self):
        if self.version not in VERSIONS:
            raise ValueError("OpenSSL version profile must be one of %s" % ", ".join(VERSIONS))
        if not 0 <= self.level <= 5:
            raise ValueError("security level must be 0..5")


@dataclass
class Error:
    code: int
    depth: int
    cert: Optional[Cert]

    def text(self, version: str = "3") -> str:
        return codes.text(self.code, version)


@dataclass
class Outcome:
    chain: List[Cert]
    from_store: List[bool]                 # per chain position: taken from the store
    trusted: bool                          # build_chain ended at a trust anchor
    errors: List[Error] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def first(self) -> Optional[Error]:
        return self.errors[0] if self.errors else None

    def path_errors(self) -> List[Error]:
        """The errors a store change could matter for (not the host name)."""
        return [e for e in self.errors if e.code not in codes.NAME_CODES]


class StoreModel:
    """An X509_STORE: certificates in load order (CAfile order; CApath `.0`,
    `.1`, ... order), looked up by canonical subject name. Same-subject
    certificates keep load order, as OpenSSL's stable qsort leaves them."""

    def __init__(self, certs: Sequence[Cert]):
        self._by_subject: Dict[bytes, List[Cert]] = {}
        self._seen: Dict[str, int] = {}         # sha256 -> load position
        self.size = 0
        for cert in certs:
            self.add(cert)

    def add(self, cert: Cert) -> None:
        if cert.sha256 in self._seen:          # X509_STORE_add_cert ignores an exact duplicate
            return
        self._seen[cert.sha256] = len(self._seen)
        canon = cert.subject_key                 # the canonical name (facts are read only for candidates)
        if canon is not None:
            self._by_subject.setdefault(canon, []).append(cert)
            self.size += 1

    def with_added(self, certs: Sequence[Cert]) -> "StoreModel":
        """A copy with `certs` appended (after every certificate already there)."""
        copy = StoreModel(())
        copy._by_subject = {k: list(v) for k, v in self._by_subject.items()}
        copy._seen = dict(self._seen)
        copy.size = self.size
        for cert in certs:
            copy.add(cert)
        return copy

    def lookups(self, chain: Sequence[Cert]) -> List[Cert]:
        """Every store certificate OpenSSL can meet verifying `chain`: those named
        like an issuer of a chain certificate, then like an issuer of those, and
        so on (OpenSSL looks store certificates up by subject name only), in load
        order. A store of just these judges `chain` exactly as the whole store."""
        return issuer_closure(chain, lambda name: [((self._seen[c.sha256],), c) for c in self._by_subject.get(name, ())])

    def named(self, canon: Optional[bytes]) -> List[Cert]:
        return list(self._by_subject.get(canon, ())) if canon is not None else []

    def contains(self, cert: Cert) -> bool:
        return cert.sha256 in self._seen


def issuer_closure(chain: Sequence[Cert], ranked) -> List[Cert]:
    """The store certificates named like an issuer of a chain certificate, then like
    an issuer of those, and so on, in load order; `ranked(canonical name)` gives
    (load position, certificate) for each certificate of that name."""
    names = [c.issuer_key for c in chain]
    found: Dict[str, Tuple[tuple, Cert]] = {}
    seen_names = set()
    while names:
        name = names.pop()
        if name is None or name in seen_names:
            continue
        seen_names.add(name)
        for rank, cert in ranked(name):
            if cert.sha256 not in found:
                found[cert.sha256] = (rank, cert)
                names.append(cert.issuer_key)
    return [cert for _rank, cert in sorted(found.values(), key=lambda item: item[0])]


class LookupStoreModel:
    """The same store model over a store read by subject (a CApath directory:
    store/capath_lookup.py; a bundle: store/bundle_lookup.py), plus
    certificates added after it."""

    def __init__(self, lookup, added: Sequence[Cert] = ()):
        self._lookup = lookup
        self._added: List[Cert] = []
        for cert in added:
            if not self.contains(cert):
                self._added.append(cert)

    def named(self, canon: Optional[bytes]) -> List[Cert]:
        return [cert for _rank, cert in self._ranked(canon)]

    def _ranked(self, canon: Optional[bytes]) -> List[Tuple[tuple, Cert]]:
        """(load position, certificate) of each certificate named `canon`: the
        store's (CApath hash, .N; bundle block number), then those added after it;
        an exact duplicate once."""
        if canon is None:
            return []
        out: List[Tuple[tuple, Cert]] = []
        seen = set()
        for entry in self._lookup.named(canon):
            if entry.cert.sha256 not in seen:
                seen.add(entry.cert.sha256)
                out.append(((0,) + tuple(entry.order or ()), entry.cert))
        for index, cert in enumerate(self._added):
            if cert.subject_key == canon and cert.sha256 not in seen:
                seen.add(cert.sha256)
                out.append(((1, index), cert))
        return out

    def lookups(self, chain: Sequence[Cert]) -> List[Cert]:
        """As StoreModel.lookups: every store certificate OpenSSL can meet verifying `chain`, in load order."""
        return issuer_closure(chain, self._ranked)

    def with_added(self, certs: Sequence[Cert]) -> "LookupStoreModel":
        return LookupStoreModel(self._lookup, list(self._added) + list(certs))

    def contains(self, cert: Cert) -> bool:
        return any(c.sha256 == cert.sha256 for c in self.named(cert.subject_key))


# -- per-certificate predicates (v3_purp.c) ---------------------------------------------
def check_akid(issuer: Facts, akid) -> bool:
    """X509_check_akid: the child's AKI (if any) against the issuer candidate."""
    if akid is None:
        return True
    if akid.keyid is not None and issuer.ski is not None and akid.keyid != issuer.ski:
        return False
    if akid.serial is not None and akid.serial != issuer.serial:
        return False
    if akid.dirname_bad:
        return False
    if akid.dirname is not None and akid.dirname != issuer.issuer_canon:
        return False
    return True


def sig_alg_match(issuer: Facts, subject: Facts) -> bool:
    """check_sig_alg_match: the subject's signature algorithm fits the issuer's key type."""
    if issuer.key_family is None or subject.sig_family is None:
        return False
    return issuer.key_family == subject.sig_family or (issuer.key_family == "RSA" and subject.sig_family == "RSA-PSS")


def self_signed(facts: Facts, version: str) -> int:
    """X509_self_signed(x, 0): 1, 0, or -1 for an invalid certificate (EXFLAG_SS)."""
    if facts.invalid_for(version) or facts.key_family is None:
        return -1
    if not facts.self_issued or not check_akid(facts, facts.akid):
        return 0
    if version == "1.1.1":
        return 0 if facts.ku_rejects(KU_KEY_CERT_SIGN) else 1
    return 1 if sig_alg_match(facts, facts) else 0


def likely_issued(issuer: Facts, subject: Facts, version: str = "3") -> bool:
    """ossl_x509_likely_issued (x509_likely_issued in 1.1.1)."""
    if issuer.subject_canon is None or issuer.subject_canon != subject.issuer_canon:
        return False
    if issuer.invalid_for(version) or subject.invalid_for(version):
        return False
    if not check_akid(issuer, subject.akid):
        return False
    return sig_alg_match(issuer, subject)


def check_ca(facts: Facts, version: str) -> int:
    """check_ca / X509_check_ca: 0 not a CA, 1 CA, 3 v1 root, 4 keyUsage only, 5 Netscape CA."""
    if facts.invalid_for(version):
        return 0
    if facts.ku_rejects(KU_KEY_CERT_SIGN):
        return 0
    if facts.bcons:
        return 1 if facts.ca else 0
    if facts.version == 0 and self_signed(facts, version) == 1:          # V1_ROOT
        return 3
    if facts.ku is not None:
        return 4
    if facts.nscert is not None and facts.nscert & NS_ANY_CA:
        return 5
    return 0


def ssl_server_purpose(facts: Facts, require_ca: bool, version: str) -> int:
    """X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, require_ca): 1, 0, or -1 (invalid)."""
    if facts.invalid_for(version):
        return -1
    if facts.xku_rejects_server():
        return 0
    if require_ca:
        ca = check_ca(facts, version)
        if ca == 0:
            return 0
        return 1 if ca != 5 or facts.nscert & NS_SSL_CA else 0
    if facts.ns_rejects(NS_SSL_SERVER):
        return 0
    if facts.ku_rejects(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT):
        return 0
    return 1


def time_error(cert: Cert, now: datetime.datetime) -> int:
    """ossl_x509_check_cert_time: 9 not yet valid, 10 expired, 0 fine."""
    if cert.not_before > now:
        return codes.CERT_NOT_YET_VALID
    if cert.not_after <= now:
        return codes.CERT_HAS_EXPIRED
    return 0


# -- signatures (cached per process) ---------------------------------------------------
_SIGNATURES: Dict[Tuple[str, str], bool] = {}
_SIG_LOCK = threading.Lock()


def signature_ok(child: Cert, issuer: Cert) -> bool:
    key = (child.sha256, issuer.sha256)
    hit = _SIGNATURES.get(key)
    if hit is None:
        hit = child.signed_by(issuer)
        with _SIG_LOCK:
            if len(_SIGNATURES) > 100000:
                _SIGNATURES.clear()
            _SIGNATURES[key] = hit
    return hit


# -- the verifier -------------------------------------------------------------------------
class _Verifier:
    def __init__(self, presented: Sequence[Cert], store: StoreModel, settings: Settings):
        self.presented = list(presented)
        self.store = store
        self.s = settings
        self.now = settings.now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.version = settings.version
        self.errors: List[Error] = []
        self.chain: List[Cert] = []
        self.num_untrusted = 0

    def fail(self, code: int, depth: int, cert: Optional[Cert] = None) -> None:
        if cert is None and 0 <= depth < len(self.chain):
            cert = self.chain[depth]
        self.errors.append(Error(code, depth, cert))

    def f(self, cert: Cert) -> Facts:
        return facts_of(cert)

    # x509_verify_x509 + verify_chain
    def run(self) -> Outcome:
        leaf = self.presented[0]
        self.chain = [leaf]
        self.num_untrusted = 1
        if not self._key_ok(leaf):
            self.fail(codes.EE_KEY_TOO_SMALL, 0, leaf)
        trusted = self._build_chain()
        self._check_extensions()
        self._check_auth_level()
        self._check_id()
        self._internal_verify()
        self._check_name_constraints()
        from_store = [i >= self.num_untrusted for i in range(len(self.chain))]
        return Outcome(list(self.chain), from_store, trusted, self.errors)

    # -- build_chain ----------------------------------------------------------------------
    def _issued(self, child: Cert, issuer: Cert) -> bool:
        """check_issued; 1.1.1 also refuses a certificate already on the chain."""
        if not likely_issued(self.f(issuer), self.f(child), self.version):
            return False
        if self.version == "1.1.1":
            if not self.f(child).self_issued or len(self.chain) != 1:
                if any(c.sha256 == issuer.sha256 for c in self.chain):
                    return False
        return True

    def _best(self, candidates: Sequence[Cert], child: Cert, *, no_dup: bool) -> Optional[Cert]:
        """get0_best_issuer_sk / X509_STORE_CTX_get1_issuer / find_issuer."""
        fallback = None
        for cand in candidates:
            if no_dup and self.version != "1.1.1":
                if not (self.f(child).self_issued and len(self.chain) == 1) and \
                        any(c.sha256 == cand.sha256 for c in self.chain):
                    continue
            if not self._issued(child, cand):
                continue
            if not time_error(cand, self.now):
                return cand
            if self.version == "1.1.1":
                fallback = cand                          # the last match
            elif fallback is None or cand.not_after > fallback.not_after:
                fallback = cand                          # the latest notAfter
        return fallback

    def _store_issuer(self, cert: Cert) -> Optional[Cert]:
        return self._best(self.store.named(self.f(cert).issuer_canon), cert, no_dup=False)

    def _check_trust(self, first: int) -> str:
        """check_trust: a self-signed store certificate (no auxiliary trust) is trusted."""
        for cert in self.chain[first:]:
            if self.f(cert).invalid_for(self.version):
                continue
            if self_signed(self.f(cert), self.version) == 1:
                return "trusted"
        return "untrusted"

    def _build_chain(self) -> bool:
        max_depth = self.s.depth + 1
        wire = list(self.presented)
        search_untrusted, search_trusted = True, True
        trust = "untrusted"
        while search_untrusted or search_trusted:
            num = len(self.chain)
            if search_trusted:
                curr = self.chain[-1]
                issuer = None if num > max_depth else self._store_issuer(curr)
                if issuer is not None:
                    ss = self_signed(self.f(curr), self.version)
                    if ss < 0:
                        self.fail(codes.UNSPECIFIED, num - 1)
                        return False
                    found = True
                    issuer_ss = ss
                    if not ss:
                        self.chain.append(issuer)
                        issuer_ss = self_signed(self.f(issuer), self.version)
                        if issuer_ss < 0:
                            self.fail(codes.UNSPECIFIED, num)
                            return False
                    elif curr.der != issuer.der:
                        found = False                      # a self-signed mimic of a store certificate
                    else:
                        num -= 1
                        self.num_untrusted = num
                        self.chain[num] = issuer
                    if found:
                        search_untrusted = False
                        trust = self._check_trust(num)
                        if trust != "untrusted":
                            break
                        if not issuer_ss:
                            continue
                if not search_untrusted:
                    break                                  # trusted-first: no alternate chains
            if search_untrusted:
                num = len(self.chain)
                curr = self.chain[-1]
                issuer = None
                if not (self_signed(self.f(curr), self.version) > 0 or num > max_depth):
                    issuer = self._best(wire, curr, no_dup=True)
                if issuer is None:
                    search_untrusted = False
                    search_trusted = True
                    continue
                wire.remove(issuer)
                self.chain.append(issuer)
                self.num_untrusted += 1
        num = len(self.chain)
        if trust == "trusted":
            return True
        top = num - 1
        if num > max_depth:
            self.fail(codes.CERT_CHAIN_TOO_LONG, top)
        elif self_signed(self.f(self.chain[top]), self.version) > 0:
            self.fail(codes.DEPTH_ZERO_SELF_SIGNED_CERT if num == 1 else codes.SELF_SIGNED_CERT_IN_CHAIN, top)
        else:
            self.fail(codes.UNABLE_TO_GET_ISSUER_CERT if self.num_untrusted < num
                      else codes.UNABLE_TO_GET_ISSUER_CERT_LOCALLY, top)
        return False

    # -- check_extensions -----------------------------------------------------------------
    def _check_extensions(self) -> None:
        num = len(self.chain)
        plen = 0
        for i, cert in enumerate(self.chain):
            x = self.f(cert)
            if x.critical_unsupported is not None:
                self.fail(codes.UNHANDLED_CRITICAL_EXTENSION, i)
            if i > 0:
                ca = check_ca(x, self.version)
                if ca == 0 or (i + 1 < num and ca != 1):
                    self.fail(codes.invalid_ca(self.version), i)
            if num > 1 and self.version != "1.1.1":                  # check_curve
                if x.key_family is None:
                    self.fail(codes.UNSPECIFIED, i)
                elif x.explicit_ec:
                    self.fail(codes.EC_KEY_EXPLICIT_PARAMS_3, i)
            if ssl_server_purpose(x, i > 0, self.version) == 0:
                self.fail(codes.INVALID_PURPOSE, i)
            if self.version == "1.1.1":
                if i > 1 and not x.self_issued and x.pathlen != -1 and plen > x.pathlen + 1:
                    self.fail(codes.PATH_LENGTH_EXCEEDED, i)
                if not x.self_issued:
                    plen += 1
            else:
                if i > 1 and x.pathlen != -1 and plen > x.pathlen:
                    self.fail(codes.PATH_LENGTH_EXCEEDED, i)
                if i > 0 and not x.self_issued:
                    plen += 1

    # -- check_auth_level -------------------------------------------------------------------
    def _key_ok(self, cert: Cert) -> bool:
        if self.s.level <= 0:
            return True
        bits = key_security_bits(self.f(cert), self.version)
        return bits is not None and bits >= LEVEL_BITS[min(self.s.level, 5) - 1]

    def _check_auth_level(self) -> None:
        if self.s.level <= 0:
            return
        floor = LEVEL_BITS[min(self.s.level, 5) - 1]
        num = len(self.chain)
        for i, cert in enumerate(self.chain):
            if i > 0 and not self._key_ok(cert):
                self.fail(codes.CA_KEY_TOO_SMALL, i)
            if i < num - 1:
                bits = signature_security_bits(self.f(cert), self.version)
                if bits is None or bits < floor:
                    self.fail(codes.CA_MD_TOO_WEAK, i)

    # -- check_id ---------------------------------------------------------------------------
    def _check_id(self) -> None:
        host = self.s.host
        if not host:
            return
        leaf = self.f(self.chain[0])
        address = _ip_bytes(host)
        if address is not None:
            if not check_ip(leaf, address):
                self.fail(codes.IP_ADDRESS_MISMATCH, 0)
        elif not check_host(leaf, host, partial_wildcards=self.s.partial_wildcards):
            self.fail(codes.HOSTNAME_MISMATCH, 0)

    # -- internal_verify --------------------------------------------------------------------
    def _internal_verify(self) -> None:
        n = len(self.chain) - 1
        xi = self.chain[n]
        if likely_issued(self.f(xi), self.f(xi), self.version):
            xs = xi
        else:
            if n <= 0:
                self.fail(codes.UNABLE_TO_VERIFY_LEAF_SIGNATURE, 0, xi)
                self._time(xi, 0)
                return
            n -= 1
            xs = self.chain[n]
        while n >= 0:
            if xs is not xi:
                issuer_depth = n + 1
                fi = self.f(xi)
                if fi.ku_rejects(KU_KEY_CERT_SIGN) and not (xs is xi and not fi.ca):
                    self.fail(codes.KEYUSAGE_NO_CERTSIGN, issuer_depth, xi)
                if fi.key_family is None:
                    self.fail(codes.UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, issuer_depth, xi)
                elif not signature_ok(xs, xi):
                    self.fail(codes.CERT_SIGNATURE_FAILURE, n, xs)
            self._time(xs, n)
            n -= 1
            if n >= 0:
                xi, xs = xs, self.chain[n]

    def _time(self, cert: Cert, depth: int) -> None:
        code = time_error(cert, self.now)
        if code:
            self.fail(code, depth, cert)

    # -- check_name_constraints ---------------------------------------------------------------
    def _check_name_constraints(self) -> None:
        num = len(self.chain)
        for i in range(num - 1, -1, -1):
            x = self.f(self.chain[i])
            if i != 0 and x.self_issued:
                continue
            for j in range(num - 1, i, -1):
                nc = self.f(self.chain[j]).nc
                if nc is None:
                    continue
                rv = name_constraints_error(x, nc, is_leaf=i == 0)
                if rv:
                    self.fail(rv, i)


def verify(presented: Sequence[Cert], store: StoreModel, settings: Settings) -> Outcome:
    """Verify `presented` (leaf first, as sent) against `store` the way an
    OpenSSL TLS client does."""
    if not presented:
        raise ValueError("verify needs at least the server certificate")
    return _Verifier(presented, store, settings).run()


def _ip_bytes(host: str) -> Optional[bytes]:
    try:
        return ipaddress.ip_address(host.strip("[]")).packed
    except ValueError:
        return None
