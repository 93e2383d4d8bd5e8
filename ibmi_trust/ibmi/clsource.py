"""Read CL and command-definition source into statements.

One small parser shared by the CL checker (tests/clcheck.py), the installer (objects)
and the message catalog (messages, which reads the FMT of each ADDMSGD).
It knows the CL source syntax the package's own cl/ files use:

- comments `/* ... */` (may span lines);
- continuation: a line ending in `+` continues with the next line's leading
  blanks removed, `-` keeps them (also inside quoted strings);
- an optional label `NAME:` before the command, a command name that may be
  qualified (`QSYS/SNDPGMMSG`), then parameters `KWD(value)` or positional
  values;
- values: quoted strings with '' for a quote, nested parentheses, *special
  values, &variables, names, numbers, X'hex' and expressions.

Stdlib only (it runs in `explain`-class start-up paths); no IBM i needed.
Syntax errors raise CLSyntaxError naming the file and line.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

_LABEL_RE = re.compile(r"^\s*([A-Z$#@][A-Z0-9$#@_]*)\s*:(?!=)", re.IGNORECASE)


class CLSyntaxError(ValueError):
    def __init__(self, where: str, line: int, problem: str):
        super().__init__("%s:%d: %s" % (where, line, problem))
        self.where = where
        self.line = line
        self.problem = problem


@dataclass
class Statement:
    """One CL command as written: keyword values are kept raw (quotes included)."""

    command: str                                   # upper case, library qualifier removed
    params: Dict[str, str] = field(default_factory=dict)   # KEYWORD -> raw text inside the parentheses
    positional: List[str] = field(default_factory=list)    # raw positional values, in order
    label: str = ""
    line: int = 0                                  # first source line (1-based)
    qualifier: str = ""                            # library written before the command, if any

    def value(self, keyword: str, default: Optional[str] = None) -> Optional[str]:
        return self.params.get(keyword.upper(), default)

    def text(self, keyword: str, default: str = "") -> str:
        """The keyword's value with one level of quoting removed."""
        raw = self.params.get(keyword.upper())
        return default if raw is None else unquote(raw)

    def render(self, **overrides: str) -> str:
        """The statement as one line, keyword form; overrides replace raw values."""
        params = dict(self.params)
        params.update({k.upper(): v for k, v in overrides.items()})
        parts = [self.command] + list(self.positional)
        parts += ["%s(%s)" % (kw, val) for kw, val in params.items()]
        return " ".join(parts)


# -- logical lines ----------------------------------------------------------
def logical_lines(text: str, where: str = "<source>") -> List[Tuple[int, str]]:
    """(first line number, text) per statement: comments removed, continuations joined."""
    out: List[Tuple[int, str]] = []
    buf: List[str] = []
    start = 0
    in_quote = False
    in_comment = False
    lines = text.splitlines()
    for number, raw in enumerate(lines, 1):
        line, in_quote, in_comment = _strip_comments(raw, in_quote, in_comment, where, number)
        if not buf:
            start = number
        stripped = line.rstrip()
        if stripped.endswith("+") or stripped.endswith("-"):
            cont = stripped[-1]
            buf.append(stripped[:-1])
            # '+' drops the next line's leading blanks; '-' keeps them
            buf.append("\x00+" if cont == "+" else "\x00-")
            continue
        if in_quote:
            raise CLSyntaxError(where, number, "quoted string not closed at end of line")
        buf.append(stripped)
        joined = _join(buf)
        buf = []
        if joined.strip():
            out.append((start, joined))
    if in_comment:
        raise CLSyntaxError(where, len(lines), "comment /* not closed")
    if buf:
        raise CLSyntaxError(where, len(lines), "source ends with a continuation character")
    return out


def _join(parts: List[str]) -> str:
    text = ""
    drop_leading = False
    for part in parts:
        if part == "\x00+":
            drop_leading = True
            continue
        if part == "\x00-":
            drop_leading = False
            continue
        text += part.lstrip() if drop_leading else part
        drop_leading = False
    return text


def _strip_comments(line: str, in_quote: bool, in_comment: bool, where: str, number: int):
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if in_comment:
            if line.startswith("*/", i):
                in_comment = False
                i += 2
                continue
            i += 1
            continue
        if in_quote:
            out.append(ch)
            if ch == "'":
                if line.startswith("''", i):
                    out.append("'")
                    i += 2
                    continue
                in_quote = False
            i += 1
            continue
        if line.startswith("/*", i):
            in_comment = True
            i += 2
            continue
        if ch == "'":
            in_quote = True
        out.append(ch)
        i += 1
    return "".join(out), in_quote, in_comment


# -- statements -------------------------------------------------------------
def parse(text: str, where: str = "<source>") -> List[Statement]:
    """All statements of a CL or command-definition source."""
    return [parse_statement(body, where, number) for number, body in logical_lines(text, where)]


def parse_statement(body: str, where: str = "<source>", line: int = 0) -> Statement:
    label = ""
    match = _LABEL_RE.match(body)
    if match:
        label = match.group(1).upper()
        body = body[match.end():]
    body = body.strip()
    if not body:  # a label on its own line labels the next statement; keep it as a no-op
        return Statement(command="", label=label, line=line)
    match = re.match(r"([A-Z$#@][A-Z0-9$#@_]*)(?:/([A-Z$#@][A-Z0-9$#@_]*))?", body, re.IGNORECASE)
    if not match:
        raise CLSyntaxError(where, line, "no command name in %r" % body[:40])
    qualifier, command = ("", match.group(1)) if match.group(2) is None else (match.group(1), match.group(2))
    stmt = Statement(command=command.upper(), label=label, line=line, qualifier=qualifier.upper())
    for token in split_values(body[match.end():], where, line):
        kw = re.match(r"([A-Z][A-Z0-9]*)\(", token, re.IGNORECASE)
        if kw and token.endswith(")") and _closes_at_end(token, kw.end() - 1):
            keyword = kw.group(1).upper()
            if keyword in stmt.params:
                raise CLSyntaxError(where, line, "%s: keyword %s given twice" % (stmt.command, keyword))
            stmt.params[keyword] = token[kw.end():-1].strip()
        elif stmt.params:
            raise CLSyntaxError(where, line, "%s: positional value %r after a keyword" % (stmt.command, token[:30]))
        else:
            stmt.positional.append(token)
    return stmt


def _closes_at_end(token: str, open_at: int) -> bool:
    """True when the parenthesis at `open_at` is closed by the token's last character."""
    depth = 0
    in_quote = False
    for i in range(open_at, len(token)):
        ch = token[i]
        if ch == "'":
            in_quote = not in_quote
        elif not in_quote and ch == "(":
            depth += 1
        elif not in_quote and ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(token) - 1
    return False


def split_values(text: str, where: str = "<source>", line: int = 0) -> List[str]:
    """Split at top-level blanks; parentheses and quoted strings stay together.

    `KWD(a b)` is one value, and so is `(*CHAR 10)` or `'it''s'`.
    """
    values: List[str] = []
    current = ""
    depth = 0
    in_quote = False
    for ch in text:
        if in_quote:
            current += ch
            if ch == "'":
                in_quote = False  # a doubled quote re-opens on the next character
            continue
        if ch == "'":
            in_quote = True
            current += ch
        elif ch == "(":
            depth += 1
            current += ch
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise CLSyntaxError(where, line, "unbalanced ')'")
            current += ch
        elif ch.isspace() and depth == 0:
            if current:
                values.append(current)
            current = ""
        else:
            current += ch
    if in_quote:
        raise CLSyntaxError(where, line, "quoted string not closed")
    if depth:
        raise CLSyntaxError(where, line, "unbalanced '(': %d not closed" % depth)
    if current:
        values.append(current)
    return values


def elements(raw: str) -> List[str]:
    """Elements of a list value: '(*CHAR 10) (*CHAR 5)' -> ['(*CHAR 10)', '(*CHAR 5)']."""
    return split_values(raw)


def strip_parens(raw: str) -> str:
    raw = raw.strip()
    while raw.startswith("(") and raw.endswith(")") and _closes_at_end(raw, 0):
        raw = raw[1:-1].strip()
    return raw


def unquote(raw: str) -> str:
    """'it''s' -> it's; anything not a single quoted string comes back as is."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == "'" and raw[-1] == "'" and len(split_values(raw)) == 1:
        return raw[1:-1].replace("''", "'")
    return raw


def quote(text: str) -> str:
    """A CL quoted string literal for `text`."""
    return "'" + text.replace("'", "''") + "'"


def string_literals(raw: str) -> List[str]:
    """The contents of every quoted string in `raw`, unescaped."""
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", raw)]


def variables(raw: str) -> List[str]:
    """&NAMES used in a raw value (outside quoted strings), upper case, without '&'."""
    outside = re.sub(r"'(?:[^']|'')*'", "''", raw)
    return [m.upper() for m in re.findall(r"&([A-Z$#@][A-Z0-9$#@_]*)", outside, re.IGNORECASE)]
