"""IbmiSession against the simulator: SQL, CL through QSYS2.QCMDEXC (or XMLSERVICE), error translation.

The real itoolkit DatabaseTransport runs unchanged on the simulated
connection, so the XML asserted here is what itoolkit really sends.
"""
import gc
import xml.etree.ElementTree as ET

import pytest

from ibmi_simulator import Error, InterfaceError, SimulatorDrift
from ibmi_trust.errors import ConfigError, IbmiApiError
from ibmi_trust.ibmi import failures
from ibmi_trust.ibmi.session import IbmiSession


def test_run_cl_goes_through_qcmdexc_on_the_odbc_connection_without_xmlservice(sim, session):
    sim.xmlservice_installed = False          # QXMLSERV ships with 5770-DG1: not always there
    session.run_cl("CRTLIB LIB(ITRUST) TEXT('ibmi-trust')")
    assert sim.cl_log == ["CRTLIB LIB(ITRUST) TEXT('ibmi-trust')"]
    assert sim.sql_log == [("CALL QSYS2.QCMDEXC(?)", ("CRTLIB LIB(ITRUST) TEXT('ibmi-trust')",))]
    assert sim.xml_log == []


def test_xmlservice_cl_runner_sends_one_cmd_with_exec_system(sim, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_CL_RUNNER", "xmlservice")
    session = IbmiSession(connection=sim.connection())
    session.run_cl("CRTLIB LIB(ITRUST) TEXT('ibmi-trust')")
    assert sim.cl_log == ["CRTLIB LIB(ITRUST) TEXT('ibmi-trust')"]
    sql, params = sim.sql_log[-1]
    assert sql == "call QXMLSERV.iPLUGR512K(?,?,?)"     # itoolkit's pyodbc path (ref 19.2)
    assert params[:2] == ("*na", "*here *cdata")
    cmd = ET.fromstring(params[2]).find("cmd")
    assert cmd.get("exec") == "system" and cmd.get("error") == "fast"
    assert cmd.text == "CRTLIB LIB(ITRUST) TEXT('ibmi-trust')"


def test_unknown_cl_runner_is_a_config_error(sim, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_CL_RUNNER", "rexx")
    with pytest.raises(ConfigError):
        IbmiSession(connection=sim.connection())


def test_failed_qcmdexc_takes_the_cpf_id_from_the_job_log(sim, session):
    sim.fail_cl("CHKOBJ", "CPF9801")
    with pytest.raises(IbmiApiError) as caught:
        session.run_cl("CHKOBJ OBJ(ITRUST/ITRUST) OBJTYPE(*CMD)")
    assert caught.value.message_id == "CPF9801"
    assert sim.sql_log[-1][0].startswith("SELECT MESSAGE_ID, MESSAGE_TEXT")


def test_failed_qcmdexc_with_the_id_in_the_sql_error_needs_no_job_log(sim, session):
    sim.fail_sql("qcmdexc.sql", "SQL0443", -443, text="CPF9810 Library NOSUCH not found.")
    with pytest.raises(IbmiApiError) as caught:
        session.run_cl("CHKOBJ OBJ(QSYS/NOSUCH) OBJTYPE(*LIB)")
    assert caught.value.message_id == "CPF9810"
    assert not any(sql.startswith("SELECT MESSAGE_ID") for sql, _p in sim.sql_log)


def test_run_cl_failure_names_the_command_and_cpf_id(sim, session):
    sim.fail_cl("CHKOBJ", "CPF9801")
    with pytest.raises(IbmiApiError) as caught:
        session.run_cl("CHKOBJ OBJ(ITRUST/ITRUST) OBJTYPE(*CMD)")
    err = caught.value
    assert (err.api, err.message_id) == ("CHKOBJ", "CPF9801")
    assert str(err) == "CHKOBJ failed: CPF9801"
    assert err.hint == "the object does not exist"
    assert err.exit_code == 4


def test_on_cl_handler_decides_per_command(sim, session):
    created = set()

    def chkobj(command):
        return None if "ITRUST" in created else "CPF9801"

    sim.on_cl("CHKOBJ", chkobj)
    sim.on_cl("CRTMSGF", lambda command: created.add("ITRUST"))
    with pytest.raises(IbmiApiError):
        session.run_cl("CHKOBJ OBJ(QGPL/ITRUST) OBJTYPE(*MSGF)")
    session.run_cl("CRTMSGF MSGF(QGPL/ITRUST)")
    session.run_cl("CHKOBJ OBJ(QGPL/ITRUST) OBJTYPE(*MSGF)")
    assert len(sim.cl_log) == 3


def test_command_text_with_a_message_id_is_not_mistaken_for_the_failure(sim, session):
    sim.fail_cl("SNDPGMMSG", "CPF2469")
    with pytest.raises(IbmiApiError) as caught:
        session.run_cl("SNDPGMMSG MSGID(CPF9898) MSGF(QCPFMSG) MSGDTA('x') TOPGMQ(*EXT)")
    assert caught.value.message_id == "CPF2469"


def test_query_by_file_name_returns_dicts(sim, session):
    rows = session.query("tls_system_values.sql")
    assert {r["SYSTEM_VALUE_NAME"] for r in rows} == {"QSSLPCL", "QSSLCSL", "QSSLCSLCTL"}
    assert sim.sql_log[-1][0].startswith("SELECT SYSTEM_VALUE_NAME, CURRENT_CHARACTER_VALUE")
    assert "--" not in sim.sql_log[-1][0]        # header comments are not sent


def test_unknown_sql_fails_loudly(session):
    with pytest.raises(SimulatorDrift):
        session.query("SELECT 1 FROM SYSIBM.SYSDUMMY1")


def test_sql_error_is_classified_by_message_id_and_sqlcode(sim, session):
    sim.fail_sql("tls_system_values.sql", "SQL0551", -551, sqlstate="42501", text="Not authorized to object.")
    with pytest.raises(IbmiApiError) as caught:
        session.query("tls_system_values.sql")
    err = caught.value
    assert err.api == "tls_system_values.sql" and err.message_id == "SQL0551"
    assert "SQLCODE -551" in str(err) and "SQLSTATE 42501" in str(err)
    assert "*SECADM" in err.hint


def test_transport_never_closes_the_shared_connection(sim, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_CL_RUNNER", "xmlservice")
    conn = sim.connection()
    session = IbmiSession(connection=conn)
    session.run_cl("DSPLIBL")
    transport = session.transport
    transport.close()                      # itoolkit closes its connection here ...
    del transport
    gc.collect()
    assert not conn.closed                 # ... but only the borrowed wrapper
    assert session.query("tls_system_values.sql")
    session.close()
    assert not conn.closed                 # an injected connection belongs to the caller


def test_off_ibmi_a_session_needs_an_injected_connection(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    with pytest.raises(ConfigError):
        IbmiSession()


def test_unknown_transport_is_a_config_error(sim):
    with pytest.raises(ConfigError):
        IbmiSession(connection=sim.connection(), transport="http")


def test_direct_transport_off_ibmi_is_a_clear_error(sim, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_CL_RUNNER", "xmlservice")
    session = IbmiSession(connection=sim.connection(), transport="direct")
    with pytest.raises(IbmiApiError) as caught:
        session.run_cl("DSPLIBL")
    assert "Not supported on this platform" in str(caught.value)
    assert sim.cl_log == []


# -- translation of recorded driver and XMLSERVICE replies ------------------------------
def test_pyodbc_text_without_id_falls_back_to_native_sqlcode():
    exc = Error("42S02", "[42S02] [IBM][System i Access ODBC Driver]Table not found (-204) (SQLExecDirectW)")
    err = failures.from_db_error(exc, "certificate_info.sql")
    assert err.message_id == "SQL0204"
    assert "PTF" in err.hint


def test_current_user_without_password_gets_the_documented_hint():
    # ref 21.1: ibmi-oss-issues #77
    exc = InterfaceError("28000", "[28000] [IBM][System i Access ODBC Driver]Communication link failure. "
                         "comm rc=8003 - CWBSY0003 - Password for user *CUR is not correct (8003) (SQLDriverConnect)")
    err = failures.from_db_error(exc, "connect (DSN=*LOCAL)")
    assert err.message_id == "CWBSY0003"
    assert str(err).startswith("connect (DSN=*LOCAL) failed: CWBSY0003, SQLSTATE 28000, SQLCODE 8003")
    assert "PASSWORD(*NONE)" in err.hint and "doctor" in err.hint


# Recorded replies: IBM/python-itoolkit tests/test_pgm_error.py and test_cmd_error.py.
PGM_ERROR = """<?xml version="1.0" ?>
<xmlservice>
<pgm error="fast" name="ZZCALLNOT" var="zzcall">
    <error>*** error XMLSERVICE ZZCALLNOT</error>
    <version>XML Toolkit 1.9.9</version>
    <error>
        <errnoxml>1100016</errnoxml>
        <xmlerrmsg>XML run pgm failed</xmlerrmsg>
        <xmlhint><![CDATA[<pgm error="fast" name="ZZCALLNOT" var="zzcall"><parm io="b secret]]></xmlhint>
    </error>
    <error>
        <errnoxml>1000005</errnoxml>
        <xmlerrmsg>PASE resolve failed</xmlerrmsg>
        <xmlhint>ZZCALLNOT</xmlhint>
    </error>
    <jobinfo><jobname>QSQSRVR</jobname><jobuser>QUSER</jobuser></jobinfo>
</pgm>
</xmlservice>
"""

CMD_ERROR = """<?xml version="1.0" ?><xmlservice><cmd error="fast" exec="cmd" var="cmderror"><error>*** error CHGLIBL LIBL(FROGLEGLONG)</error>
<error>202</error>
<version>XML Toolkit 1.9.9</version>
<error>
<status>202</status>
<errnoxml>1100012</errnoxml>
<xmlerrmsg>XML run cmd failed</xmlerrmsg>
<xmlhint>CHGLIBL LIBL(FROGLEGLONG)</xmlhint>
</error>
</cmd>
</xmlservice>"""


def test_missing_program_reply_names_the_xmlservice_codes_not_the_hint():
    err = failures.xmlservice_failure("QYKMIMPK", PGM_ERROR, "zzcall")
    assert str(err) == "QYKMIMPK failed: XMLSERVICE 1100016 XML run pgm failed; XMLSERVICE 1000005 PASE resolve failed"
    assert "secret" not in str(err) and "not found" in err.hint


def test_failed_command_reply_of_exec_cmd():
    err = failures.xmlservice_failure("CHGLIBL", CMD_ERROR, "cmderror")
    assert str(err) == "CHGLIBL failed: XMLSERVICE 1100012 XML run cmd failed"
    assert err.message_id == ""


def test_itoolkit_parse_failures_are_named():
    reply = "<?xml version='1.0'?><xmlservice><error>*NODATA</error></xmlservice>"
    err = failures.xmlservice_failure("CRTLIB", reply, "cl")
    assert str(err) == "CRTLIB failed: *NODATA" and "65535" in err.hint


def test_success_reply_is_not_a_failure():
    reply = "<xmlservice><cmd var='cl'><success>+++ success X</success></cmd></xmlservice>"
    assert failures.xmlservice_failure("X", reply, "cl") is None
