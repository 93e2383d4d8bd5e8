"""From a command's parameters (the dict click or the fast path hands it) to the
options of the stages, for the commands in cmd_*.py and the bodies that run
without click (run_probe.py). No click here, and stage modules are imported
inside the builders, never at module level (start-up cost under PASE)."""


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
