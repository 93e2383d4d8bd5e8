"""A writer of runs into a real SQLite history, for the concurrency tests.

    python tests/history_writer.py PATH RUNS TAG [HANDSHAKES]

writes RUNS runs (each HANDSHAKES handshakes over two chains, one
transaction) into PATH and prints "committed N" after each commit, flushed,
so a parent that kills it with SIGKILL knows exactly which runs were
committed. Also importable: make_run() builds the same runs in-process.
"""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ibmi_trust.history.records import HandshakeRow, OK, RunRecord, TargetKey  # noqa: E402

HANDSHAKES = 60


def chains(tag: str):
    """Two chains (leaf + intermediate), made once per process."""
    from ibmi_trust.testing.pki import CA

    root = CA.root("Writer Root %s" % tag)
    inter = root.intermediate("Writer CA %s" % tag)
    out = []
    for n in range(2):
        leaf = inter.leaf(["mx%d.%s.test" % (n, tag.lower())])
        out.append([c.der for c in leaf.chain()])
    return out


def make_run(tag: str, number: int, chain_list, handshakes: int = HANDSHAKES, started=None) -> RunRecord:
    import hashlib

    started = started or datetime.datetime.now(datetime.timezone.utc)
    ids = [hashlib.sha256(b"".join(ders)).hexdigest() for ders in chain_list]
    rows = []
    for i in range(handshakes):
        pick = 1 if i % 10 == 9 else 0
        rows.append(HandshakeRow(started + datetime.timedelta(milliseconds=i), "127.0.0.%d" % (1 + i % 3),
                                 "mx.%s.test" % tag.lower() if i % 2 else None, "ecdsa", "TLSv1.3", OK, ids[pick]))
    return RunRecord(target=TargetKey("mx.%s.test" % tag.lower(), 25, "smtp"), started_at=started, command="verify",
                     status="OK", store="bundle:/x", handshakes=rows,
                     chains={ids[k]: chain_list[k] for k in range(len(chain_list))},
                     verdicts={ids[0]: ("trusted", False), ids[1]: ("trusted", False)})


def main(argv):
    from ibmi_trust.history.sqlite_store import SqliteHistory

    path, runs, tag = argv[0], int(argv[1]), argv[2]
    handshakes = int(argv[3]) if len(argv) > 3 else HANDSHAKES
    store = SqliteHistory(path, busy_timeout=30.0)
    chain_list = chains(tag)
    print("ready", flush=True)
    for number in range(1, runs + 1):
        store.write_run(make_run(tag, number, chain_list, handshakes))
        print("committed %d" % number, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
