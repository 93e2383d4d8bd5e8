"""selftest, as a newcomer runs it: a real process in the test venv (a clean
venv built by scripts/test: python3.9 + cryptography 3.4.8, python3.13 +
current cryptography)."""
import re
import subprocess
import sys


def test_selftest_passes_in_this_interpreter():
    proc = subprocess.run([sys.executable, "-m", "ibmi_trust", "selftest"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    steps = [l for l in lines if re.match(r"\[\d/4\]", l)]
    assert len(steps) == 4 and all(" ok: " in l for l in steps), proc.stdout
    assert "CRITICAL as expected" in steps[1] and "2 chains" in steps[1]
    assert "imported 3 certificate(s), re-probe: OK" in steps[2]
    assert steps[3].split(" ok: ")[1].startswith("OK")
    assert lines[-1].startswith("selftest passed in ")
    assert proc.stderr == ""


def test_selftest_leaves_nothing_behind(tmp_path):
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    import os

    env = dict(os.environ, TMPDIR=str(env_tmp))
    proc = subprocess.run([sys.executable, "-m", "ibmi_trust", "selftest"], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(env_tmp.iterdir()) == []
