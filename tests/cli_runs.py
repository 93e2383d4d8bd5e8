"""A command run two ways, for comparing them: through `main` (what a user
gets, fast paths included) and through the click group alone."""
import pytest

from ibmi_trust.cli import group, main


def through_main(args, capsys):
    """What a user gets: main() with its fast paths. (exit code, stdout, stderr)"""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def through_click(args, capsys):
    """What click alone gives for the same arguments."""
    with pytest.raises(SystemExit) as info:
        group.run(list(args))
    out = capsys.readouterr()
    return info.value.code, out.out, out.err
