"""The OpenSSL profile, one named regression test per class of disagreement the
verdict issue found, each proven against the real `openssl verify` (the
referee) as well as asserted on our own verdict; then the referee, the
security level, the plan check on a scratch copy, the handshake proof and
fix's JSON and exit codes, end to end through the CLI on loopback."""
import datetime
import json
import os
import subprocess
import sys

import pytest

from ibmi_trust.analyse import analyse_chain
from ibmi_trust.analyse.openssl import codes, seclevel
from ibmi_trust.analyse.referee import Referee
from ibmi_trust.analyse.validators.openssl import OpenSSLProfile
from ibmi_trust.fetch import RootProgram, Sourcing
from ibmi_trust.store.base import StoreEntry
from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import ChainPlan, MailServer
from pki_scenarios import Factory

HOST = "mx.example.test"
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def referee():
    found = Referee.find()
    if found is None:
        pytest.skip("no openssl binary (scripts/test installs it)")
    return found


@pytest.fixture
def f():
    import random

    return Factory(random.Random(7), NOW)


def judge(sent, store, *, level=0, host=HOST, sourcing=None, tmp=None, referee=None):
    """Our verdict, and the real OpenSSL's on the same store (a bundle in `tmp`)."""
    profile = OpenSSLProfile(version=referee.profile if referee else "3", level=level)
    report = analyse_chain(sent, [StoreEntry(c, "#%d" % i, order=(i,)) for i, c in enumerate(store)], host,
                           sourcing, NOW, validator=profile)
    truth = None
    if referee is not None:
        bundle = tmp / ("store-%d.pem" % len(list(tmp.iterdir())))
        bundle.write_text("".join(c.pem() for c in store) or "")
        truth = referee.verify(sent, cafile=str(bundle), host=host, level=level, now=NOW) if store else None
        first = (report.prediction or {}).get("error")
        assert truth is None or (truth.ok, truth.code, truth.depth) == (
            report.prediction["accepts"], first and first["code"], first and first["depth"]), (truth, first)
    return report


def chain(f, depth=1, **leaf_kw):
    root = f.issue(f.name("Root"), f.key(), None)
    cas = [root]
    for i in range(depth):
        cas.append(f.issue(f.name("Issuing CA %d" % (i + 1)), f.key(), cas[-1]))
    leaf = f.issue(f.name(HOST), f.key(), cas[-1], ca=False, eku=["serverAuth"], san=[HOST], **leaf_kw)
    return root, cas[1:], leaf


def program(*certs):
    return Sourcing(fetch=False, root_program=RootProgram("test-program", "(memory)", list(certs)))


# -- the classes of disagreement -----------------------------------------------------
def test_store_intermediate_whose_issuers_are_only_served(f, tmp_path, referee):
    """Adding the leaf's issuer to the store breaks a complete chain (error 2):
    OpenSSL takes it from the store and then looks only in the store."""
    root, (i1, i2, i3), leaf = chain(f, 3)
    sent = [leaf.cert, i3.cert, i2.cert, i1.cert]
    assert judge(sent, [root.cert], tmp=tmp_path, referee=referee).verdict == "trusted"
    report = judge(sent, [root.cert, i3.cert], tmp=tmp_path, referee=referee)
    assert report.verdict == "fixable" and report.prediction["error"]["code"] == codes.UNABLE_TO_GET_ISSUER_CERT
    assert "store-ca-without-issuer" in report.codes()
    # the fix imports the CAs above the store's intermediate, not just one
    assert [s.cert for s in report.to_add] == [i2.cert, i1.cert]
    assert all(s.provenance == "server" for s in report.to_add)
    assert judge(sent, [root.cert, i3.cert, i2.cert, i1.cert], tmp=tmp_path, referee=referee).verdict == "trusted"


def test_expired_store_copy_of_a_served_intermediate(f, tmp_path, referee):
    root, (inter,), leaf = chain(f)
    old = f.issue(inter.name, inter.key, root, start=f.now - 500 * DAY, days=100)
    report = judge([leaf.cert, inter.cert], [root.cert, old.cert], tmp=tmp_path, referee=referee)
    assert report.prediction["error"] == {"code": 10, "depth": 1, "text": "certificate has expired"}
    assert report.verdict == "fixable" and "ca-expired-in-store" in report.codes()
    assert [s.cert for s in report.to_add] == [inter.cert]       # the renewal the server sends
    assert "renewed-ca-available" in report.codes()


def test_expired_copy_sent_by_the_server_is_not_a_wrong_intermediate(f, tmp_path, referee):
    root, (inter,), leaf = chain(f)
    old = f.issue(inter.name, inter.key, root, start=f.now - 500 * DAY, days=100)
    report = judge([leaf.cert, old.cert], [root.cert], tmp=tmp_path, referee=referee,
                   sourcing=Sourcing(fetch=False, extra=[inter.cert]))
    assert "wrong-intermediate" not in report.codes()
    assert report.verdict == "fixable" and [s.cert for s in report.to_add] == [inter.cert]
    assert "ca-expired" in report.codes()


def test_cross_signed_ca_sent_first_is_taken_without_backtracking(f, tmp_path, referee):
    root, (inter,), leaf = chain(f)
    untrusted = f.issue(f.name("Untrusted Root"), f.key(), None)
    twin = f.issue(inter.name, inter.key, untrusted)             # same name and key, other issuer
    report = judge([leaf.cert, twin.cert, inter.cert], [root.cert], tmp=tmp_path, referee=referee)
    assert report.prediction["error"]["code"] == codes.UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert "first-match-no-backtracking" in report.codes()
    assert report.verdict == "fixable" and [s.cert for s in report.to_add] == [inter.cert]
    # the other order verifies
    assert judge([leaf.cert, inter.cert, twin.cert], [root.cert], tmp=tmp_path, referee=referee).client_accepts


def test_authority_key_id_that_differs_from_the_issuers_key_id(f, tmp_path, referee):
    root = f.issue(f.name("Root"), f.key(), None)
    inter = f.issue(f.name("Issuing CA"), f.key(), root, aki="wrong")
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=[HOST])
    report = judge([leaf.cert, inter.cert], [root.cert], tmp=tmp_path, referee=referee)
    assert report.prediction["error"] == {"code": 20, "depth": 1, "text": "unable to get local issuer certificate"}
    assert report.verdict == "untrusted" and "aki-mismatch" in report.codes()


@pytest.mark.parametrize("eku, accepted", [("serverAuth", True), ("clientAuth", False),
                                           ("emailProtection", False), ("anyExtendedKeyUsage", False)])
def test_eku_on_the_root_is_checked(f, tmp_path, referee, eku, accepted):
    root = f.issue(f.name("Root"), f.key(), None, eku=[eku])
    inter = f.issue(f.name("Issuing CA"), f.key(), root)
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=[HOST])
    report = judge([leaf.cert, inter.cert], [root.cert], tmp=tmp_path, referee=referee)
    assert report.client_accepts is accepted
    if not accepted:
        assert report.prediction["error"] == {"code": 26, "depth": 2, "text": "unsupported certificate purpose"}
        assert "wrong-purpose" in report.codes()


def test_any_extended_key_usage_alone_on_an_intermediate_fails_ssl_server(f, tmp_path, referee):
    root = f.issue(f.name("Root"), f.key(), None)
    inter = f.issue(f.name("Issuing CA"), f.key(), root, eku=["anyExtendedKeyUsage"])
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=[HOST])
    report = judge([leaf.cert, inter.cert], [root.cert], tmp=tmp_path, referee=referee)
    assert report.prediction["error"]["code"] == codes.INVALID_PURPOSE and report.verdict == "untrusted"


@pytest.mark.parametrize("key_usage, accepted", [("ca", True), (None, False)])
def test_root_without_basic_constraints(f, tmp_path, referee, key_usage, accepted):
    """OpenSSL takes a root with keyCertSign but no basicConstraints as an anchor (check_ca 4)."""
    root = f.issue(f.name("Root"), f.key(), None, basic=False, ku=key_usage)
    inter = f.issue(f.name("Issuing CA"), f.key(), root)
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=[HOST])
    report = judge([leaf.cert, inter.cert], [root.cert], tmp=tmp_path, referee=referee)
    assert report.client_accepts is accepted
    if not accepted:
        assert report.prediction["error"]["code"] == codes.INVALID_CA_3 and "not-a-ca" in report.codes()


def test_excluded_dns_constraint_is_compared_literally_against_a_wildcard(f, tmp_path, referee):
    root = f.issue(f.name("Root"), f.key(), None)
    inter = f.issue(f.name("Issuing CA"), f.key(), root, nc=([], ["mx.example.test"]))
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=["*.example.test"])
    report = judge([leaf.cert, inter.cert], [root.cert], tmp=tmp_path, referee=referee)
    assert report.client_accepts        # "*" is an ordinary character to nc_dns
    leading_dot = f.issue(f.name("Issuing CA 2"), f.key(), root, nc=([".example.test"], []))
    bare = f.issue(f.name(HOST), f.key(), leading_dot, ca=False, san=["example.test"])
    report = judge([bare.cert, leading_dot.cert], [root.cert], host="example.test", tmp=tmp_path, referee=referee)
    assert report.prediction["error"]["code"] == codes.PERMITTED_VIOLATION


def test_root_the_server_sends_and_the_root_program_has_is_importable(f, tmp_path, referee):
    root, (inter,), leaf = chain(f)
    other = f.issue(f.name("Other Root"), f.key(), None)
    report = judge([leaf.cert, inter.cert, root.cert], [other.cert], tmp=tmp_path, referee=referee,
                   sourcing=program(root.cert))
    assert report.verdict == "fixable"
    assert [(s.cert, s.provenance) for s in report.to_add] == [(root.cert, "root-program:test-program")]
    from ibmi_trust.importer.plan import build_plan

    class V:
        index, report_ = 1, None
    variant = V()
    variant.report = report
    assert not build_plan([variant]).blockers           # was refused: the provenance stayed "server"


def test_store_root_that_differs_from_the_one_sent(f, tmp_path, referee):
    key = f.key()
    root = f.issue(f.name("Root"), key, None)
    renewed = f.issue(f.name("Root"), key, None, start=f.now - 10 * DAY)       # same name and key
    inter = f.issue(f.name("Issuing CA"), f.key(), root, aki=None)
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=[HOST])
    report = judge([leaf.cert, inter.cert, root.cert], [renewed.cert], tmp=tmp_path, referee=referee)
    assert report.client_accepts       # the store's copy is found for the intermediate first (trusted-first)


# -- the security level -----------------------------------------------------------------------
def test_sha1_and_small_keys_fail_at_the_security_level(f, tmp_path, referee):
    root = f.issue(f.name("Root"), f.key(), None)
    inter = f.issue(f.name("Issuing CA"), f.key(), root, sha1=True)
    leaf = f.issue(f.name(HOST), f.key(), inter, ca=False, san=[HOST])
    sent = [leaf.cert, inter.cert]
    at0 = judge(sent, [root.cert], level=0, tmp=tmp_path, referee=referee)
    assert at0.client_accepts and "weak-signature" in at0.codes() and at0.status == "WARNING"
    at1 = judge(sent, [root.cert], level=1, tmp=tmp_path, referee=referee)
    assert at1.prediction["error"] == {"code": 68, "depth": 1, "text": "CA signature digest algorithm too weak"}
    assert "signature-below-security-level" in at1.codes() and at1.verdict == "untrusted"
    small = f.issue(f.name(HOST), f.key("rsa1024"), root, ca=False, san=[HOST])
    assert judge([small.cert], [root.cert], level=1, tmp=tmp_path, referee=referee).client_accepts
    at2 = judge([small.cert], [root.cert], level=2, tmp=tmp_path, referee=referee)
    assert at2.prediction["error"]["code"] == codes.EE_KEY_TOO_SMALL and "key-below-security-level" in at2.codes()


def test_default_security_level_is_the_librarys(referee):
    """seclevel.default_level() reads the config and build flags; libssl's own
    SSL_CTX_get_security_level on a fresh context is the truth."""
    import ctypes
    import ctypes.util
    import ssl

    name = ctypes.util.find_library("ssl")
    if not name:
        pytest.skip("no libssl to ask")
    lib = ctypes.CDLL(name)
    if not hasattr(lib, "SSL_CTX_get_security_level"):
        pytest.skip("libssl without SSL_CTX_get_security_level")
    lib.TLS_client_method.restype = ctypes.c_void_p
    lib.SSL_CTX_new.restype = ctypes.c_void_p
    lib.SSL_CTX_new.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_get_security_level.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_free.argtypes = [ctypes.c_void_p]
    ctx = lib.SSL_CTX_new(lib.TLS_client_method())
    try:
        truth = lib.SSL_CTX_get_security_level(ctx)
    finally:
        lib.SSL_CTX_free(ctx)
    assert seclevel.default_level().level == truth, (seclevel.default_level(), ssl.OPENSSL_VERSION)


def test_security_level_from_a_config_file(tmp_path):
    conf = tmp_path / "openssl.cnf"
    (tmp_path / "policy.cnf").write_text("[system]\nCipherString = DEFAULT:@SECLEVEL=3\n")
    conf.write_text("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = system\n"
                    ".include %s\n" % (tmp_path / "policy.cnf"))
    assert seclevel.level_from_config(str(conf)) == 3
    conf.write_text("openssl_conf = init\n[init]\nproviders = p\n")
    assert seclevel.level_from_config(str(conf)) is None


# -- through the CLI: check, fix, the referee, the plan check, the proof ---------------------------
def strict_openssl(tmp_path, referee):
    """The real openssl, but `verify` runs at auth level 5: a stricter client than the model expects."""
    wrapper = tmp_path / "strict-openssl"
    wrapper.write_text("#!%s\nimport os, sys\nargs = sys.argv[1:]\n"
                       "if args[:1] == ['verify'] and '-auth_level' in args:\n"
                       "    args[args.index('-auth_level') + 1] = '5'\n"
                       "os.execv(%r, [%r] + args)\n" % (sys.executable, referee.binary, referee.binary))
    wrapper.chmod(0o755)
    return wrapper

class Lab:
    """A loopback SMTP server with a chain, a store (capath or bundle) and a root program."""

    def __init__(self, tmp, f, kind="bundle"):
        self.tmp, self.f, self.kind = tmp, f, kind
        self.root, (self.inter,), self.leaf = chain(f)
        self.server = None

    def start(self, sent, store, roots=None, minority=None, seed=0):
        plan = ChainPlan(default=(_pem(sent), self.leaf.key_pem()), minority=minority,
                         minority_share=0.5 if minority else 0.0)
        self.server = MailServer("smtp", chains=plan, name=HOST, seed=seed).start()
        self.roots = self.tmp / "roots.pem"
        self.roots.write_text("".join(c.pem() for c in (roots or [self.root.cert])))
        if self.kind == "bundle":
            self.location = self.tmp / "store.pem"
            self.location.write_text("".join(c.pem() for c in store))
        else:
            self.location = self.tmp / "certs"
            self.location.mkdir()
            for index, cert in enumerate(store):
                (self.location / ("%d.pem" % index)).write_text(cert.pem())
            subprocess.run(["openssl", "rehash", str(self.location)], check=True, capture_output=True)
        return self

    sni = False

    def args(self, *extra):
        return ["%s:%d" % (HOST, self.server.port), "--protocol", "smtp", "--store",
                "%s:%s" % (self.kind, self.location), "--roots", str(self.roots), "--no-fetch",
                "--rounds", "1", "--rate", "500", "--timeout", "3",
                "--resolve", "%s:%d:127.0.0.1" % (HOST, self.server.port)] + ([] if self.sni else ["--no-sni"]) + \
            list(extra)

    def run(self, command, *extra, env=None):
        return subprocess.run([sys.executable, "-m", "ibmi_trust", command] + self.args(*extra),
                              capture_output=True, text=True, timeout=120, env=dict(os.environ, **(env or {})))

    def store_bytes(self):
        if self.kind == "bundle":
            return self.location.read_bytes()
        return sorted((p.name, os.readlink(str(p)) if p.is_symlink() else p.read_bytes())
                      for p in self.location.iterdir())

    def close(self):
        if self.server is not None:
            self.server.stop()


def _pem(certs) -> bytes:
    return b"".join(c.pem().encode() for c in certs)


@pytest.fixture
def lab(tmp_path, f):
    made = []

    def make(kind="bundle"):
        made.append(Lab(tmp_path / kind, f, kind))
        made[-1].tmp.mkdir()
        return made[-1]
    yield make
    for item in made:
        item.close()


def _fixable_lab(make, kind):
    item = make(kind)
    return item.start([item.leaf.cert, item.inter.cert], [item.f.issue(item.f.name("Other"), item.f.key(), None).cert])


@pytest.mark.parametrize("kind", ["bundle", "capath"])
def test_fix_checks_the_plan_then_proves_it_with_a_handshake(lab, referee, kind):
    item = _fixable_lab(lab, kind)
    check = item.run("check")
    assert check.returncode == 2, check.stdout + check.stderr
    assert "judged by: OpenSSL 3.x rules at security level" in check.stdout
    assert "referee: OpenSSL" in check.stdout
    assert "OpenSSL rejects it: error 20 at depth 1" in check.stdout and "(decided by the real OpenSSL)" in check.stdout
    fixed = item.run("fix", "--yes", "--json")
    assert fixed.returncode == 0, fixed.stderr
    doc = json.loads(fixed.stdout)                 # stdout holds exactly one JSON document
    assert doc["outcome"] == "fixed" and doc["proof"]["kind"] == "OpenSSL handshake" and doc["proof"]["ok"]
    assert doc["plan_check"]["ok"] and doc["plan_check"]["checked_by"].startswith("openssl verify")
    assert doc["proof"]["proven"] == {"1": "OpenSSL handshake"}
    assert doc["after"]["chains"][0]["decided_by"] == "openssl" and doc["status"] == "OK"
    assert item.run("check").returncode == 0


def test_a_plan_the_real_openssl_rejects_is_not_applied(lab, referee, tmp_path):
    """The plan is checked on a scratch copy by `openssl verify`; a stricter
    client (here an openssl run at auth level 5) rejects it: exit 5, nothing
    written, and the JSON says why."""
    item = _fixable_lab(lab, "bundle")
    strict = strict_openssl(tmp_path, referee)
    before = item.store_bytes()
    result = item.run("fix", "--yes", "--json", env={"IBMI_TRUST_OPENSSL": str(strict)})
    assert result.returncode == 5, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "refused" and not doc["plan_check"]["ok"]
    assert "would still fail with the plan" in doc["error"] and "Traceback" not in result.stderr
    assert item.store_bytes() == before


def test_the_real_openssl_decides_when_it_disagrees(lab, referee, tmp_path):
    item = lab("bundle")
    item.start([item.leaf.cert, item.inter.cert], [item.root.cert])
    assert item.run("check").returncode == 0
    strict = strict_openssl(tmp_path, referee)
    result = item.run("check", "--json", env={"IBMI_TRUST_OPENSSL": str(strict)})
    doc = json.loads(result.stdout)
    chain_doc = doc["chains"][0]
    assert result.returncode == 2 and chain_doc["decided_by"] == "openssl"
    assert chain_doc["findings"][0]["code"] == "validator-disagrees"
    assert chain_doc["prediction"]["accepts"] and not chain_doc["referee"]["ok"]


def test_fix_json_is_one_document_for_refusal_roll_back_and_dry_run(lab, referee):
    private = lab("bundle")
    other_root = private.f.issue(private.f.name("Private Root"), private.f.key(), None)
    unrelated = private.f.issue(private.f.name("Unrelated"), private.f.key(), None)
    private.start([private.leaf.cert, private.inter.cert, private.root.cert], [unrelated.cert],
                  roots=[other_root.cert])
    refused = private.run("fix", "--yes", "--json")
    assert refused.returncode == 5
    doc = json.loads(refused.stdout)
    assert doc["outcome"] == "refused" and "--trust-root" in doc["error"]
    dry = private.run("fix", "--dry-run", "--json", "--trust-root", private.root.cert.sha256)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["outcome"] == "dry-run"


def test_fix_help_lists_every_exit_code():
    result = subprocess.run([sys.executable, "-m", "ibmi_trust", "fix", "--help"], capture_output=True, text=True)
    for code in ("0 OK", "1 WARNING", "2 CRITICAL", "3 could not probe", "4 store error", "5", "6 rolled back"):
        assert code in " ".join(result.stdout.split()), code


def test_name_mismatch_does_not_block_the_import(lab, referee):
    item = lab("bundle")
    wrong = item.f.issue(item.f.name("other.example.net"), item.f.key(), item.inter, ca=False,
                         san=["other.example.net"])
    item.leaf = wrong
    item.start([wrong.cert, item.inter.cert], [item.f.issue(item.f.name("Other"), item.f.key(), None).cert])
    check = json.loads(item.run("check", "--json").stdout)
    assert check["chains"][0]["verdict"] == "fixable"
    assert "name-mismatch" in [x["code"] for x in check["chains"][0]["findings"]]
    fixed = item.run("fix", "--yes", "--json")
    doc = json.loads(fixed.stdout)
    assert doc["outcome"] == "fixed" and doc["proof"]["ok"], fixed.stderr
    assert fixed.returncode == 2            # fixed what the store can fix; the name still fails
    assert any("host name not checked" in n for n in doc["proof"]["notes"])
    quiet = item.run("check", "--no-check-name")
    assert quiet.returncode == 0, quiet.stdout


def test_fix_json_on_a_roll_back(lab, referee):
    """The server serves another, unfixable chain from its second connection on (a
    seeded minority draw): the proof's handshake fails, the backup is put back,
    exit 6, and stdout is still one JSON document saying so."""
    import random

    item = lab("bundle")
    stranger = item.f.issue(item.f.name("Stranger Root"), item.f.key(), None)
    odd = item.f.issue(item.f.name(HOST), item.f.key(), stranger, ca=False, san=[HOST])
    # draws in accept order: the check's two connections get the default chain, the proof's the other
    def draws(seed):
        rng = random.Random(seed)
        return [rng.random() >= 0.5 for _ in range(6)]
    seed = next(s for s in range(1000) if draws(s) == [True, True, False, False, False, False])
    item.start([item.leaf.cert, item.inter.cert], [item.f.issue(item.f.name("Other"), item.f.key(), None).cert],
               minority=(_pem([odd.cert]), odd.key_pem()), seed=seed)
    before = item.store_bytes()
    result = item.run("fix", "--yes", "--json")
    assert result.returncode == 6, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "rolled-back" and not doc["proof"]["ok"]
    assert "certificate verify failed" in doc["proof"]["failures"][0] and "restored" in doc["error"]
    assert item.store_bytes() == before


def test_proof_of_a_partial_wildcard_name_python_refuses(lab, referee):
    """OpenSSL's defaults accept the SAN f*.example.test for fx.example.test; Python's
    client (NO_PARTIAL_WILDCARDS) does not: the proof still proves the path."""
    item = lab("bundle")
    item.sni = True
    item.leaf = item.f.issue(item.f.name("wild"), item.f.key(), item.inter, ca=False, san=["m*.example.test"])
    item.start([item.leaf.cert, item.inter.cert], [item.f.issue(item.f.name("Other"), item.f.key(), None).cert])
    fixed = item.run("fix", "--yes", "--json")
    doc = json.loads(fixed.stdout)
    assert fixed.returncode == 0 and doc["proof"]["ok"], fixed.stdout + fixed.stderr
    assert any("Python's name check refuses the name" in n for n in doc["proof"]["notes"])


def test_a_big_bundle_is_refereed_by_the_certificates_openssl_can_look_up(tmp_path, referee):
    """Past REDUCE_ABOVE certificates the referee gets only what OpenSSL can look up
    for the chain (loading a 5,000-certificate CAfile takes OpenSSL seconds); its
    answer must be the same as on the whole file, for every kind of scenario."""
    from ibmi_trust.analyse.core import index_store
    from ibmi_trust.analyse.referee import REDUCE_ABOVE, store_arguments
    from ibmi_trust.store.spec import open_store
    from pki_scenarios import CLASSES, scenario

    filler = [CA.root("Filler %d" % i).cert for i in range(REDUCE_ABOVE + 1)]
    for seed in range(len(CLASSES)):
        sc = scenario(seed, NOW)
        bundle = tmp_path / ("bundle-%d.pem" % seed)
        bundle.write_text("".join(c.pem() for c in filler[:seed] + sc.store + filler[seed:]))
        store = open_store("bundle:%s" % bundle)
        view = index_store(store.list())
        reduced = store_arguments(store, view, sc.sent)
        assert "cafile_certs" in reduced and len(reduced["cafile_certs"]) < len(sc.store) + 3
        whole = referee.verify(sc.sent, cafile=str(bundle), host=sc.host, level=sc.level, now=NOW)
        part = referee.verify(sc.sent, host=sc.host, level=sc.level, now=NOW, **reduced)
        assert (whole.ok, whole.code, whole.depth) == (part.ok, part.code, part.depth), sc.describe()


CAPATH_LAYOUTS = {
    # name: (links, accepted when OpenSSL skips a name it cannot use, accepted when it stops there)
    "root linked": ([(0, "root.pem")], True, True),
    "gap before the root": ([(1, "root.pem")], False, False),
    "stale link first": ([(0, "other.pem"), (1, "root.pem")], True, True),
    "dangling link first": ([(0, "gone.pem"), (1, "root.pem")], True, False),
    "unparsable file first": ([(0, "junk.pem"), (1, "root.pem")], True, False),
    "empty file first": ([(0, "empty.pem"), (1, "root.pem")], True, False),
    "directory first": ([(0, "subdir"), (1, "root.pem")], True, False),
    "gap after a dangling link": ([(0, "gone.pem"), (2, "root.pem")], False, False),
}


def _capath_layouts(f, tmp_path):
    """(sent chain, directory, bucket, a function laying one layout out)."""
    from ibmi_trust.store.rehash import hash_text, subject_hash

    root, (inter,), leaf = chain(f)
    other = f.issue(f.name("Other Root"), f.key(), None)
    directory = tmp_path / "certs"
    directory.mkdir()
    (directory / "root.pem").write_text(root.cert.pem())
    (directory / "other.pem").write_text(other.cert.pem())
    (directory / "junk.pem").write_text("not a certificate\n")
    (directory / "empty.pem").write_text("")
    (directory / "subdir").mkdir()
    bucket = hash_text(subject_hash(root.cert))

    def lay_out(links):
        for name in os.listdir(str(directory)):
            if name.startswith(bucket):
                os.unlink(str(directory / name))
        for index, target in links:
            os.symlink(target, str(directory / ("%s.%d" % (bucket, index))))
    return [leaf.cert, inter.cert], directory, lay_out


def _judge_layout(store, sent, profile):
    """The verdict of the lookup read (check) and of the whole-directory read (store list)."""
    from ibmi_trust.analyse.core import StoreView
    from ibmi_trust.jobs.check import store_view

    view, problems = store_view(store, profile)
    assert type(view).__name__ == "LookupView"
    report = analyse_chain(sent, view, HOST, None, NOW, validator=profile)
    whole = analyse_chain(sent, StoreView(store.list()), HOST, None, NOW, validator=profile)
    assert whole.prediction == report.prediction           # the two reads agree
    return report, problems()


def test_a_capath_is_read_one_subject_at_a_time_as_openssl_reads_it(f, tmp_path, referee, monkeypatch):
    """check reads only the hash buckets its chains need (store/capath_lookup.py),
    with this OpenSSL's rules (store/capath_rule.py: `.0`, `.1`, ... until a name
    does not exist; a name it cannot use skipped or ending the lookup; a stale
    link loaded and passed over). Each layout is judged by the model, through
    both reads, and by `openssl verify -CApath`."""
    from ibmi_trust.store import capath_rule
    from ibmi_trust.store.spec import open_store

    monkeypatch.delenv(capath_rule.ENV, raising=False)
    capath_rule.forget()
    sent, directory, lay_out = _capath_layouts(f, tmp_path)
    rule = capath_rule.broken_name_rule()
    assert rule.source.startswith("measured with")
    profile = OpenSSLProfile(version=referee.profile, level=0)
    for layout, (links, if_skipped, if_stopped) in CAPATH_LAYOUTS.items():
        lay_out(links)
        report, _problems = _judge_layout(open_store("capath:%s" % directory), sent, profile)
        truth = referee.verify(sent, capath=str(directory), host=HOST, level=0, now=NOW)
        first = report.prediction["error"]
        assert (truth.ok, truth.code, truth.depth) == (report.prediction["accepts"], first and first["code"],
                                                       first and first["depth"]), layout
        assert report.client_accepts is (if_skipped if rule.name == capath_rule.SKIP else if_stopped), layout


@pytest.mark.parametrize("rule", ["skip", "stop"])
def test_each_capath_rule_is_followed_by_both_reads(f, tmp_path, monkeypatch, rule):
    """Both releases' rules (IBMI_TRUST_CAPATH_BROKEN_NAMES), whatever this
    machine's OpenSSL does: the model's answer per layout, through both reads.
    (Only the rule of the local openssl can be refereed: the test above.)"""
    from ibmi_trust.store import capath_rule
    from ibmi_trust.store.spec import open_store

    monkeypatch.setenv(capath_rule.ENV, rule)
    capath_rule.forget()
    try:
        sent, directory, lay_out = _capath_layouts(f, tmp_path)
        profile = OpenSSLProfile(version="3", level=0)
        for layout, (links, if_skipped, if_stopped) in CAPATH_LAYOUTS.items():
            lay_out(links)
            report, problems = _judge_layout(open_store("capath:%s" % directory), sent, profile)
            assert report.client_accepts is (if_skipped if rule == "skip" else if_stopped), layout
            if layout == "dangling link first":
                said = "OpenSSL's lookups of this subject stop here" if rule == "stop" else "OpenSSL skips it"
                assert any("a dangling link: %s (%s)" % (said, capath_rule.ENV) in p for p in problems), problems
    finally:
        capath_rule.forget()


def test_the_capath_rule_by_release():
    from ibmi_trust.store.capath_rule import SKIP, STOP, _by_version

    assert _by_version("OpenSSL 3.0.22 25 Aug 2026") == SKIP
    assert _by_version("OpenSSL 3.0.13 30 Jan 2024") == STOP
    assert _by_version("OpenSSL 1.1.1w  11 Sep 2023") == STOP
    assert _by_version("LibreSSL 3.8.2") == STOP
