"""The command line: `main()`, the console script and `python -m ibmi_trust`.

Start-up is most of what a short command costs under PASE, so `main` first
tries the fast paths in fast.py, which answer without importing click:
`--version` (and `--version --verbose`), `explain ...`, and `CMD --help`
from pages rendered by click ahead of time. Everything else, and anything
a fast path is not sure about, goes to the click group in group.py, whose
commands (`cmd_<name>.py`) load lazily.

An expected failure (IbmiTrustError) becomes a message on stderr and an
exit code (ibmi_trust.errors) in one function, output.failure_exit, which
both the click group (group.py) and the fast paths (fast.py) call; usage
errors exit 3 (UNKNOWN), as a monitoring plugin must.

This module imports nothing but sys: `from ibmi_trust.cli import cli`
(the click group) still works, and loads click only then.
"""
import sys

CL_RESULTS = "ibmi_trust.cl_results"     # ctx.meta key: {"path", "target", "store"}
MONITORING = "ibmi_trust.nagios"          # ctx.meta key: --nagios was asked for
NAGIOS_FLAG = "--nagios"
_LAZY = {"cli": "group", "LazyGroup": "group", "report_error": "output"}      # name -> module beside this one


def remember_cl_results(ctx, path, **context) -> None:
    """Commands run by a CL program (--cl-results) register where their
    records go, so an expected failure still reaches the caller's job log."""
    if path:
        ctx.meta[CL_RESULTS] = dict(context, path=path)


def monitoring_asked(args) -> bool:
    """--nagios among the arguments (before any `--`): then every failure,
    a usage error too, also prints a status line and exits 3."""
    args = list(args)
    return NAGIOS_FLAG in (args[:args.index("--")] if "--" in args else args)


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        from ibmi_trust.cli import fast

        code = fast.dispatch(args)
        if code is None:
            from ibmi_trust.cli.group import run

            run(args)                          # exits
        sys.exit(code)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.stderr.write("ibmi-trust: interrupted\n")
        sys.exit(130)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module("ibmi_trust.cli." + _LAZY[name]), name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
