"""One probe (one handshake) as a whole process vs `openssl s_client -starttls
smtp`, against the same loopback Postfix (a private instance from
tests/peers.py; a Python MailServer when Postfix cannot run here), plus the
in-process cost of one capture with each chain-capture method.

    python benchmarks/bench_probe_vs_openssl.py [rounds] [--repo DIR]

`ibmi-trust` runs as the console script pip writes (as bench_cold_start.py
does), importing this checkout or the one given with --repo (how "before"
was measured: a copy of an older commit; the peer, the PKI and the
in-process rows always come from this checkout). Each round runs s_client
and the probe once each, in alternating order; the ratio is the median of
the paired ratios (goal, issue 13: <= 2.0x). Each run is timed with a
blocking wait (bench_cold_start.timed): `subprocess.run(..., timeout=)`
polls with growing sleeps and rounds every time up to 32, 64, 114, 164 ms.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, "tests")]

import peers  # noqa: E402
from bench_cold_start import timed  # noqa: E402
from ibmi_trust.probe import methods  # noqa: E402
from ibmi_trust.probe.capture import capture_chain  # noqa: E402
from ibmi_trust.testing.pki import CA  # noqa: E402
from ibmi_trust.testing.servers import MailServer  # noqa: E402


def make_pki():
    out = {}
    for name in ("A", "B"):
        root = CA.root("Bench Root %s" % name)
        inter = root.intermediate("Bench Issuing CA %s" % name)
        out[name] = {"root": root, "inter": inter,
                     "ec": inter.leaf(["mx.example.test", "127.0.0.1"], key_type="ec"),
                     "rsa": inter.leaf(["mx.example.test", "127.0.0.1"], key_type="rsa")}
    return out


CONSOLE_SCRIPT = ("import sys\nfrom ibmi_trust.cli import main\n"
                  "if __name__ == '__main__':\n    sys.exit(main())\n")


def median_ms(func, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def start_peer(pki):
    """(port, description, stop)"""
    if not peers.missing_reason("postfix"):
        pki_dir = peers.world_readable_tempdir("bench-pki-")
        peer_dir = peers.world_readable_tempdir("bench-postfix-")
        peer = peers.PostfixPeer(peer_dir, peers.write_pki(pki, pki_dir)).start()

        def stop():
            peer.stop()
            shutil.rmtree(pki_dir, ignore_errors=True)
            shutil.rmtree(peer_dir, ignore_errors=True)
        return peer.ports["smtp"], "Postfix (private instance)", stop
    server = MailServer("smtp", chains=peers.dual(pki)).start()
    return server.port, "Python MailServer (Postfix unavailable: %s)" % peers.missing_reason("postfix"), server.stop


def main(runs, repo):
    pki = make_pki()
    port, peer_name, stop = start_peer(pki)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = repo
    script = os.path.join(os.getcwd(), "ibmi-trust")
    with open(script, "w") as handle:
        handle.write(CONSOLE_SCRIPT)
    probe_once = [sys.executable, script, "probe", "127.0.0.1:%d" % port, "--protocol", "smtp",
                  "--rounds", "1", "--key-type", "ecdsa", "--json"]
    probe_default = [sys.executable, script, "probe", "127.0.0.1:%d" % port, "--protocol", "smtp", "--json"]
    s_client = ["openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:%d" % port, "-showcerts"]

    def run(cmd):
        return timed(cmd, env, os.getcwd()) * 1000.0

    try:
        print("peer: %s, port %d; Python %s; repo %s; %d interleaved rounds (medians)"
              % (peer_name, port, sys.version.split()[0], repo, runs))
        run(s_client)
        run(probe_once)                                   # warm the page cache, write .pyc files
        pairs = []
        for index in range(runs):
            order = [s_client, probe_once] if index % 2 == 0 else [probe_once, s_client]
            times = {id(cmd): run(cmd) for cmd in order}
            pairs.append((times[id(s_client)], times[id(probe_once)]))
        openssl_ms = statistics.median(a for a, _ in pairs)
        once_ms = statistics.median(b for _, b in pairs)
        ratio = statistics.median(b / a for a, b in pairs)
        print("  openssl s_client -starttls smtp -showcerts   %8.1f ms" % openssl_ms)
        print("  ibmi-trust probe --rounds 1 (1 handshake)    %8.1f ms   ratio %.2fx (goal <= 2.0x)" % (once_ms, ratio))
        default_ms = median_ms(lambda: run(probe_default), max(1, runs // 5))
        print("  ibmi-trust probe (default discovery, 10/s)   %8.1f ms   ratio %.1fx (%d-handshake rule, rate-limited)"
              % (default_ms, default_ms / openssl_ms, 60))
        print("in-process, one EHLO + STARTTLS + handshake + chain (context reused):")
        for method in methods.ORDER:
            why = methods.supported(method)
            if why:
                print("  %-7s n/a (%s)" % (method, why))
                continue
            os.environ[methods.ENV] = method
            for key_type in ("ecdsa", "rsa"):
                capture_chain("127.0.0.1", port, "smtp", key_type=key_type)            # warm the context
                ms = median_ms(lambda: capture_chain("127.0.0.1", port, "smtp", key_type=key_type), runs * 2)
                print("  %-7s %-6s %6.2f ms" % (method, key_type, ms))
        os.environ.pop(methods.ENV, None)
    finally:
        stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rounds", type=int, nargs="?", default=21)
    parser.add_argument("--repo", default=ROOT, help="checkout whose ibmi-trust to run (default: this one)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)                                 # `-c`/script directories must not shadow the checkout
        main(arguments.rounds, os.path.abspath(arguments.repo))
