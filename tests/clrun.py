"""A small interpreter of the CL the command processing programs use to build
their ibmi-trust argument list, so a test can run ITRCHKC or ITRVFYC for
given command parameters and read back &ARGS. A development tool, beside
the tests (not part of the installed package); no IBM i is needed.

It runs the program from PGM until CALLSUBR SUBR(RUNPY) (the runner's QSH
call) and returns &ARGS. The subset: DCL, CHGVAR (also into %SST), IF/ELSE,
DO/DOFOR/DOWHILE/ENDDO, LEAVE, SELECT/WHEN/OTHERWISE with one command each,
GOTO, SUBR/CALLSUBR/RTNSUBR/ENDSUBR, RETURN; expressions with *CAT, *TCAT,
*BCAT, *EQ *NE *GT *GE *LT *LE, *AND, *OR, + - * and %SST, %BIN, %TRIML,
%SCAN. Anything else raises NotImplementedError, never a guess.

How IBM passes the values (IBM i CL command reference, "PARM (Parameter)"
and "CHGVAR (Change Variable)", https://www.ibm.com/docs/en/i/7.4?topic=commands-parm
and ?topic=commands-chgvar): a *CHAR/*PNAME value padded with blanks to LEN,
a SPCVAL's "to" value in place of the special value, *DEC as a packed number,
a list of MAX(n) values as a 2-byte binary count then the elements, a
qualified name as its parts side by side; a decimal value assigned to a
character variable is right-aligned with leading zeros.
"""
import re
from typing import Dict, List, Optional, Sequence, Union

import clcheck
from ibmi_trust.ibmi import clsource

Value = Union[str, int]
STOP_AT = "RUNPY"


# -- the parameters as the processing program receives them ----------------------
def received(sources: "clcheck.Sources", command_file: str, given: Dict[str, object]) -> List[Value]:
    """The PGM PARM values for a command run with `given` (keyword -> value;
    a list for a MAX(n) parameter, a (name, library) tuple for a qualified one)."""
    out: List[Value] = []
    qualifiers = {}
    statements = sources.statements(command_file)
    current = None
    for stmt in statements:
        if stmt.command == "QUAL":
            current = stmt.label or current
            qualifiers.setdefault(current, []).append(stmt)
    for stmt in statements:
        if stmt.command != "PARM":
            continue
        kw = stmt.text("KWD").upper()
        ptype = stmt.text("TYPE").upper()
        spcval = {}
        for element in clsource.elements(stmt.value("SPCVAL", "") or ""):
            parts = clsource.split_values(clsource.strip_parens(element))
            spcval[parts[0].upper()] = clsource.unquote(parts[1]) if len(parts) > 1 else parts[0].upper()
        value = given.get(kw, clsource.unquote(stmt.value("DFT", "") or ""))
        maximum = int(stmt.text("MAX", "1") or 1)
        length = [int(x) for x in clsource.split_values(stmt.value("LEN", "") or "0")]
        if ptype in qualifiers:
            name, library = value if isinstance(value, tuple) else (value, None)
            parts = qualifiers[ptype]
            library = library or clsource.unquote(parts[1].value("DFT", "") or "")
            out.append("".join(_pad(v, int(q.text("LEN"))) for v, q in zip((name, library), parts)))
        elif maximum > 1:
            values = value if isinstance(value, list) else [value]
            out.append(chr(len(values) >> 8) + chr(len(values) & 255)
                       + "".join(_pad(spcval.get(str(v).upper(), v), length[0]) for v in values))
        elif ptype == "*DEC":
            out.append(int(spcval.get(str(value).upper(), value)))
        else:
            out.append(_pad(spcval.get(str(value).upper(), value), length[0]))
    return out


def _pad(value: object, length: int) -> str:
    return str(value)[:length].ljust(length)


# -- expressions ---------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(&[A-Z0-9_#@$]+)|(%[A-Z]+)|(\*[A-Z]+)|(\d+)|([()+\-*/]))", re.I)


def _tokens(text: str) -> List[str]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise NotImplementedError("expression %r at %r" % (text, text[pos:]))
        out.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Expression:
    LEVELS = (("*OR",), ("*AND",), ("*EQ", "*NE", "*GT", "*GE", "*LT", "*LE"), ("*CAT", "*TCAT", "*BCAT"),
              ("+", "-"), ("*", "/"))

    def __init__(self, machine: "Machine", text: str):
        self.machine, self.tokens, self.pos = machine, _tokens(text), 0

    def value(self) -> Value:
        result = self._level(0)
        if self.pos != len(self.tokens):
            raise NotImplementedError("trailing %s" % self.tokens[self.pos:])
        return result

    def _peek(self) -> Optional[str]:
        return self.tokens[self.pos].upper() if self.pos < len(self.tokens) else None

    def _level(self, level: int) -> Value:
        if level == len(self.LEVELS):
            return self._primary()
        left = self._level(level + 1)
        while self._peek() in self.LEVELS[level]:
            op = self.tokens[self.pos].upper()
            self.pos += 1
            left = _apply(op, left, self._level(level + 1))
        return left

    def _primary(self) -> Value:
        token = self.tokens[self.pos]
        self.pos += 1
        if token == "(":
            inner = self._level(0)
            self._expect(")")
            return inner
        if token.startswith("'"):
            return clsource.unquote(token)
        if token.isdigit():
            return int(token)
        if token.startswith("&"):
            return self.machine.vars[token[1:].upper()]
        if token.startswith("%"):
            self._expect("(")
            args = []
            while self._peek() != ")":
                args.append(self._level(3))          # a built-in's arguments are blank-separated
            self._expect(")")
            return _builtin(token.upper(), args)
        raise NotImplementedError("operand %s" % token)

    def _expect(self, token: str) -> None:
        if self._peek() != token:
            raise NotImplementedError("expected %s in %s" % (token, self.tokens))
        self.pos += 1


def _apply(op: str, left: Value, right: Value) -> Value:
    if op == "*CAT":
        return str(left) + str(right)
    if op == "*TCAT":
        return str(left).rstrip(" ") + str(right)
    if op == "*BCAT":
        return str(left).rstrip(" ") + " " + str(right)
    if op in ("+", "-", "*", "/"):
        a, b = int(left), int(right)
        if op == "/":
            return int(a / b)
        return {"+": a + b, "-": a - b, "*": a * b}[op]
    if op in ("*AND", "*OR"):
        return (bool(left) and bool(right)) if op == "*AND" else (bool(left) or bool(right))
    if isinstance(left, int) and isinstance(right, int):
        a, b = left, right
    else:                                         # character: the shorter padded with blanks
        a, b = str(left), str(right)
        width = max(len(a), len(b))
        a, b = a.ljust(width), b.ljust(width)
    return {"*EQ": a == b, "*NE": a != b, "*GT": a > b, "*GE": a >= b, "*LT": a < b, "*LE": a <= b}[op]


def _builtin(name: str, args: Sequence[Value]) -> Value:
    if name in ("%SST", "%SUBSTRING"):
        text, start, length = str(args[0]), int(args[1]), int(args[2])
        return text[start - 1:start - 1 + length]
    if name in ("%BIN", "%BINARY"):
        raw = str(args[0])[int(args[1]) - 1:int(args[1]) - 1 + int(args[2])]
        return int.from_bytes(bytes(ord(c) for c in raw), "big", signed=True)
    if name == "%TRIML":
        return str(args[0]).lstrip(str(args[1]) if len(args) > 1 else " ")
    if name == "%SCAN":
        return str(args[1]).find(str(args[0])) + 1
    raise NotImplementedError(name)


# -- statements ----------------------------------------------------------------
class Machine:
    def __init__(self, sources: "clcheck.Sources", program_file: str):
        program = clcheck.read_program(sources, program_file)
        self.params = program.params
        self.types = program.variables
        self.stmts = [s for _w, s in program.statements if s.command]
        self.labels = {s.label.upper(): i for i, s in enumerate(self.stmts) if s.label}
        self.subrs = {s.text("SUBR").upper(): i for i, s in enumerate(self.stmts) if s.command == "SUBR"}
        self.vars: Dict[str, Value] = {}
        self._match_blocks()

    def _match_blocks(self) -> None:
        self.block_end: Dict[int, int] = {}        # opener -> its ENDDO / ENDSELECT
        self.block_open: Dict[int, int] = {}       # ENDDO -> opener
        self.loop_of: Dict[int, int] = {}          # statement -> innermost loop header
        stack: List[int] = []
        for i, stmt in enumerate(self.stmts):
            loops = [j for j in stack if self.stmts[j].command in ("DOFOR", "DOWHILE")]
            if loops:
                self.loop_of[i] = loops[-1]
            if stmt.command in ("ENDDO", "ENDSELECT"):
                opener = stack.pop()
                self.block_end[opener], self.block_open[i] = i, opener
            elif self._opens(stmt):
                stack.append(i)

    @staticmethod
    def _opens(stmt) -> bool:
        if stmt.command in ("DO", "DOFOR", "DOWHILE", "SELECT"):
            return True
        inner = stmt.value("THEN") or stmt.value("CMD")
        return stmt.command in ("IF", "ELSE") and (inner or "").strip().upper() == "DO"

    def run(self, values: Sequence[Value]) -> str:
        """Run with the PGM PARM values; &ARGS when CALLSUBR SUBR(RUNPY) is reached."""
        for stmt in self.stmts:
            if stmt.command == "DCL":
                name, vtype, lens = clcheck._var_decl(stmt)
                initial = clsource.unquote(stmt.value("VALUE", "") or "")
                self.vars[name] = (int(initial or 0) if vtype in ("*DEC", "*INT", "*UINT")
                                   else (initial or ("0" if vtype == "*LGL" else "")).ljust(lens[0]))
        for name, value in zip(self.params, values):
            self._assign(name, value)
        self.if_taken: Dict[int, bool] = {}
        self.returns: List[int] = []
        pc, steps = 0, 0
        while pc < len(self.stmts):
            steps += 1
            if steps > 100000:
                raise RuntimeError("more than 100000 statements: a loop that never ends")
            pc = self._step(pc)
            if pc < 0:
                return str(self.vars["ARGS"]).rstrip()
        raise RuntimeError("the program ended without CALLSUBR SUBR(%s)" % STOP_AT)

    def _assign(self, target: str, value: Value) -> None:
        match = re.match(r"^%SST\(&(\w+) (.+) (.+)\)$", target.upper()) if target.startswith("%") else None
        if match:
            name = match.group(1)
            start = int(_Expression(self, match.group(2)).value())
            length = int(_Expression(self, match.group(3)).value())
            old = str(self.vars[name])
            self.vars[name] = old[:start - 1] + str(value)[:length].ljust(length) + old[start - 1 + length:]
            return
        name = target.lstrip("&").upper()
        vtype, lens = self.types[name]
        if vtype in ("*DEC", "*INT", "*UINT"):
            self.vars[name] = int(value) if not isinstance(value, str) else int(value.strip() or 0)
        elif vtype == "*LGL":
            self.vars[name] = ("1" if value in (True, "1") else "0")
        elif isinstance(value, bool):
            raise NotImplementedError("a logical value into *CHAR &%s" % name)
        elif isinstance(value, int):              # right-aligned, leading zeros, minus sign first
            digits = str(abs(value)).rjust(lens[0] - (value < 0), "0")
            self.vars[name] = ("-" if value < 0 else "") + digits[-lens[0]:]
        else:
            self.vars[name] = value[:lens[0]].ljust(lens[0])

    def _execute(self, stmt, pc: int) -> Optional[int]:
        """One simple command; the next pc, or None for pc + 1."""
        cmd = stmt.command
        if cmd == "CHGVAR":
            self._assign(stmt.value("VAR"), _Expression(self, stmt.value("VALUE")).value())
        elif cmd == "CALLSUBR":
            name = stmt.text("SUBR").upper()
            if name == STOP_AT:
                return -1
            self.returns.append(pc + 1)
            return self.subrs[name] + 1
        elif cmd in ("ENDSUBR", "RTNSUBR"):
            return self.returns.pop()
        elif cmd == "GOTO":
            return self.labels[stmt.text("CMDLBL").upper()]
        elif cmd == "LEAVE":
            return self.block_end[self.loop_of[pc]] + 1
        elif cmd == "RETURN":
            return len(self.stmts)
        elif cmd not in ("DCL", "DCLF", "INCLUDE", "PGM", "ENDDO", "DO"):
            raise NotImplementedError(cmd)
        return None

    def _step(self, pc: int) -> int:
        stmt = self.stmts[pc]
        cmd = stmt.command
        if cmd in ("IF", "ELSE"):
            if cmd == "IF":
                taken = bool(_Expression(self, stmt.value("COND")).value())
                self.if_taken[pc] = taken
            else:
                before = pc - 1
                opener = self.block_open.get(before, before)
                taken = not self.if_taken[opener]
            if self._opens(stmt):
                return pc + 1 if taken else self.block_end[pc] + 1
            if taken:
                nested = clsource.parse_statement(stmt.value("THEN") or stmt.value("CMD"))
                target = self._execute(nested, pc)
                return pc + 1 if target is None else target
            return pc + 1
        if cmd == "SELECT":
            end = self.block_end[pc]
            for i in range(pc + 1, end):
                branch = self.stmts[i]
                if branch.command == "WHEN" and not _Expression(self, branch.value("COND")).value():
                    continue
                if branch.command in ("WHEN", "OTHERWISE"):
                    self._execute(clsource.parse_statement(branch.value("THEN") or branch.value("CMD")), i)
                    break
            return end + 1
        if cmd == "DOFOR":
            var = stmt.value("VAR")
            self._assign(var, _Expression(self, stmt.value("FROM")).value())
            return self._loop_test(pc)
        if cmd == "DOWHILE":
            return pc + 1 if _Expression(self, stmt.value("COND")).value() else self.block_end[pc] + 1
        if cmd == "ENDDO" and pc in self.block_open:
            opener = self.block_open[pc]
            header = self.stmts[opener]
            if header.command == "DOFOR":
                var = header.value("VAR")
                step = _Expression(self, header.value("BY") or "1").value()
                self._assign(var, int(self.vars[var.lstrip("&").upper()]) + int(step))
                return self._loop_test(opener)
            if header.command == "DOWHILE":
                return opener
            return pc + 1
        if cmd in ("SUBR",):                      # falling into a subroutine: IBM ends the program there
            return len(self.stmts)
        target = self._execute(stmt, pc)
        return pc + 1 if target is None else target

    def _loop_test(self, header_pc: int) -> int:
        header = self.stmts[header_pc]
        current = int(self.vars[header.value("VAR").lstrip("&").upper()])
        if current <= int(_Expression(self, header.value("TO")).value()):
            return header_pc + 1
        return self.block_end[header_pc] + 1


def arguments(command: str, program: str, **given: object) -> str:
    """&ARGS of `program` for `command` run with `given` keywords."""
    sources = clcheck.Sources()
    values = received(sources, command.lower() + ".cmd", {k.upper(): v for k, v in given.items()})
    return Machine(sources, program.lower() + ".clle").run(values)
