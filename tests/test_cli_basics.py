"""The command-line boundary: version, help, usage errors, cold start."""
import json
import subprocess
import sys

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


def test_version_does_not_import_heavy_modules():
    code = ("import sys; from ibmi_trust.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "import json; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('cryptography','pyodbc','itoolkit'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
