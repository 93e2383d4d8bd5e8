"""The click group whose commands load lazily (ibmi_trust.cli.main runs it
when no fast path answers).

Each command lives in `cmd_<name>.py` beside this file and exposes `command`.
Listing commands reads file names only; a command's module is imported when
it runs, and stage code (cryptography, pyodbc, itoolkit) only inside the
command function.

This is the boundary where expected failures (IbmiTrustError) become a
message on stderr and an exit code (ibmi_trust.errors, through
output.failure_exit, which the fast paths call too); usage errors exit 3
(UNKNOWN), as a monitoring plugin must. Under --nagios every such failure
also prints a status line on stdout and exits 3 (a store error too).
"""
import os

import click

from ibmi_trust import __version__
from ibmi_trust.cli import MONITORING, monitoring_asked
from ibmi_trust.cli.fast import VERBOSE_VERSION_ARGS
from ibmi_trust.cli.output import failure_exit
from ibmi_trust.errors import EXIT_UNKNOWN, IbmiTrustError

_HERE = os.path.dirname(os.path.abspath(__file__))


def _command_names():
    names = []
    for entry in os.listdir(_HERE):
        if entry.startswith("cmd_") and entry.endswith(".py"):
            names.append(entry[4:-3].replace("_", "-"))
    return sorted(names)


def _usage_status_line(ctx, exc) -> None:
    """Under --nagios a usage error is UNKNOWN with a status line on stdout too."""
    if ctx.meta.get(MONITORING):
        from ibmi_trust.jobs.nagios import error_output

        click.echo(error_output("usage: %s" % exc.format_message()))


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return _command_names()

    def get_command(self, ctx, name):
        if name not in _command_names():
            return None
        import importlib

        module = importlib.import_module("ibmi_trust.cli.cmd_" + name.replace("-", "_"))
        return module.command

    def parse_args(self, ctx, args):
        if list(args) in VERBOSE_VERSION_ARGS:
            from ibmi_trust.cli.about import verbose_report

            click.echo(verbose_report(), nl=False)
            ctx.exit(0)
        ctx.meta[MONITORING] = monitoring_asked(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            _usage_status_line(ctx, exc)
            exc.exit_code = EXIT_UNKNOWN
            raise

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _usage_status_line(ctx, exc)
            exc.exit_code = EXIT_UNKNOWN
            raise
        except IbmiTrustError as exc:
            ctx.exit(failure_exit(exc, ctx.meta))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ibmi-trust", message="%(prog)s %(version)s",
                      help="Show the version and exit (--version --verbose: also Python, OpenSSL, the "
                           "dependencies, the platform and the root program).")
def cli():
    """Find and fix the CA certificates behind IBM i TLS failures (-23).

    \b
    Typical use:
      ibmi-trust check mail.example.com:587 --store '*SYSTEM'
      ibmi-trust fix mail.example.com:587 --dry-run
      ibmi-trust explain -23
    """


def run(args) -> None:
    """Parse and run `args` with click; always ends in SystemExit."""
    cli.main(args=args, prog_name="ibmi-trust")
