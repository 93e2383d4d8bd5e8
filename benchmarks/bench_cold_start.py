"""Cold start: whole-process wall time of light commands vs `python -c pass`.

The rows of issue 13's table that are about start-up, each with its goal:

    ibmi-trust --version         <= 1.3x  python -c pass
    ibmi-trust explain -23       <= 1.5x  python -c pass
    ibmi-trust check --help      <= 2.5x  python -c pass

plus rows without a goal, for context: `--version --verbose`, the top-level
`--help`, `check --help` where click must render it (a 60-column terminal;
stored pages are for 80 columns or more), importing click alone, and the
`python -m ibmi_trust` form the CL commands use (RUNPY runs `python -m
ibmi_trust ...`), whose launcher (runpy) has its own cost: on 3.9 runpy
imports importlib.util -> importlib.abc -> typing. `python -m __hello__` (a
frozen stdlib module) shows that floor.

`ibmi-trust` is run as the console script pip writes (`from ibmi_trust.cli
import main; sys.exit(main())`), importing the checkout this file belongs to
(or --repo DIR), so "before" and "after" can be measured with one script.

Every round runs the reference and each command once, in a rotating order;
a command's ratio is the median over rounds of (its time / the reference's
time in the same round): medians of paired runs, so a busy moment on a shared
machine slows both sides of a pair. It also prints which modules each command
imported that it must not (a child interpreter's sys.modules; the tests check
the same without timing).

    python benchmarks/bench_cold_start.py [--rounds 31] [--repo DIR]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

CONSOLE_SCRIPT = ("import sys\nfrom ibmi_trust.cli import main\n"
                  "if __name__ == '__main__':\n    sys.exit(main())\n")

# (label, argv after the interpreter, goal or None, extra environment); {script} is the console script.
ROWS = (
    ("ibmi-trust --version", ["{script}", "--version"], 1.3, {}),
    ("ibmi-trust explain -23", ["{script}", "explain", "-23"], 1.5, {}),
    ("ibmi-trust check --help", ["{script}", "check", "--help"], 2.5, {}),
    ("ibmi-trust --version --verbose", ["{script}", "--version", "--verbose"], None, {}),
    ("ibmi-trust --help", ["{script}", "--help"], None, {}),
    ("check --help, 60 columns (click renders)", ["{script}", "check", "--help"], None, {"COLUMNS": "60"}),
    ("python -c 'import click' (click alone)", ["-c", "import click"], None, {}),
    ("python -m __hello__ (launcher floor)", ["-m", "__hello__"], None, {}),
    ("python -m ibmi_trust --version", ["-m", "ibmi_trust", "--version"], None, {}),
    ("python -m ibmi_trust explain -23", ["-m", "ibmi_trust", "explain", "-23"], None, {}),
)
REFERENCE = ["-c", "pass"]
TIMEOUT = 120.0                    # seconds any one run may take

# What each fast path must not import (tests/test_cli_fast.py asserts the same).
NOT_ON_FAST_PATHS = ("click", "cryptography", "pyodbc", "itoolkit", "dataclasses", "inspect", "typing", "re")
NOT_ON_HELP = ("cryptography", "pyodbc", "itoolkit", "ctypes", "ibmi_trust.fetch.http")
WATCH = {"ibmi-trust --version": NOT_ON_FAST_PATHS, "ibmi-trust explain -23": NOT_ON_FAST_PATHS,
         "ibmi-trust check --help": NOT_ON_HELP}
MODULES_PROBE = ("import sys\nsys.argv = ['ibmi-trust'] + sys.argv[1:]\n"
                 "from ibmi_trust.cli import main\n"
                 "try:\n    main()\nexcept SystemExit:\n    pass\n"
                 "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n")


def timed(argv, env, cwd) -> float:
    """Wall time of one run. A blocking wait with a watchdog: wait(timeout=...)
    polls with growing sleeps, which would round every time up to a step."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env, cwd=cwd)
    watchdog = threading.Timer(TIMEOUT, child.kill)
    watchdog.start()
    try:
        child.wait()
    finally:
        watchdog.cancel()
    return time.perf_counter() - started


def imported(args, env, cwd):
    """The modules a run of `ibmi-trust args` imported (the probe itself imports nothing more)."""
    out = subprocess.run([sys.executable, "-c", MODULES_PROBE] + list(args), capture_output=True, text=True,
                         env=env, cwd=cwd, timeout=TIMEOUT)
    marker = out.stderr.rfind("MODULES ")
    return out.stderr[marker + 8:].split() if marker >= 0 else None


def unwanted(modules, names):
    if modules is None:
        return "?"
    found = [n for n in names if n in modules or any(m.startswith(n + ".") for m in modules)]
    return ", ".join(found) or "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--repo", default=REPO, help="checkout to measure (default: this one)")
    args = parser.parse_args()
    repo = os.path.abspath(args.repo)
    # Bytecode is written (the warm-up round does it), as `pip install` compiles it:
    # with PYTHONDONTWRITEBYTECODE every run would compile every module again.
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = repo
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        script = os.path.join(tmp, "ibmi-trust")
        with open(script, "w") as handle:
            handle.write(CONSOLE_SCRIPT)
        argvs = [[sys.executable] + [a.replace("{script}", script) for a in argv] for _, argv, _, _ in ROWS]
        envs = [dict(env, **extra) for _, _, _, extra in ROWS]
        reference = [sys.executable] + REFERENCE
        # Children run in an empty directory: `-m` and `-c` put the working
        # directory first on sys.path, which must not shadow --repo.
        for argv, row_env in [(reference, env)] + list(zip(argvs, envs)):   # warm the page cache, write .pyc files
            timed(argv, row_env, tmp)
        ref_times, times = [], [[] for _ in ROWS]
        order = list(range(len(ROWS)))
        for round_no in range(args.rounds):
            shift = round_no % (len(order) + 1)
            sequence = (["ref"] + order)[shift:] + (["ref"] + order)[:shift]
            for item in sequence:
                if item == "ref":
                    ref_times.append(timed(reference, env, tmp))
                else:
                    times[item].append(timed(argvs[item], envs[item], tmp))
        imports = {label: unwanted(imported(cli_args[1:], env, tmp), WATCH[label])
                   for label, cli_args, _, _ in ROWS if label in WATCH}
    print("Python %s, %s; repo %s; %d interleaved rounds" % (sys.version.split()[0], sys.executable, repo, args.rounds))
    print("reference: python -c pass, median %.1f ms" % (statistics.median(ref_times) * 1000))
    print("%-42s %9s %7s %6s  %s" % ("command", "median", "ratio", "goal", "imported but must not"))
    for (label, _, goal, _), samples in zip(ROWS, times):
        ratio = statistics.median(t / r for t, r in zip(samples, ref_times))
        verdict = "" if goal is None else ("<=%.1f %s" % (goal, "ok" if ratio <= goal else "MISSED"))
        print("%-42s %7.1fms %6.2fx %-10s %s" % (label, statistics.median(samples) * 1000, ratio, verdict,
                                                  imports.get(label, "")))


if __name__ == "__main__":
    main()
