"""The differential test: check and fix against the real OpenSSL, on seeded
random PKI scenarios served verbatim on loopback (tests/differential.py,
tests/pki_scenarios.py).

For each seed and each store kind (CApath directory, PEM bundle):
- the model's prediction (first error and its depth) equals `openssl verify`;
- check's verdict (whether the client accepts) equals `openssl verify` and a
  real `openssl s_client -starttls smtp -verify_return_error` handshake;
- a chain check calls fixable is fixed: after `fix`, `openssl verify`
  accepts it, no root outside the root program was added, every file that
  was in the store is unchanged (a bundle only grows at its end);
- a chain check calls untrusted makes `fix` refuse, changing nothing.

One scenario in four runs at security level 2 (this machine's default),
the rest at level 0. CI runs seeds 0:300 on each interpreter; more:
    pytest tests/test_differential_openssl.py --differential-seeds 0:3000
    python tests/test_differential_openssl.py --seeds 0:3000
"""
import collections
import os
import sys
import time

import pytest

if __name__ == "__main__":       # run as a script: this checkout, never an installed copy
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pki_scenarios import CLASSES  # noqa: E402

CI_SEEDS = (0, 300)


def _seeds(text):
    if not text:
        return range(*CI_SEEDS)
    start, _, end = text.partition(":")
    return range(int(start), int(end))


@pytest.fixture(scope="module")
def referee():
    from ibmi_trust.analyse.referee import Referee

    found = Referee.find()
    if found is None:
        pytest.skip("no openssl binary on this machine (scripts/test installs it)")
    return found


def run_many(seeds, tmp, referee):
    import differential

    records, started = [], time.monotonic()
    for seed in seeds:
        records.append(differential.run(seed, differential.scratch(os.path.join(tmp, "s")), referee))
    return records, time.monotonic() - started


def summary(records, seconds) -> str:
    sides = [s for r in records for s in r.sides.values()]
    verdicts = collections.Counter(s.verdict for s in sides)
    fixes = collections.Counter(s.fix for s in sides if s.fix)
    codes = collections.Counter((s.verify[1] or 0) for s in sides if s.verify)
    bad = [r for r in records if r.problems]
    return ("%d scenarios (%d store checks) in %.0f s: %d agree, %d with problems; verdicts %s; fixes %s; "
            "first OpenSSL errors %s" % (len(records), len(sides), seconds, len(records) - len(bad), len(bad),
                                         dict(verdicts), dict(fixes), dict(sorted(codes.items()))))


def test_check_and_fix_agree_with_openssl(request, tmp_path, referee):
    seeds = _seeds(request.config.getoption("--differential-seeds"))
    records, seconds = run_many(seeds, str(tmp_path), referee)
    print(summary(records, seconds))
    problems = ["seed %d %s level %d: %s" % (r.seed, r.classes, r.level, p) for r in records for p in r.problems]
    assert not problems, "\n".join(problems[:30])
    if len(seeds) >= len(CLASSES):                     # the whole catalogue was exercised
        assert {r.classes[0] for r in records} == set(CLASSES)
        sides = [s for r in records for s in r.sides.values()]
        assert {s.verdict for s in sides} == {"trusted", "fixable", "untrusted"}
        assert {"fixed", "refused"} <= {s.fix for s in sides}
        assert {r.level for r in records} == {0, 2}
        first_errors = {s.verify[1] for s in sides if s.verify and not s.verify[0]}
        assert {2, 10, 19, 20, 26, 47, 48, 62, 66, 68, 79} <= first_errors, first_errors


def main(argv):
    import tempfile

    from ibmi_trust.analyse.referee import Referee

    seeds = _seeds(argv[argv.index("--seeds") + 1] if "--seeds" in argv else None)
    records, seconds = run_many(seeds, tempfile.mkdtemp(prefix="ibmi-trust-differential-"), Referee.find())
    for r in records:
        for p in r.problems:
            print("seed %d %s level %d: %s" % (r.seed, r.classes, r.level, p))
    print(summary(records, seconds))
    return 1 if any(r.problems for r in records) else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1:]))
