"""ibmi-trust verify --config FILE: the nightly check of many targets."""
import click

from ibmi_trust.cli.common import (DEADLINE_HELP, history_options, pass_params, rate_options, sourcing_options,
                                   store_options, validator_options)


@click.command("verify")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="Targets file (INI or .json; see docs/runbook.md).")
@store_options
@sourcing_options
@validator_options
@history_options
@rate_options
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per network step.")
@click.option("--deadline", type=float, metavar="SECONDS", help=DEADLINE_HELP)
@click.option("--min-share", type=click.FloatRange(0.001, 1.0, max_open=True), default=0.05, show_default=True,
              help="Find any chain served on at least this share of connections (with 95% probability).")
@click.option("--workers", type=click.IntRange(1, 64), default=32, show_default=True,
              help="Targets checked at once (per-host handshake limits still apply).")
@click.option("--critical-days", type=click.IntRange(0, 3650), metavar="N",
              help="CRITICAL when a certificate on a path expires within N days (default: only once expired).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the JSON report to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@click.option("--nagios", is_flag=True,
              help="Print monitoring-plugin output: one status line (the worst target) with perfdata, then each "
                   "target with its chains and next command; every error is UNKNOWN (exit 3).")
@click.option("--prometheus", "prometheus_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write every target's result as a node_exporter textfile (FILE.prom, written atomically).")
@click.option("--notify", "notify_msgq", metavar="MSGQ",
              help="IBM i: send a message to this message queue (e.g. QSYSOPR) for each WARNING/CRITICAL target.")
@click.option("--library", "library", metavar="LIB",
              help="IBM i: library of the message file ITRMSGF (default: the one install-objects recorded).")
@click.option("--cl-results", type=click.Path(dir_okay=False), hidden=True)
@pass_params
def command(ctx, params):
    """Check every target in --config concurrently and print one summary.

    The exit code is the worst status (0 OK, 1 WARNING, 2 CRITICAL,
    3 UNKNOWN). Per-target store/warn-days/app-id come from the file; the
    options here are defaults. Each target's probe has its own time limit
    (--deadline); the targets file is bounded (1 MiB, 1,000 targets).
    A usage or configuration error (a typo in the targets file) also exits
    3, with the reason on stderr and no report: see docs/ansible/README.md.
    """
    from ibmi_trust.cli.common import build_check_options
    from ibmi_trust.cli import remember_cl_results
    from ibmi_trust.cli.output import Progress, emit_json, painter
    from ibmi_trust.jobs import nextstep
    from ibmi_trust.jobs.config import load_config
    from ibmi_trust.jobs.verify import run_verify, verify_text

    remember_cl_results(ctx, params["cl_results"], target=params["config_path"], store=params["store_spec"])
    configs = load_config(params["config_path"])
    library = ""
    if params["notify_msgq"]:
        from ibmi_trust.jobs.notify import message_library

        library = message_library(params["library"] or "")     # fail now, not after an hour of probing
    from ibmi_trust.cli.common import build_history

    journal = build_history(**params)                                            # one history for every target
    shared_sourcing = build_check_options(dict(params, warn_days=30), history=journal).sourcing   # one AIA cache

    def per_target(cfg):
        return dict(params, target=cfg.target, protocol=cfg.protocol, ehlo=cfg.ehlo, resolve=tuple(cfg.resolve),
                    store_spec=cfg.store or params["store_spec"], warn_days=cfg.warn_days, app_id=cfg.app_id)

    def make_options(cfg):
        options = build_check_options(per_target(cfg), sourcing=False, history=journal, command="verify")
        options.sourcing = shared_sourcing
        return options

    def next_lines(outcome):
        store = outcome.result.store_spec if outcome.result is not None else None
        invocation = nextstep.Invocation.from_params(per_target(outcome.config), store)
        if outcome.result is None:
            return nextstep.lines([nextstep.Step("check it on its own to see why", invocation.command("check"))])
        return nextstep.lines(nextstep.for_check(outcome.result, invocation))

    bar = Progress("verifying", len(configs))
    try:
        result = run_verify(configs, make_options, workers=params["workers"], progress=bar)
    finally:
        bar.close()
    if params["report_path"]:
        _write_report(params["report_path"], result.to_json())
    if params["prometheus_file"]:
        from ibmi_trust.jobs import prometheus

        prometheus.write_textfile(params["prometheus_file"], prometheus.verify_metrics(result))
    if params["as_json"]:
        emit_json(result.to_json())
    elif params["nagios"]:
        from ibmi_trust.jobs import nagios

        click.echo(nagios.verify_output(result, 30, next_lines))
    else:
        click.echo(verify_text(result, paint=painter(), next_lines=next_lines))
    if params["notify_msgq"]:
        from ibmi_trust.jobs.notify import notify_operator

        notify_operator(result, params["notify_msgq"], library=library)
    if params.get("cl_results"):
        from ibmi_trust.jobs.clresults import write_verify_results

        write_verify_results(params["cl_results"], result, params["report_path"])
    ctx.exit(result.exit_code)


def _write_report(path, data):
    import json
    import os
    import tempfile

    from ibmi_trust.errors import ConfigError

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ibmi-trust-report.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError("cannot write report %s: %s" % (path, exc.strerror or exc)) from None
