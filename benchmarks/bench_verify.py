"""`verify` of 50 targets with distinct host names vs 50 sequential `ibmi-trust check`
processes, with the probe's default settings (discovery: about 60 handshakes per
target at the default 10 handshakes a second per host).

    python benchmarks/bench_verify.py [--rounds N] [--targets N] [--min-share X]

Starts one loopback STARTTLS server per target, each with its own host name
(mx00.example.test, ... pinned to 127.0.0.1 with --resolve; one in five
serves a chain the store does not trust), writes a targets file and a one-root
bundle store, then per round times (a) one `ibmi-trust verify` process and
(b) the same targets as `ibmi-trust check` processes one after another, in
alternating order. Prints each and the median ratio (goal, issue 13:
<= 0.10x), and checks that both gave every target the same status.

`--min-share X` passes `--min-share X` to both sides (0.5: a few handshakes
per target, a quick run; the default measures what a nightly job does).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ibmi_trust.testing.pki import CA  # noqa: E402
from ibmi_trust.testing.servers import MailServer  # noqa: E402


def option(argv, name, default):
    return int(argv[argv.index(name) + 1]) if name in argv else default


def main(argv):
    rounds = option(argv, "--rounds", 1)
    count = option(argv, "--targets", 50)
    min_share = argv[argv.index("--min-share") + 1] if "--min-share" in argv else None
    tmp = tempfile.mkdtemp(prefix="bench-verify-")
    root = CA.root("Bench Root")
    issuing = root.intermediate("Bench CA")
    other = CA.root("Bench Other Root").intermediate("Bench Other CA")
    hosts = ["mx%02d.example.test" % i for i in range(count)]
    servers = []
    for i, host in enumerate(hosts):
        leaf = (other if i % 5 == 0 else issuing).leaf([host])
        servers.append(MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=host).start())
    store = os.path.join(tmp, "store.pem")
    with open(store, "w") as handle:
        handle.write(root.cert.pem())
    lines = ["[defaults]", "store = bundle:" + store, "protocol = smtp", ""]
    for host, srv in zip(hosts, servers):
        lines += ["[%s:%d]" % (host, srv.port), "resolve = %s:%d:127.0.0.1" % (host, srv.port), ""]
    config = os.path.join(tmp, "targets.ini")
    with open(config, "w") as handle:
        handle.write("\n".join(lines))
    extra = ["--min-share", min_share] if min_share else []
    base = [sys.executable, "-m", "ibmi_trust"]

    def run_verify():
        report = os.path.join(tmp, "verify.json")
        if os.path.exists(report):
            os.unlink(report)
        start = time.perf_counter()
        subprocess.run(base + ["verify", "--config", config, "--no-fetch", "--report", report] + extra,
                       stdout=subprocess.DEVNULL, check=False)
        seconds = time.perf_counter() - start
        with open(report) as handle:
            statuses = {t["target"]: t["status"] for t in json.load(handle)["targets"]}
        return seconds, statuses

    def run_sequential():
        statuses = {}
        start = time.perf_counter()
        for host, srv in zip(hosts, servers):
            target = "%s:%d" % (host, srv.port)
            proc = subprocess.run(base + ["check", target, "--protocol", "smtp", "--store", "bundle:" + store,
                                          "--no-fetch", "--json", "--resolve", "%s:%d:127.0.0.1" % (host, srv.port)]
                                  + extra, stdout=subprocess.PIPE, check=False, text=True)
            statuses[target] = json.loads(proc.stdout)["status"]
        return time.perf_counter() - start, statuses

    verify_times, sequential_times = [], []
    try:
        for index in range(rounds):
            steps = [("verify", run_verify), ("sequential", run_sequential)]
            if index % 2:
                steps.reverse()
            found = {}
            for name, step in steps:
                found[name] = step()
            verify_times.append(found["verify"][0])
            sequential_times.append(found["sequential"][0])
            assert found["verify"][1] == found["sequential"][1], "verify and check disagree on a status"
    finally:
        for srv in servers:
            srv.stop()
    ratios = [v / s for v, s in zip(verify_times, sequential_times)]
    print("Python %s, %d target(s) on %d host names, %d round(s), probe %s, medians"
          % (sys.version.split()[0], count, count, rounds,
             "--min-share %s" % min_share if min_share else "defaults"))
    print("verify, one process:           %7.2f s" % statistics.median(verify_times))
    print("check x %d, one after another: %7.2f s" % (count, statistics.median(sequential_times)))
    print("ratio verify / sequential:     %7.3fx (goal <= 0.10x)" % statistics.median(ratios))


if __name__ == "__main__":
    main(sys.argv[1:])
