"""The command-line boundary: version, help, usage errors (the fast paths and
what they import: test_cli_fast.py)."""
from click.testing import CliRunner

from ibmi_trust import __version__
from ibmi_trust.cli import cli


def test_version_and_help():
    runner = CliRunner()
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == "ibmi-trust %s" % __version__
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Commands:" in result.output


def test_every_command_has_help():
    runner = CliRunner()
    names = cli.list_commands(None)
    assert names, "no commands discovered"
    for name in names:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output and "--help" in result.output


def test_usage_error_is_unknown_3():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 3
