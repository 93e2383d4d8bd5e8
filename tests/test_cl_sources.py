"""The CL, command, message-file and help sources pass the project's checker,
and the checker catches what it claims to catch (each mutation of a copy of
cl/ must produce the named problem)."""
import os
import re
import shutil

import click
import pytest

from ibmi_trust import resources
from ibmi_trust.cli import cli
import clcheck
from ibmi_trust.ibmi import clsource
from ibmi_trust.ibmi.clsource import CLSyntaxError

CL_DIR = resources.resource_dir("cl")
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def test_shipped_sources_pass():
    assert [str(p) for p in clcheck.check_all()] == []


def test_cli_contract_matches_the_click_commands():
    problems, missing = clcheck.cli_problems(lambda name: cli.get_command(None, name))
    assert missing == [], "subcommands the CL commands run are missing: %s" % missing
    assert [str(p) for p in problems] == []


def test_cli_contract_catches_a_drifted_command():
    @click.command()
    @click.argument("target")
    @click.option("--trust-root")                      # not repeatable
    @click.option("--dry-run")                         # not a flag
    @click.option("--protocol", type=click.Choice(["smtp"]))
    @click.option("--proof", type=click.Choice(["gskit"]))
    @click.option("--partial")                         # not a flag
    def fake(**_kw):
        pass

    problems, _missing = clcheck.cli_problems(lambda name: fake if name == "fix" else None)
    text = "\n".join(str(p) for p in problems)
    assert "fix --trust-root cannot be repeated" in text
    assert "fix --dry-run is not a flag" in text
    assert "fix --protocol does not accept imaps" in text
    assert "fix --proof does not accept model" in text and "fix --partial is not a flag" in text
    assert "fix has no --history" in text and "fix has no --no-history" in text
    assert "fix has no --yes" in text and "fix has no --cl-results" in text


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "cl"
    shutil.copytree(CL_DIR, str(target), ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def _replace(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, "mutation anchor %r not in %s" % (old, path.name)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


MUTATIONS = [
    ("itrchkc.clle", "             DCL        VAR(&PORTA) TYPE(*CHAR) LEN(5)\n", "", "&PORTA is not declared"),
    ("itrchkc.clle", "VAR(&STORE) TYPE(*CHAR) LEN(256)", "VAR(&STORE) TYPE(*CHAR) LEN(255)",
     "&STORE receives CHKTLSTRST STORE"),
    ("itrchkc.clle", "&PROOF &HISTORY)", "&PROOF)", "PGM receives 13 parameters, CHKTLSTRST defines 14"),
    ("itrchkc.clle", "VAR(&HISTORY) TYPE(*CHAR) LEN(256)", "VAR(&HISTORY) TYPE(*CHAR) LEN(128)",
     "&HISTORY receives CHKTLSTRST HISTORY"),
    ("itrchkc.clle", "'--partial'", "'--partial-fix'", "passes --partial-fix"),
    ("itrchkc.clle", "'--proof model'", "'--proof modl'", "PROOF *MODEL: model is never passed"),
    ("itrchkc.clle", "'--no-history'", "'--history'", "HISTORY *NONE: --no-history is never passed"),
    ("itrvfyc.clle", "'--no-history'", "'--no-histry'", "passes --no-histry"),
    ("itrvfyc.clle", "&REPORT &HISTORY)", "&REPORT)", "PGM receives 3 parameters, VFYTLSTRST defines 4"),
    ("chktlstrst.cmd", "PMTCTL(FIXONLY) +\n                          PROMPT('Fix the", "+\n"
     "                          PROMPT('Fix the", "PARTIAL PMTCTL(none), contract PMTCTL(FIXONLY)"),
    ("chktlstrst.cmd", "PROMPT('Judge and prove with')", "PMTCTL(FIXONLY) PROMPT('Judge and prove with')",
     "PROOF PMTCTL(FIXONLY), contract PMTCTL(none)"),
    ("chktlstrst.cmd", "VALUES(*DFT *GSKIT *MODEL)", "VALUES(*DFT *GSKIT *MODEL *OPENSSL)", "PROOF VALUES/SPCVAL"),
    ("vfytlstrst.cmd", "SPCVAL((*DFT) (*NONE))", "SPCVAL((*DFT))", "HISTORY VALUES/SPCVAL ['*DFT'], contract"),
    ("itrchkc.clle", "'--no-fetch'", "'--no-fetchx'", "passes --no-fetchx"),
    ("itrchkc.clle", "'--no-fetch'", "'check'", "contract option --no-fetch is never passed"),
    ("chktlstrst.cmd", "VALUES(*CHECK *PLAN *FIX)", "VALUES(*CHECK *PLAN *FIX *NUKE)", "ACTION VALUES"),
    ("chktlstrst.cmd", "PMTCTL(CHECKONLY)", "PMTCTL(CHECKONL)", "PMTCTL(CHECKONL) has no PMTCTL statement"),
    ("chktlstrst.cmd", "PROMPT('Check TLS Trust')", "PROMPT('Check TLS Tr\u00fcst')", "non-ASCII"),
    ("vfytlstrst.cmd", "TYPE(QUALMSGQ)", "TYPE(QUALMSGX)", "TYPE(QUALMSGX) has no QUAL statements"),
    ("itrruni.clle", "EXEC(GOTO CMDLBL(EOF))", "EXEC(GOTO CMDLBL(EOFX))", "GOTO to unknown label EOFX"),
    ("itrruni.clle", "RMVLNK     OBJLNK(&RESULTS)", "RMVLNK     OBJLINK(&RESULTS)", "RMVLNK has no keyword OBJLINK"),
    ("itrruni.clle", "MSGDTA(&ENDED *CAT &LOG)", "MSGDTA(&LOG *CAT &LOG)",
     "MSGDTA of ITR0902 is 512 characters, its FMT takes 272"),
    ("itrruni.clle", "SNDPGMMSG  MSGID(ITR0902)", "SNDPGMMSG  MSGID(ITR0999)", "ITR0999 is not in the message file"),
    ("itrruni.clle", "               GOTO       CMDLBL(READ)\n             ENDDO\n",
     "               GOTO       CMDLBL(READ)\n", "unbalanced blocks"),
    ("itrdspc.clle", "CALLSUBR   SUBR(QUOTE)", "CALLSUBR   SUBR(QUOTX)", "CALLSUBR of unknown subroutine QUOTX"),
    ("itrdspc.clle", "VALUE('explain' *BCAT", "VALUE('explain *BCAT", "quoted string not closed"),
    ("itrdspc.clle", "INCLUDE    SRCMBR(ITRDCLI)", "INCLUDE    SRCMBR(ITRDCLX)", "INCLUDE member ITRDCLX is not in cl/"),
    ("itrvfyc.clle", "VALUE(%SST(&MSGQ 1 10))", "VALUE(%SST(&MSGQ 1 10)", "unbalanced"),
    ("itrvfyc.clle", "PGM        PARM(", "CHGVAR     VAR(&QLIB) VALUE(' ')\n             PGM        PARM(",
     "a program starts with PGM"),
    ("itrsslerr.clle", "             CHKTLSTRST HOST(", "             CHKTLSTRSX HOST(", "unknown command CHKTLSTRSX"),
    ("itrsslerr.clle", "SSLRC(&SSLRC)\n", "SSLCODE(&SSLRC)\n", "CHKTLSTRST has no keyword SSLCODE"),
    ("itrsslerr.clle", "MONMSG     MSGID(ITR0000 CPF0000)", "MONMSG     MSGID(ITR0077 CPF0000)",
     "MONMSG of unknown message ITR0077"),
    ("itrsslerr.clle", "             ENDPGM\n", "             ENDPGM\n" + "/*" + "x" * 80 + "*/\n",
     "line has 84 characters"),
    ("itrhelp.pnlgrp", "NAME='DSPSSLRC/CODE'", "NAME='DSPSSLRC/CODES'", "no :HELP NAME='DSPSSLRC/CODE'"),
    ("itrhelp.pnlgrp", "NAME='VFYTLSTRST/HISTORY'", "NAME='VFYTLSTRST/HISTORX'",
     "no :HELP NAME='VFYTLSTRST/HISTORY'"),
    ("itrhelp.pnlgrp", ":EHELP.\n:EPNLGRP.", ":EPNLGRP.", ":EPNLGRP. without :PNLGRP."),
    ("itrhelp.pnlgrp", "Use only the root program and the FROM file.", "Use only the root program & the FROM file.",
     "'&' must be written &amp."),
    ("itrhelp.pnlgrp", ":P.Specifies the TCP port of the server.", ".Specifies the TCP port of the server.",
     "UIM control word"),
    ("itrhelp.pnlgrp", "capath&colon.directory", "capath:directory", "a colon in text starts a UIM tag"),
    ("itrruni.clle", "CCSID(&DFTCCSID) TEXT('ibmi-trust results')", "TEXT('ibmi-trust results')",
     "CRTPF without CCSID()"),
    ("itrchkc.clle", "VALUE('https')", "VALUE('http')", "PROTOCOL *HTTPS: https is never passed"),
    ("itrmsgf.msgf", "MSGID(ITR0002)", "MSGID(ITR0001)", "message ID ITR0001 defined twice"),
    ("itrmsgf.msgf", "MSG('&1 is trusted by &2.')", "MSG('&1 is trusted by &3.')", "ITR0001 uses &3 but FMT has 2"),
    ("itrmsgf.msgf", "SEV(00) FMT((*CHAR 6))", "SEV(00) FMT((*DEC 6))", "is not (*CHAR n)"),
    ("itrmsgf.msgf", "MSGID(ITR0201) MSGF(ITRMSGF)", "MSGID(ITR0201) MSGF(QGPL/ITRMSGF)", "MSGF must be ITRMSGF"),
]


@pytest.mark.parametrize("name,old,new,expected", MUTATIONS, ids=[m[3][:40] for m in MUTATIONS])
def test_checker_catches(copy, name, old, new, expected):
    _replace(copy / name, old, new)
    problems = [str(p) for p in clcheck.check_all(str(copy))]
    assert any(expected in p for p in problems), problems


def test_checker_flags_files_outside_the_plan(copy):
    (copy / "stray.clle").write_text("             PGM\n             ENDPGM\n", encoding="ascii")
    (copy / "itrdspc.clle").unlink()
    problems = [str(p) for p in clcheck.check_all(str(copy))]
    assert any("stray.clle" in p and "not part of the install plan" in p for p in problems)
    assert any("itrdspc.clle" in p and "missing from cl/" in p for p in problems)


# -- the parser --------------------------------------------------------------------
def test_parser_continuations_comments_and_quotes():
    text = ("/* a comment */\n"
            " LBL:  SNDPGMMSG  MSG('It''s +\n"
            "            fine') /* mid */ TOPGMQ(*PRV) +\n"
            "          MSGTYPE(*INFO)\n"
            "             CHGVAR VAR(&X) VALUE('a-\n"
            "   b')\n")
    first, second = clsource.parse(text)
    assert (first.label, first.command, first.line) == ("LBL", "SNDPGMMSG", 2)
    assert first.text("MSG") == "It's fine" and first.value("TOPGMQ") == "*PRV"
    assert second.text("VALUE") == "a   b"             # '-' keeps the next line's leading blanks
    assert clsource.parse_statement(first.render(MSGTYPE="*DIAG")).value("MSGTYPE") == "*DIAG"
    assert clsource.unquote(clsource.quote("a'b")) == "a'b"
    assert clsource.variables("(&A *CAT '&B' *CAT &c)") == ["A", "C"]
    assert clsource.elements("(*CHAR 7) (*CHAR 10)") == ["(*CHAR 7)", "(*CHAR 10)"]
    qualified = clsource.parse_statement("QSYS/CHKOBJ OBJ(QSYS/X) OBJTYPE(*LIB)")
    assert (qualified.qualifier, qualified.command) == ("QSYS", "CHKOBJ")


@pytest.mark.parametrize("text,problem", [
    ("CHGVAR VAR(&X) VALUE('open\n", "not closed"),
    ("CHGVAR VAR(&X) VALUE((1)\n", "unbalanced '('"),
    ("CHGVAR VAR(&X)) VALUE(1)\n", "unbalanced ')'"),
    ("CHGVAR VAR(&X) +\n", "continuation"),
    ("/* never closed\nCHGVAR VAR(&X)\n", "comment"),
    ("CHGVAR VAR(&X) VAR(&Y)\n", "given twice"),
])
def test_parser_errors(text, problem):
    with pytest.raises(CLSyntaxError) as info:
        clsource.parse(text, "t.clle")
    assert problem in str(info.value) and str(info.value).startswith("t.clle:")


# -- CL in the documentation ---------------------------------------------------------
def _doc_cl_statements():
    out = []
    for name in sorted(os.listdir(DOCS)) if os.path.isdir(DOCS) else []:
        if not name.endswith(".md"):
            continue
        with open(os.path.join(DOCS, name), encoding="utf-8") as handle:
            for block in re.findall(r"```cl\n(.*?)```", handle.read(), re.S):
                out.append((name, block))
    return out


def test_cl_examples_in_docs_use_known_commands_and_keywords():
    blocks = _doc_cl_statements()
    assert len(blocks) >= 4, "docs/runbook.md and docs/rpg-example.md carry CL examples"
    known = dict(clcheck.IBM_COMMANDS)
    known.update(clcheck.Sources().own_commands())
    known.update({"WRKJOBSCDE": ("JOB",), "DSPJOBLOG": ("JOB", "OUTPUT"), "DSPMSGD": ("RANGE", "MSGF", "DETAIL"),
                  "DSPF": ("STMF",), "DSPMSG": ("MSGQ",), "WRKMSGF": ("MSGF",), "SBMJOB": ("CMD", "JOB", "JOBD")})
    for name, block in blocks:
        for stmt in clsource.parse(block, name):
            assert not clcheck.statement_problems(name, stmt, known), (name, stmt.render())


def test_help_ranges_match_the_command_ranges():
    """The F1 help of a numeric parameter gives the range the command accepts
    (PORT: RANGE(0 65535) with 0 meaning *PROTOCOL; the help once said 1-65535)."""
    sources = clcheck.Sources()
    help_text = sources.text("itrhelp.pnlgrp")
    for cmd_file in ("chktlstrst.cmd",):
        command = cmd_file[:-4].upper()
        for stmt in sources.statements(cmd_file):
            if stmt.command != "PARM" or not stmt.value("RANGE"):
                continue
            low, high = clsource.split_values(clsource.strip_parens(stmt.value("RANGE")))
            section = help_text.split(":HELP NAME='%s/%s'" % (command, stmt.text("KWD")))[1].split(":EHELP.")[0]
            assert ":PT.%s-%s" % (low, high) in section, (stmt.text("KWD"), low, high)
