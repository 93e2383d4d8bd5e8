"""The SQL statements the package runs, read from the shipped sql/*.sql files.

Each file holds one statement after a header of `--` comment lines (purpose,
IBM documentation URL, parameters). The text sent to the database is the file
without its comment lines and without a trailing semicolon, so operators can
run the very same statement (ACS "Run SQL Scripts", STRSQL, db2 utility).
"""
from ibmi_trust.resources import list_names, read_text


def statement(name: str) -> str:
    """The executable text of sql/<name> (".sql" may be omitted)."""
    if not name.endswith(".sql"):
        name += ".sql"
    lines = [line.rstrip() for line in read_text("sql", name).splitlines()]
    body = "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("--"))
    return body.strip().rstrip(";").strip()


def statement_names():
    """Every shipped statement file name (for tests and docs)."""
    return list_names("sql", ".sql")


LIBRARY_PLACEHOLDER = "ITRLIB"


def statement_in(name: str, library: str) -> str:
    """sql/<name> with its ITRLIB. qualifiers naming `library` (checked to be a
    library name first, so nothing but a name ever enters the text)."""
    import re

    from ibmi_trust.ibmi.objects import check_library_name

    lib = check_library_name(library)
    return re.sub(r"\b%s\." % LIBRARY_PLACEHOLDER, lambda _m: lib + ".", statement(name))
