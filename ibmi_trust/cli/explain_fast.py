"""`ibmi-trust explain` without click: the argument reader of the fast path,
and the body both paths run (cmd_explain.py is the click command).

`parse` accepts what click's parser for explain accepts in the usual cases
and returns None for anything else, which then goes to click, so help,
usage errors and odd spellings come out exactly as click makes them:

    CODE...                   one or more words, joined with spaces
    -23, -6000                a dash and ASCII digits: a code, not an option
                              (explain ignores unknown options, as click does)
    --json                    a flag
    --cl-results PATH         also --cl-results=PATH; the last one wins
    --                        everything after it is CODE

None for: -h, --help, any other word starting with "-", --cl-results
without a value or naming something click.Path(dir_okay=False) refuses
(a directory, an unreadable file), and no CODE at all.
"""
import os
import stat

CODE, JSON, CL_RESULTS = "code", "--json", "--cl-results"


def parse(args: "list[str]") -> "tuple[list[str], bool, str | None] | None":
    """(codes, as_json, cl_results), or None to let click parse `args`."""
    codes, as_json, cl_results = [], False, None
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word == "--":
            codes.extend(rest)
            break
        if word == JSON:
            as_json = True
        elif word == CL_RESULTS or word.startswith(CL_RESULTS + "="):
            if word == CL_RESULTS:
                if not rest:
                    return None
                cl_results = rest.pop(0)
            else:
                cl_results = word[len(CL_RESULTS) + 1:]
        elif len(word) > 1 and word.startswith("-") and not _ascii_digits(word[1:]):
            return None
        else:
            codes.append(word)
    if not codes or (cl_results is not None and not _path_accepted(cl_results)):
        return None
    return codes, as_json, cl_results


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _path_accepted(path: str) -> bool:
    """What click.Path(dir_okay=False) lets through: a path that does not
    exist yet, or an existing non-directory we may read."""
    if not path:
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True
    return not stat.S_ISDIR(mode) and os.access(path, os.R_OK)


def run(codes: "list[str]", as_json: bool, cl_results: "str | None") -> int:
    """Explain `codes` (joined with spaces); the exit code: 0 explained,
    2 unknown code, or an IbmiTrustError's code (reported on stderr) when
    the --cl-results file cannot be written."""
    from ibmi_trust.cli.output import emit, emit_json
    from ibmi_trust.explain import UnknownCode, explain, render

    query = " ".join(codes)
    try:
        explanation = explain(query)
    except UnknownCode as exc:
        reason = exc.reason
        failed = cl_results and _write_records(cl_results, lambda: render.unknown_records(query, reason))
        if failed:
            return failed
        emit("ibmi-trust: %s\n" % reason, err=True)
        return 2
    failed = cl_results and _write_records(cl_results, lambda: render.to_records(explanation))
    if failed:
        return failed
    if as_json:
        emit_json(render.to_dict(explanation))
    else:
        emit(render.to_text(explanation))
    return 0


def _write_records(path: str, make_records) -> int:
    """Write the records for the CL command; 0, or the exit code of the
    IbmiTrustError that stopped it (reported by the boundary's failure_exit).
    ibmi_trust.errors is imported only here: plain `explain` does not need it."""
    from ibmi_trust.cli.output import failure_exit
    from ibmi_trust.errors import IbmiTrustError
    from ibmi_trust.ibmi import messages

    try:
        messages.write_results(path, make_records())
    except IbmiTrustError as exc:
        return failure_exit(exc, {})
    return 0
