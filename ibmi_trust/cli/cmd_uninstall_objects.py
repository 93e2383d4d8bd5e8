"""`ibmi-trust uninstall-objects --library LIB`: delete what install-objects created."""
import click


@click.command()
@click.option("--library", required=True, help="Library the objects were installed in.")
@click.option("--delete-library", is_flag=True,
              help="Also delete the library itself (DLTLIB: everything in it goes).")
@click.option("--verbose", "-v", is_flag=True, help="Print each CL command as it runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def command(ctx, library, delete_library, verbose, as_json):
    """Delete the commands, programs, message file, help, data area and source
    file that install-objects creates in LIBRARY (IBM i only)."""
    from ibmi_trust.cli.cmd_install_objects import ibmi_session, print_report
    from ibmi_trust.ibmi.objects import Installer

    progress = (lambda line: click.echo("  " + line, err=True)) if verbose else (lambda line: None)
    installer = Installer(ibmi_session(ctx), library, progress=progress)
    print_report(installer.uninstall(delete_library=delete_library), as_json)
    ctx.exit(0)
