"""Cumulative discovery over nights: the 1%-share goal.

At 60 handshakes a night, one night finds a 1% chain with probability
1 - 0.99^60 = 45.3%; with the history, 8 nights find it with
1 - 0.99^480 = 99.2%. Each repetition here is a fresh history file and a
fresh server seed; each night a real check (the real probe against a real
loopback server that serves the 1% chain on a seeded random share of
connections, the real analysis, the real SQLite history). The seeds make
the run reproducible; the assertions compare what was measured with the
theory at margins that a correct implementation meets for any seeds with
overwhelming probability (computed below), and that a check without memory
(45.3% a night) fails. Heavier statistics: benchmarks/bench_history_nights.py.
"""
import pytest

from nights import binomial_tail_at_most, make_pki, run_repetition, theory

REPETITIONS = 30
PER_NIGHT = 60


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nights")
    pki = make_pki(str(tmp))
    reps = [run_repetition(pki, seed, str(tmp / ("h%d.sqlite" % seed)), nights_after=1)
            for seed in range(REPETITIONS)]
    return pki, reps


def test_the_rare_chain_is_found_within_8_nights_as_the_theory_says(measured, capsys):
    _pki, reps = measured
    found = [r for r in reps if r.found_on is not None]
    nights_run = sum(min(r.found_on or 8, 8) for r in reps)
    per_night = len(found) / nights_run                 # geometric: detections per night tried
    handshakes = sum(r.handshakes for r in reps)
    share = sum(r.rare_served for r in reps) / handshakes
    with capsys.disabled():
        print("\n[nights] %d repetitions: found within 8 nights in %d (theory %.1f%%); nights to detection %s; "
              "per-night detection %.3f (theory %.3f without memory of earlier nights); rare chain on %.2f%% of "
              "%d handshakes" % (len(reps), len(found), 100 * theory(0.01, PER_NIGHT, 8),
                                 [r.found_on for r in reps], per_night, theory(0.01, PER_NIGHT, 1), 100 * share,
                                 handshakes))
    # every night made the planned handshakes (the probe's rule), so the theory applies
    assert all(n["handshakes"] >= PER_NIGHT for r in reps for n in r.nights)
    # found within 8 nights: theory 99.2%; allowing 2 misses of 30, a correct implementation fails
    # this with probability P(X <= 27 | n=30, p=0.992) < 0.3%
    assert binomial_tail_at_most(REPETITIONS - 3, REPETITIONS, theory(0.01, PER_NIGHT, 8)) < 0.003
    assert len(found) >= REPETITIONS - 2
    # nights to detection are geometric with p = 45.3% a night: the estimate within 4 standard errors
    se = (theory(0.01, PER_NIGHT, 1) ** 2 * (1 - theory(0.01, PER_NIGHT, 1)) / len(found)) ** 0.5
    assert abs(per_night - theory(0.01, PER_NIGHT, 1)) < 4 * se
    # the server really served about 1%: within 4 standard deviations
    sd = (0.01 * 0.99 / handshakes) ** 0.5
    assert abs(share - 0.01) < 4 * sd


def test_once_seen_the_rare_chain_is_judged_every_night_after(measured, capsys):
    """The contrast with a check that forgets: on the night after detection the server
    serves the rare chain in only ~45% of cases, yet the check reports it every time
    (from the history when not served), CRITICAL, with the window's guarantee."""
    _pki, reps = measured
    afters = [r.nights[r.found_on] for r in reps if r.found_on is not None and len(r.nights) > r.found_on]
    assert len(afters) >= REPETITIONS - 2
    served_again = sum(1 for n in afters if n["rare_tonight"])
    with capsys.disabled():
        print("[nights] night after detection: reported in %d of %d; served again that night in %d (a check without "
              "history would have reported only those)" % (sum(1 for n in afters if n["reported"]), len(afters),
                                                            served_again))
    assert all(n["reported"] and n["status"] == "CRITICAL" for n in afters)
    assert served_again < len(afters)                   # so memory made a difference on some night
    for rep in reps:
        if rep.found_on is None or len(rep.nights) <= rep.found_on:
            continue
        after = rep.nights[rep.found_on]
        if not after["rare_tonight"]:
            assert set(after["reported"]) == {"history"} and after["history"]["from_history"]
        g = after["history"]["guarantee"]
        assert g["runs"] == rep.found_on + 1 and g["handshakes"] >= PER_NIGHT * (rep.found_on + 1)
        assert g["statement"].startswith("over %d runs and %d handshakes since 2026-03-01, a chain served on >= "
                                         % (g["runs"], g["handshakes"]))
        first = rep.nights[rep.found_on - 1]            # the first report is the first capture
        assert first["rare_tonight"] >= 1 and all(not n["reported"] for n in rep.nights[:rep.found_on - 1])


def test_the_window_guarantee_after_8_nights_covers_a_1_percent_chain():
    from ibmi_trust.history.cumulative import smallest_share, window_guarantee

    g = window_guarantee(8, 480, None, 30)
    assert smallest_share(480) < 0.01                   # 1% is inside what 480 handshakes guarantee at 95%
    assert "a chain served on >= 0.63% of connections would have been seen with probability >= 95%" in g["statement"]
    assert abs(theory(0.01, PER_NIGHT, 8) - 0.99196) < 1e-4
