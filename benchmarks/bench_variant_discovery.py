"""Finding a chain served on 5% of connections: the default stopping rule vs
"probe once every 5 seconds until a different chain appears".

Both run real handshakes against a loopback MailServer whose minority chain
is drawn per connection from a seeded RNG (seed = run number). The default
rule's detection rate is measured over all runs with the rate limit lifted
(the limit changes timing, not outcomes); its wall time is measured on
TIMING_RUNS runs at the default limit (10 handshakes/s). The naive method's
5-second pauses are not slept: its wall time is (handshakes - 1) x 5 s plus
the measured handshake time. Prints the measured detection rate (the figure
docs/probe.md quotes) and the ratios.

    PYTHONPATH=. python benchmarks/bench_variant_discovery.py [runs] [share]
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ibmi_trust.probe import ProbeOptions, Target, probe  # noqa: E402
from ibmi_trust.probe.capture import capture_chain  # noqa: E402
from ibmi_trust.testing.pki import CA  # noqa: E402
from ibmi_trust.testing.servers import ChainPlan, MailServer  # noqa: E402

NAIVE_INTERVAL = 5.0
NAIVE_CAP = 400                 # give up after this many naive handshakes (33 minutes of simulated time)
TIMING_RUNS = 3


def issued_pair(cn):
    leaf = CA.root(cn + " Root").intermediate(cn + " CA").leaf(["mx.example.test"], key_type="rsa")
    return leaf, (leaf.chain_pem(), leaf.key_pem())


def main(runs, share):
    usual, usual_creds = issued_pair("Usual")
    odd, odd_creds = issued_pair("Odd")
    default = {"found": 0, "handshakes": [], "seconds": []}
    naive = {"found": 0, "handshakes": [], "seconds": []}
    for seed in range(runs):
        plan = ChainPlan(usual_creds, minority=odd_creds, minority_share=share)
        with MailServer("smtp", chains=plan, seed=seed) as srv:
            timed = seed < TIMING_RUNS
            started = time.monotonic()
            result = probe(Target.parse("mx.example.test:%d" % srv.port, "smtp"),
                           ProbeOptions(resolve=srv.resolve_map(), seed=seed, rate=10.0 if timed else 1000.0))
            if timed:
                default["seconds"].append(time.monotonic() - started)
            default["handshakes"].append(result.handshakes)
            default["found"] += len(result.chains) > 1
        with MailServer("smtp", chains=plan, seed=seed) as srv:
            first, count, spent = None, 0, 0.0
            while count < NAIVE_CAP:
                started = time.monotonic()
                leaf = capture_chain("127.0.0.1", srv.port, "smtp", sni="mx.example.test")[0]
                spent += time.monotonic() - started
                count += 1
                if first is None:
                    first = leaf
                elif leaf != first:
                    naive["found"] += 1
                    break
            naive["handshakes"].append(count)
            naive["seconds"].append((count - 1) * NAIVE_INTERVAL + spent)
        if (seed + 1) % 25 == 0:
            print("  ... %d runs" % (seed + 1), file=sys.stderr)
    rate = default["found"] / runs
    print("minority share %.0f%%, %d seeded runs, Python %s" % (100 * share, runs, sys.version.split()[0]))
    print("  default rule: found in %d/%d runs = %.1f%% (promised >= 95%%), %d handshakes, median %.1f s at 10/s"
          % (default["found"], runs, 100 * rate, statistics.median(default["handshakes"]),
             statistics.median(default["seconds"])))
    print("  every %gs until a different chain: found in %d/%d runs, median %d handshakes (mean %.1f), "
          "median %.0f s (mean %.0f s)" % (NAIVE_INTERVAL, naive["found"], runs, statistics.median(naive["handshakes"]),
                                          statistics.mean(naive["handshakes"]), statistics.median(naive["seconds"]),
                                          statistics.mean(naive["seconds"])))
    print("  ratio naive/default: handshakes %.2fx, wall time %.1fx (median)"
          % (statistics.median(naive["handshakes"]) / statistics.median(default["handshakes"]),
             statistics.median(naive["seconds"]) / statistics.median(default["seconds"])))
    print("  note: the naive method also cannot tell 'no variant' from 'not yet seen' and never stops by itself")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, float(sys.argv[2]) if len(sys.argv) > 2 else 0.05)
