"""`selftest`: the main job (check -> fix -> check) on an embedded default.

It builds a throw-away PKI and starts, on loopback only:
- an SMTP STARTTLS server whose usual chain is the leaf alone (its issuing
  CA is available only by AIA), and which on a minority of connections
  presents a second chain from another CA (the load-balancer case);
- an HTTP server publishing that issuing CA at the leaf's AIA URL.
The temporary trust store (a PEM bundle) trusts neither root; the temporary
root program holds both. Expected: check CRITICAL -> fix imports the AIA
intermediate and both roots -> the re-probe proves it -> check OK.
Nothing outside a temporary directory is touched.
"""
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, List

HOST = "mx.selftest.test"
MINORITY_SHARE = 0.15


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class SelftestResult:
    steps: List[Step] = field(default_factory=list)
    workdir: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


class _Scenario:
    """The PKI, the servers and the temporary store/root program."""

    def __init__(self, workdir: str):
        from ibmi_trust.testing.aia_server import AiaServer
        from ibmi_trust.testing.pki import CA
        from ibmi_trust.testing.servers import ChainPlan, MailServer

        self.workdir = workdir
        self.aia = AiaServer().start()
        try:
            root_a = CA.root("ibmi-trust selftest Root A")
            inter_a = root_a.intermediate("ibmi-trust selftest Issuing CA A")
            aia_url = self.aia.serve("/issuing-ca-a.cer", inter_a.cert.der)
            leaf_a = inter_a.leaf([HOST, "127.0.0.1"], aia_url=aia_url)
            root_b = CA.root("ibmi-trust selftest Root B")
            inter_b = root_b.intermediate("ibmi-trust selftest Issuing CA B")
            leaf_b = inter_b.leaf([HOST, "127.0.0.1"])
            unrelated = CA.root("ibmi-trust selftest Unrelated Root")
            self.expected_missing = {inter_a.cert.sha256, root_a.cert.sha256, root_b.cert.sha256}
            self.store_path = os.path.join(workdir, "trust-store.pem")
            with open(self.store_path, "w") as handle:
                handle.write(unrelated.cert.pem())
            self.roots_path = os.path.join(workdir, "root-program.pem")
            with open(self.roots_path, "w") as handle:
                handle.write(root_a.cert.pem() + root_b.cert.pem() + unrelated.cert.pem())
            plan = ChainPlan(default=(leaf_a.cert_pem(), leaf_a.key_pem()),
                             minority=(leaf_b.chain_pem(), leaf_b.key_pem()), minority_share=MINORITY_SHARE)
            self.server = MailServer("smtp", host="127.0.0.1", chains=plan, seed=int(time.time()), name=HOST).start()
        except BaseException:
            self.aia.stop()
            raise

    def close(self) -> None:
        self.server.stop()
        self.aia.stop()

    def check_options(self):
        from ibmi_trust.fetch import RootProgram, Sourcing
        from ibmi_trust.jobs.check import CheckOptions
        from ibmi_trust.probe import ProbeOptions
        from ibmi_trust.store.spec import StoreOptions

        probe_options = ProbeOptions(timeout=5.0, resolve=self.server.resolve_map(HOST), rate=200.0, concurrency=4)
        sourcing = Sourcing(fetch=True, root_program=RootProgram.from_file(self.roots_path), extra=[],
                            approved_roots=set(), timeout=5.0)
        return CheckOptions(store_spec="bundle:" + self.store_path,
                            store_options=StoreOptions(backup_dir=os.path.join(self.workdir, "backups")),
                            probe_options=probe_options, sourcing=sourcing, warn_days=30)

    def target(self):
        from ibmi_trust.probe import Target

        return Target.parse("%s:%d" % (HOST, self.server.port), protocol="smtp")


def run_selftest(say: Callable[[str], None] = print, keep: bool = False) -> SelftestResult:
    from ibmi_trust.errors import IbmiTrustError
    from ibmi_trust.jobs.check import run_check
    from ibmi_trust.jobs.fix import run_fix

    result = SelftestResult(workdir=tempfile.mkdtemp(prefix="ibmi-trust-selftest-"))

    def step(name, func):
        started = time.monotonic()
        try:
            ok, detail = func()
        except IbmiTrustError as exc:
            ok, detail = False, "%s: %s" % (type(exc).__name__, exc.message)
        result.steps.append(Step(name, ok, detail, time.monotonic() - started))
        say("[%d/4] %-6s %s: %s (%.2f s)" % (len(result.steps), name, "ok" if ok else "FAILED", detail,
                                             result.steps[-1].seconds))
        return ok

    holder = {}

    def build():
        holder["scenario"] = _Scenario(result.workdir)
        sc = holder["scenario"]
        return True, "throw-away PKI; SMTP STARTTLS on 127.0.0.1:%d (second chain on ~%d%% of connections); " \
                     "AIA on 127.0.0.1:%d; store bundle:%s" % (
                         sc.server.port, MINORITY_SHARE * 100, sc.aia.port, sc.store_path)

    def first_check():
        sc = holder["scenario"]
        check = run_check(sc.target(), sc.check_options())
        found = {m.sha256 for m in check.missing() if m.sha256}
        ok = check.status == "CRITICAL" and len(check.variants) == 2 and sc.expected_missing <= found
        return ok, "%s as expected: %d handshakes, %d chains, missing: %s" % (
            check.status, check.probe.handshakes if check.probe else 0, len(check.variants),
            "; ".join(m.subject for m in check.missing())) if ok else "expected CRITICAL with 2 chains and 3 " \
            "missing certificates, got %s with %d chain(s), missing %s%s" % (
                check.status, len(check.variants), [m.subject for m in check.missing()],
                " (%s)" % check.error if check.error else "")

    def fix():
        sc = holder["scenario"]
        fixed = run_fix(sc.target(), sc.check_options(), confirm=None)
        added = len(fixed.change.added) if fixed.change else 0
        ok = fixed.status == "OK" and added == 3
        return ok, "imported %d certificate(s), re-probe: %s (%d handshakes)" % (
            added, fixed.status, fixed.after.probe.handshakes if fixed.after and fixed.after.probe else 0)

    def second_check():
        sc = holder["scenario"]
        check = run_check(sc.target(), sc.check_options())
        return check.status == "OK", "%s: %d chain(s), all trusted%s" % (
            check.status, len(check.variants), "" if check.status == "OK" else " NOT (%s)" % check.error)

    try:
        if step("setup", build) and step("check", first_check) and step("fix", fix):
            step("check", second_check)
    finally:
        if "scenario" in holder:
            holder["scenario"].close()
        if not keep:
            shutil.rmtree(result.workdir, ignore_errors=True)
    return result
