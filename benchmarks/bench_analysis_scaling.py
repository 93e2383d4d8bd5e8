"""How analysis cost grows with the store: 150, 1,500 and 5,000 CA certificates.

    PYTHONPATH=. python benchmarks/bench_analysis_scaling.py [--repeat N]

For each store size it times analyse_chain (store indexing included) for
  trusted   a complete chain whose root is in the store,
  missing   a leaf-only server whose issuer is nowhere (dead end),
and prints milliseconds per analysis and the ratio to the 150-CA store, plus
"indexed ms": the trusted case with the store indexed once beforehand
(index_store), as a run over many targets does.
Look-ups are indexed by subject and key id, so the cost must grow at most
about linearly (the indexing itself is the linear part); the script exits 1
when the 5,000-CA analysis costs more than twice the linear extrapolation.
Filler CAs are generated once (distinct names and EC keys).
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ibmi_trust.analyse import analyse_chain, index_store  # noqa: E402
from ibmi_trust.store.base import StoreEntry  # noqa: E402
from ibmi_trust.testing.pki import CA  # noqa: E402

SIZES = (150, 1500, 5000)
HOST = "mx.example.test"


def filler(count: int):
    started = time.monotonic()
    out = [StoreEntry(CA.root("Filler Root %05d" % i).cert, "filler-%d" % i) for i in range(count)]
    print("generated %d filler CAs in %.1f s" % (count, time.monotonic() - started))
    return out


def timed(repeat: int, presented, entries):
    samples = []
    report = None
    for _ in range(repeat):
        start = time.perf_counter()
        report = analyse_chain(presented, entries, HOST)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000.0, report


def main(argv) -> int:
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 7
    import cryptography

    root = CA.root("Bench Root")
    inter = root.intermediate("Bench Issuing CA")
    leaf = inter.leaf([HOST])
    others = filler(max(SIZES) - 1)
    print("cryptography %s, Python %s, median of %d runs" % (
        cryptography.__version__, sys.version.split()[0], repeat))
    print("%8s %12s %12s %12s %14s %14s" % ("CAs", "trusted ms", "missing ms", "indexed ms", "trusted ratio",
                                             "missing ratio"))
    base = None
    results = {}
    for size in SIZES:
        entries = others[:size - 1] + [StoreEntry(root.cert, "bench-root")]
        trusted_ms, trusted = timed(repeat, leaf.chain(), entries)
        missing_ms, missing = timed(repeat, [leaf.cert], entries)
        indexed_ms, _ = timed(repeat, leaf.chain(), index_store(entries))
        assert trusted.verdict == "trusted" and missing.verdict == "untrusted"
        if base is None:
            base = (trusted_ms, missing_ms)
        results[size] = (trusted_ms, missing_ms)
        print("%8d %12.2f %12.2f %12.2f %14.2f %14.2f" % (size, trusted_ms, missing_ms, indexed_ms,
                                                          trusted_ms / base[0], missing_ms / base[1]))
    linear = max(SIZES) / float(min(SIZES))
    worst = max(results[max(SIZES)][i] / base[i] for i in (0, 1))
    print("store grew %.1fx; analysis cost grew at most %.2fx (limit %.1fx = 2 x linear)" % (linear, worst, 2 * linear))
    return 0 if worst <= 2 * linear else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
