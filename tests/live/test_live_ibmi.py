"""The IBM i backend against a REAL IBM i, on a scratch .KDB store only.

Skipped unless IBMI_TRUST_LIVE=1. Needs:
    IBMI_TRUST_LIVE_KDB           IFS path of a throw-away store created in DCM
                                  (never DEFAULT.KDB: the suite refuses it)
    IBMI_TRUST_LIVE_KDB_PASSWORD  that store's password (read through
                                  --password-env, as operators would pass it)
Put one CA into the scratch store with DCM first (what QYKMEXPK does with an
empty store is UNCONFIRMED). Also needs a profile with *ALLOBJ and *SECADM, the ibm-iaccess ODBC driver (DSN
*LOCAL) and XMLSERVICE. It runs the same operations as the simulator tests:
list, add (twice: the second must be a no-op), backup, restore. It also
prints what it saw (column names, labels), which settles several
UNCONFIRMED items (docs/verify-on-your-system.md).

    IBMI_TRUST_LIVE=1 IBMI_TRUST_LIVE_KDB=/home/me/trust-test.KDB \\
    IBMI_TRUST_LIVE_KDB_PASSWORD=... python3.9 -m pytest -s tests/live

The interfaces added for issue 10 are exercised read-only and print what
settles their UNCONFIRMED points (docs/verify-on-your-system.md 19a-22e):
QSYS2.QCMDEXC and the CPF id of a failed command, SERVICES_INFO, USER_INFO,
QsoRtvTLSA (the raw TLSA0100 receiver), the install record, doctor, and
with IBMI_TRUST_LIVE_APP_ID (an application ID), IBMI_TRUST_LIVE_CA_LABEL (a
*SYSTEM CA label) and IBMI_TRUST_LIVE_LIBRARY (where install-objects put
ITRCATRST): QycdCheckCACertTrust's raw return indicator. Nothing here adds
to a trust list.

The history (issue 14; docs/verify-on-your-system.md, "History"): the SQLite
history's WAL journal on the IFS under PASE with two writer processes at
once, always; and with IBMI_TRUST_LIVE_HISTORY_LIBRARY (a scratch library:
its history tables are created if missing) the Db2 for i history: every
sql/history_*.sql statement on the real Db2, autocommit writes into tables
that are not journaled, a duplicate MERGE, TIMESTAMP round trips and
retention.

GSKPROBE (issue 15), with IBMI_TRUST_LIVE_LIBRARY and
IBMI_TRUST_LIVE_GSKIT_TARGET=host:port (a mail server you may probe, e.g.
your relay): builds the program with CRTBNDC into that library, probes the
server through GSKit against *SYSTEM (read-only) with and without SNI, and
prints every result line; IBMI_TRUST_LIVE_GSKIT_EXPECT=trusted or a GSKit
code (e.g. 6000) makes it assert GSKit's answer. Its output calibrates the
stand-in (docs/verify-on-your-system.md, "GSKit's own handshake").
"""
import hashlib
import os

import pytest

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(os.environ.get("IBMI_TRUST_LIVE") != "1", reason="set IBMI_TRUST_LIVE=1 on an IBM i"),
]

PASSWORD_ENV = "IBMI_TRUST_LIVE_KDB_PASSWORD"


@pytest.fixture(scope="module")
def scratch_kdb():
    path = os.environ.get("IBMI_TRUST_LIVE_KDB", "")
    if not path:
        pytest.fail("IBMI_TRUST_LIVE_KDB must name a scratch .KDB store")
    if os.path.basename(path).upper() == "DEFAULT.KDB":
        pytest.fail("refusing to run against %s: use a throw-away store, never *SYSTEM" % path)
    if not os.path.isfile(path):
        pytest.fail("%s does not exist: create a throw-away store in DCM first" % path)
    if not os.environ.get(PASSWORD_ENV):
        pytest.fail("%s must hold the scratch store's password" % PASSWORD_ENV)
    return path


@pytest.fixture(scope="module")
def session():
    from ibmi_trust.ibmi.session import IbmiSession

    with IbmiSession() as live:
        yield live


@pytest.fixture
def store(scratch_kdb, session, tmp_path):
    from ibmi_trust.ibmi.system_store import SystemStore
    from ibmi_trust.store.spec import StoreOptions

    return SystemStore(scratch_kdb, StoreOptions(password_env=PASSWORD_ENV, backup_dir=str(tmp_path)),
                       session=session)


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_certificate_info_columns(session, scratch_kdb):
    from ibmi_trust.errors import IbmiApiError

    try:
        rows = session.query("certificate_info.sql", ("*NOPWD", scratch_kdb))
        print("*NOPWD works for", scratch_kdb)
    except IbmiApiError as exc:
        print("*NOPWD failed for %s: %s" % (scratch_kdb, exc))
        rows = session.query("certificate_info.sql", (os.environ[PASSWORD_ENV], scratch_kdb))
    print("CERTIFICATE_INFO columns:", sorted(rows[0]) if rows else "(no rows)")
    assert rows, "put one CA into the scratch store in DCM first"


def test_tls_system_values(session):
    from ibmi_trust.ibmi.sysvals import read_tls_system_values

    values = read_tls_system_values(session)
    print("TLS system values:", values)
    assert set(values) == {"QSSLPCL", "QSSLCSL", "QSSLCSLCTL"}


def test_applications(session):
    from ibmi_trust.ibmi.trustlist import applications

    apps = applications(session)
    print("applications managing CA trust:", [a.app_id for a in apps if a.manages_ca_trust])
    assert all(a.app_id for a in apps)


def test_add_is_confirmed_idempotent_and_restorable(store, scratch_kdb):
    from ibmi_trust.testing.pki import CA

    root = CA.root("ibmi-trust live test root", key_type="rsa")
    inter = root.intermediate("ibmi-trust live test issuing CA", key_type="rsa")
    before = digest(scratch_kdb)
    backup = store.backup()
    report = store.add([root.cert, inter.cert])
    print("added:", [(e.label, e.cert.sha256[:16]) for e in report.added], report.notes)
    assert {e.cert.sha256 for e in report.added} == {root.cert.sha256, inter.cert.sha256}
    listed = {e.cert.sha256: e.label for e in store.list()}
    assert root.cert.sha256 in listed and inter.cert.sha256 in listed
    again = store.add([root.cert])
    assert not again.changed and again.already_present
    store.restore(backup.id)
    assert digest(scratch_kdb) == before
    assert root.cert.sha256 not in {e.cert.sha256 for e in store.list()}


# -- issue 10: the interfaces IBM offers, read-only -----------------------------------------
def test_qcmdexc_runs_cl_and_a_failure_names_its_cpf_id(session):
    from ibmi_trust.errors import IbmiApiError

    session.run_cl("CHKOBJ OBJ(QSYS/QSYS2) OBJTYPE(*LIB)")
    with pytest.raises(IbmiApiError) as info:
        session.run_cl("CHKOBJ OBJ(QSYS/NOSUCHLIB9) OBJTYPE(*LIB)")
    print("failed QCMDEXC reported as:", info.value.message_id, "|", info.value.message)
    assert info.value.message_id in ("CPF9801", "CPF9810")


def test_services_info_knows_the_services_the_package_uses(session):
    from ibmi_trust.ibmi import services

    for name in ("CERTIFICATE_INFO", "CERTIFICATE_USAGE_INFO", "QCMDEXC", "JOBLOG_INFO", "USER_INFO"):
        print(name, services.require(session, name, "the live suite"))


def test_this_profile_has_a_password_since_it_connected(session):
    from ibmi_trust.ibmi.doctor import current_profile

    rows = session.query("user_profile.sql", (current_profile(),))
    print("USER_INFO:", rows)
    assert rows and rows[0]["NO_PASSWORD_INDICATOR"].strip() == "NO"


def test_qsortvtlsa_receiver_for_the_layout(session):
    from ibmi_trust.ibmi import tls_attributes

    attributes, why, raw = tls_attributes.retrieve(session)
    print("QsoRtvTLSA:", why or "understood", "| first 256 bytes of the receiver:", raw[:256].hex())
    if attributes is not None:
        print("default protocols", attributes.get("default", "protocols"),
              "cipher suites", attributes.get("default", "cipher_suites"))
    assert raw or "not available" in why


def test_install_record_and_doctor(session):
    from ibmi_trust.ibmi import doctor, install_record

    print("install record:", install_record.record_path(), install_record.read())
    for check in doctor.run_checks(lambda: session):
        print("doctor:", check.status, check.name, check.detail, check.next)


@pytest.mark.skipif(not (os.environ.get("IBMI_TRUST_LIVE_APP_ID") and os.environ.get("IBMI_TRUST_LIVE_CA_LABEL")
                         and os.environ.get("IBMI_TRUST_LIVE_LIBRARY")),
                    reason="needs IBMI_TRUST_LIVE_APP_ID, IBMI_TRUST_LIVE_CA_LABEL and IBMI_TRUST_LIVE_LIBRARY")
def test_qycdcheckcacerttrust_indicator_through_itrcatrst(session):
    from ibmi_trust.ibmi import apiparm, trust_check

    app, label, lib = (os.environ["IBMI_TRUST_LIVE_APP_ID"], os.environ["IBMI_TRUST_LIVE_CA_LABEL"],
                       os.environ["IBMI_TRUST_LIVE_LIBRARY"])
    out = session.call_program(
        "QycdCheckCACertTrust", trust_check.CHECKER_PROGRAM,
        [apiparm.fixed_char("app_id", app, 100), apiparm.int4("app_id_len", len(app)),
         apiparm.fixed_char("ca_label", label, 1024), apiparm.int4("ca_label_len", len(label)),
         apiparm.fixed_char("indicator", "", 1)], lib=lib, outputs=("indicator",))
    print("QycdCheckCACertTrust(%s, %s) return indicator %r -> %s" % (
        app, label, out.get("indicator"), trust_check.check(session, app, label, lib).state))
    assert str(out.get("indicator") or "").strip()


# -- issue 14: the history ----------------------------------------------------------------------
def test_sqlite_history_wal_on_the_ifs_with_two_writers(tmp_path):
    import sqlite3
    import subprocess
    import sys

    writer = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "history_writer.py")
    path = str(tmp_path / "h.sqlite")
    procs = [subprocess.Popen([sys.executable, writer, path, "20", tag], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tag in ("LA", "LB")]
    outputs = [p.communicate(timeout=600) for p in procs]
    print("writers:", [p.returncode for p in procs], [o[1][-300:] for o in outputs])
    conn = sqlite3.connect(path)
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    print("SQLite %s on the IFS: journal_mode=%s, runs=%d (40 expected)" % (sqlite3.sqlite_version, mode, runs))
    assert [p.returncode for p in procs] == [0, 0] and runs == 40 and mode == "wal"


@pytest.mark.skipif(not os.environ.get("IBMI_TRUST_LIVE_HISTORY_LIBRARY"),
                    reason="needs IBMI_TRUST_LIVE_HISTORY_LIBRARY (a scratch library for the history tables)")
def test_db2_history_tables_and_every_statement(session):
    import datetime
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from history_writer import chains, make_run
    from ibmi_trust.history import retention
    from ibmi_trust.history.db2_store import Db2History
    from ibmi_trust.history.records import TargetKey
    from ibmi_trust.ibmi.objects import Installer

    library = os.environ["IBMI_TRUST_LIVE_HISTORY_LIBRARY"]
    installer = Installer(session, library)
    installer._history_tables()
    print("history tables:", installer.report.created, installer.report.present)
    store = Db2History(library, session=session)
    tag = "LIVE%d" % os.getpid()
    chain_list = chains(tag)
    now = datetime.datetime.now(datetime.timezone.utc)
    old = store.write_run(make_run(tag, 1, chain_list, started=now - datetime.timedelta(days=200)))
    new = store.write_run(make_run(tag, 2, chain_list, handshakes=5))
    again = store.write_run(make_run(tag, 3, chain_list, handshakes=5))     # MERGE of certificates already there
    key = TargetKey("mx.%s.test" % tag.lower(), 25, "smtp")
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    runs = store.runs(key, epoch)
    print("run ids", old, new, again, "read back:", [(r.run_id, r.started_at.isoformat()) for r in runs])
    assert [r.run_id for r in runs] == [old, new, again]
    assert abs((runs[1].started_at - now).total_seconds()) < 5               # UTC in, UTC out
    ders = store.chain_certs({r.chain for r in store.summary(key, epoch) if r.chain})
    assert sorted(ders.values()) == sorted(chain_list)
    retention.forget(store.location)
    retention.prune_once(store, now, 90)
    assert [r.run_id for r in store.runs(key, epoch)] == [new, again]


@pytest.mark.skipif(not (os.environ.get("IBMI_TRUST_LIVE_LIBRARY") and os.environ.get("IBMI_TRUST_LIVE_GSKIT_TARGET")),
                    reason="needs IBMI_TRUST_LIVE_LIBRARY and IBMI_TRUST_LIVE_GSKIT_TARGET=host:port")
def test_gskprobe_builds_and_asks_gskit_about_a_known_server(session):
    import json
    import socket

    from ibmi_trust.ibmi import gskprobe
    from ibmi_trust.ibmi.objects import Installer
    from ibmi_trust.probe import Target

    library = os.environ["IBMI_TRUST_LIVE_LIBRARY"].upper()
    installer = Installer(session, library, progress=lambda line: print("CL:", line))
    installer.gskit_prober(replace=True)
    print("install-objects:", installer.report.gskit_proof, installer.report.warnings)
    assert installer.report.gskit_proof == "available: %s/%s" % (library, gskprobe.PROGRAM)
    target = Target.parse(os.environ["IBMI_TRUST_LIVE_GSKIT_TARGET"])
    address = socket.getaddrinfo(target.host, target.port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    requests = [gskprobe.ProbeRequest(rid, address, target.port, target.dialogue, sni, "*SYSTEM", timeout=15)
                for rid, sni in (("sni", target.host), ("nosni", None))]
    run = gskprobe.ProgramRunner(session, library).run(requests)
    print("implementation:", run.implementation, "| errors:", run.errors)
    for h in run.handshakes:
        print(json.dumps(h.to_json()))
    assert run.complete and not run.is_standin and run.implementation == "IBM i System TLS (GSKit)"
    assert [h.id for h in run.handshakes] == ["sni", "nosni"]
    assert all(h.stage == "handshake" for h in run.handshakes), "GSKit was not reached"
    expect = os.environ.get("IBMI_TRUST_LIVE_GSKIT_EXPECT", "")
    if expect == "trusted":
        assert all(h.ok for h in run.handshakes)
    elif expect:
        assert all(h.gsk_rc == int(expect) for h in run.handshakes)
