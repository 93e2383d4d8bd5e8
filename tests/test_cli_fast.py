"""The fast paths (cli/fast.py): `--version [--verbose]`, `explain` and
`CMD --help` answered without click give exactly what click gives, hand
over to click whatever they do not understand, and import nothing they must
not (checked in a fresh interpreter; timing is for benchmarks/)."""
import importlib.metadata
import json
import os
import random
import re
import subprocess
import sys
import textwrap

import pytest

from cli_runs import through_click, through_main
from ibmi_trust import __version__
from ibmi_trust.cli import about, explain_fast, fast, group, help_pages
from ibmi_trust.explain import advice, codes, lookup, wrapping
from ibmi_trust.ibmi import messages


@pytest.fixture(autouse=True)
def terminal_80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


# -- explain ----------------------------------------------------------------------
ANSWERED_FAST = [
    ["-23"], ["10"], ["6000"], ["RC(23)", "--json"], ["--json", "CPDBC84"], ["-23", "--json"],
    ["RC", "(", "23", ")"], ["gsk_os400_error_not_trusted_root"], ["575009"], ["-6000"],
    # unknown codes: exit 2 and one line on stderr
    ["999"], ["--", "-4242"], ["SSL_ERROR_NOPE"], ["hello", "world"], ["ITR0002"], ["-"], ["CPDBC00", "--json"],
]
# click's answer to each (exit code): help 0; unknown options are codes (ignore_unknown_options), so
# unknown: 2; usage errors 3; an empty --cl-results= is no results file at all.
LEFT_TO_CLICK = {
    (): 3, ("--",): 3, ("--help",): 0, ("-h",): 0, ("-23", "-h"): 0, ("--bogus",): 2, ("-x",): 2, ("-1.5",): 2,
    ("--json=1", "-23"): 3, ("--cl-results",): 3, ("--cl-results=", "-23"): 0,
}


@pytest.mark.parametrize("args", ANSWERED_FAST + [list(a) for a in LEFT_TO_CLICK], ids=lambda a: " ".join(a) or "(none)")
def test_explain_gives_what_click_gives(args, capsys):
    assert (explain_fast.parse(args) is not None) == (args in ANSWERED_FAST)
    fast_result = through_main(["explain"] + args, capsys)
    assert fast_result == through_click(["explain"] + args, capsys)
    code, out, err = fast_result
    assert "Traceback" not in err
    if args in ANSWERED_FAST:
        assert code in (0, 2) and (code == 2) == bool(err) and (code == 0) == bool(out)
    else:
        assert code == LEFT_TO_CLICK[tuple(args)], (code, err)
    if "-h" in args or "--help" in args:
        assert out.startswith("Usage: ibmi-trust explain [OPTIONS] CODE...")
    elif code == 3:
        assert "Error: " in err


def test_explain_text_is_unchanged(capsys):
    code, out, _ = through_main(["explain", "-23"], capsys)
    assert code == 0 and out.startswith("SSL_ -23  SSL_ERROR_NOT_TRUSTED_ROOT\n  API:          SSL_ API (QSOSSL)\n")
    assert "GSKit 6000 GSK_IBMI_ERROR_NOT_TRUSTED_ROOT (inferred from the names)" in out
    assert json.loads(through_main(["explain", "RC(23)", "--json"], capsys)[1])["matched_by"] == "absolute value"


@pytest.mark.parametrize("args", [["--cl-results", "{path}", "10"], ["--cl-results={path}", "-23"],
                                  ["--cl-results", "{path}", "--", "-4242"],
                                  ["--cl-results", "{other}", "--cl-results", "{path}", "-23"]])
def test_explain_cl_results_are_click_s(args, tmp_path, capsys):
    results = []
    for run in (through_main, through_click):
        path, other = tmp_path / ("%s.res" % run.__name__), tmp_path / "ignored.res"
        argv = ["explain"] + [a.format(path=path, other=other) for a in args]
        assert explain_fast.parse(argv[1:]) is not None
        code, out, err = run(argv, capsys)
        results.append((code, out, err, [(r.msgid, r.type, r.data) for r in messages.read_results(str(path))]))
    assert results[0] == results[1]
    assert not (tmp_path / "ignored.res").exists()


@pytest.mark.parametrize("query", ["-23", "999"])
def test_explain_reports_a_results_file_it_cannot_write_as_click_s_boundary_does(query, monkeypatch, tmp_path, capsys):
    from ibmi_trust.errors import ConfigError

    def refuse(path, records):
        raise ConfigError("cannot write %s" % path, hint="a hint")

    monkeypatch.setattr(messages, "write_results", refuse)
    args = ["explain", "--cl-results", str(tmp_path / "r.res"), query]
    result = through_main(args, capsys)
    assert result == through_click(args, capsys)
    assert result == (ConfigError.exit_code, "", "ibmi-trust: cannot write %s\n  hint: a hint\n" % (tmp_path / "r.res"))


def test_explain_cl_results_naming_a_directory_is_click_s_usage_error(tmp_path, capsys):
    args = ["explain", "--cl-results", str(tmp_path), "-23"]
    assert explain_fast.parse(args[1:]) is None
    code, _, err = through_main(args, capsys)
    assert code == 3 and "is a directory" in err


def test_a_closed_pipe_ends_explain_quietly():
    """`ibmi-trust explain -23 | head -0`: exit 1, no traceback (as click does it)."""
    child = subprocess.Popen([sys.executable, "-c", "from ibmi_trust.cli import main; main(['explain', '-23'])"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()                         # before the child gets to write
    err = child.stderr.read()
    assert child.wait(timeout=60) == 1 and err == b"", err


# -- the readers that replace explain's regular expressions -------------------------
NUMBER_RE = re.compile(r"^(?P<rc>RC\s*[(=:]?\s*)?(?P<num>[+-]?\d{1,9})\s*\)?$", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"^[A-Z]{3}[0-9A-F]{4}$")
NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def regex_number(text):
    match = NUMBER_RE.match(text)
    return (bool(match.group("rc")), match.group("num")) if match else None


def normalised(text):
    return " ".join(text.split())


def test_number_reader_matches_the_pattern():
    rng = random.Random(13)
    alphabet = "rRcC(=:)+- 0123456789\u0663\u212a\u017fx"
    samples = ["RC(23)", "rc=23", "RC 23", "RC( 23 )", "rc:-5", "23)", "RC((23", "RC", "1234567890", "+-5", "-0",
               "\u0663\u0662", "RC(+6000)", "rc =  7 )", "R C(1)"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(50000)]
    for text in map(normalised, samples):
        assert lookup._number(text) == regex_number(text), repr(text)


def test_the_reader_s_character_classes_are_the_pattern_s_for_every_character():
    """str.isdecimal() is \\d, str.isspace() is \\s, and only r/R, c/C match R, C case-insensitively."""
    everything = "".join(map(chr, range(0x110000)))
    decimals = re.findall(r"\d", everything)
    assert decimals == [ch for ch in everything if ch.isdecimal()]
    assert re.findall(r"\s", everything) == [ch for ch in everything if ch.isspace()]
    assert re.findall(r"(?i)r", everything) == ["R", "r"] and re.findall(r"(?i)c", everything) == ["C", "c"]
    for ch in decimals:
        for text in (ch, "rc" + ch, "-" + ch * 3):
            assert lookup._number(text) == regex_number(text), (hex(ord(ch)), text)


def test_message_id_and_name_readers_match_the_patterns():
    rng = random.Random(14)
    alphabet = "ABCFGZaz0189_-\u0131\u0130\u00df\u212aIT"
    for _ in range(50000):
        upper = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))).upper()
        assert lookup._is_message_id(upper) == bool(MESSAGE_ID_RE.match(upper)), repr(upper)
        assert lookup._is_name(upper) == bool(NAME_RE.match(upper)), repr(upper)


# -- wrapping without textwrap ----------------------------------------------------
def test_wrap_is_textwrap_on_every_text_explain_prints():
    texts = []
    for row in codes.table().rows:
        found = advice.advice_for(row)
        texts += [row.meaning, row.ibm_steps, row.source, row.notes, row.family, found.cause,
                  "(mail/STARTTLS) " + found.cause, found.remedy, ", ".join(row.aliases)]
    for text in texts:
        for width in (84, 100, 30):
            assert wrapping.wrap(text, width) == textwrap.wrap(text, width=width), (text, width)
        assert all(len(chunk) <= 84 for chunk in wrapping._chunks(text))     # no fallback at explain's widths


def test_wrap_cuts_chunks_as_textwrap_does():
    splitter = textwrap.TextWrapper()
    rng = random.Random(15)
    alphabet = "aB_-- .,!?\"'&()1x-yz--ab"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50)))
        assert wrapping._chunks(text) == splitter._split(text), repr(text)
        width = rng.randint(3, 30)
        assert wrapping.wrap(text, width) == textwrap.wrap(text, width=width), (text, width)


def test_wrap_leaves_what_it_does_not_reproduce_to_textwrap():
    for text in ("tab\there", "two\nlines", "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e", "x" * 120 + " y", "a-" * 70):
        assert wrapping.wrap(text, 20) == textwrap.wrap(text, width=20)


# -- --version ------------------------------------------------------------------------
def test_version_is_click_s(capsys):
    assert through_main(["--version"], capsys) == through_click(["--version"], capsys) == (
        0, "ibmi-trust %s\n" % __version__, "")


def test_verbose_version_names_everything_a_support_ticket_asks(capsys):
    code, out, err = through_main(["--version", "--verbose"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "ibmi-trust %s" % __version__
    fields = dict(line.split(":", 1) for line in lines[1:])
    fields = {key: value.strip() for key, value in fields.items()}
    assert list(fields) == ["python", "ssl module", "openssl command", "cryptography", "click", "pyodbc", "itoolkit",
                            "platform", "root program"]
    import cryptography
    import ssl

    assert fields["python"].startswith(sys.version.split()[0]) and sys.executable in fields["python"]
    assert fields["ssl module"] == ssl.OPENSSL_VERSION
    assert fields["cryptography"].startswith(cryptography.__version__ + " (OpenSSL ")
    assert fields["click"] == importlib.metadata.version("click")
    for name in ("pyodbc", "itoolkit"):
        assert fields[name] == about.distribution_version(name)
    assert fields["platform"].startswith(os.uname().sysname)
    assert "unknown" not in out
    assert through_main(["--verbose", "--version"], capsys) == (code, out, err)
    assert through_click(["--version", "--verbose"], capsys) == (code, out, err)


def test_verbose_version_says_what_is_missing_and_never_fails(monkeypatch, capsys):
    monkeypatch.setenv("IBMI_TRUST_OPENSSL", "/nonexistent/openssl")
    monkeypatch.setattr(about, "_ITEMS", about._ITEMS + (("broken", lambda: 1 / 0),))
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.backends.openssl.backend", None)     # import fails
    code, out, _ = through_main(["--version", "--verbose"], capsys)
    assert code == 0
    assert "openssl command: /nonexistent/openssl (cannot run it: " in out
    assert "cryptography:    %s (cannot load it: " % about.distribution_version("cryptography") in out
    assert "broken:          unknown (ZeroDivisionError: division by zero)" in out
    assert about.distribution_version("ibmi-trust-no-such-distribution") == about.NOT_INSTALLED


def test_verbose_version_reads_the_ibm_i_release_from_uname():
    def pase(version, release):
        return lambda: os.uname_result(("OS400", "PROD1", release, version, "00F6A5A74C00"))

    assert about.platform_line(pase("7", "5"), on_ibmi=lambda: True) == (
        "IBM i 7.5 (PASE; uname -s OS400, -v 7, -r 5, -m 00F6A5A74C00)")
    assert about.platform_line(pase("V7", "R4"), on_ibmi=lambda: True).startswith("IBM i release unknown (")
    assert about.platform_line(pase("7", "5"), on_ibmi=lambda: False) == "OS400 5 00F6A5A74C00"


def test_verbose_version_names_the_first_root_program_that_exists(tmp_path, monkeypatch):
    from ibmi_trust.fetch import roots

    bundle = tmp_path / "roots.pem"
    bundle.write_text("")
    monkeypatch.setattr(roots, "default_candidates", lambda: [("certifi", str(tmp_path / "missing.pem")),
                                                              ("system", str(bundle))])
    assert about.root_program_line().startswith("system %s " % bundle)
    monkeypatch.setattr(roots, "default_candidates", lambda: [("certifi", str(tmp_path / "missing.pem"))])
    assert about.root_program_line().startswith("none found")


def test_verbose_alone_is_a_usage_error(capsys):
    code, _, err = through_main(["--verbose"], capsys)
    assert code == 3 and "No such option" in err and "--verbose" in err


# -- help pages ---------------------------------------------------------------------
def test_stored_help_pages_are_what_click_renders_now(capsys):
    assert fast.help_sources_checksum() == help_pages.SOURCES_CHECKSUM, (
        "cli/ command sources changed: run python scripts/gen_help_pages.py")
    assert fast.help_width() == help_pages.WIDTH == 78
    for name in [""] + group._command_names():
        code, out, _ = through_click(([name] if name else []) + ["--help"], capsys)
        assert code == 0
        if name in help_pages.PAGES:
            assert help_pages.PAGES[name] == out, "help of %r: run python scripts/gen_help_pages.py" % name
        else:                                    # left out because it changes with the run
            assert sys.executable in out, name
    assert "check" in help_pages.PAGES and "" in help_pages.PAGES


@pytest.mark.parametrize("args", [["check", "--help"], ["check", "-h"], ["explain", "--help"], ["--help"], ["-h"],
                                  ["store", "--help"]])
def test_help_is_served_as_click_would_print_it(args, capsys):
    assert fast.dispatch(list(args)) == 0
    capsys.readouterr()
    assert through_main(args, capsys) == through_click(args, capsys)


def test_help_goes_to_click_when_the_width_or_the_sources_differ(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "60")
    assert fast.help_page("check") is None
    code, out, _ = through_main(["check", "--help"], capsys)
    assert code == 0 and (code, out, "") == through_click(["check", "--help"], capsys)
    assert out != help_pages.PAGES["check"] and out.startswith("Usage: ibmi-trust check [OPTIONS] TARGET")
    monkeypatch.setenv("COLUMNS", "200")
    assert fast.help_page("check") == help_pages.PAGES["check"]          # wider terminals get the same page
    monkeypatch.setattr(help_pages, "SOURCES_CHECKSUM", help_pages.SOURCES_CHECKSUM + 1)
    assert fast.help_page("check") is None
    assert fast.help_page("no-such-command") is None


# -- what the fast paths import ----------------------------------------------------------
NOT_ON_FAST_PATHS = ("click", "cryptography", "pyodbc", "itoolkit", "dataclasses", "inspect", "typing", "re",
                     "textwrap", "csv", "json")
NOT_ON_HELP = ("click", "cryptography", "pyodbc", "itoolkit", "ctypes", "ibmi_trust.fetch", "ibmi_trust.probe")
IMPORTS_PROBE = ("import sys\nsys.argv = ['ibmi-trust'] + sys.argv[1:]\nfrom ibmi_trust.cli import main\n"
                 "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
                 "sys.stdout.write('\\nEXIT %s MODULES ' % code + ' '.join(sorted(sys.modules)))\n")


def modules_after(args, env=None):
    """(exit code, modules imported) of `ibmi-trust args` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", IMPORTS_PROBE] + list(args), capture_output=True, text=True,
                         env=dict(os.environ, COLUMNS="80", **(env or {})), timeout=120, check=True).stdout
    tail = out[out.rindex("\nEXIT "):].split()
    return int(tail[1]), set(tail[3:])


def imported(modules, names):
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


@pytest.mark.parametrize("args,forbidden", [
    (["--version"], NOT_ON_FAST_PATHS),
    (["explain", "-23"], NOT_ON_FAST_PATHS),
    (["explain", "RC(23)"], NOT_ON_FAST_PATHS),
    (["explain", "999"], NOT_ON_FAST_PATHS),
    (["check", "--help"], NOT_ON_HELP),
    (["--help"], NOT_ON_HELP),
], ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_fast_paths_import_nothing_they_must_not(args, forbidden):
    code, modules = modules_after(args)
    assert code in (0, 2)
    assert imported(modules, forbidden) == []


NOT_ON_PROBE = ("click", "cryptography", "pyodbc", "itoolkit", "dataclasses", "inspect", "ast",
                "random", "ipaddress",        # one combination needs no shuffle; an IPv4 target no ipaddress
                "pathlib") + (("contextlib",) if sys.version_info >= (3, 13) else ())  # older typing imports it


@pytest.mark.parametrize("output", [[], ["--json"]], ids=["text", "json"])
def test_a_probe_imports_neither_click_nor_dataclasses(output, pki):
    """`ibmi-trust probe` is read by the fast path (cli/fast_parse.py) and runs without click;
    the text summary needs no json either."""
    from peers import dual
    from ibmi_trust.testing.servers import MailServer

    with MailServer("smtp", chains=dual(pki)) as srv:
        code, modules = modules_after(["probe", "127.0.0.1:%d" % srv.port, "--protocol", "smtp", "--rounds", "1",
                                       "--key-type", "ecdsa"] + output)
    assert code == 0
    assert imported(modules, NOT_ON_PROBE + (() if output else ("json",))) == []
    assert "ibmi_trust.cli.run_probe" in modules and "ibmi_trust.cli.group" not in modules


def test_store_options_import_no_store_code():
    code = ("import sys\nfrom ibmi_trust.store.spec import StoreOptions\nStoreOptions()\n"
            "print(' '.join(sorted(sys.modules)))")
    modules = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 timeout=120).stdout.split())
    assert imported(modules, ("ibmi_trust.store.backup", "ibmi_trust.store.base", "cryptography")) == []


def test_check_without_fetching_imports_no_network_fetch_code_nor_cryptography(tmp_path):
    """A check of a bundle store verifies signatures through the OpenSSL `ssl` already
    loaded (certs/libcrypto.py, ctypes), not cryptography (12 MiB, 50-100 ms)."""
    from scenarios import Scenario

    with Scenario("minority", tmp_path) as sc:
        code, modules = modules_after(["check"] + sc.cli_args("--no-fetch", "--rounds", "1"))
    assert code in (1, 2)                        # a real check ran: the store trusts neither chain
    assert imported(modules, ("ibmi_trust.fetch.http", "http.client", "urllib.request", "cryptography")) == []


def test_probe_imports_ctypes_only_where_the_stdlib_cannot_read_chains(tmp_path):
    from scenarios import Scenario

    with Scenario("minority", tmp_path) as sc:
        code, modules = modules_after(["probe"] + sc.cli_args("--rounds", "1")[:1] + sc.resolve_args() + [
            "--protocol", "smtp", "--rounds", "1", "--rate", "500"])
    assert code == 0
    assert ("ctypes" in modules) == (sys.version_info < (3, 10))      # 3.9 captures chains through ctypes
    assert imported(modules, ("cryptography",)) == []
