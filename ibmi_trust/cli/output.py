"""Small output helpers shared by the commands.

Importing this module does not import click: the fast paths (fast.py) write
through `emit` too. `emit` writes as click.echo does for our text: the whole
text, then a flush, nothing at all when the stream is missing (as under a
scheduler without stdout), and UTF-8 where the stream claims ASCII. The only ANSI codes are the state colours of
`painter`, used on a terminal only.
"""
import sys


def emit(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    try:
        stream.write(text)
    except UnicodeEncodeError:
        if not _ascii_stream(stream):
            raise
        # click.echo writes UTF-8 (errors "replace") where the stream says ASCII
        stream.flush()
        stream.buffer.write(text.encode("utf-8", "replace"))
    stream.flush()


def _ascii_stream(stream) -> bool:
    import codecs

    try:
        return codecs.lookup(stream.encoding).name == "ascii" and hasattr(stream, "buffer")
    except (AttributeError, LookupError, TypeError):
        return False


def emit_json(obj) -> None:
    import json

    emit(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def report_error(exc) -> None:
    """An expected failure (IbmiTrustError) as its one line on stderr, and its hint."""
    emit("ibmi-trust: %s\n" % exc.message, err=True)
    if exc.hint:
        emit("  hint: %s\n" % exc.hint, err=True)


def failure_exit(exc, meta: dict) -> int:
    """The boundary's answer to an expected failure (IbmiTrustError), for the
    click group (group.py, `meta` is ctx.meta) and the fast paths (fast.py)
    alike: the line and hint on stderr; the failure records for the CL
    program when the command registered them (cli.remember_cl_results);
    under --nagios (cli.MONITORING) a status line on stdout and UNKNOWN, as a
    monitoring plugin always exits 0-3. Returns the exit code."""
    from ibmi_trust.cli import CL_RESULTS, MONITORING

    report_error(exc)
    context = meta.get(CL_RESULTS)
    if context:
        _write_cl_failure(context, exc)
    if meta.get(MONITORING):
        from ibmi_trust.errors import EXIT_UNKNOWN
        from ibmi_trust.jobs.nagios import error_output

        emit(error_output(exc.message) + "\n")
        return EXIT_UNKNOWN
    return exc.exit_code


def _write_cl_failure(context: dict, exc) -> None:
    from ibmi_trust.ibmi import messages
    from ibmi_trust.jobs.clresults import failure_records

    try:
        messages.write_results(context["path"], failure_records(exc, context))
    except OSError as err:
        emit("ibmi-trust: cannot write CL results %s: %s\n" % (context["path"], err.strerror or err), err=True)


def is_terminal(stream) -> bool:
    """False for None (no stdin/stderr at all, as under a scheduler), closed
    or redirected streams."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def stderr_is_terminal() -> bool:
    return is_terminal(sys.stderr)


# ANSI SGR colours of the monitoring states (on a terminal only).
STATE_COLOURS = {"OK": "32", "WARNING": "33", "CRITICAL": "31", "UNKNOWN": "35"}


def colour_wanted(stream=None) -> bool:
    """Colour only on a terminal: not in a pipe or file (a CL program's
    output, a job log, a spool file), not when NO_COLOR is set to anything
    (https://no-color.org), not on a terminal that says it is dumb."""
    import os

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(sys.stdout if stream is None else stream)


def painter(stream=None):
    """A function that colours a state word for `stream` (stdout), or leaves it
    as it is where colour is not wanted."""
    if not colour_wanted(stream):
        return lambda word: word

    def paint(word: str) -> str:
        code = STATE_COLOURS.get(word)
        return "\x1b[%sm%s\x1b[0m" % (code, word) if code else word
    return paint


class Progress:
    """A progress bar on stderr when it is a terminal; silent otherwise.

    Use as `advance()` with a known total, or call it as a progress callback
    `progress(done, total)` (the total may be learnt on the first call).
    """

    def __init__(self, label: str, total: int = 0):
        self.label = label
        self._bar = None
        self._shown = 0
        if total > 1:
            self._open(total)

    def _open(self, total: int) -> None:
        if self._bar is None and total > 1 and stderr_is_terminal():
            import click

            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
            self._shown += n

    def __call__(self, done: int, total: int) -> None:
        self._open(total)
        if self._bar is not None and done > self._shown:
            self.advance(done - self._shown)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
