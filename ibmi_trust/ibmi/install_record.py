"""The install record: which library install-objects filled, for every entry point.

The CL commands tell the Python side their library (IBMI_TRUST_LIBRARY, set by
ITRRUNI). Nothing else does: ibmi-trust run over SSH, from cron or from the
Ansible playbook sends SNDPGMMSG through the database server job, whose
library list (QUSRLIBL and its job description's) does not hold the install
library, so `MSGF(*LIBL/ITRMSGF)` ends in CPF2407 "message file not found"
(IBM CL reference, SNDPGMMSG errors). Hence:

- install-objects writes this record beside the interpreter the CL commands
  run (the one in data area ITRPYTHON):
      <that interpreter's prefix>/etc/ibmi-trust/install.json
  so every entry point that runs the same interpreter (venv) finds it;
  IBMI_TRUST_INSTALL_RECORD names another file;
- the library comes from, in this order: --library LIB, IBMI_TRUST_LIBRARY,
  the record; without any, a clear error that says how to get one. The
  message file is always qualified: never *LIBL.

The record is JSON with schema_version (docs/json-schema.md).
"""
import datetime
import json
import os
import sys
from typing import Optional

from ibmi_trust.errors import ConfigError

SCHEMA_VERSION = 1
ENV_RECORD = "IBMI_TRUST_INSTALL_RECORD"
ENV_LIBRARY = "IBMI_TRUST_LIBRARY"
RELATIVE = os.path.join("etc", "ibmi-trust", "install.json")


def record_path(python: Optional[str] = None) -> str:
    """Where the record of the interpreter `python` (default: this one) lives."""
    configured = os.environ.get(ENV_RECORD, "").strip()
    if configured:
        return configured
    if python:
        prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))   # .../venv/bin/python3 -> .../venv
    else:
        prefix = sys.prefix
    return os.path.join(prefix, RELATIVE)


def write(library: str, python: str, data_dir: str = "") -> str:
    """Record `library` (and the shared history directory `data_dir`) for the
    interpreter `python`; returns the file written. OSError (no authority to the
    prefix) is the caller's to report."""
    from ibmi_trust import __version__

    path = record_path(python)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = {"schema_version": SCHEMA_VERSION, "library": library, "python": python,
            "installed": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ibmi_trust_version": __version__}
    if data_dir:
        data["data_dir"] = data_dir
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)
    return path


def read() -> Optional[dict]:
    """This interpreter's record, or None (missing or not readable as a record)."""
    try:
        with open(record_path(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("library") else None


def remove(library: str) -> Optional[str]:
    """Delete the record if it names `library`; returns the file removed."""
    data = read()
    if data is None or str(data.get("library", "")).upper() != library.upper():
        return None
    path = record_path()
    try:
        os.unlink(path)
    except OSError:
        return None
    return path


def library(explicit: str = "") -> str:
    """The install library: `explicit`, else $IBMI_TRUST_LIBRARY, else the record."""
    from ibmi_trust.ibmi.objects import check_library_name

    for value, where in ((explicit, "--library"), (os.environ.get(ENV_LIBRARY, ""), ENV_LIBRARY)):
        if value and value.strip():
            return _checked(check_library_name, value, where)
    data = read()
    if data is not None:
        return _checked(check_library_name, str(data["library"]), "install record %s" % record_path())
    raise ConfigError("the ibmi-trust library is not known here (no install record at %s)" % record_path(),
                      hint="run `ibmi-trust install-objects --library LIB` with this interpreter, "
                           "or pass --library LIB")


def _checked(check, value: str, where: str) -> str:
    try:
        return check(value)
    except ConfigError as exc:
        raise ConfigError("%s: %s" % (where, exc.message), hint=exc.hint) from None
