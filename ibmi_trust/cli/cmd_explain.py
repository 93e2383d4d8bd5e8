"""`ibmi-trust explain CODE`: what an IBM i TLS return code means and what to do.

Usually answered before click is imported (cli/fast.py, cli/explain_fast.py);
this command handles what that fast path leaves to click (help, usage errors,
unusual spellings), and runs the same body."""
import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("code", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.option("--cl-results", type=click.Path(dir_okay=False), hidden=True,
              help="Also write IBM i message records to this file (used by the DSPSSLRC command).")
@click.pass_context
def command(ctx, code, as_json, cl_results):
    """Explain an SSL_ or GSKit return code, constant or IBM message ID.

    \b
    CODE is what the failing program reported, for example:
      -23    6000    RC(23)    SSL_ERROR_NOT_TRUSTED_ROOT    CPDBC84
    A number without a sign can be read two ways; both are shown, the
    likelier first. Exit 0 when explained, 2 when the code is unknown.
    """
    from ibmi_trust.cli.explain_fast import run

    ctx.exit(run(list(code), as_json, cl_results))
