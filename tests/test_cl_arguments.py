"""End to end from the CL command to the CLI: the command processing programs
(cl/itrchkc.clle, cl/itrvfyc.clle) run by the CL interpreter tests/clrun.py
for given CHKTLSTRST / VFYTLSTRST parameters; the &ARGS they build is split
as Qshell (a POSIX shell) splits it and parsed by the real click command, so
each CL parameter is seen to arrive as the intended CLI option."""
import shlex

import click
import pytest

import clrun
from ibmi_trust.cli import cli
from ibmi_trust.history import location


def _run(command, program, **given):
    args = clrun.arguments(command, program, **given)
    words = shlex.split(args)
    # under the group's context, as `ibmi-trust SUB ...` parses it (a command's help option
    # is made once, from the first context's help_option_names)
    group_ctx = click.Context(cli, info_name="ibmi-trust", **cli.context_settings)
    ctx = cli.get_command(group_ctx, words[0]).make_context(words[0], words[1:], parent=group_ctx)
    return args, ctx.params


def check(**given):
    return _run("CHKTLSTRST", "ITRCHKC", **given)


def verify(**given):
    return _run("VFYTLSTRST", "ITRVFYC", cfg="/home/ITRUST/targets.ini", **given)


def test_defaults_pass_no_optional_option():
    args, params = check(host="smtp.example.com")
    assert args == "check 'smtp.example.com' --store '*SYSTEM'"
    assert (params["proof"], params["history_spec"], params["no_history"]) == (None, None, False)
    args, params = check(host="smtp.example.com", action="*FIX")
    assert args == "fix 'smtp.example.com' --store '*SYSTEM' --yes"
    assert params["partial"] is False and params["yes"] is True
    args, params = verify()
    assert args == "verify --config '/home/ITRUST/targets.ini' --notify 'QSYSOPR'"
    assert (params["history_spec"], params["no_history"]) == (None, False)


@pytest.mark.parametrize("action", ["*CHECK", "*PLAN", "*FIX"])
@pytest.mark.parametrize("proof,expected", [("*DFT", None), ("*GSKIT", "gskit"), ("*MODEL", "model")])
def test_proof_reaches_check_and_fix(action, proof, expected):
    args, params = check(host="mx.example.test", action=action, proof=proof)
    assert params["proof"] == expected
    assert ("--proof" in args) == (expected is not None)


@pytest.mark.parametrize("action,partial,expected", [
    ("*FIX", "*YES", True), ("*PLAN", "*YES", True), ("*FIX", "*NO", False),
    ("*CHECK", "*YES", None),                      # check has no --partial; PMTCTL hides it there
])
def test_partial_reaches_fix_only(action, partial, expected):
    args, params = check(host="mx.example.test", action=action, partial=partial)
    assert params.get("partial") == expected
    assert args.startswith("check " if action == "*CHECK" else "fix ")
    if action == "*PLAN":
        assert params["dry_run"] is True


HISTORY_CASES = [
    ("*DFT", None, False, None),
    ("*NONE", None, True, ("off", "--no-history")),
    ("ITRUST", "db2:ITRUST", False, ("db2", "ITRUST")),
    ("itrust", "db2:itrust", False, ("db2", "ITRUST")),          # CASE(*MIXED): the library is upper-cased later
    ("/home/ITRUST/history.sqlite", "/home/ITRUST/history.sqlite", False, ("sqlite", "/home/ITRUST/history.sqlite")),
    ("/home/o'brien/my history.sqlite", "/home/o'brien/my history.sqlite", False,
     ("sqlite", "/home/o'brien/my history.sqlite")),
]


@pytest.mark.parametrize("history,spec,off,where", HISTORY_CASES)
@pytest.mark.parametrize("run", [lambda **kw: check(host="mx.example.test", **kw),
                                 lambda **kw: check(host="mx.example.test", action="*FIX", **kw), verify],
                         ids=["check", "fix", "verify"])
def test_history_reaches_check_fix_and_verify(run, history, spec, off, where):
    _args, params = run(history=history)
    assert (params["history_spec"], params["no_history"]) == (spec, off)
    if where is not None:
        chosen = location.choose(params["history_spec"], params["no_history"])
        assert (chosen.kind, chosen.where) == where


def test_existing_parameters_end_to_end(tmp_path):
    carried = tmp_path / "issuer.pem"
    carried.write_text("not read by the parser\n")
    args, params = check(host="2001:db8::25", port=587, protocol="*SUBMISSION", action="*FIX", sslrc="-23",
                         appid="QIBM_QTMS_SMTP_CLIENT", trustroot=["AB" * 32, "CD" * 32], fetch="*NO",
                         store="/home/ITRUST/my.kdb", **{"from": str(carried)})
    assert params["target"] == "[2001:db8::25]:587" and params["protocol"] == "submission"
    assert params["store_spec"] == "/home/ITRUST/my.kdb" and params["ssl_rc"] == "-23"
    assert params["app_id"] == "QIBM_QTMS_SMTP_CLIENT" and params["trust_roots"] == ("AB" * 32, "CD" * 32)
    assert params["from_files"] == (str(carried),) and params["no_fetch"] is True and params["yes"] is True
    _args, params = check(host="mx.example.test", warndays=10)
    assert params["warn_days"] == 10                 # passed as 00010: *DEC into *CHAR has leading zeros
    _args, params = verify(msgq=("OPS", "MYLIB"), report="/home/ITRUST/verify.json")
    assert params["notify_msgq"] == "MYLIB/OPS" and params["report_path"] == "/home/ITRUST/verify.json"
    assert params["config_path"] == "/home/ITRUST/targets.ini"
    args, params = verify(msgq="*NONE")
    assert "--notify" not in args
