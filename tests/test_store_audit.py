"""ibmi-trust store audit against stores holding expired, expiring, dropped,
weak, duplicate and (IBM i simulator) disabled CAs, with a real history whose
chains depend on some of them."""
import datetime
import json
import os
import re

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from ibmi_trust.cli import cli
from ibmi_trust.testing.pki import CA

SCHEMA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "schema",
                      "audit.schema.json")
NOW = datetime.datetime.now(datetime.timezone.utc)
HOST = "smtp.office365.example"


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture(scope="module")
def pki():
    good = CA.root("Audit Good Root")
    expired = CA.root("Audit Expired Root", not_before=NOW - days(400), days=380)        # ended 20 days ago
    expiring = CA.root("Audit Expiring Root", not_before=NOW - days(300), days=340)     # ends in 40 days
    lonely_expired = good.intermediate("Audit Old Intermediate", not_before=NOW - days(800), days=700)
    superseded = CA.root("Audit Reissued Root")
    superseded_program_copy = superseded.reissue(not_before=NOW - days(2))
    other_key_store = CA.root("Audit Namesake Root")
    other_key_program = CA.root("Audit Namesake Root")
    private = CA.root("Audit Private Root")
    sha1_inter = _sha1(good.intermediate("Audit SHA1 Intermediate"), good.key)   # current cryptography refuses
    sha1_root = _sha1(CA.root("Audit SHA1 Root"), None)                           # to sign with SHA-1 itself
    small = CA.root("Audit Small Key Root", key=rsa.generate_private_key(65537, 1024))
    dup_old = good.intermediate("Audit Renewed CA", not_before=NOW - days(900), days=800)   # expired copy
    dup_new = dup_old.reissue(not_before=NOW - days(1), days=800)                           # same name and key
    pinned_leaf = good.intermediate("Audit Pinning CA").leaf(["pinned.example"])
    return {k: v for k, v in locals().items()}


class _Signed:
    def __init__(self, cert):
        self.cert = cert


def _sha1(ca, signer_key):
    from ibmi_trust.certs import Cert
    from pki_scenarios import _resign_sha1

    return _Signed(Cert(_resign_sha1(ca.cert.der, signer_key or ca.key)))


def store_certs(p):
    return [p["good"].cert, p["expired"].cert, p["expiring"].cert, p["lonely_expired"].cert, p["superseded"].cert,
            p["other_key_store"].cert, p["private"].cert, p["sha1_inter"].cert, p["sha1_root"].cert,
            p["small"].cert, p["dup_old"].cert, p["dup_new"].cert, p["pinned_leaf"].cert]


@pytest.fixture
def files(pki, tmp_path):
    store = tmp_path / "store.pem"
    store.write_text("".join(c.pem() for c in store_certs(pki)))
    roots = tmp_path / "program.pem"
    roots.write_text("".join(c.pem() for c in (pki["good"].cert, pki["expiring"].cert, pki["expired"].cert,
                                                pki["superseded_program_copy"].cert, pki["other_key_program"].cert,
                                                pki["sha1_root"].cert, pki["small"].cert)))
    history = str(tmp_path / "h.sqlite")
    _history(pki, history)
    return {"store": str(store), "roots": str(roots), "history": history, "tmp": tmp_path}


def _history(pki, path):
    """Real runs in a real history: a target whose chains end at the expired root, one at the
    expiring root, one at the good root."""
    from ibmi_trust.history.records import HandshakeRow, OK, RunRecord, TargetKey
    from ibmi_trust.history.sqlite_store import SqliteHistory

    store = SqliteHistory(path)
    for port, ca in ((587, pki["expired"]), (25, pki["expiring"]), (993, pki["good"])):
        leaf = ca.intermediate("Audit Issuing CA %d" % port).leaf([HOST])
        ders = [c.der for c in leaf.chain()]
        import hashlib

        sha = hashlib.sha256(b"".join(ders)).hexdigest()
        started = NOW - days(3)
        store.write_run(RunRecord(TargetKey(HOST, port, {587: "submission", 25: "smtp", 993: "imaps"}[port]),
                                  started, "verify", "OK", "bundle:x",
                                  [HandshakeRow(started, "127.0.0.1", HOST, "ecdsa", "TLSv1.3", OK, sha)],
                                  {sha: ders}, {sha: ("trusted", False)}))


def audit(files, *extra, store=None):
    args = ["store", "audit", "--store", store or "bundle:" + files["store"], "--roots", files["roots"],
            "--history", files["history"]] + list(extra)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.output


def test_every_kind_of_problem_is_found_with_dates_and_dependants(files, pki):
    import jsonschema

    code, out = audit(files, "--json")
    doc = json.loads(out)
    with open(SCHEMA) as handle:
        jsonschema.validate(doc, json.load(handle))
    assert code == 2 and doc["status"] == "CRITICAL"
    by = {}
    for f in doc["findings"]:
        by.setdefault((f["code"], f["sha256"] or f["subject"]), f)

    def finding(code, ca):
        return by[(code, pki[ca].cert.sha256)]

    expired = finding("ca-expired", "expired")
    assert expired["severity"] == "critical"                       # a chain seen 3 days ago ends there
    assert [(d["target"], d["protocol"]) for d in expired["depended_on_by"]] == [("%s:587" % HOST, "submission")]
    assert "%s:587's chains end at this root" % HOST in expired["message"]
    assert expired["detail"]["not_after"] == pki["expired"].cert.not_after.strftime("%Y-%m-%d")
    assert expired["next"] == "ibmi-trust fix %s:587 --store %s --dry-run" % (HOST, "bundle:" + files["store"])
    lonely = finding("ca-expired", "lonely_expired")
    assert lonely["severity"] == "warning" and lonely["depended_on_by"] == []
    assert lonely["next"].startswith("ibmi-trust store remove %s --store " % pki["lonely_expired"].cert.sha256)
    expiring = finding("ca-expiring", "expiring")
    assert expiring["severity"] == "warning" and 38 <= expiring["detail"]["days_left"] <= 40
    assert "%s:25's chains end at this root" % HOST in expiring["message"]
    assert re.search(r"expires \d{4}-\d\d-\d\d \(in (39|40) days\)", expiring["message"])
    kinds = {f["sha256"]: f["detail"]["kind"] for f in doc["findings"] if f["code"] == "root-not-in-program"}
    assert kinds == {pki["superseded"].cert.sha256: "superseded", pki["other_key_store"].cert.sha256: "other-key",
                     pki["private"].cert.sha256: "unknown"}
    assert finding("weak-ca-signature", "sha1_inter")["severity"] == "warning"
    assert finding("weak-ca-signature", "sha1_root")["severity"] == "info"      # a root's own signature
    small = finding("small-ca-key", "small")
    assert small["detail"] == {"algorithm": "RSA", "bits": 1024} and small["severity"] == "warning"
    dup = by[("duplicate-ca", pki["dup_new"].cert.subject)]
    assert dup["severity"] == "warning"                            # one copy expired: a client may take it
    assert {c["sha256"] for c in dup["detail"]["copies"]} == {pki["dup_old"].cert.sha256, pki["dup_new"].cert.sha256}
    assert finding("not-a-ca", "pinned_leaf")["severity"] == "info"
    good = [f for f in doc["findings"] if f["sha256"] == pki["good"].cert.sha256]
    assert good == []                                              # nothing to say about a sound root in use
    assert doc["history"]["read"] is True and doc["history"]["targets"] == 3
    assert doc["root_program"]["roots"] == 7
    assert doc["next"][0] == expired["next"]


def test_text_and_nagios_outputs(files, pki):
    code, text = audit(files)
    assert code == 2 and text.startswith("CRITICAL: store audit of bundle:")
    assert "next: ibmi-trust fix %s:587 --store bundle:" % HOST in text
    code, line = audit(files, "--nagios")
    assert code == 2 and line.count("\n") == 1
    status, perf = line.rstrip("\n").split(" | ")
    assert status.startswith("IBMI-TRUST-AUDIT CRITICAL - bundle:")
    items = perf.split(" ")
    # conventions.md 2-3: 'label'=value[;warn[;crit[;min[;max]]]], integers, ranges as N:
    for item in items:
        assert re.fullmatch(r"'[^'=]+'=-?\d+(;[^;]*){0,4}", item), item
    values = {i.split("=")[0].strip("'"): i.split("=")[1] for i in items}
    assert values["ca_expired"].split(";")[0] == "3" and values["ca_expiring"].split(";")[0] == "1"
    assert re.fullmatch(r"\d+;60:;;0", values["days_to_next_ca_expiry"])


def test_without_history_nothing_is_critical_and_no_dependants_are_named(files):
    code, out = audit(files, "--no-history", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["status"] == "WARNING"
    assert all(f["depended_on_by"] == [] for f in doc["findings"])


def test_a_clean_store_is_ok_and_says_so(files, pki, tmp_path):
    clean = tmp_path / "clean.pem"
    clean.write_text(pki["good"].cert.pem())
    code, out = audit(files, "--nagios", store="bundle:%s" % clean)
    assert code == 0 and out.startswith("IBMI-TRUST-AUDIT OK - bundle:%s: 1 CA certificate(s), nothing expiring" % clean)
    code, text = audit(files, store="bundle:%s" % clean)
    assert code == 0 and "next: nothing to do now" in text


def test_a_store_that_cannot_be_read_is_unknown_with_a_status_line(files, tmp_path):
    code, line = audit(files, "--nagios", store="bundle:%s" % (tmp_path / "missing.pem"))
    assert code == 3 and line.startswith("IBMI-TRUST-AUDIT UNKNOWN - could not audit the store: ")
    code, out = audit(files, store="bundle:%s" % (tmp_path / "missing.pem"))
    assert code == 4 and "ibmi-trust:" in out


def test_a_capath_store_is_audited_the_same_way(files, pki, tmp_path):
    from ibmi_trust.store.spec import StoreOptions, open_store

    directory = tmp_path / "capath"
    directory.mkdir()
    open_store("capath:%s" % directory, StoreOptions(backup_dir=str(tmp_path / "b"))).add(store_certs(pki))
    code, out = audit(files, "--json", store="capath:%s" % directory)
    doc = json.loads(out)
    assert code == 2 and doc["certificates"] == len(store_certs(pki))
    assert {f["code"] for f in doc["findings"]} == {"ca-expired", "ca-expiring", "root-not-in-program",
                                                    "weak-ca-signature", "small-ca-key", "duplicate-ca", "not-a-ca"}


def test_system_store_disabled_and_unknown_states(pki, tmp_path, monkeypatch):
    """*SYSTEM on the IBM i simulator: a disabled CA (DCM keeps it, marked) that a recent chain
    needs is a warning naming the target; where the store does not report the state, the audit
    says it is unknown, never that a CA is enabled."""
    from ibmi_simulator import Simulator, as_ibmi
    from ibmi_trust.jobs.audit import run_audit
    from ibmi_trust.history import location
    from ibmi_trust.history.journal import HistorySettings, Journal

    sim = Simulator(tmp_path / "ibmi")
    as_ibmi(sim, monkeypatch)
    sim.add_certificate(pki["good"].cert, "AUDIT_GOOD")
    sim.add_certificate(pki["expiring"].cert, "AUDIT_EXPIRING")
    sim.disable_ca("AUDIT_GOOD")
    history = str(tmp_path / "h.sqlite")
    _history(pki, history)
    journal = Journal.open(HistorySettings(location=location.Location("sqlite", history, "test")))
    from ibmi_simulator import system_store

    store = system_store(sim, monkeypatch, tmp_path)
    unknown = run_audit(store, journal=journal)
    states = [f for f in unknown.findings if f.code == "ca-state-unknown"]
    assert len(states) == 1 and states[0].detail["count"] == 3 and "unknown" in states[0].message
    assert not [f for f in unknown.findings if f.code == "ca-disabled"]
    sim.ca_status_column = "CERTIFICATE_STATUS"
    monkeypatch.setenv("IBMI_TRUST_CA_STATUS_COLUMN", "CERTIFICATE_STATUS")
    known = run_audit(system_store(sim, monkeypatch, tmp_path), journal=journal)
    disabled = [f for f in known.findings if f.code == "ca-disabled"]
    assert len(disabled) == 1 and disabled[0].label == "AUDIT_GOOD" and disabled[0].severity == "warning"
    assert [d["target"] for d in disabled[0].depended_on_by] == ["%s:993" % HOST]
    assert "enable it in DCM" in disabled[0].next
    assert not [f for f in known.findings if f.code == "ca-state-unknown"]
    expiring = [f for f in known.findings if f.code == "ca-expiring"]
    assert expiring and expiring[0].depended_on_by[0]["target"] == "%s:25" % HOST
