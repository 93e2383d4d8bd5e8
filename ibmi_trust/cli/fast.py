"""Answers that need no click: the commands that run most often and do least.

Under PASE, importing click costs more than a whole `explain`; CL commands,
RPG programs on every SSL failure and nightly jobs start ibmi-trust often.
`dispatch(args)` answers, without importing click:

    --version                      the version line, as click prints it
    --version --verbose            versions of everything that matters (about.py)
    explain ...                    when explain_fast.parse understands the
                                   arguments (anything unusual goes to click)
    [CMD] --help | -h              the page click renders, stored in
                                   help_pages.py, while it is current (below)
    probe ...                      the commands in FAST_COMMANDS, when
                                   fast_parse.py reads the arguments with the
                                   command's parse table (parse_tables.py,
                                   current as the help pages are) into the
                                   parameters click would give; then the
                                   command's body runs as under click

and returns the exit code, or None for click (group.py) to handle. Each
answer is the same text click gives (tests/test_cli_fast.py and
tests/test_cli_fast_probe.py compare them).
"""
import os
import sys

from ibmi_trust.cli.output import emit

_HERE = os.path.dirname(os.path.abspath(__file__))
VERBOSE_VERSION_ARGS = (["--version", "--verbose"], ["--verbose", "--version"])
HELP_FLAGS = ("--help", "-h")
# Commands whose arguments are read without click -> the module whose run(params)
# is the command's body (the click command calls it too). A body takes only its
# parameters: a command that needs click's context (ctx.meta, CL results) cannot
# be here. scripts/gen_help_pages.py writes a parse table for each.
FAST_COMMANDS = {"probe": "ibmi_trust.cli.run_probe"}


def dispatch(args: "list[str]") -> "int | None":
    try:
        return _answer(args)
    except BrokenPipeError:                  # `ibmi-trust explain -23 | head -1`: as click does
        _discard_stdout()
        return 1


def _answer(args):
    if args == ["--version"]:
        from ibmi_trust import __version__

        emit("ibmi-trust %s\n" % __version__)
        return 0
    if args in VERBOSE_VERSION_ARGS:
        from ibmi_trust.cli.about import verbose_report

        emit(verbose_report())
        return 0
    if args[:1] == ["explain"]:
        from ibmi_trust.cli import explain_fast

        parsed = explain_fast.parse(args[1:])
        if parsed is not None:
            return explain_fast.run(*parsed)
    if 1 <= len(args) <= 2 and args[-1] in HELP_FLAGS:
        page = help_page(args[0] if len(args) == 2 else "")
        if page is not None:
            emit(page)
            return 0
    if args[:1] and args[0] in FAST_COMMANDS:
        params = command_params(args[0], args[1:])
        if params is not None:
            return run_command(args[0], params, args)
    return None


def command_params(command: str, args: "list[str]") -> "dict | None":
    """The parameters click would give `command` for `args`, or None (click
    will parse them) when the parse table is not current or fast_parse is
    not sure."""
    from ibmi_trust.cli import fast_parse, parse_tables

    table = parse_tables.TABLES.get(command)
    if table is None or help_sources_checksum() != parse_tables.SOURCES_CHECKSUM:
        return None
    return fast_parse.parse(table, args)


def run_command(command: str, params: dict, args: "list[str]") -> int:
    """Run the command's body as click's group would: an expected failure
    through the boundary's failure_exit (with --nagios in `args`, the whole
    command line, as group.py looks for it), an interrupt as click's
    "Aborted!" and exit 1."""
    from ibmi_trust.cli import MONITORING, monitoring_asked
    from ibmi_trust.cli.output import failure_exit
    from ibmi_trust.errors import IbmiTrustError

    try:
        body = __import__(FAST_COMMANDS[command], fromlist=("run",))     # importlib: 0.4 ms more
        return body.run(params)
    except IbmiTrustError as exc:
        return failure_exit(exc, {MONITORING: monitoring_asked(args)})
    except (EOFError, KeyboardInterrupt):
        emit("\nAborted!\n", err=True)
        return 1


def help_page(command: str) -> "str | None":
    """The stored help of `command` ("" for the group) when it is what click
    would print now: same sources of the cli package as when the pages were
    rendered, and the same width (click fits help to the terminal)."""
    from ibmi_trust.cli import help_pages

    page = help_pages.PAGES.get(command)
    if page is None or help_width() != help_pages.WIDTH:
        return None
    if help_sources_checksum() != help_pages.SOURCES_CHECKSUM:
        return None
    return page


def help_sources() -> "list[str]":
    """The files the help pages are made from (names in this directory)."""
    return sorted(name for name in os.listdir(_HERE)
                  if (name.startswith("cmd_") and name.endswith(".py")) or name in ("common.py", "group.py"))


def help_sources_checksum() -> int:
    """CRC-32 over the names and bytes of help_sources(): cheap, and enough to
    notice that a page no longer matches its source. (binascii's CRC-32 is
    zlib's; ssl has loaded binascii already when a probe asks.)"""
    import binascii

    crc = 0
    for name in help_sources():
        with open(os.path.join(_HERE, name), "rb") as handle:
            crc = binascii.crc32(name.encode("utf-8") + b"\0" + handle.read() + b"\0", crc)
    return crc


def help_width() -> "int | None":
    """The width click's HelpFormatter uses, max(min(columns, 80) - 2, 50),
    with columns as shutil.get_terminal_size() finds them; None when that
    is not certain (a terminal reporting 0 columns)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80                       # shutil's fallback
        if columns <= 0:
            return None
    return max(min(columns, 80) - 2, 50)


def _discard_stdout() -> None:
    """Python flushes stdout once more at exit: send that to /dev/null, so a
    closed pipe ends the run quietly with exit 1 (the way click handles it)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):
        pass
