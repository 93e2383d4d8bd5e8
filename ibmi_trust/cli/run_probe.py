"""The body of `ibmi-trust probe`, without click: cmd_probe.py (the click
command) and the fast path (fast.py, when fast_parse.py reads the arguments)
both call `run(params)` with the same parameters, so both print the same
and exit the same. Expected failures are raised (IbmiTrustError) for the
boundary (output.failure_exit) to report."""


def run(params: dict) -> int:
    """Probe params["target"]; print the summary or the JSON; 0 (a ProbeError,
    exit 3, when no chain was captured)."""
    from ibmi_trust.cli.builders import build_probe_options, parse_target
    from ibmi_trust.cli.output import Progress, emit, emit_json
    from ibmi_trust.errors import ProbeError
    from ibmi_trust.probe import probe
    from ibmi_trust.probe.offers import KEY_TYPES

    target = parse_target(params["target"], params["protocol"])
    options = build_probe_options(**params).replace(
        key_types=tuple(params["key_types"]) or KEY_TYPES, confidence=params["confidence"], seed=params["seed"])
    bar = Progress("probing %s" % target.display())
    try:
        result = probe(target, options, progress=bar)
    except ProbeError as exc:           # the one place the target goes in front of the reason
        raise type(exc)("could not probe %s: %s" % (target.display(), exc.message), hint=exc.hint) from None
    finally:
        bar.close()
    if params["as_json"]:
        emit_json(result.to_json())
    else:
        from ibmi_trust.probe import render

        emit(render.text(result) + "\n")
    if params["save_dir"]:
        from ibmi_trust.probe.save import save_chains

        paths = save_chains(result, params["save_dir"])
        emit("wrote %d PEM file%s to %s\n" % (len(paths), "" if len(paths) == 1 else "s", params["save_dir"]),
             err=True)
    return 0
