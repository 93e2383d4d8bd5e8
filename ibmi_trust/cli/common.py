"""Option groups shared by check, fix, needs and verify, and the builders that
turn them into stage options. Stage modules are imported inside the builders,
never at module level (start-up cost under PASE)."""
import functools

import click


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


def build_history(history_spec=None, no_history=False, history_window=30, history_retention=90, **_ignored):
    """The Journal for one command (verify shares it between its threads); never raises
    for an unusable history, only for a malformed --history value."""
    from ibmi_trust.history import location
    from ibmi_trust.history.journal import HistorySettings, Journal, default_busy_timeout

    where = location.choose(history_spec, no_history)
    settings = HistorySettings(location=where, window_days=history_window,
                               retention_days=max(history_retention, history_window),
                               busy_timeout=default_busy_timeout())
    return Journal.open(settings)


proof_option = click.option(
    "--proof", type=click.Choice(["gskit", "model"]), default=None,
    help="*SYSTEM/.KDB: judge and prove with GSKit's own handshake (the program GSKPROBE, built by "
         "install-objects) or with the GSKit model alone [default: gskit where GSKPROBE is installed, else the "
         "model, and the output says why].")


def build_validator_options(seclevel=None, no_check_name=False, **_ignored):
    from ibmi_trust.analyse.validators import ValidatorOptions

    return ValidatorOptions(seclevel=seclevel, check_names=not no_check_name)


def build_probe_options(protocol=None, ehlo=None, timeout=10.0, rounds=None, min_share=0.05, resolve=(),
                        no_sni=False, tls_version=None, like_system=False, rate=10.0, concurrency=4,
                        deadline=None, **_ignored):
    from ibmi_trust.probe import ProbeOptions
    from ibmi_trust.probe.target import parse_resolve

    pinned = {}
    for entry in resolve:
        pinned.update(parse_resolve(entry))
    return ProbeOptions(
        timeout=timeout, ehlo=ehlo, rounds=rounds, min_share=min_share,
        sni=("off",) if (no_sni or like_system) else ("on", "off"),
        tls_version=tls_version, resolve=pinned or None, like_system=like_system,
        rate=rate, concurrency=concurrency, deadline=deadline,
    )


def build_store_options(password_env=None, password_file=None, app_id=None, add_to_trust_list=False, **_ignored):
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.store.spec import StoreOptions

    if add_to_trust_list and not app_id:
        raise ConfigError("--add-to-trust-list needs --app-id (the application whose CA trust list to extend)")
    return StoreOptions(password_env=password_env, password_file=password_file, app_id=app_id,
                        extend_trust_list=bool(add_to_trust_list))


def normalise_fingerprints(values):
    from ibmi_trust.errors import ConfigError
    from ibmi_trust.store.base import normalise_fingerprint

    out = set()
    for value in values:
        fp = normalise_fingerprint(value)
        if len(fp) != 64 or any(ch not in "0123456789abcdef" for ch in fp):
            raise ConfigError("--trust-root wants a SHA-256 fingerprint (64 hex digits), got %r" % value)
        out.add(fp)
    return out


def build_sourcing(no_fetch=False, roots=None, from_files=(), trust_roots=(), timeout=10.0, **_ignored):
    from ibmi_trust.errors import CertificateError, ConfigError
    from ibmi_trust.fetch import RootProgram, Sourcing

    try:
        root_program = RootProgram.from_file(roots) if roots else RootProgram.default()
        sourcing = Sourcing(fetch=not no_fetch, root_program=root_program, extra=[],
                            approved_roots=normalise_fingerprints(trust_roots), timeout=min(timeout, 30.0))
        sourcing.add_files(from_files)          # keeps "file:PATH" provenance
    except CertificateError as exc:
        raise ConfigError(str(exc)) from None
    return sourcing


def build_check_options(params: dict, *, sourcing: bool = True, history=None, command: str = "check"):
    """`history`: a Journal to use (verify shares one); None builds one from the
    history options when the command has them."""
    from ibmi_trust.jobs.check import CheckOptions

    if history is None and "no_history" in params:
        history = build_history(**params)
    return CheckOptions(
        store_spec=params.get("store_spec"),
        store_options=build_store_options(**params),
        probe_options=build_probe_options(**params),
        sourcing=build_sourcing(**params) if sourcing else None,
        warn_days=params.get("warn_days", 30),
        validator_options=build_validator_options(**params),
        history=history,
        command=command,
        proof=params.get("proof") or "auto",
        chain_file=params.get("chain"),
        critical_days=params.get("critical_days"),
    )


def parse_target(text, protocol=None):
    from ibmi_trust.probe import Target

    return Target.parse(text, protocol=protocol)


def check_from_params(params: dict):
    """The check that check and needs run: target, options, a progress bar."""
    from ibmi_trust.cli.output import Progress
    from ibmi_trust.jobs.check import run_check

    target = parse_target(params["target"], params["protocol"])
    options = build_check_options(params)
    bar = Progress("probing %s" % params["target"])
    try:
        return run_check(target, options, progress=bar)
    finally:
        bar.close()


def pass_params(func):
    """Hand the command all its parameters as one dict (plus the context)."""
    @functools.wraps(func)
    @click.pass_context
    def wrapper(ctx, **params):
        return func(ctx, params)
    return wrapper
