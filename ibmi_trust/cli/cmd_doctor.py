"""`ibmi-trust doctor`: is this system ready for ibmi-trust? Each finding with its fix."""
import click


@click.command()
@click.option("--library", metavar="LIB", help="Library install-objects used (default: the recorded one).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def command(ctx, library, as_json):
    """Check what ibmi-trust needs on IBM i: the ODBC connection (and a
    profile *LOCAL accepts), the SQL services, XMLSERVICE (5770-DG1), the
    install record and objects, QsoRtvTLSA and the openssl binary. Every
    problem comes with the command or step that fixes it.

    \b
    Exit codes: 0 all ok, 1 warnings, 2 something needed is missing.
    """
    from ibmi_trust.ibmi import doctor
    from ibmi_trust.platform import is_ibmi

    if is_ibmi():
        def session():
            from ibmi_trust.ibmi.session import IbmiSession

            return IbmiSession()

        checks = doctor.run_checks(session, library or "")
    else:
        checks = [doctor.Check("platform", doctor.WARN, "not IBM i: only capath:DIR and bundle:FILE stores here",
                               "run ibmi-trust doctor on the IBM i partition"),
                  doctor.openssl_check()]
    if as_json:
        from ibmi_trust.cli.output import emit_json

        emit_json({"schema_version": 1, "kind": "doctor", "status": doctor.overall(checks),
                   "checks": [check.as_dict() for check in checks]})
    else:
        click.echo("ibmi-trust doctor")
        for check in checks:
            click.echo("  %-4s  %-28s %s" % (check.status, check.name, check.detail))
            if check.next:
                click.echo("        next: %s" % check.next)
        failure = doctor.first_failure(checks)
        click.echo("ready" if failure is None else "not ready: start with %s" % failure.name)
    ctx.exit(doctor.exit_code(checks))
