"""ibmi-trust check TARGET: would this server's chains verify against the store?"""
import click

from ibmi_trust.cli.common import (chain_option, history_options, pass_params, probe_options, proof_option,
                                   rate_options, sourcing_options, store_options, validator_options)


@click.command("check")
@click.argument("target")
@store_options
@probe_options
@rate_options
@chain_option
@sourcing_options
@validator_options
@history_options
@proof_option
@click.option("--app-id", metavar="ID",
              help="IBM i: the application (DCM ID) that fails: GSKit's handshake uses its ID, so its CA trust "
                   "list applies.")
@click.option("--warn-days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="WARNING when a certificate on a path (anchors included) expires within N days.")
@click.option("--critical-days", type=click.IntRange(0, 3650), metavar="N",
              help="CRITICAL when a certificate on a path (anchors included) expires within N days "
                   "(default: only once expired).")
@click.option("--ssl-rc", metavar="CODE", help="The return code the failing program saw (e.g. -23): say if the findings explain it.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report (docs/json-schema.md).")
@click.option("--nagios", is_flag=True,
              help="Print monitoring-plugin output: a status line with perfdata, then one line per chain, "
                   "the missing CAs and the next command; every error is UNKNOWN (exit 3).")
@click.option("--prometheus", "prometheus_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write the result as a node_exporter textfile (FILE.prom, written atomically).")
@click.option("--cl-results", type=click.Path(dir_okay=False), hidden=True,
              help="Write job-log message records for the CL command processing program.")
@pass_params
def command(ctx, params):
    """Probe TARGET (host[:port]) and analyse every chain it presents; with
    --chain, judge the chains in a file for TARGET without connecting.

    The text ends with the next command to run (the fix, the approval, the
    --partial import, or how to capture the chains elsewhere).

    \b
    Exit codes: 0 OK, 1 WARNING (expiry within --warn-days, weak signature),
    2 CRITICAL (some chain would fail with -23, a name mismatch, expiry
    within --critical-days), 3 UNKNOWN (could not probe), 4 store error
    (with --nagios: 3, with a status line).
    """
    from ibmi_trust.cli import remember_cl_results
    from ibmi_trust.cli.common import check_from_params
    from ibmi_trust.cli.output import emit_json, painter
    from ibmi_trust.jobs import nextstep, render

    remember_cl_results(ctx, params["cl_results"], target=params["target"], store=params["store_spec"])
    result = check_from_params(params)
    steps = nextstep.for_check(result, nextstep.Invocation.from_params(params, result.store_spec))
    explanation = None
    if params["ssl_rc"]:
        from ibmi_trust.jobs.sslrc import explain_findings

        explanation = explain_findings(params["ssl_rc"], result)
    if params["prometheus_file"]:
        from ibmi_trust.jobs import prometheus

        prometheus.write_textfile(params["prometheus_file"], prometheus.check_metrics(result))
    if params["as_json"]:
        out = result.to_json()
        if explanation is not None:
            out["ssl_rc"] = explanation
        out["next"] = [step.to_json() for step in steps]
        emit_json(out)
    elif params["nagios"]:
        from ibmi_trust.jobs import nagios

        click.echo(nagios.check_output(result, params["warn_days"], nextstep.lines(steps)))
    else:
        click.echo(render.check_text(result, paint=painter()))
        if explanation is not None:
            click.echo(explanation["text"])
        click.echo("\n".join(nextstep.lines(steps)))
    if params.get("cl_results"):
        from ibmi_trust.jobs.clresults import write_check_results

        write_check_results(params["cl_results"], result, explanation)
    if result.status == "UNKNOWN" and not (params["as_json"] or params["nagios"]):
        click.echo("ibmi-trust: could not probe %s: %s" % (params["target"], result.error), err=True)
    ctx.exit(result.exit_code)
