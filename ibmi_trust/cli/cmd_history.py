"""ibmi-trust history [TARGET]: the chains a target served over time."""
import click

from ibmi_trust.cli.common import pass_params, store_options, validator_options


protocol_option = click.option(
    "--protocol", type=click.Choice(["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s", "https"]),
    help="Protocol; inferred from the port when omitted.")


def history_source_option(func):
    return click.option("--history", "history_spec", metavar="PATH|db2:LIB",
                        help="The history to read (default: as check: $IBMI_TRUST_HISTORY, the install's data "
                             "directory, ~/.local/state/ibmi-trust/history.sqlite).")(func)


def open_history_backend(spec):
    """The history store itself (reading it is this command's job: a failure is an error)."""
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.history import location
    from ibmi_trust.history.journal import default_busy_timeout, open_backend

    where = location.choose(spec)
    if where.kind == "off":
        raise ConfigError("no history to read (%s)" % where.where, hint=location.NO_LOCATION_HINT)
    return open_backend(where, default_busy_timeout())


@click.command("history")
@click.argument("target", required=False)
@protocol_option
@click.option("--since", "since_days", type=click.IntRange(1, 3650), default=30, show_default=True, metavar="DAYS",
              help="Show the last DAYS days.")
@history_source_option
@store_options
@validator_options
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document (docs/schema/history.schema.json).")
@pass_params
def command(ctx, params):
    """Show every chain TARGET served within --since DAYS: first and last seen,
    handshakes, share, which address/SNI/key type served it, and (with --store,
    or *SYSTEM on IBM i) whether the store trusts it now. Without TARGET: the
    targets the history knows.

    \b
    Exit codes: 0 shown, 3 the history cannot be read, 4 store error.
    """
    from ibmi_trust.cli.output import emit_json

    backend = open_history_backend(params["history_spec"])
    if not params["target"]:
        _list_targets(backend, params["as_json"])
        ctx.exit(0)
    from ibmi_trust.cli.common import build_store_options, build_validator_options, parse_target
    from ibmi_trust.history import report

    target = parse_target(params["target"], params["protocol"])
    store = _store_if_known(params, build_store_options)
    doc = report.build(backend, target, since_days=params["since_days"], store=store,
                       validator_options=build_validator_options(**params))
    if params["as_json"]:
        emit_json(doc)
    else:
        click.echo(report.text(doc))
    ctx.exit(0)


def _store_if_known(params, build_store_options):
    """The store named by --store, or *SYSTEM on IBM i; None elsewhere (chains not judged)."""
    from ibmi_trust.platform import is_ibmi
    from ibmi_trust.store.spec import open_store

    if not params["store_spec"] and not is_ibmi():
        return None
    return open_store(params["store_spec"], build_store_options(**params))


def _list_targets(backend, as_json: bool) -> None:
    from ibmi_trust.cli.output import emit_json
    from ibmi_trust.history.cumulative import iso_seconds
    from ibmi_trust.history.report import SCHEMA_VERSION, protocol_flag

    targets = backend.targets()
    items = [{"target": key.display(), "protocol": key.protocol, "runs": runs, "last_run": iso_seconds(last),
              "next": "ibmi-trust history %s%s" % (key.display(), protocol_flag(key.display(), key.protocol))}
             for key, runs, last in targets]
    if as_json:
        emit_json({"schema_version": SCHEMA_VERSION, "kind": "history-targets", "history": backend.location,
                   "targets": items})
        return
    click.echo("%d target(s) in the history %s" % (len(items), backend.location))
    for item in items:
        click.echo("  %-40s %-10s %4d run(s), last %s" % (item["target"], item["protocol"], item["runs"],
                                                           item["last_run"]))
    if items:
        click.echo("next: %s" % items[0]["next"])
