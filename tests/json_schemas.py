"""Validate JSON documents against docs/schema/ (no tests here): the schema
is picked by the document's `kind`; cross-file references resolve through a
registry of every schema in the folder."""
import json
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schema"
MINE = ("check", "fix", "verify", "needs", "probe", "store-change", "store-list", "store-backup", "store-backups",
        "store-apps", "doctor", "explain", "install-objects")


def schemas() -> dict:
    return {path.name[:-len(".schema.json")]: json.loads(path.read_text())
            for path in sorted(SCHEMA_DIR.glob("*.schema.json"))}


def validator(kind: str):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    everything = schemas()
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in everything.values() if "$id" in schema)
    return Draft202012Validator(everything[kind], registry=registry)


def validate(document: dict) -> dict:
    """`document` against the schema of its kind; returns it (AssertionError lists every problem)."""
    assert document.get("schema_version") == 1, document.get("schema_version")
    errors = sorted(validator(document["kind"]).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join("%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:10])
    return document
