"""Cold start: whole-process wall time of light commands vs `python -c pass`.

Commands that need neither cryptography nor pyodbc nor itoolkit must not import
them (imports are slow under PASE). Prints medians and ratios, and which heavy
modules each command imported.
"""
import json
import statistics
import subprocess
import sys
import time

RUNS = 15
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "ibmi-trust --version": [sys.executable, "-m", "ibmi_trust", "--version"],
    "ibmi-trust explain -23": [sys.executable, "-m", "ibmi_trust", "explain", "--", "-23"],
    "ibmi-trust --help": [sys.executable, "-m", "ibmi_trust", "--help"],
}
PROBE = ("import sys, runpy; sys.argv=['ibmi-trust'] + %r\n"
         "try:\n    runpy.run_module('ibmi_trust', run_name='__main__')\nexcept SystemExit:\n    pass\n"
         "import json; sys.stderr.write(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'cryptography','pyodbc','itoolkit'})))")


def median_seconds(argv):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_imports(args):
    out = subprocess.run([sys.executable, "-c", PROBE % (args,)], capture_output=True, text=True)
    try:
        return json.loads(out.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return ["?"]


def main():
    times = {name: median_seconds(argv) for name, argv in COMMANDS.items()}
    base = times["python -c pass"]
    print("%-26s %9s %7s  %s" % ("command", "median", "ratio", "heavy modules imported"))
    for name, argv in COMMANDS.items():
        t = times[name]
        heavy = heavy_imports(argv[3:]) if argv[1:3] == ["-m", "ibmi_trust"] else []
        print("%-26s %8.1fms %6.2fx  %s" % (name, t * 1000, t / base, ", ".join(heavy) or "none"))


if __name__ == "__main__":
    main()
