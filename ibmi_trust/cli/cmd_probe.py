"""ibmi-trust probe TARGET: capture every certificate chain a server presents."""
import click

from ibmi_trust.cli.common import pass_params, probe_options


@click.command("probe")
@click.argument("target")
@probe_options
@click.option("--key-type", "key_types", multiple=True, type=click.Choice(["ecdsa", "rsa"]),
              help="Offer only this key type (repeatable; default: both, ecdsa-capable and RSA-only).")
@click.option("--confidence", type=click.FloatRange(0.5, 0.9999), default=0.95, show_default=True,
              help="Probability of finding a chain served on --min-share of connections.")
@click.option("--rate", type=click.FloatRange(0.1, 1000.0), default=10.0, show_default=True,
              help="At most this many handshakes a second to one host.")
@click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True,
              help="At most this many handshakes at once to one host.")
@click.option("--seed", type=int, help="Seed for the order of handshakes (reproducible runs).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (docs/probe-json.md) instead of the summary.")
@click.option("--save-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write each chain as chain-N.pem plus one chain-N-cert-M.pem per certificate.")
@pass_params
def command(ctx, params):
    """Capture every chain TARGET (host[:port]) presents, exactly as sent.

    Probes every address of the name, with and without SNI, with an
    ECDSA-capable and an RSA-only offer, repeating handshakes until a chain
    served on at least --min-share of connections would have been seen with
    probability --confidence (5% and 95% by default). See docs/probe.md.

    The whole probe has a time limit (--deadline); when it runs out, what
    was captured so far is reported with a note saying what was not done.

    \b
    Exit codes: 0 probed (at least one chain captured, also when the time
    limit cut the probe short), 3 could not probe (name not found, refused,
    timeout, no STARTTLS, handshake failure, no handshake within the limit).
    """
    from ibmi_trust.cli.run_probe import run

    ctx.exit(run(params))
