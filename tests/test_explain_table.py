"""The code table explain ships pre-built (ibmi_trust/explain/code_table.py)
is exactly ssl-return-codes.csv: the generator's output from the packaged CSV,
byte for byte, and row by row the CSV as csv.DictReader reads it."""
import csv
import importlib.util
import os

import pytest

from ibmi_trust.explain import code_table, codes

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGED_CSV = os.path.join(os.path.dirname(codes.__file__), codes.CSV_NAME)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_code_table", os.path.join(REPO, "scripts", "gen_code_table.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_module_is_what_the_generator_makes_of_the_packaged_csv():
    with open(code_table.__file__, encoding="utf-8") as handle:
        shipped = handle.read()
    assert shipped == _generator().render(PACKAGED_CSV), (
        "ibmi_trust/explain/code_table.py does not match %s: run python scripts/gen_code_table.py" % codes.CSV_NAME)


def test_every_row_and_field_is_the_csv_s():
    with open(PACKAGED_CSV, newline="", encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    rows = codes.table().rows
    assert len(rows) == len(expected) == 220
    for row, raw in zip(rows, expected):
        assert (row.api, row.code, row.constant, row.message_id, row.category, row.meaning, row.ibm_steps,
                row.source, row.notes) == (raw["api"], int(raw["code"]), raw["constant"],
                                           raw["message_id"].strip().upper(), raw["category"], raw["meaning"],
                                           raw["remedy"], raw["source"], raw["notes"])
        for alias in row.aliases:                # every alias is written in the row's notes, or derived from its name
            assert alias in raw["notes"] or alias == "GSK_OS400_" + row.constant[len("GSK_IBMI_"):], alias


def test_counterparts_come_from_gskit_equivalent_notes():
    table = codes.table()
    for ssl_code, gskit_code, confirmed in code_table.TWINS:
        notes = table.get(codes.SSL_API, ssl_code).notes
        assert ("GSKit equivalent %d" % gskit_code in notes or "GSKit analogue %d" % gskit_code in notes), ssl_code
        assert confirmed == ("equivalent %d?" % gskit_code not in notes and "analogue %d?" % gskit_code not in notes)
        assert table.get(codes.GSKIT_API, gskit_code) is not None


def test_the_generator_refuses_a_duplicate_code(tmp_path):
    with open(PACKAGED_CSV, encoding="utf-8") as handle:
        lines = handle.read().splitlines(True)
    broken = tmp_path / "dup.csv"
    broken.write_text("".join(lines + [lines[1]]), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate code"):
        _generator().render(str(broken))
