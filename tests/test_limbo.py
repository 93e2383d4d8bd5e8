"""x509-limbo: the analysis verdict on the SERVER cases, against expectations.

The pinned corpus is ../shared/corpora/x509-limbo beside the repository (or $IBMI_TRUST_LIMBO_DIR).
Run the 198 non-BetterTLS SERVER cases, all 81 BetterTLS path-building
cases and a seeded sample of the 9,491 BetterTLS name-constraint cases (the
whole corpus takes about 2 minutes on cryptography 3.4, whose parsing is slow;
`--all` runs it).
The agreement must stay at or above the floor measured first (docs/limbo.md).
`python tests/test_limbo.py [--all]` prints the figures and disagreements.
"""
import datetime
import gzip
import json
import os
import random
import sys
import time

import pytest

CORPUS_DIR = os.environ.get("IBMI_TRUST_LIMBO_DIR") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared", "corpora", "x509-limbo")
FULL = os.path.join(CORPUS_DIR, "limbo.json.gz")
NAME_CONSTRAINT_SAMPLE = 300
SEED = 20260629
# Features the analysis does not implement: revocation (CRLs) and certificate
# policies; cases that need them are skipped, not counted.
UNSUPPORTED_FEATURES = {"has-crl", "has-policy-constraints"}
DOS_SECONDS = 3.0

# Agreement floors (percent of the cases run), set from the first measurement
# (docs/limbo.md), per cryptography major version.
FLOORS = {"3": 90.5, "50": 90.5}


def load_cases(sample: int = NAME_CONSTRAINT_SAMPLE, seed: int = SEED):
    """SERVER cases; `sample` None: all of them."""
    with gzip.open(FULL, "rt", encoding="utf-8") as handle:
        cases = json.load(handle)["testcases"]
    server = [c for c in cases if c["validation_kind"] == "SERVER"]
    sampled = [c for c in server if c["id"].startswith("bettertls::nameconstraints::")]
    rest = [c for c in server if not c["id"].startswith("bettertls::nameconstraints::")]
    if sample is not None and sample < len(sampled):
        sampled = random.Random(seed).sample(sampled, sample)
    return rest + sampled


def skip_reason(case):
    unsupported = UNSUPPORTED_FEATURES.intersection(case["features"])
    if unsupported:
        return "feature " + ",".join(sorted(unsupported))
    if case["signature_algorithms"]:
        return "custom signature algorithms"
    if case["extended_key_usage"] and case["extended_key_usage"] != ["serverAuth"]:
        return "EKU other than serverAuth"
    return None


def run_case(case):
    """(verdict is trusted, seconds)."""
    from ibmi_trust.analyse import analyse_chain
    from ibmi_trust.certs import load_certificates
    from ibmi_trust.errors import CertificateError
    from ibmi_trust.store.base import StoreEntry

    def parse(pem):
        try:
            return load_certificates(pem.encode("ascii"))[0]
        except (CertificateError, ValueError, NotImplementedError):  # Cert lets key errors through (reported)
            return None

    start = time.monotonic()
    leaf = parse(case["peer_certificate"])
    if leaf is None:
        return False, time.monotonic() - start
    inter = [c for c in map(parse, case["untrusted_intermediates"]) if c is not None]
    store = [StoreEntry(c, "#%d" % i) for i, c in enumerate(map(parse, case["trusted_certs"])) if c is not None]
    when = case["validation_time"]
    now = datetime.datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None
    peer = case["expected_peer_name"]
    depth = case["max_chain_depth"]
    kwargs = {"max_chain_depth": depth} if depth is not None else {}
    report = analyse_chain([leaf] + inter, store, peer["value"] if peer else None, None, now,
                           crosscheck=False, **kwargs)
    return report.client_accepts, time.monotonic() - start


def measure(cases):
    import warnings

    agree, disagree, skipped, slow = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative serials and friends, parsed on purpose
        for case in cases:
            reason = skip_reason(case)
            if reason:
                skipped.append((case["id"], reason))
                continue
            trusted, seconds = run_case(case)
            expected = case["expected_result"] == "SUCCESS"
            (agree if trusted == expected else disagree).append((case["id"], trusted))
            if "denial-of-service" in case["features"] and seconds > DOS_SECONDS:
                slow.append((case["id"], seconds))
    return agree, disagree, skipped, slow


def cryptography_major() -> str:
    import cryptography

    return cryptography.__version__.split(".")[0]


@pytest.mark.skipif(not os.path.exists(FULL), reason="x509-limbo corpus not available")
def test_limbo_agreement_stays_above_floor():
    cases = load_cases()
    agree, disagree, skipped, slow = measure(cases)
    run = len(agree) + len(disagree)
    share = 100.0 * len(agree) / run
    assert not slow, "denial-of-service cases took too long: %s" % slow
    floor = FLOORS.get(cryptography_major(), min(FLOORS.values()))
    assert share >= floor, "agreement %.1f%% < floor %.1f%%; disagreements: %s" % (
        share, floor, [d[0] for d in disagree][:40])
    assert len(skipped) == 9, skipped      # has-crl (8) and has-policy-constraints (1), docs/limbo.md


def main(argv):
    sample = None if "--all" in argv else NAME_CONSTRAINT_SAMPLE
    started = time.monotonic()
    cases = load_cases(sample)
    agree, disagree, skipped, slow = measure(cases)
    run = len(agree) + len(disagree)
    print("cryptography %s: %d cases, %d run, %d agree (%.2f%%), %d disagree, %d skipped, %.1f s" % (
        __import__("cryptography").__version__, len(cases), run, len(agree), 100.0 * len(agree) / run,
        len(disagree), len(skipped), time.monotonic() - started))
    for group in ("bettertls::nameconstraints", "bettertls::pathbuilding", "other"):
        def mine(item):
            return item[0].startswith(group) or (group == "other" and not item[0].startswith("bettertls::"))
        print("  %s: %d agree, %d disagree" % (group, sum(map(mine, agree)), sum(map(mine, disagree))))
    for case_id, trusted in disagree:
        print("  DISAGREE %s (we said %s)" % (case_id, "trusted" if trusted else "untrusted"))
    for case_id, reason in skipped:
        print("  SKIP %s: %s" % (case_id, reason))
    for case_id, seconds in slow:
        print("  SLOW %s: %.1f s" % (case_id, seconds))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main(sys.argv[1:])


# -- the OpenSSL profile against the real openssl on the same corpus ------------------------
def openssl_agreement(cases, referee, tmp_dir):
    """(agree, [disagreements]) of the OpenSSL emulation's first error with `openssl verify`'s."""
    import warnings

    from ibmi_trust.analyse.openssl.verify import Settings, StoreModel, verify
    from ibmi_trust.certs import load_certificates

    def parse(pem):
        try:
            return load_certificates(pem.encode("ascii"))[0]
        except Exception:  # cases with certificates cryptography cannot parse are left out, as above
            return None

    agree, disagree = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            leaf = parse(case["peer_certificate"])
            inter = [parse(p) for p in case["untrusted_intermediates"]]
            trusted = [parse(p) for p in case["trusted_certs"]]
            if leaf is None or None in inter or None in trusted or case["crls"]:
                continue
            when = case["validation_time"]
            now = (datetime.datetime.fromisoformat(when.replace("Z", "+00:00")) if when
                   else datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0))
            host = case["expected_peer_name"]["value"] if case["expected_peer_name"] else None
            bundle = os.path.join(tmp_dir, "store.pem")
            with open(bundle, "w", encoding="ascii") as handle:
                handle.write("".join(c.pem() for c in trusted))
            chain = [leaf] + inter
            model = verify(chain, StoreModel(trusted), Settings(level=0, host=host, now=now)).first
            truth = referee.verify(chain, cafile=bundle, host=host, level=0, now=now)
            if not truth.ran:
                continue
            same = (model is None) == truth.ok and (model is None or (model.code, model.depth) == (
                truth.code, truth.depth))
            if same:
                agree += 1
            else:
                disagree.append((case["id"], model and (model.code, model.depth), (truth.code, truth.depth)))
    return agree, disagree


@pytest.mark.skipif(not os.path.exists(FULL), reason="x509-limbo corpus not available")
def test_openssl_profile_reports_the_first_error_openssl_verify_reports(tmp_path):
    """On the same sample: the emulation's first error (code and depth) equals the
    real `openssl verify`'s, case by case (full corpus, measured: 9,762 of 9,762)."""
    from ibmi_trust.analyse.referee import Referee

    referee = Referee.find()
    if referee is None:
        pytest.skip("no openssl binary (scripts/test installs it)")
    agree, disagree = openssl_agreement(load_cases(), referee, str(tmp_path))
    assert agree > 500 and disagree == [], disagree[:20]


@pytest.mark.skipif(not os.path.exists(FULL), reason="x509-limbo corpus not available")
def test_usual_certificate_reader_equals_the_general_one_on_every_limbo_certificate():
    """certs/fields.py reads the usual layout without building lists; on the
    corpus's 40,000-odd certificates (odd ones included) it gives the general
    reader's fields, and the general reader still takes what it cannot."""
    from ibmi_trust.certs import fields
    from ibmi_trust.certs.der import DerError
    from ibmi_trust.certs.loading import scan_pem

    def outcome(reader, der):
        try:
            tbs = reader(der)
        except DerError:
            return "refused"
        return tbs.version, tbs.issuer, tbs.subject, list(tbs._at)

    read = usual = 0
    with gzip.open(FULL, "rt", encoding="utf-8") as handle:
        cases = json.load(handle)["testcases"]
    for case in cases:
        for pem in case["trusted_certs"] + case["untrusted_intermediates"] + [case["peer_certificate"]]:
            for block in scan_pem(pem.encode()).blocks:
                read += 1
                expected = outcome(fields._read_any_tbs, block.der)
                assert outcome(fields.read_tbs, block.der) == expected
                try:
                    quick = outcome(fields._read_usual_tbs, block.der)
                except (fields._Unusual, IndexError):
                    continue
                usual += 1
                assert quick == expected
    assert read > 1000 and usual > read * 0.9, (read, usual)
