"""What the generators of committed modules share (gen_code_table.py,
gen_help_pages.py): write the module, or with --check only say whether the
committed one is current."""
import sys


def write_or_check(path: str, text: str, argv, script: str) -> int:
    """Exit status: 0 written or current, 1 stale (with --check)."""
    if "--check" in argv:
        with open(path, encoding="utf-8") as handle:
            if handle.read() != text:
                print("%s is stale: run python scripts/%s" % (path, script), file=sys.stderr)
                return 1
        return 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    print("wrote %s" % path)
    return 0
