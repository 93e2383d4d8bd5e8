"""The message catalog: IDs in sync with the message-file source, data that
fits each message description, the results file the CL program reads, and
operator notification through the IBM i simulator."""
import os
import re

import pytest

from ibmi_trust import resources
from ibmi_trust.errors import ConfigError, IbmiApiError, RolledBack
import clcheck
from ibmi_trust.ibmi import clsource, messages, objects
from ibmi_trust.ibmi.session import IbmiSession

from ibmi_simulator import Simulator

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(messages.__file__)))   # ibmi_trust/
ID_RE = re.compile(r"\bITR\d{4}\b")
GENERIC = "ITR0000"          # MONMSG MSGID(ITR0000) monitors every ITR message


def _ids_in(paths):
    found = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for msgid in ID_RE.findall(handle.read()):
                found.setdefault(msgid, set()).add(os.path.basename(path))
    found.pop(GENERIC, None)
    return found


def _package_python_files():
    for root, _dirs, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(root, name)


def _cl_programs():
    directory = resources.resource_dir("cl")
    return [os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".clle")]


def test_every_id_used_exists_and_every_defined_id_is_used():
    defined = set(messages.catalog())
    python_ids = _ids_in(_package_python_files())
    cl_ids = _ids_in(_cl_programs())
    used = set(python_ids) | set(cl_ids)
    assert used - defined == set(), "used but not in cl/itrmsgf.msgf: %s" % {i: python_ids.get(i) or cl_ids.get(i)
                                                                           for i in used - defined}
    assert defined - used == set(), "defined in cl/itrmsgf.msgf but never sent"
    # the Python side names each message it sends with a type; the CL programs send the rest themselves
    sources = clcheck.Sources()
    sent_by_cl = {inner.text("MSGID").upper()
                  for name in sources.files if name.endswith(".clle")
                  for _w, stmt in sources.expanded(name) for inner in clcheck.nested_commands(stmt)
                  if inner.command == "SNDPGMMSG" and inner.text("MSGID").upper().startswith("ITR")}
    assert sent_by_cl == {"ITR0902"}
    assert set(messages.DEFAULT_TYPES) == defined - sent_by_cl


def test_severity_tells_the_outcome():
    catalog = messages.catalog()
    for msgid, msgtype in messages.DEFAULT_TYPES.items():
        sev = catalog[msgid].severity
        assert sev in (0, 10, 20, 30, 40), msgid
        if msgtype == messages.ESCAPE:
            assert sev >= 30, msgid
        if msgtype == messages.COMP:
            assert sev <= 10, msgid
    for msgid in messages.OPERATOR_MESSAGES:
        assert messages.DEFAULT_TYPES[msgid] == messages.DIAG and catalog[msgid].severity >= 10


@pytest.mark.parametrize("msgid", sorted(messages.DEFAULT_TYPES))
def test_every_message_data_fits_its_description(msgid):
    description = messages.catalog()[msgid]
    long_values = ["x" * (width + 50) for width in description.fields]
    rec = messages.record(msgid, *long_values)
    assert [len(v) for v in rec.data] == list(description.fields)
    assert len(rec.msgdta) == description.data_length <= messages.DATA_WIDTH
    short = messages.record(msgid, *(["v"] * len(description.fields)))
    assert short.msgdta == "".join("v".ljust(w) for w in description.fields)
    assert rec.type == messages.DEFAULT_TYPES[msgid]
    # the substitution variables of the texts stay within the fields
    assert "&" not in short.text() or "&amp" in short.text()


def test_record_rules():
    rec = messages.record(messages.ISSUER_MISSING, "CN=Zürich Root CA", "*SYSTEM", "mx.example.test:25", None)
    assert rec.data[0].rstrip() == "CN=Zurich Root CA" and rec.data[3] == " " * 64
    assert rec.text() == "Issuer CN=Zurich Root CA is missing from *SYSTEM."
    assert messages.record(messages.PROBE_FAILED, "t", "r", msgtype="*diag").type == "*DIAG"
    with pytest.raises(ValueError):
        messages.record(messages.TRUSTED, "only one value")
    with pytest.raises(ValueError):
        messages.record("ITR9999")
    with pytest.raises(ValueError):
        messages.record(messages.TRUSTED, "a", "b", msgtype="*INQ")
    assert messages.ascii_text("tab\there\u2013ok\u00e9") == "tab here?oke"
    failure = messages.failure_record(RolledBack("re-probe failed", hint="see the job log"))
    assert failure.msgid == messages.FAILED and failure.type == messages.ESCAPE
    assert failure.data[1].rstrip() == "see the job log"


def test_results_file_round_trip_and_order(tmp_path):
    path = str(tmp_path / "out.res")
    records = [messages.record(messages.NOT_TRUSTED, "mx.example.test:25", "*SYSTEM", "2"),
               messages.record(messages.ISSUER_MISSING, "CN=Root", "*SYSTEM", "mx.example.test:25", "ab" * 32),
               messages.record(messages.CA_EXPIRES, "CN=Old", "2030-01-01", "12", "*SYSTEM")]
    messages.write_results(path, records)
    with open(path, "rb") as handle:
        raw = handle.read()
    lines = raw.decode("ascii").split("\n")
    assert lines[-1] == "" and all(len(line) == messages.RECORD_LENGTH for line in lines[:-1])
    back = messages.read_results(path)
    assert [r.msgid for r in back] == [messages.ISSUER_MISSING, messages.CA_EXPIRES, messages.NOT_TRUSTED]
    assert back[2] == records[0] and back[0] == records[1]
    assert not [n for n in os.listdir(str(tmp_path)) if n != "out.res"], "temporary file left behind"
    with pytest.raises(ValueError):
        messages.write_results(path, records[1:])             # no *COMP / *ESCAPE
    with pytest.raises(ValueError):
        messages.write_results(path, records + [messages.record(messages.TRUSTED, "a", "b")])


def test_results_layout_matches_the_cl_program():
    """Record length and column positions equal what ITRRUNI/ITRDCLI read."""
    sources = clcheck.Sources()
    stmts = [s for _w, s in sources.expanded("itrchkc.clle")]
    crtpf = [s for s in stmts if s.command == "CRTPF"]
    assert crtpf and all(s.text("RCDLEN") == str(messages.RECORD_LENGTH) for s in crtpf)
    assert objects.RESULT_RCDLEN == messages.RECORD_LENGTH
    slices = {}
    for stmt in stmts:
        match = re.match(r"%SST\(&ITRRESULT (\d+) (\d+)\)", stmt.value("VALUE", "") or "")
        if stmt.command == "CHGVAR" and match:
            slices[stmt.text("VAR").upper()] = (int(match.group(1)), int(match.group(2)))
    assert slices == {"&MSGID": (1, messages.MSGID_WIDTH),
                      "&MSGTYPE": (1 + messages.MSGID_WIDTH, messages.TYPE_WIDTH),
                      "&MSGDTA": (1 + messages.MSGID_WIDTH + messages.TYPE_WIDTH, messages.DATA_WIDTH)}


# -- operator notification through the simulator ---------------------------------
@pytest.fixture
def session(tmp_path):
    sim = Simulator(tmp_path)
    return sim, IbmiSession(connection=sim.connection())


def test_notify_operator_sends_sndpgmmsg(session, monkeypatch):
    sim, ibmi = session
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "itrust")
    rec = messages.record(messages.TARGET_CRITICAL, "mx.example.test:25", "*SYSTEM", "missing CN=O'Brien Root")
    messages.notify_operator(ibmi, rec)
    messages.notify_operator(ibmi, messages.record(messages.TARGET_WARNING, "imap.example.test:993", "expires"),
                             msgq="OPS/TLSQ", library="MYLIB")
    assert len(sim.cl_log) == 2
    first = clsource.parse_statement(sim.cl_log[0])
    assert first.command == "SNDPGMMSG" and not clcheck.statement_problems("log", first, clcheck.IBM_COMMANDS)
    assert (first.text("MSGID"), first.text("MSGF"), first.text("TOMSGQ"), first.text("MSGTYPE")) == (
        "ITR0204", "ITRUST/ITRMSGF", "QSYSOPR", "*INFO")
    assert first.text("MSGDTA") == rec.msgdta          # quotes doubled on the way, data intact
    second = clsource.parse_statement(sim.cl_log[1])
    assert (second.text("MSGF"), second.text("TOMSGQ")) == ("MYLIB/ITRMSGF", "OPS/TLSQ")


def test_the_message_file_is_never_left_to_the_library_list(session, install_record_in_tmp):
    # The database server job's library list lacks the ibmi-trust library: *LIBL ends in
    # CPF2407 there (the simulator models it), so no library means a clear error first.
    sim, ibmi = session
    rec = messages.record(messages.TARGET_WARNING, "t", "d")
    with pytest.raises(ConfigError) as info:
        messages.sndpgmmsg_to_queue(rec)
    assert "install-objects --library" in info.value.hint and str(install_record_in_tmp) in info.value.message
    for bad in ("*LIBL", "*CURLIB", "BAD LIB", "QGPL"):
        with pytest.raises(ConfigError):
            messages.message_file(bad)
    assert sim.cl_log == []


def test_notify_operator_failures(session, monkeypatch):
    sim, ibmi = session
    monkeypatch.setenv("IBMI_TRUST_LIBRARY", "ITRUST")
    rec = messages.record(messages.TARGET_WARNING, "t", "d")
    assert "MSGF(ITRUST/ITRMSGF)" in messages.sndpgmmsg_to_queue(rec)
    assert "TOMSGQ(QSYSOPR)" in messages.sndpgmmsg_to_queue(rec, "*sysopr")
    for bad in ("QSYSOPR) TOUSR(X", "A/B/C", "", "TOOLONGNAME1"):
        with pytest.raises(ConfigError):
            messages.notify_operator(ibmi, rec, msgq=bad)
    with pytest.raises(ConfigError):
        messages.message_file("BAD LIB")
    assert sim.cl_log == []
    sim.fail_cl("SNDPGMMSG", "CPF2403")
    with pytest.raises(IbmiApiError) as info:
        messages.notify_operator(ibmi, rec, msgq="NOSUCHQ")
    assert info.value.message_id == "CPF2403"


# -- the hand-off as the CL runner performs it, minus CL ----------------------------
def _qshell_word(value: str) -> str:
    """What ITRRUNI's QUOTE subroutine builds (checked against the source below)."""
    return "'" + value.rstrip().replace("'", "'\"'\"'") + "'"


def test_quote_subroutine_uses_the_replacement_this_test_assumes():
    sources = clcheck.Sources()
    values = [s.text("VALUE") for _w, s in sources.expanded("itrdspc.clle")
              if s.command == "CHGVAR" and s.value("VAR") == "%SST(&QOUT &QPOS 5)"]
    assert values == ["'\"'\"'"]


@pytest.mark.parametrize("code,status,msgids", [
    ("-23", 0, [messages.CODE_MEANING, messages.CODE_EXPLAINED]),
    ("RC(10)", 0, [messages.CODE_MEANING, messages.CODE_MEANING, messages.CODE_EXPLAINED]),
    ("x'; touch pwned; echo '", 2, [messages.CODE_UNKNOWN]),
])
def test_handoff_through_a_shell(tmp_path, code, status, msgids):
    """DSPSSLRC's command line, run by a POSIX shell as Qshell would; the
    results file read back by column as RCVF + %SST do."""
    import subprocess
    import sys

    results, log = str(tmp_path / "job.res"), str(tmp_path / "job.log")
    command = " ".join([_qshell_word(sys.executable), "-m ibmi_trust", "explain", _qshell_word(code),
                        "--cl-results", _qshell_word(results), ">" + _qshell_word(log), "2>&1"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(PACKAGE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run(["/bin/sh", "-c", command], cwd=str(tmp_path), env=env, timeout=60)
    assert done.returncode == status
    assert not os.path.exists(str(tmp_path / "pwned"))
    with open(results, encoding="ascii") as handle:
        rows = handle.read().split("\n")[:-1]
    seen = []
    for row in rows:
        msgid, msgtype, msgdta = row[0:7], row[7:17].rstrip(), row[17:2017]
        description = messages.catalog()[msgid]
        assert msgtype in ("*DIAG", "*INFO", "*COMP", "*ESCAPE") and len(msgdta) == messages.DATA_WIDTH
        assert msgdta[description.data_length:].strip() == ""
        seen.append(msgid)
    assert seen == msgids
    assert rows[-1][7:17].rstrip() == ("*COMP" if status == 0 else "*ESCAPE")
