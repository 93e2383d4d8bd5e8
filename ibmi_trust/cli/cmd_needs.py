"""ibmi-trust needs TARGET: which certificates to carry in, and where to get them."""
import click

from ibmi_trust.cli.common import (chain_option, pass_params, probe_options, rate_options, sourcing_options,
                                   store_options, validator_options)

_REASON_WORDS = {
    "intermediate": "intermediate CA the server does not send",
    "root": "root CA missing from the store",
    "unapproved-root": "root CA nobody vouches for: check it, then approve it with --trust-root",
    "unknown-issuer": "issuing CA, not obtained",
    "renewal": "renewed CA (the store's copy is expired or not yet valid)",
}


@click.command("needs")
@click.argument("target")
@store_options
@probe_options
@rate_options
@chain_option
@sourcing_options
@validator_options
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@pass_params
def command(ctx, params):
    """List each certificate TARGET's chains need that the store lacks.

    For each: subject, SHA-256 fingerprint (when it could be obtained), key
    id and where to get it (AIA URL, root program, --from file), so it can be
    fetched on a PC and carried in with `ibmi-trust fix TARGET --from FILE`;
    the output ends with those commands (curl for each download, then fix).
    With --chain, the chains come from a file (e.g. captured on a PC).

    \b
    Exit codes: 0 nothing missing, 2 something missing or a chain fails for
    another reason, 3 could not probe, 4 store error.
    """
    from ibmi_trust.analyse.needs import collect_needs
    from ibmi_trust.cli.common import check_from_params
    from ibmi_trust.cli.output import emit_json
    from ibmi_trust.errors import EXIT_CRITICAL, EXIT_OK, EXIT_UNKNOWN
    from ibmi_trust.jobs import nextstep
    from ibmi_trust.jobs.render import SCHEMA_VERSION

    result = check_from_params(params)
    reports = [v.report for v in result.variants]
    needs = collect_needs(reports)
    steps = nextstep.for_needs(needs, result, nextstep.Invocation.from_params(params, result.store_spec))
    other = [(n, r) for n, r in enumerate(reports, 1) if r.verdict == "untrusted" and not r.missing]
    if result.status == "UNKNOWN" and not reports:
        code = EXIT_UNKNOWN
    else:
        code = EXIT_CRITICAL if needs or other else EXIT_OK
    if params["as_json"]:
        emit_json({
            "schema_version": SCHEMA_VERSION,
            "kind": "needs",
            "target": params["target"],
            "store": result.store_spec,
            "chains": len(reports),
            "error": result.error,
            "needs": [n.to_json() for n in needs],
            "other_failures": [{"chain": n, "findings": [f.to_json() for f in r.findings if f.severity == "critical"]}
                               for n, r in other],
            "next": [step.to_json() for step in steps],
        })
    else:
        click.echo(_text(params["target"], result, needs, other))
        click.echo("\n".join([""] + nextstep.lines(steps)))
    ctx.exit(code)


def _text(target, result, needs, other) -> str:
    if result.error and not result.variants:
        return "ibmi-trust needs: could not probe %s: %s" % (target, result.error)
    lines = ["%s against store %s: %d chain(s) analysed" % (target, result.store_spec, len(result.variants))]
    if not needs:
        lines.append("nothing is missing from the store")
    else:
        lines.append("%d certificate(s) missing:" % len(needs))
    for number, need in enumerate(needs, 1):
        lines.append("")
        lines.append("[%d] %s" % (number, need.subject))
        lines.append("    what     %s" % _REASON_WORDS.get(need.reason, need.reason))
        lines.append("    SHA-256  %s" % (need.sha256 or "unknown until obtained"))
        if need.key_id:
            lines.append("    key id   %s" % need.key_id)
        sources = [_source_text(s) for s in need.sources] or ["no source known (ask the server's operator)"]
        lines.append("    get it   %s" % sources[0])
        lines.extend("             %s" % s for s in sources[1:])
        lines.append("    chains   %s" % ", ".join(str(c) for c in need.chains))
    for number, report in other:
        first = next((f for f in report.findings if f.severity == "critical"), None)
        lines.append("")
        lines.append("chain %d fails for another reason: %s" % (number, first.message if first else report.verdict))
    return "\n".join(lines)


def _source_text(source: str) -> str:
    kind, _, where = source.partition(":")
    return {"aia": "%s (AIA)" % where, "root-program": "root program %s" % where,
            "file": "file %s" % where, "approved": "approved root", "server": "sent by the server",
            "store": "the store"}.get(kind, source)
