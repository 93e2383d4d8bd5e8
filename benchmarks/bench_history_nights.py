"""Finding a 1%-share chain over nights: with the history vs without.

Each repetition is a fresh SQLite history and a fresh server seed; each night
one real check (60 handshakes, the real probe and analysis) against a loopback
server serving a rare chain on a seeded random 1% of connections (the same
simulation as tests/test_history_nights.py, more repetitions). Prints, for
1..8 nights, the measured share of repetitions that reported the rare chain
by then, the theory 1 - 0.99^(60 n), and what a check without memory reports
on night n (the probability that night alone captures it: 45.3%).

    PYTHONPATH=.:tests python benchmarks/bench_history_nights.py [repetitions] [first_seed]
"""
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from nights import make_pki, run_repetition, theory  # noqa: E402

PER_NIGHT, NIGHTS = 60, 8


def main(repetitions: int, first_seed: int) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ibmi-trust-nights-") as tmp:
        pki = make_pki(tmp)
        found, handshakes, rare = [], 0, 0
        for seed in range(first_seed, first_seed + repetitions):
            rep = run_repetition(pki, seed, os.path.join(tmp, "h%d.sqlite" % seed), max_nights=NIGHTS)
            found.append(rep.found_on)
            handshakes += rep.handshakes
            rare += rep.rare_served
    elapsed = time.monotonic() - started
    print("%d repetitions (seeds %d..%d), %d handshakes, rare chain on %.3f%% of them, %.0f s"
          % (repetitions, first_seed, first_seed + repetitions - 1, handshakes, 100.0 * rare / handshakes, elapsed))
    print("%6s  %22s  %8s  %8s  %24s" % ("nights", "found by then (history)", "theory", "ratio", "one night alone (theory)"))
    for n in range(1, NIGHTS + 1):
        measured = sum(1 for f in found if f is not None and f <= n) / repetitions
        expected = theory(0.01, PER_NIGHT, n)
        print("%6d  %21.1f%%  %7.1f%%  %8.3f  %23.1f%%" % (n, 100 * measured, 100 * expected, measured / expected,
                                                            100 * theory(0.01, PER_NIGHT, 1)))
    hits = sum(1 for f in found if f is not None)
    low, high = wilson(hits, repetitions)
    nights_run = sum(min(f or NIGHTS, NIGHTS) for f in found)
    share, per_night = rare / handshakes, handshakes / nights_run
    expected = 1.0 - (1.0 - share) ** (per_night * NIGHTS)        # with the share and handshakes measured
    print("within %d nights: %d of %d = %.1f%%, 95%% interval %.1f%% .. %.1f%%" % (
        NIGHTS, hits, repetitions, 100.0 * hits / repetitions, 100 * low, 100 * high))
    print("theory with the measured share (%.3f%%) and handshakes a night (%.1f): %.2f%%: %s" % (
        100 * share, per_night, 100 * expected, "consistent" if low <= expected <= high else "NOT consistent"))
    print("goal >= 99%% within %d nights: %s" % (NIGHTS, "met (the interval's lower end is %.1f%%)" % (100 * low)
                                                if low >= 0.99 else "not shown by these repetitions"))
    return 0 if low <= expected <= high else 1


def wilson(hits: int, n: int, z: float = 1.96):
    """The Wilson score interval of a binomial proportion."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return centre - half, centre + half


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(int(args[0]) if args else 200, int(args[1]) if len(args) > 1 else 1000))
