"""verify of 50 loopback targets vs 50 sequential `ibmi-trust check` runs.

Starts 50 STARTTLS servers on 127.0.0.1 (some trusted, some not), writes a
targets file, then times (a) one `ibmi-trust verify` process and (b) fifty
`ibmi-trust check` processes one after another. Prints both and the ratio.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ibmi_trust.testing.pki import CA  # noqa: E402
from ibmi_trust.testing.servers import MailServer  # noqa: E402

TARGETS = 50
HOST = "mx.example.test"


def main():
    tmp = tempfile.mkdtemp(prefix="bench-verify-")
    root = CA.root("Bench Root")
    good = root.intermediate("Bench CA").leaf([HOST])
    bad = CA.root("Bench Other Root").intermediate("Bench Other CA").leaf([HOST])
    servers = []
    for i in range(TARGETS):
        leaf = bad if i % 5 == 0 else good
        servers.append(MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST).start())
    store = os.path.join(tmp, "store.pem")
    with open(store, "w") as handle:
        handle.write(root.cert.pem())
    lines = ["[defaults]", "store = bundle:" + store, "protocol = smtp", ""]
    for i, srv in enumerate(servers):
        lines += ["[t%02d]" % i, "host = %s" % HOST, "port = %d" % srv.port,
                  "resolve = %s:%d:127.0.0.1" % (HOST, srv.port), ""]
    config = os.path.join(tmp, "targets.ini")
    with open(config, "w") as handle:
        handle.write("\n".join(lines))
    base = [sys.executable, "-m", "ibmi_trust"]
    try:
        start = time.perf_counter()
        subprocess.run(base + ["verify", "--config", config, "--no-fetch", "--rate", "100"],
                       stdout=subprocess.DEVNULL, check=False)
        verify_time = time.perf_counter() - start
        start = time.perf_counter()
        for srv in servers:
            subprocess.run(base + ["check", "%s:%d" % (HOST, srv.port), "--protocol", "smtp", "--store", "bundle:" + store,
                                   "--no-fetch", "--rate", "100", "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port)],
                           stdout=subprocess.DEVNULL, check=False)
        sequential_time = time.perf_counter() - start
    finally:
        for srv in servers:
            srv.stop()
    print("verify, %d targets, one process:   %6.2f s" % (TARGETS, verify_time))
    print("check x %d, sequential processes:  %6.2f s" % (TARGETS, sequential_time))
    print("ratio sequential / verify:          %6.2fx" % (sequential_time / verify_time))


if __name__ == "__main__":
    main()
