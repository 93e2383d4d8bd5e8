"""`check` against a 5,000-CA store vs a 150-CA store (same server), whole
processes, for a CApath directory and a PEM bundle; and the peak memory of
the 5,000-CA check.

    python benchmarks/bench_store_scaling.py [--rounds N] [--sizes 150,5000]

A loopback SMTP server sends a leaf and its intermediate; the store holds
the root plus filler CAs (distinct names, EC keys). Every round runs the
four checks in an interleaved order; the figure is the median of the
paired ratios (5,000 / 150) per store kind. Peak memory is the child's own
high-water mark (VmHWM, read by the child as it exits: a forked child's
ru_maxrss would include the benchmark's memory). The probe is one round (`--rounds 1`)
so the store, not the politeness limiter, is what is measured; the real
OpenSSL referee runs, as it does for every check of these stores.
Goals (issue 13): ratio <= 1.5x, peak memory <= 45 MiB.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ibmi_trust.testing.pki import CA  # noqa: E402
from ibmi_trust.testing.servers import MailServer  # noqa: E402

HOST = "mx.example.test"


def make_store(kind, directory, certs):
    if kind == "bundle":
        path = os.path.join(directory, "bundle-%d.pem" % len(certs))
        with open(path, "w") as handle:
            handle.write("".join(c.pem() for c in certs))
        return "bundle:" + path
    path = os.path.join(directory, "capath-%d" % len(certs))
    os.mkdir(path)
    for index, cert in enumerate(certs):
        with open(os.path.join(path, "ca-%05d.pem" % index), "w") as handle:
            handle.write(cert.pem())
    subprocess.run(["openssl", "rehash", path], check=True, capture_output=True)
    return "capath:" + path


# The child reports its own peak (VmHWM of its address space) when it exits: getrusage's
# ru_maxrss would also count the benchmark's own memory, which a forked child inherits.
_REPORT_PEAK = ("import atexit, sys\n"
                "def peak():\n"
                "    with open('/proc/self/status') as f:\n"
                "        kib = [l.split()[1] for l in f if l.startswith('VmHWM')][0]\n"
                "    sys.stderr.write('PEAK-KIB %s\\n' % kib)\n"
                "atexit.register(peak)\n"
                "from ibmi_trust.cli import main\n"
                "main(sys.argv[1:])\n")


# Bytecode is written and used, as after `pip install` (with PYTHONDONTWRITEBYTECODE
# every run would compile every module again, which would hide the store's cost).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_check(spec, port):
    """(seconds, peak RSS MiB, exit code) of one whole `ibmi-trust check` process."""
    args = [sys.executable, "-c", _REPORT_PEAK, "check", "%s:%d" % (HOST, port), "--protocol", "smtp",
            "--store", spec, "--no-fetch", "--rounds", "1", "--rate", "1000", "--timeout", "5",
            "--resolve", "%s:%d:127.0.0.1" % (HOST, port)]
    start = time.perf_counter()
    proc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_ENV)
    elapsed = time.perf_counter() - start
    peak = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK-KIB")]
    return elapsed, int(peak[0]) / 1024.0 if peak else float("nan"), proc.returncode


def main(argv):
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 9
    sizes = [int(x) for x in (argv[argv.index("--sizes") + 1] if "--sizes" in argv else "150,5000").split(",")]
    tmp = tempfile.mkdtemp(prefix="bench-store-")
    root = CA.root("Bench Root")
    leaf = root.intermediate("Bench Issuing CA").leaf([HOST])
    started = time.monotonic()
    filler = [CA.root("Filler Root %05d" % i).cert for i in range(max(sizes) - 1)]
    print("generated %d filler CAs in %.0f s" % (len(filler), time.monotonic() - started))
    specs = {(kind, size): make_store(kind, tmp, filler[:size - 1] + [root.cert])
             for kind in ("capath", "bundle") for size in sizes}
    server = MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST).start()
    times = {key: [] for key in specs}
    memory = {key: [] for key in specs}
    try:
        for key in specs:                                # warm the page cache and bytecode once
            seconds, _rss, code = run_check(specs[key], server.port)
            assert code == 0, "check %s exited %d" % (specs[key], code)
        for index in range(rounds):
            order = list(specs)
            if index % 2:
                order.reverse()
            for key in order:
                seconds, rss, _code = run_check(specs[key], server.port)
                times[key].append(seconds)
                memory[key].append(rss)
    finally:
        server.stop()
    print("Python %s, %d rounds, medians" % (sys.version.split()[0], rounds))
    small, large = min(sizes), max(sizes)
    for kind in ("capath", "bundle"):
        ratios = [b / a for a, b in zip(times[(kind, small)], times[(kind, large)])]
        print("%-7s %5d CAs: %6.3f s  %5.1f MiB | %5d CAs: %6.3f s  %5.1f MiB | ratio %.2fx (goal <= 1.5x)" % (
            kind, small, statistics.median(times[(kind, small)]), statistics.median(memory[(kind, small)]),
            large, statistics.median(times[(kind, large)]), statistics.median(memory[(kind, large)]),
            statistics.median(ratios)))
    peak = max(statistics.median(memory[(kind, large)]) for kind in ("capath", "bundle"))
    print("peak memory with %d CAs: %.1f MiB (goal <= 45 MiB)" % (large, peak))


if __name__ == "__main__":
    main(sys.argv[1:])
