"""Where the history lives: `--history`, `IBMI_TRUST_HISTORY`, or a default.

    --no-history / IBMI_TRUST_HISTORY=off     no history
    --history PATH / IBMI_TRUST_HISTORY=PATH  an SQLite file
    --history db2:LIB                         tables in library LIB (IBM i; install-objects creates them)

The default (when neither is given):
1. the install's data directory, from the install record
   (<venv>/etc/ibmi-trust/install.json, key `data_dir`, written by
   install-objects): <data_dir>/history.sqlite. On IBM i this is the
   one place the CL commands (run by whoever types them), the nightly job
   (its own profile) and an interactive user all reach, whatever their
   home directories; install-objects creates it with the authority those
   profiles need (ibmi_trust.ibmi.objects, docs/ibmi-install.md);
2. else the per-user state directory: $XDG_STATE_HOME/ibmi-trust/history.sqlite,
   or ~/.local/state/ibmi-trust/history.sqlite (XDG Base Directory
   Specification: "state data that should persist between (application)
   restarts", such as history);
3. else (no home directory, as for many IBM i profiles, and no install
   record): no history, and a warning saying how to get one.
"""
import os
from typing import NamedTuple, Optional

from ibmi_trust.errors import ConfigError

ENV_HISTORY = "IBMI_TRUST_HISTORY"
OFF = ("off", "none", "no", "0", "*none")
FILE_NAME = "history.sqlite"
DB2_PREFIX = "db2:"


class Location(NamedTuple):
    kind: str                   # "sqlite", "db2" or "off"
    where: str                  # the file, the library, or why there is none
    source: str                 # "--history", IBMI_TRUST_HISTORY, "install record", "state directory", ...


def choose(explicit: Optional[str] = None, disabled: bool = False) -> Location:
    if disabled:
        return Location("off", "--no-history", "--no-history")
    if explicit is not None and explicit.strip():
        return parse(explicit, "--history")
    configured = os.environ.get(ENV_HISTORY, "").strip()
    if configured:
        return parse(configured, ENV_HISTORY)
    return default()


def parse(text: str, source: str) -> Location:
    value = text.strip()
    if value.lower() in OFF:
        return Location("off", "%s=%s" % (source, value), source)
    if value.lower().startswith(DB2_PREFIX):
        from ibmi_trust.ibmi.objects import check_library_name

        try:
            library = check_library_name(value[len(DB2_PREFIX):])
        except ConfigError as exc:
            raise ConfigError("%s %s: %s" % (source, value, exc.message), hint=exc.hint) from None
        return Location("db2", library, source)
    return Location("sqlite", os.path.abspath(os.path.expanduser(value)), source)


def default() -> Location:
    data_dir = install_data_dir()
    if data_dir:
        return Location("sqlite", os.path.join(data_dir, FILE_NAME), "the install's data directory")
    state = state_dir()
    if state:
        return Location("sqlite", os.path.join(state, FILE_NAME), "the per-user state directory")
    return Location("off", "no install record with a data directory and no home directory", "default")


def install_data_dir() -> Optional[str]:
    from ibmi_trust.ibmi import install_record

    record = install_record.read()
    value = (record or {}).get("data_dir")
    return str(value) if value else None


def state_dir() -> Optional[str]:
    """$XDG_STATE_HOME/ibmi-trust, or ~/.local/state/ibmi-trust when the home directory exists."""
    xdg = os.environ.get("XDG_STATE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "ibmi-trust")
    home = os.path.expanduser("~")
    if home and home != "~" and os.path.isdir(home):
        return os.path.join(home, ".local", "state", "ibmi-trust")
    return None


NO_LOCATION_HINT = ("run `ibmi-trust install-objects --library LIB` (it creates a shared history directory), "
                    "or set IBMI_TRUST_HISTORY=/path/history.sqlite, or pass --history PATH")
