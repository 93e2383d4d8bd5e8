"""Read a command's arguments without click, from its parse table
(parse_tables.py, written by scripts/gen_help_pages.py from the click
command itself), for the fast path in fast.py.

`parse(table, args)` gives exactly the parameters click would hand the
command, or None whenever click would say or do anything else, so click
then answers as it always has (help, usage errors, their exit codes). It
follows click's parser (click/parser.py) for what the table describes:

    --name VALUE, --name=VALUE   a value option; the last one wins, or each
                                 one is kept, in order, when it is multiple
                                 (VALUE may start with a dash: click takes
                                 the next word whatever it is)
    --flag                       a flag: its flag value
    -x VALUE                     a short option, exactly so (no -xVALUE, no
                                 bundled -xy: None)
    --                           every word after it is an argument
    -                            an argument, as any word not starting with "-"
    absent options               their value when not given (from click)

and converts as click's types do: str, int and float with int() and
float(), ranges with click's comparisons, choices by exact match, paths
with click's file-system checks. None for: an unknown option (-h and
--help among them), a flag given a value, a value missing at the end, a
value click would refuse (not a number, out of range, not a choice, a path
of the wrong kind), fewer or more arguments than the command takes.
"""
import os
import stat

FLAG = "flag"


class _Refused(Exception):
    """A value click would not accept as it is (it would fail or clamp)."""


def parse(table: dict, args: "list[str]") -> "dict | None":
    options = table["options"]
    given = {}                                   # dest -> (spec, [words], in order)
    positional = []
    words = list(args)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            positional.extend(words[index:])
            break
        if len(word) < 2 or word[0] != "-":
            positional.append(word)
            continue
        name, explicit = word, None
        if "=" in word:                          # as click: split first, then look the name up
            name, _, explicit = word.partition("=")
            if not options.get(name, {}).get("long"):
                return None
        spec = options.get(name)
        if spec is None:
            return None
        if spec["type"][0] == FLAG:
            if explicit is not None:
                return None                      # "Option '--json' does not take a value."
            value = None
        elif explicit is not None:
            value = explicit
        elif index < len(words):
            value = words[index]
            index += 1
        else:
            return None                          # "Option '--rounds' requires an argument."
        given.setdefault(spec["dest"], (spec, []))[1].append(value)
    arguments = table["arguments"]
    if len(positional) != len(arguments):
        return None
    params = dict(table["absent"])
    try:
        for (dest, type_spec), word in zip(arguments, positional):
            params[dest] = convert(type_spec, word)
        for dest, (spec, values) in given.items():
            if spec["multiple"]:
                params[dest] = tuple(convert(spec["type"], value) for value in values)
            else:                                # click converts only the value that won
                params[dest] = convert(spec["type"], values[-1])
    except _Refused:
        return None
    return params


def convert(type_spec: tuple, word):
    """`word` as click's type of `type_spec` converts it; _Refused where click
    would fail (or clamp a range value)."""
    kind = type_spec[0]
    if kind == "str":
        return word
    if kind == FLAG:
        return type_spec[1]                      # its flag value (the word is None)
    if kind == "choice":
        if word in type_spec[1]:
            return word
        raise _Refused(word)
    if kind == "path":
        return _path(word, *type_spec[1:])
    number = {"int": int, "int-range": int, "float": float, "float-range": float}.get(kind)
    if number is None:
        raise _Refused(word)                     # a type this reader does not know
    try:
        value = number(word)
    except ValueError:
        raise _Refused(word) from None
    if kind.endswith("-range"):
        low, high, low_open, high_open = type_spec[1:]
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if below or above:
            raise _Refused(word)
    return value


def _path(word: str, exists: bool, file_okay: bool, dir_okay: bool, readable: bool, writable: bool,
          executable: bool) -> str:
    """click.Path(...).convert: a path that does not exist passes unless it must exist."""
    try:
        mode = os.stat(word).st_mode
    except OSError:
        if exists:
            raise _Refused(word) from None
        return word
    except ValueError:                           # a NUL in the path: whatever click makes of it
        raise _Refused(word) from None
    if (not file_okay and stat.S_ISREG(mode)) or (not dir_okay and stat.S_ISDIR(mode)):
        raise _Refused(word)
    for wanted, access in ((readable, os.R_OK), (writable, os.W_OK), (executable, os.X_OK)):
        if wanted and not os.access(word, access):
            raise _Refused(word)
    return word
