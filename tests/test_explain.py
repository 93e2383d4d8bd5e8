"""ibmi-trust explain: every code of the table resolves, aliases and message
IDs resolve, unsigned numbers get both readings, unknown codes fail cleanly."""
import json
import os

import pytest
from click.testing import CliRunner

from ibmi_trust.cli import cli
from ibmi_trust.explain import UnknownCode, explain
from ibmi_trust.explain.advice import _BY_CATEGORY, FIX, advice_for
from ibmi_trust.explain import codes
from ibmi_trust.explain.codes import CSV_NAME, GSKIT_API, SSL_API, table
from ibmi_trust.ibmi import messages

ROWS = table().rows
REFERENCE_CSV = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", CSV_NAME)


def test_table_is_the_reference_data():
    assert len(ROWS) == 220
    assert sum(1 for r in ROWS if r.api == SSL_API) == 32
    packaged = os.path.join(os.path.dirname(codes.__file__), CSV_NAME)
    if not os.path.exists(REFERENCE_CSV):
        pytest.skip("../shared/reference is not beside this checkout")
    with open(packaged, "rb") as a, open(REFERENCE_CSV, "rb") as b:
        assert a.read() == b.read(), "ibmi_trust/explain/%s drifted from the reference copy" % CSV_NAME


@pytest.mark.parametrize("row", ROWS, ids=lambda r: "%s%d" % (r.api, r.code))
def test_every_row_resolves_by_code_and_constant(row):
    query = ("+%d" % row.code) if row.api == GSKIT_API else str(row.code)
    found = explain(query)
    assert found.candidates == [row] and found.matched_by == "code"
    by_name = explain(row.constant.lower())
    assert by_name.candidates == [row] and by_name.matched_by == "constant"
    if row.message_id:
        by_id = explain(row.message_id)
        assert row in by_id.candidates and by_id.matched_by == "message ID"
        assert all(c.message_id == row.message_id for c in by_id.candidates)


def test_aliases_resolve():
    aliases = {a: r for r in ROWS for a in r.aliases}
    assert len(aliases) >= 35
    for name in ("GSK_OS400_ERROR_NOT_TRUSTED_ROOT", "GSK_AS400_ERROR_NOT_TRUSTED_ROOT",
                 "GSK_OS400_ERROR_CERTIFICATE_REVOKED", "GSK_ERROR_FIPS_NO_SUPPORTED",
                 "GSK_IBMI_ERROR_ASYNCHRONOUS_SOC_INIT", "GSK_UNKNOWN_CRIT_EXTNS", "GSK_NO_CRLS_FOUND"):
        assert name in aliases, name
    for name, row in aliases.items():
        found = explain(name)
        assert found.candidates == [row] and found.matched_by == "alias"
        assert row.constant in found.note
    assert "GSK_LAST_VALIDATION_ERROR" not in aliases        # an attribute ID, not a name of a code
    assert explain("GSK_OS400_ERROR_NOT_TRUSTED_ROOT").candidates[0].code == 6000


def test_unsigned_numbers_get_both_readings():
    only_ssl = explain("23")
    assert [c.key for c in only_ssl.candidates] == [(SSL_API, -23)]
    assert "absolute value" in only_ssl.note
    for query in ("RC(23)", "rc=23", "RC 23", " RC( 23 ) "):
        assert explain(query).candidates[0].constant == "SSL_ERROR_NOT_TRUSTED_ROOT", query
    bare = explain("10")
    assert [c.key for c in bare.candidates] == [(GSKIT_API, 10), (SSL_API, -10)] and bare.ranked
    logged = explain("RC(10)")
    assert [c.key for c in logged.candidates] == [(SSL_API, -10), (GSKIT_API, 10)] and logged.ranked
    assert "likelier" in bare.note and "likelier" in logged.note
    assert [c.code for c in explain("6000").candidates] == [6000]
    assert [c.code for c in explain("-23").candidates] == [-23]
    # the other sign as a fallback, said so
    other = explain("-6000")
    assert other.candidates[0].code == 6000 and "other sign" in other.note


def test_shared_message_id_shows_both_codes():
    found = explain("cpdbc84")
    assert sorted(c.code for c in found.candidates) == [404, 414]
    assert not found.ranked and "2 codes" in found.note
    assert sorted(c.code for c in explain("CPDBC8B").candidates) == [410, 415]


@pytest.mark.parametrize("query", ["999", "-3000", "SSL_ERROR_NOPE", "CPDBC00", "", "hello world", "ITR0002",
                                   "575060", "RC(6006)"])
def test_unknown_codes_raise(query):
    with pytest.raises(UnknownCode) as info:
        explain(query)
    assert info.value.reason


def test_counterparts_from_the_notes():
    twins = table().twins
    pairs = {(t.code.code, t.confirmed) for t in twins[(SSL_API, -23)]}
    assert pairs == {(6000, False)}
    assert {(t.code.code, t.confirmed) for t in twins[(SSL_API, -1)]} == {(402, True)}
    assert (-23, False) in {(t.code.code, t.confirmed) for t in twins[(GSKIT_API, 6000)]}


def test_advice_covers_every_category_and_names_the_fix_for_trust():
    assert {r.category for r in ROWS} <= set(_BY_CATEGORY)
    for row in ROWS:
        advice = advice_for(row)
        assert advice.cause and advice.remedy
        if row.category == "trust" and row.code not in (575025, 575027, 575028, 575029, 575049):
            assert FIX in advice.remedy and FIX in advice.commands, row.constant
    assert "expired" in advice_for(table().get(GSKIT_API, 107)).cause
    assert "--trust-root" in advice_for(table().get(GSKIT_API, 417)).remedy


def test_every_explanation_fits_its_message_without_truncation():
    fields = messages.catalog()[messages.CODE_MEANING].fields
    for row in ROWS:
        advice = advice_for(row)
        values = [row.api, str(row.code), row.constant, row.meaning, row.message_id or "-", row.family,
                  advice.cause, advice.remedy, row.ibm_steps]
        for value, width in zip(values, fields):
            assert len(messages.ascii_text(value)) <= width, (row.constant, value[:40], width)
        summary = "%s: %s" % (row.label(), row.meaning)
        assert len(summary) <= messages.catalog()[messages.CODE_EXPLAINED].fields[1], row.constant


# -- the command ------------------------------------------------------------------
def run(*args):
    return CliRunner().invoke(cli, ["explain"] + list(args))


def test_cli_text():
    result = run("-23")
    assert result.exit_code == 0, result.output
    assert "SSL_ERROR_NOT_TRUSTED_ROOT" in result.output and "ibmi-trust fix HOST:PORT" in result.output
    assert "GSKit 6000 GSK_IBMI_ERROR_NOT_TRUSTED_ROOT (inferred from the names)" in result.output
    both = run("10")
    assert both.exit_code == 0 and "(likelier reading)" in both.output and "(other reading)" in both.output


def test_cli_json():
    result = run("RC(23)", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["schema_version"] == 1 and data["matched_by"] == "absolute value"
    first = data["candidates"][0]
    assert (first["api"], first["code"], first["constant"]) == ("SSL_", -23, "SSL_ERROR_NOT_TRUSTED_ROOT")
    assert first["message_id"] is None and first["commands"][1] == FIX
    ids = json.loads(run("CPDBC84", "--json").output)
    assert [c["likelier"] for c in ids["candidates"]] == [False, False]


def test_cli_unknown_exits_2_without_traceback():
    result = CliRunner().invoke(cli, ["explain", "999"])
    assert result.exit_code == 2
    assert "999 is not a known SSL_ or GSKit return code" in result.output
    assert "Traceback" not in result.output
    assert run("--json", "NO_SUCH_CONSTANT").exit_code == 2


def test_cli_results_for_the_cl_command(tmp_path):
    path = str(tmp_path / "r.res")
    assert run("--cl-results", path, "10").exit_code == 0
    records = messages.read_results(path)
    assert [(r.msgid, r.type) for r in records] == [
        (messages.CODE_MEANING, "*DIAG"), (messages.CODE_MEANING, "*DIAG"), (messages.CODE_EXPLAINED, "*COMP")]
    assert records[0].data[2].rstrip() == "GSK_ERROR_ASN" and records[1].data[1].rstrip() == "-10"
    assert "likelier GSKit 10" in records[2].text()
    assert run("--cl-results", path, "-23").exit_code == 0
    assert messages.read_results(path)[-1].text() == (
        "Explained -23: SSL_ -23 SSL_ERROR_NOT_TRUSTED_ROOT: Server chain does not end in a CA that is "
        "trusted/enabled on this IBM i.")
    assert run("--cl-results", path, "--", "-4242").exit_code == 2
    assert [(r.msgid, r.type) for r in messages.read_results(path)] == [(messages.CODE_UNKNOWN, "*ESCAPE")]
