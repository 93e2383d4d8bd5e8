"""ibmi-trust fix TARGET: import what the server's chains are missing, prove it."""
import sys

import click

from ibmi_trust.cli.common import (chain_option, history_options, pass_params, probe_options, proof_option,
                                   rate_options, sourcing_options, store_options, validator_options)


@click.command("fix")
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
              help="IBM i: the application (DCM ID) that fails; its CA trust list is checked for the new CAs, "
                   "and GSKit's handshakes use its ID.")
@click.option("--add-to-trust-list", is_flag=True,
              help="IBM i, with --app-id: consent to add the new CAs to the application's CA trust list when "
                   "that list restricts trust and lacks them (never done to an empty list, which trusts every "
                   "enabled CA).")
@click.option("--dry-run", is_flag=True, help="Show the plan for every fixable chain and why each other one "
                                               "cannot be fixed; change nothing.")
@click.option("--partial", is_flag=True,
              help="When some chains cannot be fixed: import what makes the others verify, prove those, "
                   "report the rest (exit 7).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before importing.")
@click.option("--ssl-rc", metavar="CODE", help="The return code the failing program saw (e.g. -23): say if the findings explain it.")
@click.option("--warn-days", type=click.IntRange(0, 3650), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@click.option("--cl-results", type=click.Path(dir_okay=False), hidden=True)
@pass_params
def command(ctx, params):
    """Check TARGET, fetch and verify the missing issuers, check the plan on
    a scratch copy of the store, back up the store, import, then prove every
    chain now verifies; otherwise restore the backup.

    CApath and bundle stores are judged as OpenSSL judges them, the plan is
    checked by the real `openssl verify`, and the proof is a real verifying
    TLS handshake ("proof: OpenSSL handshake"). *SYSTEM and .KDB stores are
    proven by GSKit's own handshake where install-objects built GSKPROBE
    ("proof: GSKit handshake"), else by the GSKit model ("proof: GSKit
    model", with the reason).

    A root is imported only from the root program (--roots, or the default
    one) or when its SHA-256 was approved with --trust-root.

    When some chains cannot be fixed (a root nobody approved, an issuer
    nobody has), fix refuses and says which; --partial imports what the
    other chains need and proves those. With --chain FILE the chains come
    from a file (no connection to TARGET) and the proof is `openssl verify`
    of those chains against the new store, not a handshake (*SYSTEM: the
    GSKit model); the output says so.

    \b
    Exit codes: the status after the fix, as check:
      0 OK (fixed, or nothing to do), 1 WARNING (fixed; a warning remains,
      e.g. a certificate expires soon), 2 CRITICAL (fixed what the store can
      fix; something else still fails, e.g. a host-name mismatch);
    and 3 could not probe, 4 store error (store left as it was),
    5 refused (nothing changed), 6 rolled back (the proof failed; the
    backup was put back), 7 partial (--partial: the fixable chains were
    fixed and proven; the others still fail, listed).
    With --dry-run: 0 (the plan fixes every chain), 5 (some chain cannot
    be fixed: fix would refuse), 7 (the same with --partial), or 3.
    """
    from ibmi_trust.cli.common import build_check_options, normalise_fingerprints, parse_target
    from ibmi_trust.cli import remember_cl_results
    from ibmi_trust.cli.output import Progress, emit_json, is_terminal, painter
    from ibmi_trust.jobs import nextstep, render_fix
    from ibmi_trust.jobs.fix import run_fix

    remember_cl_results(ctx, params["cl_results"], target=params["target"], store=params["store_spec"])
    target = parse_target(params["target"], params["protocol"])
    options = build_check_options(params, command="fix")
    quiet = params["as_json"]
    say = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    paint = painter()

    def confirm(plan):
        if not quiet:
            click.echo(render_fix.plan_text(plan))       # with --json, stdout holds only the JSON
        if params["yes"]:
            return True
        if not is_terminal(sys.stdin):
            from ibmi_trust.errors import FixRefused

            raise FixRefused("not asking without a terminal: add --yes to import, or --dry-run to only look")
        if quiet:
            click.echo(render_fix.plan_text(plan), err=True)
        return click.confirm("Import these certificates?", default=False, err=True)

    def next_steps(result):
        store = result.before.store_spec or params["store_spec"]
        return nextstep.for_fix(result, nextstep.Invocation.from_params(params, store), partial=params["partial"])

    from ibmi_trust.errors import FixRefused, RolledBack

    bar = Progress("probing %s" % params["target"])
    try:
        result = run_fix(target, options, approved_roots=normalise_fingerprints(params["trust_roots"]),
                         dry_run=params["dry_run"], partial=params["partial"], confirm=confirm, progress=bar,
                         announce=say)
    except (FixRefused, RolledBack) as exc:
        bar.close()
        stopped = getattr(exc, "result", None)
        if stopped is not None:
            steps = next_steps(stopped)
            if quiet:
                emit_json(dict(stopped.to_json(), next=[s.to_json() for s in steps]))   # as JSON too
            else:
                if stopped.plan is not None and stopped.outcome == "refused" and stopped.plan.blocked:
                    click.echo(render_fix.plan_text(stopped.plan))
                click.echo("\n".join(nextstep.lines(steps)))
            if steps and steps[0].command:
                exc.hint = "next: %s" % steps[0].command
        raise
    except Exception:
        bar.close()
        raise
    bar.close()
    steps = next_steps(result)
    explanation = None
    if params["ssl_rc"]:
        from ibmi_trust.jobs.sslrc import explain_findings

        explanation = explain_findings(params["ssl_rc"], result.before)
    if params["as_json"]:
        out = result.to_json()
        if explanation is not None:
            out["ssl_rc"] = explanation
        out["next"] = [step.to_json() for step in steps]
        emit_json(out)
    else:
        if params["dry_run"] and result.plan is not None:
            click.echo(render_fix.plan_text(result.plan, dry_run=True))
        click.echo(render_fix.fix_text(result, paint=paint))
        if explanation is not None:
            click.echo(explanation["text"])
        click.echo("\n".join(nextstep.lines(steps)))
    if params.get("cl_results"):
        from ibmi_trust.jobs.clresults import write_fix_results

        write_fix_results(params["cl_results"], result, explanation)
    ctx.exit(result.exit_code)
