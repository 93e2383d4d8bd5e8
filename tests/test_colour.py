"""Colour for OK/WARNING/CRITICAL/UNKNOWN on a terminal only: never in a
pipe, a file or CL result records, never with NO_COLOR (real processes,
stdout on a pseudo-terminal)."""
import os
import pty
import subprocess
import sys

from ibmi_trust.ibmi import messages
from scenarios import Scenario
from store_support import REPO

RED_CRITICAL = "\x1b[31mCRITICAL\x1b[0m"


def run_on_terminal(args, env_extra=None):
    """Run ibmi-trust with stdout on a pseudo-terminal; what it printed there."""
    env = dict(os.environ, PYTHONPATH=str(REPO), TERM="xterm", COLUMNS="200")
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ibmi_trust"] + args, stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:                      # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace"), proc.returncode


def test_colour_on_a_terminal_only(tmp_path):
    with Scenario("aia", tmp_path) as sc:
        cl_results = tmp_path / "records.txt"
        coloured, code = run_on_terminal(["check"] + sc.cli_args("--no-fetch", "--cl-results", str(cl_results)))
        assert code == 2 and RED_CRITICAL in coloured
        no_color, _ = run_on_terminal(["check"] + sc.cli_args("--no-fetch"), {"NO_COLOR": "1"})
        dumb, _ = run_on_terminal(["check"] + sc.cli_args("--no-fetch"), {"TERM": "dumb"})
        nagios, _ = run_on_terminal(["check"] + sc.cli_args("--no-fetch", "--nagios"))
        piped = subprocess.run([sys.executable, "-m", "ibmi_trust", "check"] + sc.cli_args("--no-fetch"),
                               capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
        for text in (no_color, dumb, nagios, piped.stdout):
            assert "CRITICAL" in text and "\x1b[" not in text
        records = messages.read_results(str(cl_results))
        assert records and not any("\x1b" in str(field) for record in records for field in vars(record).values())
