"""`ibmi-trust install-objects --library LIB`: create the IBM i commands,
programs, message file and help from the packaged cl/ sources (IBM i only)."""
import sys

import click


def ibmi_session(ctx):
    """The IbmiSession to use: one injected by the caller (ctx.obj["ibmi_session"],
    tests), else a new one on IBM i; ConfigError anywhere else."""
    injected = (ctx.obj or {}).get("ibmi_session") if isinstance(ctx.obj, dict) else None
    if injected is not None:
        return injected
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.platform import is_ibmi

    if not is_ibmi():
        raise ConfigError("%s runs on IBM i only" % ctx.info_name,
                          hint="it creates CL commands and programs with CRTCMD and CRTBNDCL")
    from ibmi_trust.ibmi.session import IbmiSession

    return IbmiSession()


def print_report(report, as_json: bool) -> None:
    if as_json:
        from ibmi_trust.cli.output import emit_json

        emit_json(report.as_dict())
        return
    for title, items in (("created", report.created), ("updated", report.updated),
                         ("already present", report.present), ("deleted", report.deleted)):
        for item in items:
            click.echo("%-16s %s" % (title, item))
    if not (report.created or report.updated or report.deleted):
        click.echo("nothing to do in %s" % report.library)
    if report.record:
        click.echo("%-16s %s" % ("install record", report.record))
    if report.gskit_proof:
        click.echo("%-16s %s" % ("GSKit proof", report.gskit_proof))
    for warning in report.warnings:
        click.echo("warning: %s" % warning, err=True)


@click.command()
@click.option("--library", required=True, help="Library for the objects (created if missing).")
@click.option("--python", "python", default=None, metavar="PATH",
              help="Interpreter the CL commands run (default: this one, %s)." % sys.executable)
@click.option("--replace", is_flag=True, help="Delete and re-create objects that exist (after an upgrade).")
@click.option("--job-user", metavar="PROFILE",
              help="User profile the nightly job runs under: checked for PASSWORD(*NONE), which *LOCAL refuses.")
@click.option("--history-user", "history_users", multiple=True, metavar="PROFILE",
              help="A profile (or *PUBLIC) that runs ibmi-trust and shares its history: *RWX to the history "
                   "directory (the --job-user gets it too); repeatable.")
@click.option("--data-dir", metavar="DIR",
              help="The shared history directory (default: $IBMI_TRUST_DATA_DIR, else <venv>/var/ibmi-trust).")
@click.option("--verbose", "-v", is_flag=True, help="Print each CL command as it runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def command(ctx, library, python, replace, job_user, history_users, data_dir, verbose, as_json):
    """Create CHKTLSTRST, DSPSSLRC, VFYTLSTRST, their programs, the message
    file ITRMSGF, the F1 help and the GSKit prober GSKPROBE in LIBRARY (IBM i
    only; docs/ibmi-install.md). GSKPROBE needs the ILE C compiler and
    QSYSINC; without them a warning says so and the rest installs.

    Objects that exist are left alone, so running it twice is safe. The
    library is recorded beside the interpreter (etc/ibmi-trust/install.json)
    so that ibmi-trust run from SSH, cron or Ansible finds its message file.
    It also creates the history tables for --history db2:LIBRARY and the
    shared history directory (<venv>/var/ibmi-trust) that every profile
    named by --job-user and --history-user may write.
    """
    from ibmi_trust.ibmi.objects import Installer

    progress = (lambda line: click.echo("  " + line, err=True)) if verbose else (lambda line: None)
    installer = Installer(ibmi_session(ctx), library, progress=progress)
    print_report(installer.install(python or sys.executable, replace=replace, job_user=job_user or "",
                                   history_users=history_users, data_dir=data_dir or ""), as_json)
    ctx.exit(0)
