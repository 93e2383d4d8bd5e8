"""ibmi-trust diff OLD NEW | --target TARGET: what changed between two runs or reports."""
import click

from ibmi_trust.cli.cmd_history import history_source_option, protocol_option


@click.command("diff")
@click.argument("sides", nargs=-1, metavar="[OLD NEW]")
@click.option("--target", metavar="TARGET", help="Compare the last two runs of TARGET in the history.")
@protocol_option
@history_source_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document (docs/schema/diff.schema.json).")
@click.pass_context
def command(ctx, sides, target, protocol, history_spec, as_json):
    """Compare two runs: OLD and NEW are each a --json report of check, fix or
    verify (a file), or run:ID, a run of the history (`ibmi-trust history TARGET
    --json` lists them); or --target TARGET for its last two runs.

    Shows chains, issuers and addresses that appeared or went, verdicts
    that changed, and the status before and after.

    \b
    Exit codes: 0 no change, 1 something changed, 3 cannot read a side.
    """
    from ibmi_trust.cli.output import emit_json
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.history import diff

    backend = None
    if target:
        if sides:
            raise ConfigError("give either OLD NEW or --target, not both")
        from ibmi_trust.cli.cmd_history import open_history_backend
        from ibmi_trust.cli.common import parse_target
        from ibmi_trust.history.records import TargetKey

        backend = open_history_backend(history_spec)
        key = TargetKey.of(parse_target(target, protocol))
        import datetime

        runs = backend.runs(key, datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
        if len(runs) < 2:
            raise ConfigError("the history %s holds %d run(s) of %s: two are needed" % (
                backend.location, len(runs), key.display()),
                hint="run `ibmi-trust check %s --store SPEC` again, then diff" % key.display())
        old, new = [diff.from_run(backend, runs[-2].run_id)], [diff.from_run(backend, runs[-1].run_id)]
    else:
        if len(sides) != 2:
            raise ConfigError("diff needs two sides: OLD NEW (report files or run:ID), or --target TARGET")
        loaded = []
        for side in sides:
            if side.startswith("run:"):
                if backend is None:
                    from ibmi_trust.cli.cmd_history import open_history_backend

                    backend = open_history_backend(history_spec)
                try:
                    run_id = int(side[4:])
                except ValueError:
                    raise ConfigError("%s: a run is run:NUMBER" % side) from None
                loaded.append([diff.from_run(backend, run_id)])
            else:
                loaded.append(diff.from_report(side))
        old, new = loaded
    doc = diff.document(old, new, backend.location if backend is not None else None)
    if as_json:
        emit_json(doc)
    else:
        click.echo(diff.text(doc))
    ctx.exit(1 if doc["changed"] else 0)
