"""`ibmi-trust probe` without click: cli/fast.py reads the arguments with
fast_parse.py and the parse table scripts/gen_help_pages.py wrote from the
click command (cli/parse_tables.py), then runs the body click runs
(cli/run_probe.py).

- the parser: for any argument list it gives exactly the parameters click
  hands the command, and declines (None, click answers) exactly when click
  would not run it: a differential test over hypothesis-made argument lists
  and hand-picked edge cases; on a made-up command with what probe does not
  use (short options, bundles, clamping ranges, paths that must exist) it
  declines or agrees;
- the table: what the installed click says about the command now;
- the whole command: the same output, error lines and exit codes through the
  fast path as through click, against loopback servers.
"""
import contextlib
import io
import json
import os
import sys
from unittest import mock

import click
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from cli_runs import through_click, through_main
from peers import dual
from ibmi_trust.cli import fast, fast_parse, group, parse_tables, run_probe
from ibmi_trust.testing.servers import MailServer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import gen_help_pages  # noqa: E402

TABLE = parse_tables.TABLES["probe"]


@pytest.fixture(autouse=True)
def terminal_80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


# -- the table ------------------------------------------------------------------------
def test_tables_are_what_the_click_commands_say_now():
    assert set(parse_tables.TABLES) == set(fast.FAST_COMMANDS)
    assert parse_tables.SOURCES_CHECKSUM == fast.help_sources_checksum(), (
        "cli/ command sources changed: run python scripts/gen_help_pages.py")
    for name in fast.FAST_COMMANDS:
        assert parse_tables.TABLES[name] == gen_help_pages.parse_table(name), (
            "parse table of %s: run python scripts/gen_help_pages.py" % name)


def test_a_stale_table_sends_the_command_to_click(monkeypatch):
    args = ["127.0.0.1:25", "--rounds", "1"]
    assert fast.command_params("probe", args) is not None
    monkeypatch.setattr(parse_tables, "SOURCES_CHECKSUM", parse_tables.SOURCES_CHECKSUM + 1)
    assert fast.command_params("probe", args) is None
    assert fast.command_params("check", args) is None                    # no table: click


@pytest.mark.parametrize("decorate,words", [
    (click.option("--n", callback=lambda ctx, param, value: value), "callback"),
    (click.option("--n", envvar="N"), "envvar"),
    (click.option("-v", count=True), "count"),
    (click.option("--pair", nargs=2), "nargs"),
    (click.option("--n", required=True), "required"),
    (click.option("--colour/--no-colour"), "secondary_opts"),
    (click.option("--n", prompt=True), "prompt"),
    (click.option("--n", default=lambda: 3), "run time"),
    (click.option("--f", is_flag=True, multiple=True), "multiple flag"),
    (click.option("--c", type=click.Choice(["a"], case_sensitive=False)), "type"),
    (click.option("--p", type=click.Path(resolve_path=True)), "type"),
    (click.option("--p", type=click.Path(allow_dash=True)), "type"),
    (click.option("--d", type=click.DateTime()), "type"),
    (click.argument("rest", nargs=-1), "nargs"),
])
def test_a_command_the_parser_cannot_read_gets_no_table(decorate, words):
    command = decorate(click.command("made-up")(lambda **kw: None))
    with pytest.raises(gen_help_pages.Unsupported, match=words):
        gen_help_pages.command_table(command)


@pytest.mark.parametrize("settings,words", [
    ({"auto_envvar_prefix": "IBMI_TRUST"}, "auto_envvar_prefix"),
    ({"default_map": {"made-up": {"n": "3"}}}, "default_map"),
    ({"token_normalize_func": str.lower}, "token_normalize_func"),
])
def test_a_group_setting_the_parser_ignores_gets_no_table(settings, words):
    """What a command inherits from its group's context: fast_parse reads no
    environment, default map or normalised names, so such a command has no table."""
    command = click.option("--n")(click.command("made-up")(lambda **kw: None))
    group_ctx = click.Context(click.Group("made-up-group"), **settings)
    with pytest.raises(gen_help_pages.Unsupported, match=words):
        gen_help_pages.command_table(command, group_ctx)
    gen_help_pages.command_table(command, click.Context(click.Group("made-up-group")))      # without: a table


# -- the parser against click ------------------------------------------------------------
def click_params(args):
    """The parameters click hands `ibmi-trust probe ARGS`'s body, or None when
    click answers otherwise (help, a usage error, a traceback)."""
    seen = []
    with mock.patch.object(run_probe, "run", lambda params: seen.append(params) or 0), \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            group.run(["probe"] + list(args))
        except SystemExit:
            pass
        except Exception:                         # click itself failed (a NUL in a path): not our answer
            return None
    return seen[0] if seen else None


def same(fast_params, click_answer):
    """Equal, NaN included, and of the same types (1 is not 1.0 nor True)."""
    if fast_params is None or click_answer is None:
        return fast_params is click_answer
    return repr(sorted(fast_params.items())) == repr(sorted(click_answer.items()))


def agree(args):
    fast_params = fast.command_params("probe", args)
    assert same(fast_params, click_params(args)), (args, fast_params, click_params(args))
    return fast_params


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("paths")
    (base / "a-file").write_text("x")
    (base / "a-dir").mkdir()
    locked = base / "locked-dir"
    locked.mkdir(mode=0o000)
    yield {"dir": str(base / "a-dir"), "file": str(base / "a-file"), "missing": str(base / "missing" / "sub"),
           "locked": str(locked)}
    locked.chmod(0o700)


EDGE_CASES = [
    ["127.0.0.1:25"],
    ["127.0.0.1:25", "--json", "--json"],
    ["--json", "127.0.0.1:25", "--rounds", "2"],                     # arguments anywhere among options
    ["127.0.0.1:25", "--rounds=7", "--rounds", "8"],                  # the last one wins
    ["127.0.0.1:25", "--rounds", "0", "--rounds", "5"],               # ... and only it is converted
    ["127.0.0.1:25", "--rounds", "5", "--rounds", "0"],
    ["127.0.0.1:25", "--key-type", "rsa", "--key-type=ecdsa", "--key-type", "rsa"],
    ["127.0.0.1:25", "--resolve", "a:25:127.0.0.2", "--resolve=b:25:127.0.0.3"],
    ["127.0.0.1:25", "--ehlo", "--json"],                             # a value may look like an option
    ["127.0.0.1:25", "--ehlo", "--nagios"],
    ["127.0.0.1:25", "--ehlo", "-h"],
    ["127.0.0.1:25", "--ehlo="],
    ["127.0.0.1:25", "--ehlo=a=b"],
    ["127.0.0.1:25", "--seed", "-5"],
    ["127.0.0.1:25", "--seed", " 7 "], ["127.0.0.1:25", "--seed", "1_000"], ["127.0.0.1:25", "--seed", "\u0661\u0662"],
    ["127.0.0.1:25", "--seed", "0x10"], ["127.0.0.1:25", "--seed", "1.0"],
    ["127.0.0.1:25", "--timeout", "nan"], ["127.0.0.1:25", "--timeout", "-inf"], ["127.0.0.1:25", "--timeout", "1e3"],
    ["127.0.0.1:25", "--rate", "nan"], ["127.0.0.1:25", "--rate", "0.1"], ["127.0.0.1:25", "--rate", "0.0999"],
    ["127.0.0.1:25", "--rate", "1000"], ["127.0.0.1:25", "--rate", "1000.0001"],
    ["127.0.0.1:25", "--min-share", "1.0"], ["127.0.0.1:25", "--min-share", "0.999"],
    ["127.0.0.1:25", "--min-share", "0.001"], ["127.0.0.1:25", "--min-share", "0.0009"],
    ["127.0.0.1:25", "--rounds", "1000"], ["127.0.0.1:25", "--rounds", "1001"], ["127.0.0.1:25", "--rounds", "0"],
    ["127.0.0.1:25", "--concurrency", "16"], ["127.0.0.1:25", "--concurrency", "17"],
    ["127.0.0.1:25", "--confidence", "0.9999"], ["127.0.0.1:25", "--confidence", "1"],
    ["127.0.0.1:25", "--protocol", "SMTP"], ["127.0.0.1:25", "--protocol", "imaps"], ["127.0.0.1:25", "--tls-version", "1.1"],
    ["127.0.0.1:25", "--key-type", "dsa"],
    ["--", "127.0.0.1:25"], ["--", "-x"], ["127.0.0.1:25", "--", "--json"], ["--json", "--", "-"],
    ["-"], [""], ["-", "--json"],
    [], ["--json"], ["a", "b"],                                       # no argument, two arguments
    ["127.0.0.1:25", "--rounds"],                                     # a value missing at the end
    ["127.0.0.1:25", "--json=1"], ["127.0.0.1:25", "--json="], ["127.0.0.1:25", "--no-sni=yes"],
    ["127.0.0.1:25", "--bogus"], ["127.0.0.1:25", "-x"], ["127.0.0.1:25", "--jso"], ["127.0.0.1:25", "--=x"],
    ["127.0.0.1:25", "---json"], ["127.0.0.1:25", "-5"], ["-23"],
    ["127.0.0.1:25", "--help"], ["127.0.0.1:25", "-h"], ["-h"], ["--help"],
    ["127.0.0.1:25", "--nagios"],
    ["127.0.0.1:25", "--save-dir", "{dir}"], ["127.0.0.1:25", "--save-dir={file}"],
    ["127.0.0.1:25", "--save-dir", "{missing}"], ["127.0.0.1:25", "--save-dir", ""],
    ["127.0.0.1:25", "--save-dir", "a\0b"],
]


@pytest.mark.parametrize("args", EDGE_CASES, ids=lambda a: " ".join(a) or "(none)")
def test_edge_cases_give_click_s_parameters_or_go_to_click(args, paths):
    agree([word.format(**paths) for word in args])


def test_the_usual_command_lines_are_read_fast(paths):
    for args in (["127.0.0.1:25"], ["127.0.0.1:25", "--rounds", "1", "--key-type", "ecdsa", "--json"],
                 ["mx.example.test:587", "--resolve", "mx.example.test:587:127.0.0.2", "--no-sni", "--tls-version",
                  "1.2", "--timeout=3", "--deadline", "20", "--save-dir", paths["missing"], "--seed", "4"]):
        assert agree(args) is not None, args


def test_a_directory_click_cannot_read_is_click_s_to_report(paths):
    if os.access(paths["locked"], os.R_OK):
        pytest.skip("running as a user who reads every directory (root)")
    assert agree(["127.0.0.1:25", "--save-dir", paths["locked"]]) is None


def _value_words(type_spec, paths):
    kind = type_spec[0]
    if kind in ("int", "int-range"):
        odd = st.sampled_from([" 7", "7 ", "+3", "-0", "0x10", "1_0", "\u0661\u0662", "", "1.0", "nan", "1e3"])
        return st.integers(-3, 1003).map(str) | odd
    if kind in ("float", "float-range"):
        odd = st.sampled_from(["0.5", "0.9999", "1", "1e3", "nan", "-nan", "inf", " 0.5", "1_0.5", "", "x", "0.001",
                               "0.0009", "1.0", "0.1", "1000", "1e-3", "\u0661.5"])
        return st.floats(allow_nan=True, allow_infinity=True).map(repr) | odd
    if kind == "choice":
        return st.sampled_from(list(type_spec[1]) + [c.upper() for c in type_spec[1]] + ["", "tls", " smtp"])
    if kind == "path":
        return st.sampled_from(sorted(paths.values()) + ["", "relative-missing"])
    return st.sampled_from(["mx.example.test", "", "a b", "--json", "-5", "-", "x=y", "caf\u00e9"]) | st.text(max_size=6)


def _option_items(paths):
    """One option as it may be written: --name VALUE, --name=VALUE, a flag, a flag with a value."""
    items = []
    for name, spec in sorted(TABLE["options"].items()):
        if spec["type"][0] == "flag":
            items.append(st.just([name]))
            items.append(st.sampled_from(["", "1", "yes"]).map(lambda value, name=name: ["%s=%s" % (name, value)]))
        else:
            words = _value_words(spec["type"], paths)
            items.append(words.map(lambda value, name=name: [name, value]))
            items.append(words.map(lambda value, name=name: ["%s=%s" % (name, value)]))
    return st.one_of(items)


ODD_WORDS = st.sampled_from(["--", "-h", "--help", "--bogus", "-x", "--jso", "-", "--=x", "---json", "-5", "--rounds",
                             "--nagios", "", "127.0.0.2:25"])
TARGETS = st.sampled_from(["127.0.0.1:25", "mx.example.test", "[::1]:587", "-", "x"])


@st.composite
def argument_lists(draw, paths):
    words = []
    for item in draw(st.lists(_option_items(paths) | ODD_WORDS.map(lambda w: [w]), max_size=6)):
        words.extend(item)
    if draw(st.booleans()) or not words:                 # usually one TARGET, somewhere
        words.insert(draw(st.integers(0, len(words))), draw(TARGETS))
    return words


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
@example(data=None)
def test_any_argument_list_gives_click_s_parameters_or_goes_to_click(paths, data):
    if data is None:                                      # @example: the plainest line of all
        agree(["127.0.0.1:25"])
        return
    agree(data.draw(argument_lists(paths)))


# -- a made-up command with what probe does not use ---------------------------------------
@click.command("made-up")
@click.argument("first")
@click.argument("second", type=int)
@click.option("-n", "--number", type=int)
@click.option("-v", "verbose", is_flag=True)
@click.option("-t", "--tag", multiple=True)
@click.option("--level", type=click.IntRange(0, 5, clamp=True), default=2)
@click.option("--ratio", type=click.FloatRange(0, 1, min_open=True), default=0.5)
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False, writable=True))
@click.option("--mode", type=click.Choice(["fast", "slow"]), default="fast")
def made_up(**params):
    """A command beside ibmi-trust's, for the parser's general cases."""


MADE_UP = gen_help_pages.command_table(made_up)


def made_up_click_params(args):
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return made_up.make_context("made-up", list(args)).params
    except (click.exceptions.Exit, click.ClickException):
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(["-n", "--number", "-n5", "-vn", "-vn5", "-nv", "-v", "-vv", "-v=1", "-n=3",
                                       "--number=4", "-t", "--tag", "-tx", "--tag=y", "--level", "--level=9", "-1",
                                       "--ratio", "0", "0.5", "1", "nan", "--input", "--out", "--mode", "slow", "FAST",
                                       "--", "-", "a", "7", "-3", "--help", "-h", "{file}", "{dir}", "{missing}"]),
                      max_size=8))
def test_on_other_commands_the_parser_declines_or_agrees(paths, words):
    args = [w.format(**paths) for w in words]
    fast_params = fast_parse.parse(MADE_UP, args)
    if fast_params is not None:
        assert same(fast_params, made_up_click_params(args)), (args, fast_params)


@pytest.mark.parametrize("args,agrees", [
    (["a", "7", "-n", "5", "-v", "-t", "x", "--tag=y"], True),
    (["-n", "-3", "a", "-1"], False),                      # "-1" as an argument: click's "No such option"
    (["a", "7", "--input", "{file}", "--out", "{missing}", "--mode", "slow", "--ratio", "1"], True),
    (["a", "7", "--input", "{missing}"], False),           # must exist
    (["a", "7", "--input", "{dir}"], False),
    (["a", "7", "--ratio", "0"], False),                   # min_open
    (["a", "7", "--level", "9"], None),                    # click clamps to 5: the parser leaves it to click
    (["a", "7", "-vn5"], None),                            # bundled short options: left to click
    (["a", "7", "-n5"], None),
    (["a", "7", "-n=5"], False),                           # click reads "=5" as -n's value: not a number
])
def test_the_made_up_command_s_cases(args, agrees, paths):
    args = [w.format(**paths) for w in args]
    fast_params, click_answer = fast_parse.parse(MADE_UP, args), made_up_click_params(args)
    if agrees is None:
        assert fast_params is None and click_answer is not None
    else:
        assert same(fast_params, click_answer) and (fast_params is not None) == agrees


# -- the whole command, fast and through click -------------------------------------------
def without_timing(result):
    """JSON output with the one field that differs from run to run taken out."""
    code, out, err = result
    if out.startswith("{"):
        doc = json.loads(out)
        doc.pop("elapsed_seconds")
        out = doc
    return code, out, err


@pytest.fixture(scope="module")
def server(pki):
    with MailServer("smtp", host=["127.0.0.2", "127.0.0.3"], chains=dual(pki)) as srv:
        yield srv


FAST_ARGS = ["--rate", "1000", "--seed", "5"]
WHOLE_COMMANDS = [
    # (arguments after "probe", exit code)
    (["127.0.0.2:{port}", "--protocol", "smtp", "--rounds", "1"], 0),
    (["127.0.0.2:{port}", "--protocol", "smtp", "--rounds", "1", "--key-type", "ecdsa", "--json"], 0),
    (["mx.example.test:{port}", "--resolve", "mx.example.test:{port}:127.0.0.2,127.0.0.3", "--protocol=smtp",
      "--rounds=2", "--json"], 0),
    (["127.0.0.3:{port}", "--protocol", "smtp", "--key-type", "rsa", "--rounds", "2", "--save-dir", "{tmp}"], 0),
    (["127.0.0.1:1", "--protocol", "smtp", "--rounds", "1", "--timeout", "2"], 3),          # refused: ProbeError
    (["127.0.0.1:1", "--protocol", "smtp", "--rounds", "1", "--ehlo", "--nagios"], 3),      # --nagios seen as group.py sees it
    (["127.0.0.2:{port}", "--protocol", "smtp", "--ehlo", "two words"], 3),                  # ConfigError from the options
    (["127.0.0.2:{port}", "--protocol", "smtp", "--timeout", "nan"], 3),
    (["127.0.0.2:{port}", "--protocol", "smtp", "--tls-version", "1.3", "--key-type", "rsa"], 3),
    (["mx.example.test:10025"], 3),                                                        # ConfigError from the target
    (["mx.example.test:25", "--resolve", "mx.example.test:25:nowhere"], 3),
    (["127.0.0.2:{port}", "--protocol", "smtp", "--save-dir", "{tmp}/a-file/x", "--rounds", "1"], 3),   # after the probe
]


@pytest.mark.parametrize("args,code", WHOLE_COMMANDS, ids=lambda a: " ".join(a) if isinstance(a, list) else str(a))
def test_probe_prints_and_exits_as_through_click(args, code, server, tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    args = [word.format(port=server.port, tmp=tmp_path) for word in args] + FAST_ARGS
    assert fast.command_params("probe", args) is not None          # the fast path answers
    result = through_main(["probe"] + args, capsys)
    assert without_timing(result) == without_timing(through_click(["probe"] + args, capsys))
    assert result[0] == code, result
    assert "Traceback" not in result[2]
    if code == 3:
        assert result[2].startswith("ibmi-trust: ")
    if "--nagios" in args:
        assert result[1].startswith("IBMI-TRUST UNKNOWN - could not probe 127.0.0.1:1")


@pytest.mark.parametrize("args", [["--bogus"], ["--rounds", "0"], ["--help"], ["--", "x"], ["--json=1"]])
def test_what_the_parser_declines_click_answers(args, server, capsys):
    args = ["127.0.0.2:%d" % server.port] + args
    assert fast.command_params("probe", args) is None
    assert through_main(["probe"] + args, capsys) == through_click(["probe"] + args, capsys)


def test_an_interrupt_is_click_s_aborted(monkeypatch, capsys):
    from ibmi_trust.probe import discovery

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(discovery, "probe", interrupted)
    args = ["probe", "127.0.0.2:25", "--rounds", "1"]
    assert through_main(args, capsys) == through_click(args, capsys) == (1, "", "\nAborted!\n")


def test_with_a_stale_table_click_runs_the_same_body(server, monkeypatch, capsys):
    args = ["probe", "127.0.0.2:%d" % server.port, "--protocol", "smtp", "--rounds", "1"] + FAST_ARGS
    fast_result = through_main(args, capsys)
    monkeypatch.setattr(parse_tables, "SOURCES_CHECKSUM", parse_tables.SOURCES_CHECKSUM + 1)
    assert fast_result == through_main(args, capsys)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_emit_writes_what_click_echo_writes_on_any_stdout_encoding(encoding):
    """The body writes through output.emit where it used click.echo: on a stdout
    that claims ASCII click writes UTF-8 (errors "replace"); elsewhere the stream's
    own encoding, strictly (a character it cannot encode is an error in both)."""
    import subprocess

    def run(code):
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                              env=dict(os.environ, PYTHONIOENCODING=encoding, PYTHONPATH=REPO))

    for text in ("caf\u00e9 \u2713", "caf\u00e9", "plain"):
        emitted = run("from ibmi_trust.cli.output import emit; emit(%r + '\\n')" % text)
        echoed = run("import click; click.echo(%r)" % text)
        assert (emitted.returncode == 0) == (echoed.returncode == 0), (text, emitted.stderr, echoed.stderr)
        assert emitted.stdout == echoed.stdout, text
