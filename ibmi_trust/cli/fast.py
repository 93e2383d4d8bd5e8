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

and returns the exit code, or None for click (group.py) to handle. Each
answer is the same text click gives (tests/test_cli_fast.py compares them).
"""
import os
import sys

from ibmi_trust.cli.output import emit

_HERE = os.path.dirname(os.path.abspath(__file__))
VERBOSE_VERSION_ARGS = (["--version", "--verbose"], ["--verbose", "--version"])
HELP_FLAGS = ("--help", "-h")


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
    return None


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
    notice that a page no longer matches its source."""
    import zlib

    crc = 0
    for name in help_sources():
        with open(os.path.join(_HERE, name), "rb") as handle:
            crc = zlib.crc32(name.encode("utf-8") + b"\0" + handle.read() + b"\0", crc)
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
