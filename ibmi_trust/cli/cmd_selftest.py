"""ibmi-trust selftest: check, fix and check again on a throw-away setup."""
import click


@click.command("selftest")
@click.option("--keep", is_flag=True, help="Keep the temporary directory (PKI, store, backups) and print it.")
@click.pass_context
def command(ctx, keep):
    """Run the main job end to end on loopback servers with a throw-away PKI
    and a temporary trust store: check (CRITICAL), fix, check (OK).

    It touches no real store and no network beyond 127.0.0.1. Exit 0 when
    every step behaved as expected, 1 otherwise.
    """
    import time

    from ibmi_trust.jobs.selftest import run_selftest

    started = time.monotonic()
    click.echo("ibmi-trust selftest: loopback servers, throw-away PKI, temporary store")
    result = run_selftest(say=click.echo, keep=keep)
    if keep:
        click.echo("kept: %s" % result.workdir)
    click.echo("selftest %s in %.1f s" % ("passed" if result.ok else "FAILED", time.monotonic() - started))
    from ibmi_trust.platform import is_ibmi

    if is_ibmi():
        # The selftest uses no IBM i interface; doctor checks those (the ODBC sign-on of a
        # PASSWORD(*NONE) profile, XMLSERVICE, the install record, the SQL services).
        click.echo("next: ibmi-trust doctor   (checks *SYSTEM access: ODBC profile, XMLSERVICE, install)")
    ctx.exit(0 if result.ok else 1)
