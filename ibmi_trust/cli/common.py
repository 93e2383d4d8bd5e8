"""Option groups shared by check, fix, needs and verify (click). The builders
that turn the parameters into stage options are in builders.py, without
click; the commands may import them from here too."""
import functools

import click

from ibmi_trust.cli.builders import (build_check_options, build_history, build_probe_options,  # noqa: F401
                                     build_sourcing, build_store_options, build_validator_options,
                                     check_from_params, normalise_fingerprints, parse_target)


def _compose(*decorators):
    def wrap(func):
        for deco in reversed(decorators):
            func = deco(func)
        return func
    return wrap


DEADLINE_HELP = ("Time limit of each whole probe (also each probe of check and fix, each verify target); "
                 "when it runs out, what was captured so far is reported with what was not done. Default: "
                 "--timeout x ceil(planned handshakes / --concurrency) + planned handshakes / --rate, at least "
                 "4 x --timeout: 156 s with the defaults, 21 s with --timeout 1.")

probe_options = _compose(
    click.option("--protocol", type=click.Choice(["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s", "https"]),
                 help="Protocol; inferred from the port when omitted (25 smtp, 587 submission, 465 smtps, ...)."),
    click.option("--ehlo", metavar="NAME", help="Name to send in EHLO (default: this host's name)."),
    click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per network step."),
    click.option("--deadline", type=float, metavar="SECONDS", help=DEADLINE_HELP),
    click.option("--rounds", type=click.IntRange(1, 1000), help="Force N rounds over every address/SNI/key-type combination."),
    click.option("--min-share", type=click.FloatRange(0.001, 1.0, max_open=True), default=0.05, show_default=True,
                 help="Find any chain served on at least this share of connections (with 95% probability)."),
    click.option("--resolve", "resolve", multiple=True, metavar="HOST:PORT:ADDR[,ADDR]",
                 help="Pin addresses for HOST:PORT, curl-style; repeatable."),
    click.option("--no-sni", is_flag=True, help="Send no SNI at all (as many IBM i clients do)."),
    click.option("--tls-version", type=click.Choice(["1.2", "1.3"]), help="Offer only this TLS version."),
    click.option("--like-system", is_flag=True,
                 help="IBM i: offer only what QSSLPCL/QSSLCSL allow and send no SNI, as a GSKit client would."),
)

rate_options = _compose(
    click.option("--rate", type=click.FloatRange(0.1, 1000.0), default=10.0, show_default=True,
                 help="At most this many handshakes a second to one host."),
    click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True,
                 help="At most this many handshakes at once to one host."),
)

store_options = _compose(
    click.option("--store", "store_spec", metavar="SPEC",
                 help="*SYSTEM (default on IBM i), an IFS .KDB path, capath:DIR or bundle:FILE."),
    click.option("--password-env", metavar="NAME",
                 help="Environment variable holding the store password (IBM i; *NOPWD is tried first)."),
    click.option("--password-file", type=click.Path(dir_okay=False), metavar="PATH",
                 help="File readable only by its owner holding the store password."),
)

sourcing_options = _compose(
    click.option("--no-fetch", is_flag=True, help="Do not download issuers (AIA); for machines without internet."),
    click.option("--roots", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                 help="Root program bundle to take roots from (default: certifi, PASE's Mozilla bundle, the system bundle)."),
    click.option("--from", "from_files", multiple=True, type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                 help="Certificates carried in by hand (PEM, DER, PKCS#7, bundle); repeatable."),
    click.option("--trust-root", "trust_roots", multiple=True, metavar="SHA256",
                 help="Approve a root by its SHA-256 fingerprint (private CAs); repeatable."),
)

chain_option = click.option(
    "--chain", type=click.Path(exists=True), metavar="FILE|DIR",
    help="Judge the chains in FILE instead of connecting to TARGET (TARGET names the host to check): what "
         "`openssl s_client -showcerts` prints (several runs: several captures), a PEM chain, DER, PKCS#7, or "
         "a DIR from `ibmi-trust probe --save-dir`. AIA fetching still works unless --no-fetch.")


validator_options = _compose(
    click.option("--seclevel", type=click.IntRange(0, 5), metavar="N",
                 help="CApath/bundle stores: judge at OpenSSL security level N (0-5), as the client runs it "
                      "[default: the level this machine's OpenSSL uses]. At 1 and above SHA-1 signatures "
                      "(3.x) and RSA keys under 2048 bits (level 2) fail."),
    click.option("--no-check-name", "no_check_name", is_flag=True,
                 help="The client does not check the server's host name (sendmail, many IBM i programs): "
                      "do not report name mismatches as failures."),
)


history_options = _compose(
    click.option("--history", "history_spec", metavar="PATH|db2:LIB",
                 help="Where every handshake is remembered: an SQLite file, or db2:LIBRARY on IBM i (tables made "
                      "by install-objects). Default: $IBMI_TRUST_HISTORY, else the install's data directory, else "
                      "~/.local/state/ibmi-trust/history.sqlite."),
    click.option("--no-history", is_flag=True, help="Neither read nor write the history."),
    click.option("--history-window", type=click.IntRange(1, 3650), default=30, show_default=True, metavar="DAYS",
                 help="Judge every chain seen for the target within the last DAYS days, not only this run's."),
    click.option("--history-retention", type=click.IntRange(1, 3650), default=90, show_default=True,
                 metavar="DAYS", help="Delete runs older than DAYS days from the history."),
)


proof_option = click.option(
    "--proof", type=click.Choice(["gskit", "model"]), default=None,
    help="*SYSTEM/.KDB: judge and prove with GSKit's own handshake (the program GSKPROBE, built by "
         "install-objects) or with the GSKit model alone [default: gskit where GSKPROBE is installed, else the "
         "model, and the output says why].")


def pass_params(func):
    """Hand the command all its parameters as one dict (plus the context)."""
    @functools.wraps(func)
    @click.pass_context
    def wrapper(ctx, **params):
        return func(ctx, params)
    return wrapper
