"""Every JSON document has schema_version and a kind, and real outputs
validate against their JSON Schema in docs/schema/ (jsonschema)."""
import json

import pytest

from json_schemas import MINE, schemas, validate, validator
from scenarios import Scenario, invoke_cli


invoke = invoke_cli


def test_every_schema_is_a_valid_draft_2020_12_schema_with_an_id():
    from jsonschema import Draft202012Validator

    found = schemas()
    assert set(MINE) <= set(found)
    for name in MINE:
        Draft202012Validator.check_schema(found[name])
        assert found[name]["$id"].endswith("/%s.schema.json" % name)
        assert found[name].get("properties", {}).get("kind", {}).get("const", name) == name


def test_a_document_that_breaks_the_contract_is_caught():
    bad = {"schema_version": 1, "kind": "store-backup", "store": "capath:/x", "backup": {"id": 3}}
    assert list(validator("store-backup").iter_errors(bad))
    assert list(validator("check").iter_errors({"schema_version": 1, "kind": "check", "status": "FINE"}))


def test_check_fix_needs_probe_and_verify_documents_validate(tmp_path):
    with Scenario("partial", tmp_path) as sc:
        check = validate(json.loads(invoke("check", *sc.cli_args("--json", "--ssl-rc", "-23")).stdout))
        assert check["chains"] and check["next"]
        validate(json.loads(invoke("needs", *sc.cli_args("--json")).stdout))
        dry = validate(json.loads(invoke("fix", *sc.cli_args("--json", "--dry-run")).stdout))
        refused = validate(json.loads(invoke("fix", *sc.cli_args("--json", "--yes")).stdout))
        assert (dry["outcome"], refused["outcome"]) == ("dry-run", "refused")
        partial = validate(json.loads(invoke("fix", *sc.cli_args("--json", "--yes", "--partial")).stdout))
        assert partial["outcome"] == "partial" and partial["after"]["chains"]
        saved = tmp_path / "chains"
        validate(json.loads(invoke("probe", *sc.cli_args("--json", "--save-dir", saved)[:1],
                                   "--protocol", "smtp", *sc.resolve_args(), "--json", "--rate", "500",
                                   "--save-dir", saved).stdout))
        offline = validate(json.loads(invoke("check", *sc.cli_args("--json", "--chain", saved)).stdout))
        assert offline["probe"]["source"]["kind"] == "file"
        config = tmp_path / "targets.ini"
        config.write_text("[defaults]\nstore = bundle:%s\nprotocol = smtp\n\n[%s]\nresolve = %s\n\n"
                          "[unreachable.test:25]\nresolve = unreachable.test:25:127.0.0.9\n"
                          % (sc.store_path, sc.target_text, sc.resolve_args()[1]))
        verify = validate(json.loads(invoke("verify", "--config", config, "--json", "--timeout", "1", "--rate", "500",
                                            "--roots", sc.roots_path).stdout))
        assert verify["counts"]["UNKNOWN"] == 1


@pytest.fixture
def capath(pki, tmp_path, monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    directory = tmp_path / "certs"
    directory.mkdir()
    inter = tmp_path / "inter.pem"
    inter.write_bytes(pki["A"]["inter"].cert_pem())
    return "capath:%s" % directory, inter


def test_store_documents_validate(capath):
    store, inter = capath
    kinds = []
    for args in (["add", inter], ["list"], ["list", "--expiring", "9999", "--grep", "issuing"], ["backup"],
                 ["restore", "--list"], ["remove", "Test_Issuing_CA_A.pem", "--dry-run"], ["restore", "--dry-run"]):
        result = invoke("store", *args, "--store", store, "--json")
        assert result.exit_code == 0, result.stderr
        kinds.append(validate(json.loads(result.stdout))["kind"])
    assert kinds == ["store-change", "store-list", "store-list", "store-backup", "store-backups", "store-change",
                     "store-change"]


def test_doctor_and_explain_documents_validate(monkeypatch):
    monkeypatch.setenv("IBMI_TRUST_FORCE_PLATFORM", "other")
    validate(json.loads(invoke("doctor", "--json").stdout))
    validate(json.loads(invoke("explain", "-23", "--json").stdout))
