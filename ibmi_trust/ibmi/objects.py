"""The IBM i objects of ibmi-trust, and how install-objects creates them.

Everything is created from the packaged cl/ sources, with CL commands run
through IbmiSession.run_cl (QSYS2.QCMDEXC in the database server job of the
ODBC connection; no XMLSERVICE needed):

  LIB                *LIB     CRTLIB, when missing
  LIB/QITRSRC        *FILE    CRTSRCPF RCDLEN(92) CCSID(37): the sources as
                              members (CPYFRMSTMF), so every compiler and
                              release reads them (CRTCMD has no SRCSTMF).
                              The CCSID is explicit: "If a CCSID is not
                              explicitly specified on the CRTPF or CRTSRCPF
                              command, database source files default to the
                              job default CCSID", and a job of CCSID 65535
                              would get files that CPYFRMSTMF fills without
                              conversion (IBM i globalization, "Database
                              management", ssw_ibm_i_73/nls/rbagsdataman.htm)
  LIB/ITRPYTHON      *DTAARA  path of the Python interpreter that runs
                              ibmi-trust (this venv's), read by the CL programs;
                              set again on every run
  LIB/ITRMSGF        *MSGF    CRTMSGF + every ADDMSGD of cl/itrmsgf.msgf; a
                              failure part-way deletes it again (all or nothing)
  LIB/ITRHELP        *PNLGRP  CRTPNLGRP: F1 help of the commands
  LIB/ITRCHKC ...    *PGM     CRTBNDCL: the command processing programs,
                              compiled with INCLUDE members ITRDCLI/ITRRUNI
                              and QTEMP/ITRRESULT (DCLF) present
  LIB/CHKTLSTRST ... *CMD     CRTCMD PRDLIB(LIB) HLPPNLGRP(LIB/ITRHELP): the
                              library is on the library list while a command
                              runs, which is how the programs find ITRMSGF
  LIB/ITRSSLERR      *PGM     CRTBNDCL, after the commands (it runs CHKTLSTRST)
  LIB/ITRCATRST      *PGM     CRTBNDCL: QycdCheckCACertTrust for one label,
                              for --app-id (its list of label pointers is
                              beyond XMLSERVICE; ibmi_trust.ibmi.trust_check)
  LIB/GSKPROBE       *PGM     CRTBNDC SRCSTMF(cl/gskprobe.c): the GSKit prober,
                              the proof of check and fix on *SYSTEM (ibmi_trust.
                              ibmi.gskprobe). Built only where the ILE C compiler
                              (CRTBNDC) and the system include files (QSYSINC/H,
                              5770-SS1 option 13: GSKSSL) are installed; else a
                              warning says so, everything else installs, and the
                              proof is reported as unavailable. GSKit is in
                              QSYS/QSOSSLSR, bound through the system binding
                              directory like every system API.

Idempotent: an object that exists (CHKOBJ) is left alone, so a second run
creates nothing; --replace deletes and re-creates them (after an upgrade).
uninstall deletes exactly these objects, and the library only when asked.

  LIB/ITRRUN ...      *FILE   the history tables for `--history db2:LIB`
                              (ITRRUN, ITRHSHK, ITRRUNCHN, ITRCHNCRT, ITRCERT and
                              two indexes; sql/history_create_*.sql), created
                              when missing, never replaced or deleted (they hold
                              the history; uninstall leaves them and says so)

The history directory (for the default SQLite history): <interpreter's
prefix>/var/ibmi-trust, made with mode 0770 (owner and primary group; no
*PUBLIC access), then each profile of --job-user and --history-user gets
*RWX data authority to it (CHGAUT; "Security for new objects",
https://www.ibm.com/support/knowledgecenter/ssw_ibm_i_73/rzamv/rzamvifssecnewobject.htm:
an object created in a "root" directory takes its authorities from that
directory, so the history file and the -wal and -shm files SQLite makes
later are usable by the same profiles; docs/verify-on-your-system.md), and
the history file is created in it. Its path is recorded in the install
record as `data_dir`: the CL commands, the nightly job and interactive
users then all find the same history.

After the objects, install writes the install record (ibmi_trust.ibmi.
install_record) so that ibmi-trust run from SSH, cron or Ansible finds the
library; with --job-user it checks that the nightly job's profile can sign
on to DSN=*LOCAL (not PASSWORD(*NONE): CWBSY0003 / SQLSTATE 28000,
https://github.com/IBM/ibmi-oss-issues/issues/77).
"""
import os
import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from ibmi_trust.errors import ConfigError, IbmiApiError

SOURCE_FILE = "QITRSRC"
SOURCE_RCDLEN = 92            # 80 characters of source per line (clcheck enforces it)
FILE_CCSID = 37               # the sources are plain ASCII: invariant in every EBCDIC CCSID
MSGF = "ITRMSGF"
PANEL_GROUP = "ITRHELP"
PYTHON_DTAARA = "ITRPYTHON"
PYTHON_DTAARA_LEN = 512
INCLUDES = ("ITRDCLI", "ITRRUNI")
RESULT_FILE = "QTEMP/ITRRESULT"
RESULT_RCDLEN = 2017          # messages.RECORD_LENGTH
NOT_FOUND = ("CPF9801", "CPF9810")      # CHKOBJ: object / library not found
ALREADY_EXISTS_IN_QTEMP = "CPF7302"    # CRTPF: file not created (it exists)
ALREADY_IN_LIBRARY_LIST = "CPF2103"


@dataclass(frozen=True)
class Command:
    name: str
    cpp: str
    text: str


COMMANDS = (
    Command("CHKTLSTRST", "ITRCHKC", "Check TLS Trust (ibmi-trust check/fix)"),
    Command("DSPSSLRC", "ITRDSPC", "Display SSL Return Code (ibmi-trust explain)"),
    Command("VFYTLSTRST", "ITRVFYC", "Verify TLS Trust (ibmi-trust verify)"),
)
PROGRAMS = tuple(c.cpp for c in COMMANDS)
# compiled after the commands: ITRSSLERR runs CHKTLSTRST; ITRCATRST wraps QycdCheckCACertTrust
CALLABLE_PROGRAMS = ("ITRSSLERR", "ITRCATRST")
# the GSKit prober, from a C stream file; what it needs to compile, each with what provides it
C_PROGRAM = "GSKPROBE"
C_PREREQUISITES = (
    ("QSYS/CRTBNDC", "*CMD", "", "the ILE C compiler (command CRTBNDC; licensed program 5770-WDS, ILE compilers)"),
    ("QSYSINC/H", "*FILE", "GSKSSL", "the system include files (library QSYSINC, 5770-SS1 option 13 "
                                     "System Openness Includes: member H(GSKSSL))"),
)
MEMBER_NOT_FOUND = "CPF9815"


def source_name(member: str, kind: str) -> str:
    """File name in cl/ of a member: ITRCHKC + clle -> itrchkc.clle."""
    return "%s.%s" % (member.lower(), kind)


MEMBER_TYPES = {"clle": "CLLE", "cmd": "CMD", "pnlgrp": "PNLGRP"}


@dataclass
class Report:
    library: str
    created: List[str] = field(default_factory=list)     # "LIB/NAME *TYPE"
    present: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)
    record: str = ""                                      # install record written (or removed)
    warnings: List[str] = field(default_factory=list)     # each with the command that fixes it
    gskit_proof: str = ""                                 # "available: LIB/GSKPROBE" or "unavailable: why"

    def as_dict(self) -> dict:
        return {"schema_version": 1, "kind": "install-objects", "library": self.library, "created": self.created, "present": self.present,
                "updated": self.updated, "deleted": self.deleted, "record": self.record,
                "warnings": self.warnings, "gskit_proof": self.gskit_proof or None}


def check_library_name(library: str) -> str:
    name = (library or "").strip().upper()
    if not re.match(r"^[A-Z$#@][A-Z0-9$#@_]{0,9}$", name) or name.startswith("Q"):
        raise ConfigError("%r is not a library name for ibmi-trust" % library,
                          hint="1-10 characters A-Z 0-9 $ # @ _, not starting with Q (IBM's libraries)")
    return name


def _q(text: str) -> str:
    from ibmi_trust.ibmi.clsource import quote

    return quote(text)


class Installer:
    """Runs the plan for one library through `session.run_cl`."""

    def __init__(self, session, library: str, *, cl_dir: Optional[str] = None,
                 progress: Callable[[str], None] = lambda line: None):
        from ibmi_trust import resources

        self.session = session
        self.lib = check_library_name(library)
        self.cl_dir = cl_dir or resources.resource_dir("cl")
        self.progress = progress
        self.report = Report(self.lib)
        self._compile_ready = False        # include members, QTEMP file, library list set up
        self._added_to_library_list = False

    # -- helpers ---------------------------------------------------------------
    def run(self, command: str) -> None:
        self.progress(command)
        self.session.run_cl(command)

    def run_allowing(self, command: str, message_ids: Tuple[str, ...]) -> bool:
        """True when the command ran, False when it failed with one of `message_ids`."""
        try:
            self.run(command)
            return True
        except IbmiApiError as exc:
            if exc.message_id in message_ids:
                return False
            raise

    def exists(self, name: str, objtype: str, lib: str = "") -> bool:
        return self.run_allowing("CHKOBJ OBJ(%s/%s) OBJTYPE(%s)" % (lib or self.lib, name, objtype), NOT_FOUND)

    def qualified(self, name: str) -> str:
        return "%s/%s" % (self.lib, name)

    def copy_member(self, member: str, kind: str) -> None:
        path = os.path.join(self.cl_dir, source_name(member, kind))
        if not os.path.isfile(path):
            raise ConfigError("source %s is missing from the package" % path)
        self.run("CPYFRMSTMF FROMSTMF(%s) TOMBR(%s) MBROPT(*REPLACE) STMFCCSID(1208)"
                 % (_q(path), _q("/QSYS.LIB/%s.LIB/%s.FILE/%s.MBR" % (self.lib, SOURCE_FILE, member))))
        self.run("CHGPFM FILE(%s) MBR(%s) SRCTYPE(%s)" % (self.qualified(SOURCE_FILE), member, MEMBER_TYPES[kind]))

    def _ensure(self, name: str, objtype: str, create: Callable[[], None], replace: bool,
                delete: str = "") -> bool:
        label = "%s %s" % (self.qualified(name), objtype)
        if self.exists(name, objtype):
            if not replace:
                self.report.present.append(label)
                return False
            self.run(delete % self.qualified(name))
        create()
        self.report.created.append(label)
        return True

    # -- the plan -------------------------------------------------------------
    def install(self, python: str, replace: bool = False, job_user: str = "", history_users=(),
                data_dir: str = "") -> Report:
        if len(python) > PYTHON_DTAARA_LEN:
            raise ConfigError("the interpreter path is longer than %d characters" % PYTHON_DTAARA_LEN)
        sharing = [p if p.strip().upper() == "*PUBLIC" else check_profile_name(p)
                   for p in (job_user,) + tuple(history_users) if p and p.strip()]     # checked before any CL
        if self.exists(self.lib, "*LIB", lib="QSYS"):
            self.report.present.append("%s *LIB" % self.lib)
        else:
            self.run("CRTLIB LIB(%s) TEXT('ibmi-trust')" % self.lib)
            self.report.created.append("%s *LIB" % self.lib)
        if job_user:
            self.check_job_user(job_user)
        self._ensure(SOURCE_FILE, "*FILE", lambda: self.run(
            "CRTSRCPF FILE(%s) RCDLEN(%d) CCSID(%d) TEXT('ibmi-trust CL sources')"
            % (self.qualified(SOURCE_FILE), SOURCE_RCDLEN, FILE_CCSID)), False)
        self._python(python)
        self._ensure(MSGF, "*MSGF", self._create_msgf, replace, "DLTMSGF MSGF(%s)")
        self._ensure(PANEL_GROUP, "*PNLGRP", self._create_panel_group, replace, "DLTPNLGRP PNLGRP(%s)")
        for pgm in PROGRAMS:
            self._ensure(pgm, "*PGM", lambda pgm=pgm: self._compile(pgm), replace, "DLTPGM PGM(%s)")
        for cmd in COMMANDS:
            self._ensure(cmd.name, "*CMD", lambda cmd=cmd: self._create_command(cmd), replace,
                         "DLTCMD CMD(%s)")
        for pgm in CALLABLE_PROGRAMS:
            self._ensure(pgm, "*PGM", lambda pgm=pgm: self._compile(pgm), replace, "DLTPGM PGM(%s)")
        self.gskit_prober(replace)
        if self._added_to_library_list:
            self.run_allowing("RMVLIBLE LIB(%s)" % self.lib, ("CPF2104",))
        self._history_tables()
        data_dir = self._history_directory(history_directory(python, data_dir), sharing)
        self._record(python, data_dir)
        return self.report

    def _history_tables(self) -> None:
        """The tables of `--history db2:LIB`: created when missing, never replaced (they hold data)."""
        from ibmi_trust.history.db2_store import CREATE_STATEMENTS
        from ibmi_trust.ibmi.sql_text import statement_in

        for name, sql_file in CREATE_STATEMENTS:
            label = "%s *FILE" % self.qualified(name)
            if self.exists(name, "*FILE"):
                self.report.present.append(label)
                continue
            self.progress("%s (sql/%s)" % (label, sql_file))
            self.session.query(statement_in(sql_file, self.lib))
            self.report.created.append(label)

    def _history_directory(self, directory: str, profiles) -> str:
        """`directory` with the history file, usable by `profiles`; "" when it cannot be
        made (a warning says what to do)."""
        from ibmi_trust.history.location import FILE_NAME
        from ibmi_trust.history.records import HistoryError
        from ibmi_trust.history.sqlite_store import SqliteHistory

        try:
            os.makedirs(directory, mode=0o770, exist_ok=True)
        except OSError as exc:
            self.report.warnings.append(
                "the history directory %s could not be made (%s): each user's history goes to its own home "
                "directory, or set IBMI_TRUST_HISTORY" % (directory, exc.strerror or exc))
            return ""
        for profile in dict.fromkeys(p.strip().upper() for p in profiles):
            owner = profile
            self.run("CHGAUT OBJ(%s) USER(%s) DTAAUT(*RWX) OBJAUT(*NONE)" % (_q(directory), owner))
            self.report.updated.append("%s: *RWX for %s" % (directory, owner))
        path = os.path.join(directory, FILE_NAME)
        try:
            SqliteHistory(path).create()
        except HistoryError as exc:
            self.report.warnings.append("the history file %s could not be made: %s" % (path, exc.message))
        return directory

    def _record(self, python: str, data_dir: str = "") -> None:
        from ibmi_trust.ibmi import install_record

        try:
            self.report.record = install_record.write(self.lib, python, data_dir=data_dir)
        except OSError as exc:
            self.report.warnings.append(
                "the install record %s could not be written (%s): ibmi-trust run outside the CL commands "
                "needs --library %s (or IBMI_TRUST_LIBRARY=%s)"
                % (install_record.record_path(python), exc.strerror or exc, self.lib, self.lib))

    def check_job_user(self, profile: str) -> None:
        """Warn when `profile` cannot sign on to DSN=*LOCAL (PASSWORD(*NONE))."""
        name = profile.strip().upper()
        rows = self.session.query("user_profile.sql", (name,))
        if not rows:
            self.report.warnings.append("user profile %s was not found (or you may not see it)" % name)
        elif str(rows[0].get("NO_PASSWORD_INDICATOR") or "").strip().upper() == "YES":
            self.report.warnings.append(password_none_advice(name))

    def _python(self, python: str) -> None:
        label = "%s *DTAARA" % self.qualified(PYTHON_DTAARA)
        if self.exists(PYTHON_DTAARA, "*DTAARA"):
            self.run("CHGDTAARA DTAARA(%s (1 %d)) VALUE(%s)"
                     % (self.qualified(PYTHON_DTAARA), PYTHON_DTAARA_LEN, _q(python)))
            self.report.updated.append(label)
        else:
            self.run("CRTDTAARA DTAARA(%s) TYPE(*CHAR) LEN(%d) VALUE(%s) TEXT('ibmi-trust: Python to run')"
                     % (self.qualified(PYTHON_DTAARA), PYTHON_DTAARA_LEN, _q(python)))
            self.report.created.append(label)

    def _create_msgf(self) -> None:
        from ibmi_trust import resources
        from ibmi_trust.ibmi import clsource, messages

        statements = [s for s in clsource.parse(resources.read_text("cl", messages.MSGF_SOURCE),
                                                messages.MSGF_SOURCE) if s.command]
        self.run("CRTMSGF MSGF(%s) TEXT('ibmi-trust messages')" % self.qualified(MSGF))
        try:
            for stmt in statements:
                self.run(stmt.render(MSGF=self.qualified(MSGF)))
        except IbmiApiError:
            self.run_allowing("DLTMSGF MSGF(%s)" % self.qualified(MSGF), NOT_FOUND + ("CPF2105",))
            raise

    def _create_panel_group(self) -> None:
        self.copy_member(PANEL_GROUP, "pnlgrp")
        self.run("CRTPNLGRP PNLGRP(%s) SRCFILE(%s) SRCMBR(%s) TEXT('ibmi-trust command help')"
                 % (self.qualified(PANEL_GROUP), self.qualified(SOURCE_FILE), PANEL_GROUP))

    def _compile(self, pgm: str) -> None:
        if not self._compile_ready:
            # Once per run: the include members, the DCLF file in this job's QTEMP,
            # and the library on the library list (ITRSSLERR names CHKTLSTRST).
            for member in INCLUDES:
                self.copy_member(member, "clle")
            self.run_allowing("CRTPF FILE(%s) RCDLEN(%d) CCSID(%d)" % (RESULT_FILE, RESULT_RCDLEN, FILE_CCSID),
                              (ALREADY_EXISTS_IN_QTEMP,))
            self._added_to_library_list = self.run_allowing("ADDLIBLE LIB(%s) POSITION(*LAST)" % self.lib,
                                                            (ALREADY_IN_LIBRARY_LIST,))
            self._compile_ready = True
        self.copy_member(pgm, "clle")
        self.run("CRTBNDCL PGM(%s) SRCFILE(%s) SRCMBR(%s) TEXT(%s)"
                 % (self.qualified(pgm), self.qualified(SOURCE_FILE), pgm, _q("ibmi-trust " + pgm)))

    def gskit_prober(self, replace: bool = False) -> None:
        """GSKPROBE from cl/gskprobe.c where a C compiler and QSYSINC are here; else a
        warning, and the rest of the installation stands."""
        label = "%s *PGM" % self.qualified(C_PROGRAM)
        present = self.exists(C_PROGRAM, "*PGM")
        if present and not replace:
            self.report.present.append(label)
            self.report.gskit_proof = "available: %s" % self.qualified(C_PROGRAM)
            return
        missing = [what for obj, objtype, member, what in C_PREREQUISITES
                   if not self.run_allowing("CHKOBJ OBJ(%s) OBJTYPE(%s)%s" % (obj, objtype, " MBR(%s)" % member
                                                                                if member else ""),
                                            NOT_FOUND + (MEMBER_NOT_FOUND,))]
        if missing:
            self._no_prober("%s %s not installed" % (" and ".join(missing), "is" if len(missing) == 1 else "are"))
            return
        source = os.path.join(self.cl_dir, "gskprobe.c")
        if not os.path.isfile(source):
            raise ConfigError("source %s is missing from the package" % source)
        if present:
            self.run("DLTPGM PGM(%s)" % self.qualified(C_PROGRAM))
        try:
            self.run("CRTBNDC PGM(%s) SRCSTMF(%s) OUTPUT(*PRINT) TEXT('ibmi-trust GSKit prober')"
                     % (self.qualified(C_PROGRAM), _q(source)))
        except IbmiApiError as exc:
            self._no_prober("CRTBNDC failed with %s (the compiler listing is the spooled file %s of this job)"
                            % (exc.message_id or exc.message, C_PROGRAM))
            return
        self.report.created.append(label)
        self.report.gskit_proof = "available: %s" % self.qualified(C_PROGRAM)

    def _no_prober(self, why: str) -> None:
        self.report.gskit_proof = "unavailable: %s" % why
        self.report.warnings.append(
            "%s (the GSKit prober) was not built: %s. Everything else is installed; check and fix on *SYSTEM "
            "judge by the GSKit model and say that the GSKit handshake is unavailable. After installing it, run "
            "`ibmi-trust install-objects --library %s` again" % (self.qualified(C_PROGRAM), why, self.lib))

    def _create_command(self, cmd: Command) -> None:
        self.copy_member(cmd.name, "cmd")
        self.run("CRTCMD CMD(%s) PGM(%s) SRCFILE(%s) SRCMBR(%s) PRDLIB(%s) HLPPNLGRP(%s) HLPID(*CMD) TEXT(%s)"
                 % (self.qualified(cmd.name), self.qualified(cmd.cpp), self.qualified(SOURCE_FILE), cmd.name,
                    self.lib, self.qualified(PANEL_GROUP), _q(cmd.text)))

    # -- uninstall ------------------------------------------------------------
    def uninstall(self, delete_library: bool = False) -> Report:
        objects = ([(C_PROGRAM, "*PGM", "DLTPGM PGM(%s)")]
                   + [(p, "*PGM", "DLTPGM PGM(%s)") for p in CALLABLE_PROGRAMS]
                   + [(c.name, "*CMD", "DLTCMD CMD(%s)") for c in COMMANDS]
                   + [(p, "*PGM", "DLTPGM PGM(%s)") for p in PROGRAMS]
                   + [(PANEL_GROUP, "*PNLGRP", "DLTPNLGRP PNLGRP(%s)"), (MSGF, "*MSGF", "DLTMSGF MSGF(%s)"),
                      (PYTHON_DTAARA, "*DTAARA", "DLTDTAARA DTAARA(%s)"), (SOURCE_FILE, "*FILE", "DLTF FILE(%s)")])
        for name, objtype, delete in objects:
            if self.exists(name, objtype):
                self.run(delete % self.qualified(name))
                self.report.deleted.append("%s %s" % (self.qualified(name), objtype))
        if delete_library and self.exists(self.lib, "*LIB", lib="QSYS"):
            self.run("DLTLIB LIB(%s)" % self.lib)
            self.report.deleted.append("%s *LIB" % self.lib)
        from ibmi_trust.history.db2_store import TABLES

        kept = [t for t in TABLES if not delete_library and self.exists(t, "*FILE")]
        if kept:
            self.report.warnings.append(
                "the history tables were kept (they hold the history): %s; delete them with DLTF FILE(%s/name) "
                "when no longer wanted" % (", ".join(self.qualified(t) for t in kept), self.lib))
        from ibmi_trust.ibmi import install_record

        self.report.record = install_record.remove(self.lib) or ""
        return self.report


ENV_DATA_DIR = "IBMI_TRUST_DATA_DIR"


def history_directory(python: str, explicit: str = "") -> str:
    """Where install-objects keeps the shared history: --data-dir, $IBMI_TRUST_DATA_DIR,
    else <prefix of `python`>/var/ibmi-trust."""
    chosen = (explicit or os.environ.get(ENV_DATA_DIR, "")).strip()
    if chosen:
        return os.path.abspath(chosen)
    prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    return os.path.join(prefix, "var", "ibmi-trust")


def check_profile_name(profile: str) -> str:
    name = (profile or "").strip().upper()
    if not re.match(r"^[A-Z$#@][A-Z0-9$#@_]{0,9}$", name):
        raise ConfigError("%r is not a user profile name" % profile,
                          hint="1-10 characters A-Z 0-9 $ # @ _ (or *PUBLIC)")
    return name


def password_none_advice(profile: str) -> str:
    """What a PASSWORD(*NONE) profile needs to run ibmi-trust (ref 21.1)."""
    return ("user profile %s has PASSWORD(*NONE): DSN=*LOCAL signs on as the current user (*CURRENT) and is "
            "refused for it (CWBSY0003, SQLSTATE 28000), so the nightly job cannot read *SYSTEM. Give it a long "
            "random password nobody needs to know (prompt it, so it is not typed into a log): "
            "?CHGUSRPRF USRPRF(%s) PWDEXPITV(*NOMAX) ??PASSWORD() ; then run `ibmi-trust doctor` as %s "
            "(docs/runbook.md, \"The nightly job\")" % (profile, profile, profile))
