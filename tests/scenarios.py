"""Loopback scenarios for the job tests: real STARTTLS servers, a real AIA
HTTP server, a PEM-bundle trust store and a root-program file on disk."""
import os
import subprocess
import tempfile

from ibmi_trust.testing.aia_server import AiaServer
from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import ChainPlan, MailServer

HOST = "mx.example.test"
NAMES = [HOST, "127.0.0.1", "127.0.0.2", "127.0.0.3"]


def invoke_cli(*args):
    """Run the click group in-process with stdout and stderr apart (no terminal)."""
    from click.testing import CliRunner

    from ibmi_trust.cli import cli

    try:
        runner = CliRunner(mix_stderr=False)      # click < 8.2
    except TypeError:
        runner = CliRunner()                      # click >= 8.2 keeps stderr apart anyway
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


class Scenario:
    """kind: minority | addresses | sni | keytype | aia | unapproved-root | partial"""

    def __init__(self, kind, tmp_path, seed=7):
        self.kind = kind
        self.tmp = str(tmp_path)
        self.aia = AiaServer().start()
        self.servers = []
        self.root_a = CA.root("Scenario Root A")
        self.root_b = CA.root("Scenario Root B")
        self.inter_a = self.root_a.intermediate("Scenario Issuing CA A")
        self.inter_b = self.root_b.intermediate("Scenario Issuing CA B")
        a = self.inter_a.leaf(NAMES)
        b = self.inter_b.leaf(NAMES)
        self.sent_chains = []           # chains the server sends, for the openssl cross-check
        addresses = ["127.0.0.1"]
        if kind == "minority":
            plan = ChainPlan(default=(a.chain_pem(), a.key_pem()), minority=(b.chain_pem(), b.key_pem()),
                             minority_share=0.2)
            self.sent_chains = [a.chain(), b.chain()]
        elif kind == "addresses":
            addresses = ["127.0.0.2", "127.0.0.3"]
            plan = ChainPlan(default=(a.chain_pem(), a.key_pem()),
                             by_address={"127.0.0.3": (b.chain_pem(), b.key_pem())})
            self.sent_chains = [a.chain(), b.chain()]
        elif kind == "sni":
            plan = ChainPlan(default=(a.chain_pem(), a.key_pem()), by_sni={HOST: (b.chain_pem(), b.key_pem())})
            self.sent_chains = [a.chain(), b.chain()]
        elif kind == "keytype":
            rsa = self.inter_a.leaf(NAMES, key_type="rsa")
            ec = self.inter_b.leaf(NAMES, key_type="ec")
            plan = ChainPlan(default=[(rsa.chain_pem(), rsa.key_pem()), (ec.chain_pem(), ec.key_pem())])
            self.sent_chains = [rsa.chain(), ec.chain()]
        elif kind == "aia":
            url = self.aia.serve("/inter-a.cer", self.inter_a.cert.der)
            leaf = self.inter_a.leaf(NAMES, aia_url=url)
            plan = ChainPlan(default=(leaf.cert_pem(), leaf.key_pem()))
            self.sent_chains = [[leaf.cert, self.inter_a.cert]]
        elif kind == "partial":
            # a fixable chain (root A is in the root program) and, on a quarter of
            # the connections to the same address, one from a private root nobody approved
            self.private_root = CA.root("Scenario Private Root")
            private = self.private_root.intermediate("Scenario Private Issuing CA").leaf(NAMES)
            plan = ChainPlan(default=(a.chain_pem(), a.key_pem()),
                             minority=(private.chain_pem() + self.private_root.cert_pem(), private.key_pem()),
                             minority_share=0.25)
            self.sent_chains = [a.chain(), private.chain()]
        elif kind == "unapproved-root":
            self.private_root = CA.root("Scenario Private Root")
            inter = self.private_root.intermediate("Scenario Private Issuing CA")
            leaf = inter.leaf(NAMES)
            sent = leaf.chain_pem() + self.private_root.cert_pem()   # the server even sends its root
            plan = ChainPlan(default=(sent, leaf.key_pem()))
            self.sent_chains = [leaf.chain()]
        else:
            raise ValueError(kind)
        self.server = self.add_server(plan, addresses, seed=seed)
        self.store_path = os.path.join(self.tmp, "store.pem")
        with open(self.store_path, "w") as handle:
            handle.write(CA.root("Scenario Unrelated Root").cert.pem())
        self.roots_path = os.path.join(self.tmp, "roots.pem")
        with open(self.roots_path, "w") as handle:
            handle.write(self.root_a.cert.pem() + self.root_b.cert.pem())

    def add_server(self, plan, addresses, port=0, seed=7):
        server = MailServer("smtp", host=addresses, port=port, chains=plan, seed=seed, name=HOST).start()
        self.servers.append(server)
        return server

    @property
    def target_text(self):
        return "%s:%d" % (HOST, self.server.port)

    def resolve_args(self):
        return ["--resolve", "%s:%d:%s" % (HOST, self.server.port, ",".join(self.server.addresses))]

    def cli_args(self, *extra):
        return [self.target_text, "--protocol", "smtp", "--store", "bundle:" + self.store_path, "--roots", self.roots_path,
                "--rate", "500", "--timeout", "3"] + self.resolve_args() + list(extra)

    def check_options(self, sourcing=True, approved=()):
        from ibmi_trust.fetch import RootProgram, Sourcing
        from ibmi_trust.jobs.check import CheckOptions
        from ibmi_trust.probe import ProbeOptions
        from ibmi_trust.store.spec import StoreOptions

        resolve = {"%s:%d" % (HOST, self.server.port): list(self.server.addresses)}
        return CheckOptions(
            store_spec="bundle:" + self.store_path, store_options=StoreOptions(),
            probe_options=ProbeOptions(timeout=3.0, resolve=resolve, rate=500.0, seed=1),
            sourcing=Sourcing(fetch=True, root_program=RootProgram.from_file(self.roots_path), extra=[],
                              approved_roots=set(approved), timeout=3.0) if sourcing else None,
            warn_days=30)

    def target(self):
        from ibmi_trust.probe import Target

        return Target.parse(self.target_text, protocol="smtp")

    def store_bytes(self):
        with open(self.store_path, "rb") as handle:
            return handle.read()

    def openssl_verifies(self, chain):
        """Does real `openssl verify -CAfile store` accept the chain as sent?"""
        with tempfile.TemporaryDirectory() as tmp:
            leaf = os.path.join(tmp, "leaf.pem")
            untrusted = os.path.join(tmp, "untrusted.pem")
            with open(leaf, "w") as handle:
                handle.write(chain[0].pem())
            with open(untrusted, "w") as handle:
                handle.write("".join(c.pem() for c in chain[1:]) or chain[0].pem())
            proc = subprocess.run(["openssl", "verify", "-CAfile", self.store_path, "-untrusted", untrusted, leaf],
                                  capture_output=True, text=True)
            return proc.returncode == 0

    def late_backend(self, options, address):
        """Pin `options`' probe to the server's addresses plus `address`, where
        nothing answers yet; the returned confirm(plan) starts a backend there
        serving a chain nobody can fix, as a load-balancer member joining
        between the check and the re-probe."""
        rogue = CA.root("Scenario Rogue Root").intermediate("Scenario Rogue CA").leaf(NAMES)
        port = self.server.port
        options.probe_options = options.probe_options.replace(
            resolve={"%s:%d" % (HOST, port): list(self.server.addresses) + [address]})

        def confirm(plan):
            self.add_server(ChainPlan(default=(rogue.chain_pem(), rogue.key_pem())), [address], port=port)
            return True
        return confirm

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for server in self.servers:
            server.stop()
        self.aia.stop()
