"""The checker for the project's CL, command, message-file and help sources.

No IBM i is needed (nor available in CI), so the sources in cl/ are checked
here instead of by the compilers:

- every source: parses (balanced quotes, parentheses, comments), lines of at
  most 80 characters (the source file has RCDLEN(92)), ASCII only;
- CL programs: every command is known (IBM_COMMANDS below, plus the
  project's own *CMDs) with known keywords; PGM first, ENDPGM last,
  declarations before code, DO/ENDDO, SELECT/ENDSELECT and SUBR/ENDSUBR
  balanced; variables declared; GOTO labels and CALLSUBR subroutines exist;
  INCLUDE members exist; ITR message IDs exist, and message data built
  from variables has the length of the message's FMT; CRTPF/CRTSRCPF name
  their CCSID (65535 jobs);
- command definitions: one CMD statement, known PARM keywords and types,
  QUAL/PMTCTL labels resolve; the PGM PARM list of its processing program
  matches (order, type, length: a *CHAR LEN(n) parameter arrives as *CHAR
  n, *DEC LEN(p s) as *DEC, a qualified name as the sum of its parts, a list
  of MAX(m) as a 2-byte count plus m elements);
- CLI_CONTRACT: for each command keyword, the ibmi-trust subcommand and
  option the processing program passes; checked against the command
  source, the program's literals and (cli_problems) the real click commands;
- message file: ADDMSGD only, ITRnnnn IDs once each, FMT of (*CHAR n),
  substitution variables within FMT, text lengths within IBM's limits;
- panel group: tags balanced, a :HELP for every command and parameter, no
  bare colon or ampersand in text (&colon. and &amp., UIM symbols).

A development tool, kept beside the tests (it is not part of the installed
package): `python tests/clcheck.py [CL_DIR]` from the repository root
prints the problems (exit 1 if any); tests/test_cl_sources.py runs it.
"""
import os
import re
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

if __name__ == "__main__":       # run as a script: check this checkout, never an installed copy
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ibmi_trust.ibmi import clsource
from ibmi_trust.ibmi.clsource import CLSyntaxError, Statement

MAX_LINE = 80

# IBM commands the project's sources and installer use: keywords, positional
# ones first in IBM's positional order (IBM i CL command reference).
IBM_COMMANDS: Dict[str, Tuple[str, ...]] = {
    # program structure and control
    "PGM": ("PARM",),
    "ENDPGM": (),
    "DCL": ("VAR", "TYPE", "STG", "LEN", "VALUE", "BASPTR", "DEFVAR", "ADDRESS"),
    "DCLF": ("FILE", "RCDFMT", "OPNID", "ALWVARLEN", "ALWNULL", "ALWGRAPHIC", "DCLBINFLD"),
    "INCLUDE": ("SRCMBR", "SRCFILE", "SRCSTMF"),
    "CHGVAR": ("VAR", "VALUE"),
    "IF": ("COND", "THEN"),
    "ELSE": ("CMD",),
    "DO": (), "ENDDO": (),
    "DOWHILE": ("COND",), "DOUNTIL": ("COND",), "DOFOR": ("VAR", "FROM", "TO", "BY"),
    "LEAVE": ("CMDLBL",), "ITERATE": ("CMDLBL",),
    "SELECT": (), "WHEN": ("COND", "THEN"), "OTHERWISE": ("CMD",), "ENDSELECT": (),
    "GOTO": ("CMDLBL",), "RETURN": (),
    "SUBR": ("SUBR",), "ENDSUBR": ("RTNVAL",), "RTNSUBR": ("RTNVAL",), "CALLSUBR": ("SUBR", "RTNVAL"),
    "CALL": ("PGM", "PARM"),
    "CALLPRC": ("PRC", "PARM", "RTNVAL"),
    "DCLPRCOPT": ("LOG", "ALWRTVSRC", "USRPRF", "AUT", "SRTSEQ", "LANGID", "TEXT", "DFTACTGRP", "ACTGRP",
                  "STGMDL", "BNDDIR", "BNDSRVPGM", "TGTRLS", "OPTIMIZE", "DBGENCKEY"),
    "MONMSG": ("MSGID", "CMPDTA", "EXEC"),
    "RCVF": ("DEV", "RCDFMT", "OPNID", "WAIT"),
    # messages
    "SNDPGMMSG": ("MSG", "MSGID", "MSGF", "MSGDTA", "TOPGMQ", "TOMSGQ", "TOUSR", "MSGTYPE", "RPYMSGQ",
                  "KEYVAR", "CCSID"),
    "RCVMSG": ("PGMQ", "MSGQ", "MSGTYPE", "MSGKEY", "WAIT", "RMV", "CCSID", "KEYVAR", "MSG", "MSGLEN",
               "SECLVL", "SECLVLLEN", "MSGDTA", "MSGDTALEN", "MSGID", "SEV", "SENDER", "SENDERFMT",
               "RTNTYPE", "ALROPT", "MSGF", "MSGFLIB", "SNDMSGFLIB", "TXTCCSID", "DTACCSID"),
    "CRTMSGF": ("MSGF", "TEXT", "SIZE", "AUT", "CCSID"),
    "DLTMSGF": ("MSGF",),
    "ADDMSGD": ("MSGID", "MSGF", "MSG", "SECLVL", "SEV", "FMT", "TYPE", "LEN", "VALUES", "SPCVAL", "RANGE",
                "REL", "DFT", "DFTPGM", "DMPLST", "LVL", "ALROPT", "LOGPRB", "CCSID"),
    # jobs, environment, Qshell, files
    "RTVJOBA": ("JOB", "USER", "NBR", "CURUSER", "TYPE", "CCSID", "DFTCCSID", "LOGLVL", "LOGCLPGM"),
    "RTVOBJD": ("OBJ", "OBJTYPE", "ASPDEV", "RTNLIB", "OBJATR", "TEXT"),
    "ADDENVVAR": ("ENVVAR", "VALUE", "CCSID", "LEVEL", "REPLACE"),
    "RMVENVVAR": ("ENVVAR", "LEVEL"),
    "QSH": ("CMD",), "STRQSH": ("CMD",),
    "CPYFRMSTMF": ("FROMSTMF", "TOMBR", "MBROPT", "CVTDTA", "STMFCCSID", "DBFCCSID", "ENDLINFMT",
                   "TABEXPN", "STMFCODPAG", "DBFCODPAG"),
    "RMVLNK": ("OBJLNK",),
    "CHGAUT": ("OBJ", "USER", "DTAAUT", "OBJAUT", "AUTL", "SUBTREE", "SYMLNK"),
    "CRTPF": ("FILE", "SRCFILE", "SRCMBR", "RCDLEN", "MBR", "TEXT", "CCSID", "SIZE", "AUT", "OPTION", "LVLCHK"),
    "CLRPFM": ("FILE", "MBR"),
    "CRTSRCPF": ("FILE", "RCDLEN", "MBR", "TEXT", "CCSID", "SIZE", "AUT"),
    "CHGPFM": ("FILE", "MBR", "SRCTYPE", "TEXT"),
    "DLTF": ("FILE", "SYSTEM", "RMVCST"),
    # objects
    "CHKOBJ": ("OBJ", "OBJTYPE", "MBR", "AUT"),
    "CRTLIB": ("LIB", "TYPE", "ASP", "ASPDEV", "TEXT", "AUT", "CRTAUT", "CRTOBJAUD"),
    "DLTLIB": ("LIB", "ASPDEV"),
    "ADDLIBLE": ("LIB", "POSITION"),
    "RMVLIBLE": ("LIB",),
    "CRTDTAARA": ("DTAARA", "TYPE", "LEN", "VALUE", "RMTDTAARA", "RMTLOCNAME", "TEXT", "AUT"),
    "CHGDTAARA": ("DTAARA", "VALUE"),
    "RTVDTAARA": ("DTAARA", "RTNVAR"),
    "DLTDTAARA": ("DTAARA",),
    "CRTBNDCL": ("PGM", "SRCFILE", "SRCMBR", "SRCSTMF", "TEXT", "DFTACTGRP", "ACTGRP", "STGMDL", "OUTPUT",
                 "OPTION", "USRPRF", "LOG", "REPLACE", "TGTRLS", "AUT", "INCFILE", "INCDIR"),
    "CRTBNDC": ("PGM", "SRCFILE", "SRCMBR", "SRCSTMF", "OUTPUT", "OPTION", "CHECKOUT", "OPTIMIZE", "INLINE",
                "MODULE", "DBGVIEW", "DEFINE", "LANGLVL", "SYSIFCOPT", "LOCALETYPE", "FLAG", "MSGLMT", "REPLACE",
                "USRPRF", "AUT", "TGTRLS", "TERASPACE", "STGMDL", "INCDIR", "TGTCCSID", "TEXT"),
    "DLTPGM": ("PGM",),
    "CRTCMD": ("CMD", "PGM", "SRCFILE", "SRCMBR", "REXSRCFILE", "REXSRCMBR", "REXCMDENV", "REXEXITPGM",
               "THDSAFE", "MLTTHDACN", "TEXT", "VLDCKR", "MODE", "ALLOW", "ALWLMTUSR", "MAXPOS", "PMTFILE",
               "MSGF", "HLPSHLF", "HLPPNLGRP", "HLPID", "HLPSCHIDX", "CURLIB", "PRDLIB", "PMTOVRPGM", "AUT",
               "REPLACE", "ENBGUI"),
    "DLTCMD": ("CMD",),
    "CRTPNLGRP": ("PNLGRP", "SRCFILE", "SRCMBR", "INCFILE", "TEXT", "OPTION", "AUT", "REPLACE", "CHRID"),
    "DLTPNLGRP": ("PNLGRP",),
    # user profiles (docs: the nightly job's profile needs a password)
    "CHGUSRPRF": ("USRPRF", "PASSWORD", "PWDEXP", "STATUS", "USRCLS", "ASTLVL", "CURLIB", "INLPGM", "INLMNU",
                  "LMTCPB", "TEXT", "SPCAUT", "SPCENV", "DSPSGNINF", "PWDEXPITV", "PWDCHGBLK", "LCLPWDMGT",
                  "LMTDEVSSN", "KBDBUF", "MAXSTG", "PTYLMT", "JOBD", "GRPPRF", "OWNER", "GRPAUT", "GRPAUTTYP",
                  "SUPGRPPRF", "ACGCDE", "DOCPWD", "MSGQ", "DLVRY", "SEV", "PRTDEV", "OUTQ", "ATNPGM", "SRTSEQ",
                  "LANGID", "CNTRYID", "CCSID", "CHRIDCTL", "SETJOBATR", "LOCALE", "USROPT", "UID", "GID",
                  "HOMEDIR", "EIMASSOC", "USREXPDATE", "USREXPITV", "AUT"),
    # scheduling (docs)
    "ADDJOBSCDE": ("JOB", "CMD", "FRQ", "SCDDATE", "SCDDAY", "SCDTIME", "RELDAYMON", "SAVE", "OMITDATE",
                   "RCYACN", "JOBD", "JOBQ", "USER", "MSGQ", "TEXT"),
}

# Command-definition statements (CL reference: CMD, PARM, QUAL, ELEM, DEP, PMTCTL).
DEFINITION_STATEMENTS: Dict[str, Tuple[str, ...]] = {
    "CMD": ("PROMPT", "PMTFILE", "MAXPOS", "ALLOW", "MODE", "ALWLMTUSR", "HLPSHLF", "HLPPNLGRP", "HLPID",
            "HLPSCHIDX", "CURLIB", "PRDLIB", "PMTOVRPGM", "MSGF", "VLDCKR", "THDSAFE", "MLTTHDACN",
            "TEXT", "ENBGUI"),
    "PARM": ("KWD", "TYPE", "LEN", "RTNVAL", "CONSTANT", "RSTD", "DFT", "VALUES", "REL", "RANGE", "SPCVAL",
             "SNGVAL", "MIN", "MAX", "ALWUNPRT", "ALWVAR", "PGM", "DTAARA", "FILE", "FULL", "EXPR", "VARY",
             "PASSATR", "PASSVAL", "CASE", "LISTDSPL", "DSPINPUT", "CHOICE", "CHOICEPGM", "PMTCTL",
             "PMTCTLPGM", "PROMPT", "INLPMTLEN", "KEYPARM"),
    "QUAL": ("TYPE", "LEN", "CONSTANT", "RSTD", "DFT", "VALUES", "REL", "RANGE", "SPCVAL", "MIN",
             "ALWUNPRT", "ALWVAR", "PGM", "DTAARA", "FULL", "EXPR", "VARY", "PASSATR", "CASE", "DSPINPUT",
             "CHOICE", "CHOICEPGM", "INLPMTLEN", "PROMPT"),
    "ELEM": ("TYPE", "LEN", "CONSTANT", "RSTD", "DFT", "VALUES", "REL", "RANGE", "SPCVAL", "SNGVAL", "MIN",
             "MAX", "ALWUNPRT", "ALWVAR", "PGM", "DTAARA", "FILE", "FULL", "EXPR", "VARY", "PASSATR",
             "CHOICE", "CHOICEPGM", "PMTCTL", "PMTCTLPGM", "PROMPT", "INLPMTLEN", "CASE", "LISTDSPL",
             "DSPINPUT"),
    "DEP": ("CTL", "PARM", "NBRTRUE", "MSGID"),
    "PMTCTL": ("CTL", "COND", "NBRTRUE", "LGLREL"),
}
PARM_TYPES = {"*DEC", "*LGL", "*CHAR", "*INT2", "*INT4", "*UINT2", "*UINT4", "*NAME", "*SNAME", "*CNAME",
              "*PNAME", "*GENERIC", "*VARNAME", "*DATE", "*TIME", "*CMD", "*X", "*HEX", "*ZEROELEM",
              "*NULL", "*CMDSTR"}
DECLARATIONS = {"DCL", "DCLF", "INCLUDE", "COPYRIGHT", "DCLPRCOPT"}
NESTING = {"IF", "ELSE", "WHEN", "OTHERWISE", "MONMSG", "ADDJOBSCDE", "SBMJOB"}   # commands holding a command
MSGID_RE = re.compile(r"^ITR\d{4}$")

# For each command keyword: (subcommand, CLI parameter) pairs the processing
# program passes; "TARGET"/"CODE" are click arguments. "values" maps the
# keyword's restricted (VALUES) and special (SPCVAL) values to what is passed
# (None: nothing is passed); "pmtctl" the PMTCTL label of each conditionally
# prompted keyword (none other may have one).
# HISTORY: *DFT nothing, *NONE --no-history, else --history db2:LIB or PATH.
def _history_pairs(sub: str) -> List[Tuple[str, str]]:
    return [(sub, "--history"), (sub, "--no-history")]


HISTORY_VALUES = {"*DFT": None, "*NONE": "--no-history"}
CLI_CONTRACT = {
    "CHKTLSTRST": {
        "keywords": {
            "HOST": [("check", "TARGET"), ("fix", "TARGET")],
            "PORT": [("check", "TARGET"), ("fix", "TARGET")],
            "PROTOCOL": [("check", "--protocol"), ("fix", "--protocol")],
            "ACTION": [("fix", "--dry-run"), ("fix", "--yes")],
            "STORE": [("check", "--store"), ("fix", "--store")],
            "SSLRC": [("check", "--ssl-rc"), ("fix", "--ssl-rc")],
            "APPID": [("fix", "--app-id")],
            "WARNDAYS": [("check", "--warn-days")],
            "TRUSTROOT": [("fix", "--trust-root")],
            "FROM": [("fix", "--from")],
            "FETCH": [("fix", "--no-fetch")],
            "PARTIAL": [("fix", "--partial")],
            "PROOF": [("check", "--proof"), ("fix", "--proof")],
            "HISTORY": _history_pairs("check") + _history_pairs("fix"),
        },
        "values": {
            "PROTOCOL": {"*PORT": None, "*SMTP": "smtp", "*SUBMISSION": "submission", "*SMTPS": "smtps",
                         "*IMAP": "imap", "*IMAPS": "imaps", "*POP3": "pop3", "*POP3S": "pop3s",
                         "*HTTPS": "https"},
            "ACTION": {"*CHECK": "check", "*PLAN": "--dry-run", "*FIX": "--yes"},
            "FETCH": {"*YES": None, "*NO": "--no-fetch"},
            "PARTIAL": {"*NO": None, "*YES": "--partial"},
            "PROOF": {"*DFT": None, "*GSKIT": "gskit", "*MODEL": "model"},
            "HISTORY": HISTORY_VALUES,
        },
        "flags": {"--dry-run", "--yes", "--no-fetch", "--partial", "--no-history"},
        "multiple": {"--trust-root"},
        # fix-only and check-only parameters are prompted for that ACTION only
        "pmtctl": {"APPID": "FIXONLY", "TRUSTROOT": "FIXONLY", "FROM": "FIXONLY", "FETCH": "FIXONLY",
                   "PARTIAL": "FIXONLY", "WARNDAYS": "CHECKONLY"},
    },
    "DSPSSLRC": {"keywords": {"CODE": [("explain", "CODE")]}, "values": {}, "flags": set(), "multiple": set()},
    "VFYTLSTRST": {
        "keywords": {"CFG": [("verify", "--config")], "MSGQ": [("verify", "--notify")],
                     "REPORT": [("verify", "--report")], "HISTORY": _history_pairs("verify")},
        "values": {"HISTORY": HISTORY_VALUES}, "flags": {"--no-history"}, "multiple": set(),
    },
}
RUNNER_OPTIONS = ("--cl-results",)      # passed by ITRRUNI to every subcommand


@dataclass(frozen=True)
class Problem:
    where: str
    line: int
    message: str

    def __str__(self) -> str:
        return "%s:%d: %s" % (self.where, self.line, self.message)


class Sources:
    """The cl/ directory: file texts and parsed statements, by member name."""

    def __init__(self, cl_dir: Optional[str] = None):
        from ibmi_trust import resources

        self.dir = cl_dir or resources.resource_dir("cl")
        self.files = sorted(n for n in os.listdir(self.dir)
                            if os.path.splitext(n)[1] in (".clle", ".cmd", ".msgf", ".pnlgrp", ".txt"))
        self._parsed: Dict[str, List[Statement]] = {}

    def text(self, name: str) -> str:
        with open(os.path.join(self.dir, name), encoding="utf-8") as handle:
            return handle.read()

    def member(self, member: str, kind: str) -> Optional[str]:
        name = "%s.%s" % (member.lower(), kind)
        return name if name in self.files else None

    def statements(self, name: str) -> List[Statement]:
        if name not in self._parsed:
            self._parsed[name] = [s for s in clsource.parse(self.text(name), name) if s.command or s.label]
        return self._parsed[name]

    def expanded(self, name: str) -> List[Tuple[str, Statement]]:
        """(file, statement) with INCLUDE SRCMBR(x) replaced by x.clle's statements."""
        out = []
        for stmt in self.statements(name):
            include = stmt.text("SRCMBR") if stmt.command == "INCLUDE" else ""
            target = self.member(include, "clle") if include else None
            if target:
                out += [(target, s) for s in self.statements(target)]
            else:
                out.append((name, stmt))
        return out

    def own_commands(self) -> Dict[str, Tuple[str, ...]]:
        """The project's *CMDs with their keywords in PARM order."""
        out = {}
        for name in self.files:
            if name.endswith(".cmd"):
                try:
                    out[name[:-4].upper()] = tuple(s.text("KWD").upper() for s in self.statements(name)
                                                   if s.command == "PARM")
                except CLSyntaxError:
                    continue
        return out


# -- generic checks -----------------------------------------------------------
def text_problems(name: str, text: str) -> List[Problem]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE:
            out.append(Problem(name, number, "line has %d characters; the source file holds %d"
                               % (len(line), MAX_LINE)))
        if any(ord(ch) > 126 or (ord(ch) < 32 and ch != "\t") for ch in line):
            out.append(Problem(name, number, "non-ASCII or control character (job CCSIDs differ)"))
        if "\t" in line:
            out.append(Problem(name, number, "tab character"))
    return out


def nested_commands(stmt: Statement) -> List[Statement]:
    """The statement and the commands in its THEN/EXEC/CMD, recursively (CLSyntaxError if unparsable)."""
    out = [stmt]
    if stmt.command in NESTING:
        for kw in ("THEN", "EXEC", "CMD"):
            raw = stmt.value(kw)
            if raw:
                out += nested_commands(clsource.parse_statement(raw, line=stmt.line))
    return out


def _commands_or_self(stmt: Statement) -> List[Statement]:
    try:
        return nested_commands(stmt)
    except CLSyntaxError:
        return [stmt]     # statement_problems reports it


def statement_problems(name: str, stmt: Statement, known: Dict[str, Tuple[str, ...]]) -> List[Problem]:
    """Known command, known keywords, not too many positional values; nested commands too."""
    try:
        commands = nested_commands(stmt)
    except CLSyntaxError as exc:
        return [Problem(name, stmt.line, exc.problem)]
    out = []
    for cmd in commands:
        if not cmd.command:
            continue
        keywords = known.get(cmd.command)
        if keywords is None:
            out.append(Problem(name, stmt.line, "unknown command %s" % cmd.command))
            continue
        out += [Problem(name, stmt.line, "%s has no keyword %s" % (cmd.command, kw))
                for kw in cmd.params if kw not in keywords]
        if len(cmd.positional) > len(keywords):
            out.append(Problem(name, stmt.line, "%s: %d positional values, at most %d"
                               % (cmd.command, len(cmd.positional), len(keywords))))
    return out


# -- CL programs ------------------------------------------------------------------
@dataclass
class Program:
    name: str
    params: List[str]
    variables: Dict[str, Tuple[str, Tuple[int, ...]]]     # NAME -> (type, len)
    statements: List[Tuple[str, Statement]]


def _var_decl(stmt: Statement) -> Tuple[str, str, Tuple[int, ...]]:
    values = dict(zip(IBM_COMMANDS["DCL"], stmt.positional))
    values.update(stmt.params)
    name = values.get("VAR", "").lstrip("&").upper()
    vtype = values.get("TYPE", "").upper()
    length = values.get("LEN", "")
    if length:
        lens = tuple(int(x) for x in clsource.split_values(length))
    else:
        lens = {"*LGL": (1,), "*INT": (4,), "*UINT": (4,), "*DEC": (15, 5), "*PTR": (16,)}.get(vtype, (32,))
        if vtype == "*CHAR" and values.get("VALUE"):
            lens = (max(1, len(clsource.unquote(values["VALUE"]))),)
    return name, vtype, lens


def read_program(sources: Sources, name: str) -> Program:
    statements = sources.expanded(name)
    variables: Dict[str, Tuple[str, Tuple[int, ...]]] = {}
    params: List[str] = []
    for _where, stmt in statements:
        if stmt.command == "PGM" and stmt.value("PARM"):
            params = clsource.variables(stmt.value("PARM"))
        elif stmt.command == "DCL":
            var, vtype, lens = _var_decl(stmt)
            variables[var] = (vtype, lens)
        elif stmt.command == "DCLF":
            # A program-described file (CRTPF RCDLEN) has one field named like the file.
            file_name = stmt.text("FILE").split("/")[-1].upper()
            variables[file_name] = ("*CHAR", (0,))
    return Program(name, params, variables, statements)


def program_problems(sources: Sources, name: str, known: Dict[str, Tuple[str, ...]]) -> List[Problem]:
    from ibmi_trust.ibmi import messages

    program = read_program(sources, name)
    out: List[Problem] = []
    stmts = program.statements
    executable = [(w, s) for w, s in stmts if s.command]
    if not executable or executable[0][1].command != "PGM":
        out.append(Problem(name, 1, "a program starts with PGM"))
    if not executable or executable[-1][1].command != "ENDPGM":
        out.append(Problem(name, stmts[-1][1].line if stmts else 1, "a program ends with ENDPGM"))
    seen_code = False
    labels = {s.label for _w, s in stmts if s.label}
    subroutines = {s.text("SUBR").upper() for _w, s in stmts if s.command == "SUBR"}
    depth = {"DO": 0, "SELECT": 0, "SUBR": 0}
    catalog = messages.catalog()
    for where, stmt in stmts:
        if stmt.command == "INCLUDE" and not sources.member(stmt.text("SRCMBR"), "clle"):
            out.append(Problem(where, stmt.line, "INCLUDE member %s is not in cl/" % stmt.text("SRCMBR")))
        if stmt.command in DECLARATIONS:
            if seen_code:
                out.append(Problem(where, stmt.line, "%s after the first executable command" % stmt.command))
        elif stmt.command not in ("PGM", ""):
            seen_code = True
        out += statement_problems(where, stmt, known)
        for var in _all_variables(stmt):
            if var not in program.variables:
                out.append(Problem(where, stmt.line, "&%s is not declared" % var))
        for inner in _commands_or_self(stmt):
            out += _flow_problems(where, inner, labels, subroutines, depth)
            out += _message_problems(where, inner, program, catalog)
            if inner.command in ("CRTPF", "CRTSRCPF") and not inner.value("CCSID"):
                # "If a CCSID is not explicitly specified on the CRTPF or CRTSRCPF command, ... the
                # job default CCSID" / 65535 for program-described files (IBM i globalization).
                out.append(Problem(where, inner.line, "%s without CCSID(): a job of CCSID 65535 gets a "
                                                      "file whose data is never converted" % inner.command))
    if stmts and any(depth.values()):
        out.append(Problem(name, stmts[-1][1].line, "unbalanced blocks: %s" % depth))
    for var in program.variables:
        if len(var) > 10:
            out.append(Problem(name, 1, "&%s: CL variable names have at most 10 characters" % var))
    return out


def _all_variables(stmt: Statement) -> List[str]:
    raw = " ".join(stmt.positional + list(stmt.params.values()))
    return clsource.variables(raw)


def _flow_problems(where, stmt, labels, subroutines, depth) -> List[Problem]:
    out = []
    if stmt.command in ("GOTO", "LEAVE", "ITERATE"):
        target = (stmt.value("CMDLBL") or (stmt.positional[0] if stmt.positional else "")).upper()
        if target and target not in labels:
            out.append(Problem(where, stmt.line, "%s to unknown label %s" % (stmt.command, target)))
    if stmt.command == "CALLSUBR" and stmt.text("SUBR").upper() not in subroutines:
        out.append(Problem(where, stmt.line, "CALLSUBR of unknown subroutine %s" % stmt.text("SUBR")))
    # DO blocks open in THEN(DO)/EXEC(DO)/CMD(DO) and the DO* loops
    if stmt.command in ("DO", "DOWHILE", "DOUNTIL", "DOFOR"):
        depth["DO"] += 1
    elif stmt.command == "ENDDO":
        depth["DO"] -= 1
    elif stmt.command == "SELECT":
        depth["SELECT"] += 1
    elif stmt.command == "ENDSELECT":
        depth["SELECT"] -= 1
    elif stmt.command == "SUBR":
        depth["SUBR"] += 1
    elif stmt.command == "ENDSUBR":
        depth["SUBR"] -= 1
    if min(depth.values()) < 0:
        out.append(Problem(where, stmt.line, "%s without its opening statement" % stmt.command))
        for key in depth:
            depth[key] = max(0, depth[key])
    return out


def _message_problems(where, stmt, program: Program, catalog) -> List[Problem]:
    out = []
    if stmt.command == "MONMSG":
        for msgid in clsource.split_values(clsource.strip_parens(stmt.value("MSGID", ""))):
            msgid = msgid.upper()
            if msgid.startswith("ITR") and msgid != "ITR0000" and msgid not in catalog:
                out.append(Problem(where, stmt.line, "MONMSG of unknown message %s" % msgid))
    if stmt.command == "SNDPGMMSG" and stmt.text("MSGID").upper().startswith("ITR"):
        msgid = stmt.text("MSGID").upper()
        if msgid not in catalog:
            out.append(Problem(where, stmt.line, "message %s is not in the message file" % msgid))
            return out
        parts = [p for p in clsource.split_values(stmt.value("MSGDTA", "")) if p.upper() != "*CAT"]
        lens = []
        for part in parts:
            var = part.lstrip("&").upper() if part.startswith("&") else None
            if var is None or var not in program.variables or program.variables[var][0] != "*CHAR":
                return out     # an expression this check does not size
            lens.append(program.variables[var][1][0])
        if parts and sum(lens) != catalog[msgid].data_length:
            out.append(Problem(where, stmt.line, "MSGDTA of %s is %d characters, its FMT takes %d"
                               % (msgid, sum(lens), catalog[msgid].data_length)))
    return out


# -- command definitions --------------------------------------------------------
@dataclass
class Parameter:
    keyword: str
    type: str
    length: Tuple[int, ...]
    max: int
    values: Tuple[str, ...]
    line: int
    special: Tuple[str, ...] = ()       # the SPCVAL/SNGVAL values
    pmtctl: str = ""                    # the PMTCTL label

    @property
    def choices(self) -> Tuple[str, ...]:
        return self.values + self.special

    def received(self, qualifiers: Dict[str, List["Parameter"]]) -> Tuple[str, Tuple[int, ...]]:
        """What the processing program receives: (CL type, length)."""
        if self.type in qualifiers:
            size = sum(q.length[0] for q in qualifiers[self.type])
            kind, lens = "*CHAR", (size,)
        elif self.type in ("*DEC",):
            kind, lens = "*DEC", self.length
        elif self.type == "*LGL":
            kind, lens = "*LGL", (1,)
        elif self.type in ("*INT2", "*INT4", "*UINT2", "*UINT4"):
            kind, lens = ("*UINT" if self.type.startswith("*U") else "*INT"), (int(self.type[-1]),)
        else:
            kind, lens = "*CHAR", self.length[:1]
        if self.max > 1:
            return "*CHAR", (2 + self.max * lens[0],)
        return kind, lens


def read_command(sources: Sources, name: str) -> Tuple[List[Parameter], Dict[str, List[Parameter]], List[Problem]]:
    problems: List[Problem] = []
    params: List[Parameter] = []
    qualifiers: Dict[str, List[Parameter]] = {}
    pmtctl = set()
    current_qual = None
    statements = sources.statements(name)
    cmd_count = 0
    for stmt in statements:
        problems += statement_problems(name, stmt, DEFINITION_STATEMENTS)
        if stmt.command == "CMD":
            cmd_count += 1
            if not stmt.text("PROMPT"):
                problems.append(Problem(name, stmt.line, "CMD has no PROMPT text"))
        elif stmt.command == "PMTCTL":
            pmtctl.add(stmt.label)
        if stmt.command in ("PARM", "QUAL"):
            ptype = stmt.text("TYPE").upper()
            length = tuple(int(x) for x in clsource.split_values(stmt.value("LEN", ""))) or (0,)
            values = tuple(v.upper() for v in clsource.split_values(stmt.value("VALUES", "")))
            special = tuple(clsource.split_values(clsource.strip_parens(element))[0].upper()
                            for kw in ("SPCVAL", "SNGVAL") for element in clsource.elements(stmt.value(kw, "")))
            param = Parameter(stmt.text("KWD").upper(), ptype, length, int(stmt.text("MAX", "1") or 1), values,
                              stmt.line, special, stmt.text("PMTCTL").upper())
            if stmt.command == "QUAL":
                if stmt.label:
                    current_qual = stmt.label
                if current_qual is None:
                    problems.append(Problem(name, stmt.line, "QUAL without a label"))
                    continue
                qualifiers.setdefault(current_qual, []).append(param)
                continue
            current_qual = None
            params.append(param)
            if ptype not in PARM_TYPES and not re.match(r"^[A-Z][A-Z0-9]*$", ptype):
                problems.append(Problem(name, stmt.line, "%s: unknown TYPE %s" % (param.keyword, ptype)))
            if ptype in ("*CHAR", "*NAME", "*PNAME", "*DEC") and not stmt.value("LEN"):
                problems.append(Problem(name, stmt.line, "%s: TYPE %s needs LEN" % (param.keyword, ptype)))
            for value in values:
                if ptype == "*CHAR" and len(value) > length[0]:
                    problems.append(Problem(name, stmt.line, "%s: value %s is longer than LEN(%d)"
                                            % (param.keyword, value, length[0])))
        elif stmt.command not in ("CMD", "PMTCTL", "DEP", "ELEM", ""):
            problems.append(Problem(name, stmt.line, "%s does not belong in a command definition" % stmt.command))
    if cmd_count != 1:
        problems.append(Problem(name, 1, "a command definition has exactly one CMD statement"))
    keywords = [p.keyword for p in params]
    for kw in set(keywords):
        if keywords.count(kw) > 1:
            problems.append(Problem(name, 1, "keyword %s defined twice" % kw))
    for stmt in statements:
        label = stmt.text("PMTCTL").upper() if stmt.command == "PARM" else ""
        if label and label not in pmtctl:
            problems.append(Problem(name, stmt.line, "PMTCTL(%s) has no PMTCTL statement" % label))
    for param in params:
        if param.type not in PARM_TYPES and param.type not in qualifiers:
            problems.append(Problem(name, param.line, "%s: TYPE(%s) has no QUAL statements" % (param.keyword,
                                                                                            param.type)))
    return params, qualifiers, problems


def cmd_cpp_problems(sources: Sources, command: str, cpp: str) -> List[Problem]:
    """The *CMD's parameters against the processing program's PGM PARM list."""
    cmd_file, cpp_file = sources.member(command, "cmd"), sources.member(cpp, "clle")
    if not cmd_file or not cpp_file:
        return [Problem(command, 0, "source of %s or of its program %s is missing" % (command, cpp))]
    params, qualifiers, _problems = read_command(sources, cmd_file)
    program = read_program(sources, cpp_file)
    out = []
    if len(params) != len(program.params):
        out.append(Problem(cpp_file, 1, "PGM receives %d parameters, %s defines %d"
                           % (len(program.params), command, len(params))))
    for param, var in zip(params, program.params):
        expected = param.received(qualifiers)
        declared = program.variables.get(var)
        if declared is None:
            continue    # reported by program_problems
        if declared[0] != expected[0] or declared[1] != expected[1]:
            out.append(Problem(cpp_file, 1, "&%s receives %s %s: declared %s LEN%s, needs %s LEN%s"
                               % (var, command, param.keyword, declared[0], declared[1], expected[0], expected[1])))
    return out


# -- the CLI contract ------------------------------------------------------------
def contract_problems(sources: Sources, command: str, cpp: str) -> List[Problem]:
    """CLI_CONTRACT against the command source and the program's literals."""
    contract = CLI_CONTRACT.get(command)
    if contract is None:
        return [Problem(command, 0, "no CLI_CONTRACT entry")]
    cmd_file, cpp_file = sources.member(command, "cmd"), sources.member(cpp, "clle")
    if not cmd_file or not cpp_file:
        return []    # cmd_cpp_problems reports the missing source
    params, _q, _p = read_command(sources, cmd_file)
    by_kw = {p.keyword: p for p in params}
    out = []
    if set(by_kw) != set(contract["keywords"]):
        out.append(Problem(command, 0, "keywords %s, contract %s" % (sorted(by_kw), sorted(contract["keywords"]))))
    for kw, mapping in contract["values"].items():
        if kw in by_kw and set(mapping) != set(by_kw[kw].choices):
            out.append(Problem(command, by_kw[kw].line, "%s VALUES/SPCVAL %s, contract %s"
                               % (kw, sorted(by_kw[kw].choices), sorted(mapping))))
    for param in params:
        wanted = contract.get("pmtctl", {}).get(param.keyword, "")
        if param.pmtctl != wanted:
            out.append(Problem(command, param.line, "%s PMTCTL(%s), contract PMTCTL(%s)"
                               % (param.keyword, param.pmtctl or "none", wanted or "none")))
    program = read_program(sources, cpp_file)
    literals = []
    for _where, stmt in program.statements:
        for inner in _commands_or_self(stmt):
            literals += clsource.string_literals(" ".join(inner.positional + list(inner.params.values())))
    words = set(" ".join(literals).split())
    options = {w for w in words if re.match(r"^--[a-z][a-z0-9-]*$", w)}
    expected = {opt for pairs in contract["keywords"].values() for _sub, opt in pairs if opt.startswith("--")}
    subcommands = {sub for pairs in contract["keywords"].values() for sub, _opt in pairs}
    own_options = options - set(RUNNER_OPTIONS)
    for opt in sorted(expected - own_options):
        out.append(Problem(cpp, 0, "contract option %s is never passed" % opt))
    for opt in sorted(own_options - expected):
        out.append(Problem(cpp, 0, "passes %s, which the contract does not list" % opt))
    for sub in sorted(subcommands - words):
        out.append(Problem(cpp, 0, "subcommand %s is never named" % sub))
    for kw, mapping in contract["values"].items():
        for special, passed in mapping.items():
            if passed and passed not in words:
                out.append(Problem(cpp, 0, "%s %s: %s is never passed" % (kw, special, passed)))
    return out


def cli_problems(get_command: Callable[[str], object]) -> Tuple[List[Problem], List[str]]:
    """CLI_CONTRACT against the click commands; `get_command(name)` returns one
    or None. Returns (problems, subcommands not available to check)."""
    problems: List[Problem] = []
    missing: List[str] = []
    pairs = {}
    for command, contract in CLI_CONTRACT.items():
        for _kw, kw_pairs in contract["keywords"].items():
            for sub, opt in kw_pairs:
                pairs.setdefault(sub, {})[opt] = (command, contract)
    for sub in sorted(pairs):
        click_cmd = get_command(sub)
        if click_cmd is None:
            missing.append(sub)
            continue
        by_opt = {}
        for param in click_cmd.params:
            for name in list(getattr(param, "opts", [])) + list(getattr(param, "secondary_opts", [])):
                by_opt[name] = param
            if param.param_type_name == "argument":
                by_opt[param.name.upper()] = param
        for opt, (command, contract) in sorted(pairs[sub].items()):
            param = by_opt.get(opt)
            if param is None:
                problems.append(Problem(command, 0, "ibmi-trust %s has no %s" % (sub, opt)))
                continue
            if opt in contract["flags"] and not getattr(param, "is_flag", False):
                problems.append(Problem(command, 0, "ibmi-trust %s %s is not a flag" % (sub, opt)))
            if opt in contract["multiple"] and not getattr(param, "multiple", False):
                problems.append(Problem(command, 0, "ibmi-trust %s %s cannot be repeated" % (sub, opt)))
            choices = getattr(param.type, "choices", None) or ()
            for kw, mapping in contract["values"].items():
                if choices and (sub, opt) in contract["keywords"].get(kw, []):
                    for passed in mapping.values():
                        if passed and passed not in choices:
                            problems.append(Problem(command, 0, "ibmi-trust %s %s does not accept %s"
                                                    % (sub, opt, passed)))
        for opt in RUNNER_OPTIONS:
            if opt not in by_opt:
                problems.append(Problem("ITRRUNI", 0, "ibmi-trust %s has no %s" % (sub, opt)))
    return problems, missing


# -- message file and panel group -----------------------------------------------------
def msgf_problems(sources: Sources, name: str) -> List[Problem]:
    out = []
    seen = set()
    for stmt in sources.statements(name):
        out += statement_problems(name, stmt, {"ADDMSGD": IBM_COMMANDS["ADDMSGD"]})
        if stmt.command != "ADDMSGD":
            continue
        msgid = stmt.text("MSGID").upper()
        if not MSGID_RE.match(msgid):
            out.append(Problem(name, stmt.line, "message ID %s is not ITRnnnn" % msgid))
        if msgid in seen:
            out.append(Problem(name, stmt.line, "message ID %s defined twice" % msgid))
        seen.add(msgid)
        if stmt.text("MSGF").upper() != "ITRMSGF":
            out.append(Problem(name, stmt.line, "%s: MSGF must be ITRMSGF (the installer qualifies it)" % msgid))
        first, second = stmt.text("MSG"), stmt.text("SECLVL")
        if not first or len(first) > 132:
            out.append(Problem(name, stmt.line, "%s: first-level text has %d characters (1-132)" % (msgid, len(first))))
        if len(second) > 3000:
            out.append(Problem(name, stmt.line, "%s: second-level text longer than 3000" % msgid))
        sev = stmt.text("SEV", "0")
        if not sev.isdigit() or int(sev) > 99:
            out.append(Problem(name, stmt.line, "%s: SEV(%s) is not 0-99" % (msgid, sev)))
        fields = clsource.elements(stmt.value("FMT", ""))
        for element in fields:
            parts = clsource.split_values(clsource.strip_parens(element))
            if len(parts) != 2 or parts[0].upper() != "*CHAR" or not parts[1].isdigit():
                out.append(Problem(name, stmt.line, "%s: FMT element %s is not (*CHAR n)" % (msgid, element)))
        used = [int(n) for n in re.findall(r"&(\d+)", first + second)]
        if used and max(used) > len(fields):
            out.append(Problem(name, stmt.line, "%s uses &%d but FMT has %d fields" % (msgid, max(used), len(fields))))
    return out


def pnlgrp_problems(sources: Sources, name: str, commands: Dict[str, Tuple[str, ...]]) -> List[Problem]:
    text = sources.text(name)
    out = []
    helps = []
    stack: List[Tuple[str, int]] = []
    pairs = {"PNLGRP": "EPNLGRP", "HELP": "EHELP", "PARML": "EPARML", "PK": "EPK"}
    closers = {v: k for k, v in pairs.items()}
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(".*"):
            continue
        if line.startswith("."):
            out.append(Problem(name, number, "a line starting with '.' is a UIM control word"))
        if "&" in re.sub(r"&(amp|colon)\.", "", line):
            out.append(Problem(name, number, "'&' must be written &amp. in UIM"))
        # A colon starts a UIM tag; in text it is the symbol &colon. (UIM symbols table).
        text_colons = re.sub(r":[A-Z][A-Z0-9]*(?:\s+[A-Z]+(?:='[^']*')?)*\.", "", line)
        if ":" in text_colons:
            out.append(Problem(name, number, "a colon in text starts a UIM tag: write &colon."))
        for tag, attrs in re.findall(r":([A-Z0-9]+)((?:\s+[A-Z]+(?:='[^']*')?)*)\.", line):
            if tag == "HELP":
                match = re.search(r"NAME='([^']+)'", attrs)
                helps.append((match.group(1).upper() if match else "", number))
            if tag in pairs:
                stack.append((tag, number))
            elif tag in closers:
                if not stack or stack[-1][0] != closers[tag]:
                    out.append(Problem(name, number, ":%s. without :%s." % (tag, closers[tag])))
                else:
                    stack.pop()
    for tag, number in stack:
        out.append(Problem(name, number, ":%s. is not closed" % tag))
    names = [h for h, _n in helps]
    wanted = []
    for command, keywords in commands.items():
        wanted += [command] + ["%s/%s" % (command, kw) for kw in keywords]
    for help_name in wanted:
        if help_name not in names:
            out.append(Problem(name, 0, "no :HELP NAME='%s'." % help_name))
    for help_name, number in helps:
        if help_name not in wanted:
            out.append(Problem(name, number, "help %s belongs to no command parameter" % help_name))
        if names.count(help_name) > 1:
            out.append(Problem(name, number, "help %s defined twice" % help_name))
    return out


# -- everything -----------------------------------------------------------------
def check_all(cl_dir: Optional[str] = None) -> List[Problem]:
    from ibmi_trust.ibmi import messages, objects

    sources = Sources(cl_dir)
    out: List[Problem] = []
    for name in sources.files:
        out += text_problems(name, sources.text(name))
        if name.endswith(".txt"):
            continue
        if name.endswith(".pnlgrp"):
            continue
        try:
            sources.statements(name)
        except CLSyntaxError as exc:
            out.append(Problem(exc.where, exc.line, exc.problem))
    if out:
        return out      # the rest needs sources that parse
    own = sources.own_commands()
    known = dict(IBM_COMMANDS)
    known.update(own)
    includes = set(m.lower() + ".clle" for m in objects.INCLUDES)
    for name in sources.files:
        if name.endswith(".clle") and name not in includes:
            out += program_problems(sources, name, known)
        elif name.endswith(".cmd"):
            out += read_command(sources, name)[2]
        elif name == messages.MSGF_SOURCE:
            out += msgf_problems(sources, name)
        elif name.endswith(".pnlgrp"):
            out += pnlgrp_problems(sources, name, own)
    for cmd in objects.COMMANDS:
        out += cmd_cpp_problems(sources, cmd.name, cmd.cpp)
        out += contract_problems(sources, cmd.name, cmd.cpp)
    expected = {cmd.name.lower() + ".cmd" for cmd in objects.COMMANDS}
    expected |= {p.lower() + ".clle" for p in objects.PROGRAMS + objects.CALLABLE_PROGRAMS} | includes
    expected |= {messages.MSGF_SOURCE, objects.PANEL_GROUP.lower() + ".pnlgrp"}
    for name in sources.files:
        if not name.endswith(".txt") and name not in expected:
            out.append(Problem(name, 0, "not part of the install plan (ibmi_trust/ibmi/objects.py)"))
    for name in sorted(expected - set(sources.files)):
        out.append(Problem(name, 0, "in the install plan but missing from cl/"))
    return out


def main(argv: Sequence[str] = ()) -> int:
    problems = check_all(argv[0] if argv else None)
    for problem in problems:
        print(problem)
    print("%d problem(s)" % len(problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
