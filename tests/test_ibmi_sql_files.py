"""sql/*.sql: one documented statement per file, the only SQL the package sends."""
import os
import re

import pytest

from ibmi_simulator import Simulator
from ibmi_trust.ibmi.sql_text import statement, statement_names
from ibmi_trust.resources import read_text

NAMES = statement_names()
PACKAGE_IBMI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ibmi_trust", "ibmi")


SAMPLE_PARAMETERS = {"certificate_info.sql": ("*NOPWD", "*SYSTEM"), "qcmdexc.sql": ("DSPLIBL",),
                     "services_info.sql": ("CERTIFICATE_USAGE_INFO",), "user_profile.sql": ("SIMUSER",)}


def test_the_expected_statements_ship():
    assert {"certificate_info.sql", "certificate_usage_info.sql", "expiring_cas.sql", "tls_system_values.sql",
            "qcmdexc.sql", "cl_escape_message.sql", "services_info.sql", "user_profile.sql"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_header_names_purpose_ibm_doc_and_parameters(name):
    header = [line for line in read_text("sql", name).splitlines() if line.startswith("--")]
    text = "\n".join(header)
    assert re.search(r"^-- Purpose: \S", text, re.M), name
    assert re.search(r"^-- IBM doc: https://\S+", text, re.M), name
    assert re.search(r"^-- Parameters:", text, re.M), name


@pytest.mark.parametrize("name", NAMES)
def test_parameter_markers_match_the_documented_parameters(name):
    header = read_text("sql", name)
    declared = re.findall(r"^--\s+(\d+)\s+\S", header, re.M)
    markers = statement(name).count("?")
    if "Parameters: none" in header:
        assert markers == 0
    else:
        assert markers == len(declared) > 0


def _history_sample(name):
    """Parameters of the right types for a sql/history_*.sql statement."""
    import datetime

    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    sha = "ab" * 32
    samples = {
        "history_insert_run.sql": ("mx.example.test", 25, "smtp", when, "check", 60, 62, "OK", "capath:/x"),
        "history_insert_handshake.sql": (1, "mx.example.test", 25, "smtp", when, "127.0.0.1", None, "ecdsa",
                                         "TLSv1.3", "ok", sha),
        "history_insert_run_chain.sql": (1, sha, "trusted", 0),
        "history_insert_chain_cert.sql": (sha, 0, sha),
        "history_insert_cert.sql": (sha, b"0\x00"),
        "history_summary.sql": ("mx.example.test", 25, "smtp", when), "history_runs.sql": ("mx.example.test", 25, "smtp", when),
        "history_run_summary.sql": (1,), "history_run.sql": (1,), "history_run_chains.sql": (1,),
        "history_chain_certs.sql": (sha,),
        "history_prune_handshakes.sql": (when,), "history_prune_run_chains.sql": (when,),
        "history_prune_runs.sql": (when,),
    }
    return samples.get(name, ())


@pytest.mark.parametrize("name", NAMES)
def test_every_statement_is_known_to_the_simulator(tmp_path, name):
    sim = Simulator(tmp_path)
    if name.startswith("history_") and not name.startswith("history_create_") or name.endswith("_index.sql"):
        for create in NAMES:                              # the tables install-objects makes, in the placeholder library
            if create.startswith("history_create_") and not create.endswith("_index.sql"):
                sim.execute(statement(create), ())
    params = _history_sample(name) if name.startswith("history_") else SAMPLE_PARAMETERS.get(name, ())
    columns, _rows = sim.execute(statement(name), params)
    text = statement(name)
    assert columns or text.startswith("CALL ") or not text.startswith("SELECT")


@pytest.mark.parametrize("name", NAMES)
def test_every_marker_of_a_query_is_typed_with_cast(name):
    # Db2 for i cannot infer the type of a marker that is a named argument of a table
    # function (SQL0418); procedure parameters type their markers themselves.
    text = statement(name)
    if text.startswith("CALL "):
        return
    assert text.count("?") == len(re.findall(r"CAST\(\? AS [A-Z]+(\(\d+[KMG]?\))?\)", text)), name


def test_the_simulator_refuses_an_untyped_marker_as_db2_does(tmp_path):
    from ibmi_simulator import Error

    sim = Simulator(tmp_path)
    untyped = statement("certificate_info.sql").replace("CAST(? AS VARCHAR(1024))", "?")
    sim.on_sql("certificate_info.sql", lambda params: (["X"], []))   # registered under the typed text
    sim._sql_handlers[untyped] = sim._sql_handlers[statement("certificate_info.sql")]
    with pytest.raises(Error, match="SQL0418"):
        sim.execute(untyped, ("*NOPWD", "*SYSTEM"))


def test_no_sql_text_inline_in_the_backend():
    # SQL shapes, not the CL words SELECT/ENDSELECT that the CL checker must name
    pattern = re.compile(r"\bSELECT\b.*\bFROM\b|\bFROM\s+(TABLE\s*\()?QSYS2\.|\bCALL\s+QSYS2?\.", re.IGNORECASE)
    offenders = []
    for file_name in os.listdir(PACKAGE_IBMI):
        if file_name.endswith(".py"):
            with open(os.path.join(PACKAGE_IBMI, file_name), encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if pattern.search(line) and not line.lstrip().startswith(("#", '"', "-")) and "`" not in line:
                        offenders.append("%s:%d: %s" % (file_name, number, line.strip()))
    assert offenders == []
