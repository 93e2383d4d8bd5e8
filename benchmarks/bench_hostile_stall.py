"""How long a probe lasts against a server that completes one handshake per
connection kind and then stalls every later connection (issue 11, case 6).

A loopback MailServer serves its first 4 connections (the 4 combinations of
one address x SNI on/off x ECDSA/RSA offers, all in the first round) and then
stalls every connection: silent, or trickling one byte every 0.9 x --timeout
(so no per-read timeout fires and each conversation runs to its 4 x --timeout
cap). Prints the whole probe's time against the goal (30 s at --timeout 1,
300 s at the default --timeout 10) and the probe's own time limit.

    PYTHONPATH=. python benchmarks/bench_hostile_stall.py [timeout ...]     # default: 1 10
"""
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ibmi_trust.errors import ProbeError  # noqa: E402
from ibmi_trust.probe import ProbeOptions, Target, probe  # noqa: E402
from ibmi_trust.testing.pki import CA  # noqa: E402
from ibmi_trust.testing.servers import MailServer  # noqa: E402

GOALS = {1.0: 30.0, 10.0: 300.0}


def main(timeouts):
    inter = CA.root("Stall Root").intermediate("Stall CA")
    pairs = [(leaf.chain_pem(), leaf.key_pem()) for leaf in
             (inter.leaf(["mx.example.test"], key_type="rsa"), inter.leaf(["mx.example.test"], key_type="ec"))]
    for timeout in timeouts:
        for protocol, trickle in (("smtp", None), ("smtp", 0.9 * timeout), ("smtps", 0.9 * timeout)):
            with MailServer(protocol, chains=pairs, stall_after=4, trickle_every=trickle) as srv:
                options = ProbeOptions(timeout=timeout, resolve=srv.resolve_map())
                started = time.monotonic()
                try:
                    result = probe(Target.parse("mx.example.test:%d" % srv.port, protocol), options)
                    outcome = "%d handshakes, %d chains, limit %.0f s%s" % (
                        result.handshakes, len(result.chains), result.time_limit,
                        ", limit reached" if result.time_limit_reached else "")
                except ProbeError as exc:
                    outcome = "ProbeError: %s" % exc.message
                elapsed = time.monotonic() - started
            goal = GOALS.get(timeout)
            print("--timeout %-4g %-5s %-14s %6.1f s%s  (%s; server: %d connections, %d stalled)" % (
                timeout, protocol, "trickle" if trickle else "silent", elapsed,
                "  goal %.0f s: %s" % (goal, "met" if elapsed < goal else "MISSED") if goal else "",
                outcome, srv.connections, srv.stalled))


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1.0, 10.0])
