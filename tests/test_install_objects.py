"""install-objects / uninstall-objects against the IBM i simulator.

The simulator records every CL command (sim.cl_log). An object catalog on
top of its on_cl hooks makes CHKOBJ answer CPF9801 until a CRTxxx created
the object and again after a DLTxxx, as IBM i does, so idempotency and
uninstall are checked on the commands actually sent.
"""
import json
import os
import re
import sys

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.errors import ConfigError, IbmiApiError
import clcheck
from ibmi_trust.ibmi import clsource, messages, objects
from ibmi_trust.ibmi.objects import Installer
from ibmi_trust.ibmi.session import IbmiSession

from ibmi_simulator import Simulator
from sim_history_tables import OBJECTS as HISTORY_OBJECTS

PYTHON = "/QOpenSys/ibmi-trust/venv/bin/python3.9"
CREATE = {"CRTLIB": ("LIB", "*LIB"), "CRTSRCPF": ("FILE", "*FILE"), "CRTDTAARA": ("DTAARA", "*DTAARA"),
          "CRTMSGF": ("MSGF", "*MSGF"), "CRTPNLGRP": ("PNLGRP", "*PNLGRP"), "CRTBNDCL": ("PGM", "*PGM"),
          "CRTCMD": ("CMD", "*CMD"), "CRTBNDC": ("PGM", "*PGM")}
DELETE = {"DLTLIB": ("LIB", "*LIB"), "DLTF": ("FILE", "*FILE"), "DLTDTAARA": ("DTAARA", "*DTAARA"),
          "DLTMSGF": ("MSGF", "*MSGF"), "DLTPNLGRP": ("PNLGRP", "*PNLGRP"), "DLTPGM": ("PGM", "*PGM"),
          "DLTCMD": ("CMD", "*CMD")}


# what the operating system brings: the ILE C compiler's command and QSYSINC/H (GSKPROBE)
SYSTEM_OBJECTS = {("QSYS/QSYS", "*LIB"), ("QSYS/CRTBNDC", "*CMD"), ("QSYS/QSYSINC", "*LIB"), ("QSYSINC/H", "*FILE")}


class Catalog:
    """Which objects exist, driven by the CL commands the simulator receives."""

    def __init__(self, sim):
        self.sim = sim
        self.system = set(SYSTEM_OBJECTS)
        self.objects = set()
        sim.on_cl("CHKOBJ", self._chkobj)
        for verb in CREATE:
            sim.on_cl(verb + " ", self._create)
        for verb in DELETE:
            sim.on_cl(verb + " ", self._delete)

    @staticmethod
    def _key(command, table):
        stmt = clsource.parse_statement(command)
        keyword, objtype = table[stmt.command]
        name = stmt.text(keyword).split(" ")[0].upper()
        return ("QSYS/" + name if objtype == "*LIB" else name), objtype

    def _chkobj(self, command):
        stmt = clsource.parse_statement(command)
        obj, objtype = stmt.text("OBJ").upper(), stmt.text("OBJTYPE").upper()
        lib, _, name = obj.partition("/")
        if objtype == "*FILE" and name in HISTORY_OBJECTS:          # made by SQL: the simulator's Db2 knows them
            return None if self.sim.history.exists(lib, name) else "CPF9801"
        known = self.objects | self.system
        if objtype != "*LIB" and ("QSYS/" + obj.split("/")[0], "*LIB") not in known:
            return "CPF9810"
        return None if (obj, objtype) in known else "CPF9801"

    def _create(self, command):
        key = self._key(command, CREATE)
        if key in self.objects:
            return "CPF5813"
        self.objects.add(key)
        return None

    def _delete(self, command):
        key = self._key(command, DELETE)
        if key not in self.objects:
            return "CPF2105"
        self.objects.discard(key)
        if key[1] == "*LIB":
            self.objects = {o for o in self.objects if not o[0].startswith(key[0].split("/")[1] + "/")}
        return None


@pytest.fixture
def ibmi(tmp_path):
    sim = Simulator(tmp_path)
    catalog = Catalog(sim)
    return sim, catalog, IbmiSession(connection=sim.connection())


EXPECTED = {("QSYS/ITRUST", "*LIB"), ("ITRUST/QITRSRC", "*FILE"), ("ITRUST/ITRPYTHON", "*DTAARA"),
            ("ITRUST/ITRMSGF", "*MSGF"), ("ITRUST/ITRHELP", "*PNLGRP"), ("ITRUST/ITRCHKC", "*PGM"),
            ("ITRUST/ITRDSPC", "*PGM"), ("ITRUST/ITRVFYC", "*PGM"), ("ITRUST/ITRSSLERR", "*PGM"), ("ITRUST/ITRCATRST", "*PGM"),
            ("ITRUST/CHKTLSTRST", "*CMD"), ("ITRUST/DSPSSLRC", "*CMD"), ("ITRUST/VFYTLSTRST", "*CMD"),
            ("ITRUST/GSKPROBE", "*PGM")}


HISTORY_TABLES = {"ITRUST/%s *FILE" % name for name in ("ITRRUN", "ITRHSHK", "ITRRUNCHN", "ITRCHNCRT", "ITRCERT",
                                                       "ITRHSHKIX", "ITRRUNIX")}


def _verbs(log):
    return [c.split()[0] for c in log]


def test_install_creates_every_object_from_the_sources(ibmi):
    sim, catalog, session = ibmi
    report = Installer(session, "itrust").install(PYTHON)
    assert catalog.objects == EXPECTED
    assert len(report.created) == len(EXPECTED) + len(HISTORY_TABLES) and report.present == []
    assert HISTORY_TABLES <= set(report.created)
    assert {(lib, name) for lib, name in sim.history.tables} == {("ITRUST", t) for t in
                                                                 ("ITRRUN", "ITRHSHK", "ITRRUNCHN", "ITRCHNCRT", "ITRCERT")}
    log = sim.cl_log
    # every command sent is one the checker knows, with known keywords
    for command in log:
        stmt = clsource.parse_statement(command)
        assert not clcheck.statement_problems("cl_log", stmt, clcheck.IBM_COMMANDS), command
    # message file: every ADDMSGD of the source, into the library's ITRMSGF
    addmsgd = [clsource.parse_statement(c) for c in log if c.startswith("ADDMSGD ")]
    assert [s.text("MSGID") for s in addmsgd] == list(messages.catalog())
    assert {s.text("MSGF") for s in addmsgd} == {"ITRUST/ITRMSGF"}
    # sources copied from files that exist, into members of QITRSRC
    for stmt in (clsource.parse_statement(c) for c in log if c.startswith("CPYFRMSTMF ")):
        assert os.path.isfile(stmt.text("FROMSTMF")), stmt.text("FROMSTMF")
        assert re.match(r"^/QSYS\.LIB/ITRUST\.LIB/QITRSRC\.FILE/[A-Z]+\.MBR$", stmt.text("TOMBR"))
    # order: includes + QTEMP file + library list before compiling; programs before the
    # commands that name them; ITRSSLERR (runs CHKTLSTRST) after the commands
    pos = {c: i for i, c in reversed(list(enumerate(log)))}

    def first(prefix):
        return min(i for c, i in pos.items() if c.startswith(prefix))

    assert first("CRTPF FILE(QTEMP/ITRRESULT) RCDLEN(2017)") < first("CRTBNDCL")
    assert first("ADDLIBLE LIB(ITRUST)") < first("CRTBNDCL PGM(ITRUST/ITRSSLERR)")
    assert first("CRTBNDCL PGM(ITRUST/ITRCHKC)") < first("CRTCMD CMD(ITRUST/CHKTLSTRST)")
    assert first("CRTCMD CMD(ITRUST/CHKTLSTRST)") < first("CRTBNDCL PGM(ITRUST/ITRSSLERR)")
    assert [c for c in log if not c.startswith("CHKOBJ")][-1] == "RMVLIBLE LIB(ITRUST)"   # then the history tables
    crtcmd = clsource.parse_statement(next(c for c in log if c.startswith("CRTCMD CMD(ITRUST/CHKTLSTRST)")))
    assert (crtcmd.text("PGM"), crtcmd.text("PRDLIB"), crtcmd.text("HLPPNLGRP"), crtcmd.text("HLPID")) == (
        "ITRUST/ITRCHKC", "ITRUST", "ITRUST/ITRHELP", "*CMD")
    dtaara = clsource.parse_statement(next(c for c in log if c.startswith("CRTDTAARA")))
    assert dtaara.text("VALUE") == PYTHON and dtaara.text("LEN") == str(objects.PYTHON_DTAARA_LEN)


def test_install_twice_creates_nothing_new(ibmi):
    sim, catalog, session = ibmi
    Installer(session, "ITRUST").install(PYTHON)
    first_run = len(sim.cl_log)
    report = Installer(session, "ITRUST").install(PYTHON + "-moved")
    second = sim.cl_log[first_run:]
    assert report.created == [] and len(report.present) == len(EXPECTED) - 1 + len(HISTORY_TABLES)
    assert report.updated == ["ITRUST/ITRPYTHON *DTAARA"]
    assert set(_verbs(second)) == {"CHKOBJ", "CHGDTAARA"}
    assert catalog.objects == EXPECTED
    assert "VALUE('%s-moved')" % PYTHON in next(c for c in second if c.startswith("CHGDTAARA"))


def test_replace_recreates_objects(ibmi):
    sim, catalog, session = ibmi
    Installer(session, "ITRUST").install(PYTHON)
    start = len(sim.cl_log)
    report = Installer(session, "ITRUST").install(PYTHON, replace=True)
    verbs = _verbs(sim.cl_log[start:])
    assert verbs.count("DLTPGM") == 6 and verbs.count("DLTCMD") == 3 and "DLTMSGF" in verbs
    assert "CRTLIB" not in verbs and "CRTSRCPF" not in verbs      # library and source file are kept
    assert len(report.created) == len(EXPECTED) - 3 and catalog.objects == EXPECTED
    assert HISTORY_TABLES <= set(report.present)                   # the history's tables are never replaced


def test_gskit_prober_is_compiled_from_the_c_stream_file(ibmi):
    sim, catalog, session = ibmi
    report = Installer(session, "ITRUST").install(PYTHON)
    crtbndc = [clsource.parse_statement(c) for c in sim.cl_log if c.startswith("CRTBNDC ")]
    assert len(crtbndc) == 1 and crtbndc[0].text("PGM") == "ITRUST/GSKPROBE"
    source = crtbndc[0].text("SRCSTMF")
    assert source.endswith("gskprobe.c") and os.path.isfile(source)
    with open(source, encoding="ascii") as handle:                # plain ASCII, as CRTBNDC reads it
        text = handle.read()
    assert "#include <gskssl.h>" in text and "gsk_secure_soc_init(session)" in text
    # the prerequisites are checked first: the compiler's command and QSYSINC/H(GSKSSL)
    assert "CHKOBJ OBJ(QSYS/CRTBNDC) OBJTYPE(*CMD)" in sim.cl_log
    assert "CHKOBJ OBJ(QSYSINC/H) OBJTYPE(*FILE) MBR(GSKSSL)" in sim.cl_log
    assert report.gskit_proof == "available: ITRUST/GSKPROBE" and report.warnings == []
    assert "ITRUST/GSKPROBE *PGM" in report.created


@pytest.mark.parametrize("missing, words", [
    (("QSYS/CRTBNDC", "*CMD"), "the ILE C compiler (command CRTBNDC"),
    (("QSYSINC/H", "*FILE"), "the system include files (library QSYSINC, 5770-SS1 option 13"),
])
def test_without_a_c_compiler_or_qsysinc_the_rest_installs_and_says_so(ibmi, missing, words):
    sim, catalog, session = ibmi
    catalog.system.discard(missing)
    report = Installer(session, "ITRUST").install(PYTHON)
    assert catalog.objects == EXPECTED - {("ITRUST/GSKPROBE", "*PGM")}
    assert not any(c.startswith("CRTBNDC ") for c in sim.cl_log)
    assert len(report.warnings) == 1 and words in report.warnings[0]
    assert "ITRUST/GSKPROBE (the GSKit prober) was not built" in report.warnings[0]
    assert "`ibmi-trust install-objects --library ITRUST` again" in report.warnings[0]
    assert report.gskit_proof.startswith("unavailable: ") and words in report.gskit_proof
    catalog.system.add(missing)                                   # installed later: a re-run builds it
    again = Installer(session, "ITRUST").install(PYTHON)
    assert again.created == ["ITRUST/GSKPROBE *PGM"] and again.warnings == []


def test_a_failed_compile_is_a_warning_not_a_failed_install(ibmi):
    sim, catalog, session = ibmi
    sim._cl_rules.insert(0, ("CRTBNDC ", lambda command: "CZS2113"))     # before the catalog records it
    report = Installer(session, "ITRUST").install(PYTHON)
    assert catalog.objects == EXPECTED - {("ITRUST/GSKPROBE", "*PGM")}
    assert "CRTBNDC failed with CZS2113" in report.warnings[0] and "spooled file GSKPROBE" in report.warnings[0]
    assert report.gskit_proof.startswith("unavailable: CRTBNDC failed")


def test_the_simulator_itself_refuses_crtbndc_without_the_compiler(tmp_path):
    sim = Simulator(tmp_path)
    sim.c_compiler_installed = False
    session = IbmiSession(connection=sim.connection())
    report = Installer(session, "ITRUST").install(PYTHON)       # no catalog: the simulator's own CHKOBJ
    assert report.gskit_proof.startswith("unavailable: the ILE C compiler")
    with pytest.raises(IbmiApiError) as info:
        session.run_cl("CRTBNDC PGM(ITRUST/GSKPROBE) SRCSTMF('%s')" % os.path.join(
            os.path.dirname(objects.__file__), "..", "..", "cl", "gskprobe.c"))
    assert info.value.message_id == "CPF0006"


def test_message_file_is_all_or_nothing(ibmi):
    sim, catalog, session = ibmi
    sim.fail_cl("ADDMSGD MSGID(ITR0007)", "CPF2419")
    with pytest.raises(IbmiApiError) as info:
        Installer(session, "ITRUST").install(PYTHON)
    assert info.value.message_id == "CPF2419"
    assert sim.cl_log[-1] == "DLTMSGF MSGF(ITRUST/ITRMSGF)"
    assert ("ITRUST/ITRMSGF", "*MSGF") not in catalog.objects
    sim._cl_rules = [r for r in sim._cl_rules if not r[0].startswith("ADDMSGD")]
    Installer(session, "ITRUST").install(PYTHON)                 # a re-run completes the install
    assert catalog.objects == EXPECTED


def test_uninstall_removes_exactly_what_install_created(ibmi):
    sim, catalog, session = ibmi
    catalog.objects.add(("QSYS/ITRUST", "*LIB"))                  # the library existed before
    catalog.objects.add(("ITRUST/MYPGM", "*PGM"))                 # and holds someone else's program
    created = set(Installer(session, "ITRUST").install(PYTHON).created)
    report = Installer(session, "ITRUST").uninstall()
    assert set(report.deleted) == created - HISTORY_TABLES         # the history is data: kept, and said so
    assert any("history tables were kept" in w and "ITRUST/ITRHSHK" in w for w in report.warnings)
    assert catalog.objects == {("QSYS/ITRUST", "*LIB"), ("ITRUST/MYPGM", "*PGM")}
    again = Installer(session, "ITRUST").uninstall()
    assert again.deleted == []                                     # idempotent too
    Installer(session, "ITRUST").install(PYTHON)
    full = Installer(session, "ITRUST").uninstall(delete_library=True)
    assert "ITRUST *LIB" in full.deleted and catalog.objects == set()
    assert not any(lib == "ITRUST" for lib, _ in sim.history.tables)   # DLTLIB took them


def test_a_job_of_ccsid_65535_still_gets_converted_sources(ibmi):
    # IBM i globalization, "Database management": CRTSRCPF/CRTPF without CCSID() take the
    # job's; with 65535 CPYFRMSTMF copies the ASCII sources unconverted.
    sim, catalog, session = ibmi
    sim.job_ccsid = 65535
    Installer(session, "ITRUST").install(PYTHON)
    assert sim.unconverted == []
    assert sim.file_ccsids == {"ITRUST/QITRSRC": 37, "QTEMP/ITRRESULT": 37}


def test_install_records_the_library_for_entry_points_outside_cl(ibmi, install_record_in_tmp):
    import json

    from ibmi_trust.ibmi import install_record

    sim, catalog, session = ibmi
    report = Installer(session, "itrust").install(PYTHON)
    assert report.record == str(install_record_in_tmp)
    data = json.loads(install_record_in_tmp.read_text())
    assert data["schema_version"] == 1 and data["library"] == "ITRUST" and data["python"] == PYTHON
    assert messages.message_file() == "ITRUST/ITRMSGF"          # no IBMI_TRUST_LIBRARY needed
    assert install_record.library("OTHER") == "OTHER"           # --library wins
    Installer(session, "ITRUST").uninstall()
    assert not install_record_in_tmp.exists()


def test_record_beside_the_interpreter_the_cl_commands_run(monkeypatch, tmp_path):
    from ibmi_trust.ibmi import install_record

    monkeypatch.delenv("IBMI_TRUST_INSTALL_RECORD")
    venv_python = str(tmp_path / "venv" / "bin" / "python3.9")
    assert install_record.record_path(venv_python) == str(tmp_path / "venv" / "etc" / "ibmi-trust" / "install.json")
    assert install_record.record_path() == os.path.join(sys.prefix, "etc", "ibmi-trust", "install.json")


def test_job_user_without_a_password_is_named_with_the_fix(ibmi):
    sim, catalog, session = ibmi
    sim.add_profile("ITRUSTJOB", password_none=True)
    report = Installer(session, "ITRUST").install(PYTHON, job_user="itrustjob")
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert "ITRUSTJOB has PASSWORD(*NONE)" in warning and "CWBSY0003" in warning
    assert "?CHGUSRPRF USRPRF(ITRUSTJOB)" in warning and "ibmi-trust doctor" in warning
    ok = Installer(session, "ITRUST").install(PYTHON, job_user="SIMUSER")
    assert ok.warnings == []


def test_library_names_are_checked(ibmi):
    _sim, _catalog, session = ibmi
    for bad in ("", "QGPL", "TOOLONGNAME", "MY LIB", "1ABC", "LIB)CRTLIB"):
        with pytest.raises(ConfigError):
            Installer(session, bad)


def test_cli_with_an_injected_session(ibmi):
    sim, catalog, session = ibmi
    runner = CliRunner()
    result = runner.invoke(cli, ["install-objects", "--library", "itrust", "--python", PYTHON],
                           obj={"ibmi_session": session})
    assert result.exit_code == 0, result.output
    assert "created          ITRUST/CHKTLSTRST *CMD" in result.output
    again = runner.invoke(cli, ["install-objects", "--library", "ITRUST", "--json"], obj={"ibmi_session": session})
    assert again.exit_code == 0 and '"created": []' in again.output
    from json_schemas import validate

    assert validate(json.loads(again.output))["kind"] == "install-objects"
    gone = runner.invoke(cli, ["uninstall-objects", "--library", "ITRUST"], obj={"ibmi_session": session})
    assert gone.exit_code == 0 and "deleted          ITRUST/ITRMSGF *MSGF" in gone.output
    assert catalog.objects == {("QSYS/ITRUST", "*LIB")}


def test_cli_off_ibmi_is_a_clean_config_error(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    for name in ("install-objects", "uninstall-objects"):
        result = CliRunner().invoke(cli, [name, "--library", "ITRUST"])
        assert result.exit_code == 3
        assert "runs on IBM i only" in result.output and "Traceback" not in result.output


# -- live: a real IBM i, a scratch library -----------------------------------------
@pytest.mark.live
@pytest.mark.skipif(os.environ.get("IBMI_TRUST_LIVE") != "1" or not os.environ.get("IBMI_TRUST_LIVE_LIBRARY"),
                    reason="needs IBMI_TRUST_LIVE=1 and IBMI_TRUST_LIVE_LIBRARY=<scratch library> on IBM i")
def test_live_install_run_and_uninstall():
    """Install into a scratch library, run DSPSSLRC through the real CL
    programs (Qshell, results file, job-log messages), uninstall."""
    library = os.environ["IBMI_TRUST_LIVE_LIBRARY"]
    with IbmiSession() as session:
        installer = Installer(session, library)
        created = set(installer.install(os.environ.get("IBMI_TRUST_LIVE_PYTHON") or sys.executable).created)
        try:
            assert Installer(session, library).install(sys.executable).created == []
            session.run_cl("%s/DSPSSLRC CODE(-23)" % library)              # ends with *COMP ITR0302
            with pytest.raises(IbmiApiError):
                session.run_cl("%s/DSPSSLRC CODE(424242)" % library)      # ends with *ESCAPE ITR0303
        finally:
            deleted = set(Installer(session, library).uninstall().deleted)
        assert deleted == created - {"%s *LIB" % library.upper()}


def test_install_makes_a_shared_history_directory_for_the_profiles_named(ibmi, tmp_path, install_record_in_tmp):
    import json
    import stat

    from ibmi_trust.history import location

    sim, catalog, session = ibmi
    sim.add_profile("NIGHTLY", password_none=False)
    data_dir = tmp_path / "shared-history"
    report = Installer(session, "ITRUST").install(PYTHON, job_user="nightly", history_users=("OPER1", "*PUBLIC"),
                                                  data_dir=str(data_dir))
    chgaut = [clsource.parse_statement(c) for c in sim.cl_log if c.startswith("CHGAUT ")]
    assert [(s.text("OBJ"), s.text("USER"), s.text("DTAAUT"), s.text("OBJAUT")) for s in chgaut] == [
        (str(data_dir), user, "*RWX", "*NONE") for user in ("NIGHTLY", "OPER1", "*PUBLIC")]
    for stmt in chgaut:
        assert not clcheck.statement_problems("cl_log", stmt, clcheck.IBM_COMMANDS)
    assert stat.S_IMODE(os.stat(str(data_dir)).st_mode) & 0o007 == 0       # no access for others by mode
    assert (data_dir / "history.sqlite").is_file()                        # made now: its authority comes from the dir
    record = json.loads(install_record_in_tmp.read_text())
    assert record["data_dir"] == str(data_dir)
    # every entry point that runs this interpreter now finds the same history
    assert location.default() == location.Location("sqlite", str(data_dir / "history.sqlite"),
                                                    "the install's data directory")
    assert not report.warnings


def test_a_bad_history_profile_name_is_refused_before_any_cl(ibmi, tmp_path):
    sim, catalog, session = ibmi
    with pytest.raises(ConfigError, match="not a user profile"):
        Installer(session, "ITRUST").install(PYTHON, history_users=("bad name);DLTLIB(X",), data_dir=str(tmp_path / "d"))
    assert sim.cl_log == []
