"""Small output helpers shared by the commands."""
import json
import sys

import click


def emit_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


def is_terminal(stream) -> bool:
    """False for None (no stdin/stderr at all, as under a scheduler), closed
    or redirected streams."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def stderr_is_terminal() -> bool:
    return is_terminal(sys.stderr)


class Progress:
    """A progress bar on stderr when it is a terminal; silent otherwise.

    Use as `advance()` with a known total, or call it as a progress callback
    `progress(done, total)` (the total may be learnt on the first call).
    """

    def __init__(self, label: str, total: int = 0):
        self.label = label
        self._bar = None
        self._shown = 0
        if total > 1:
            self._open(total)

    def _open(self, total: int) -> None:
        if self._bar is None and total > 1 and stderr_is_terminal():
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
            self._shown += n

    def __call__(self, done: int, total: int) -> None:
        self._open(total)
        if self._bar is not None and done > self._shown:
            self.advance(done - self._shown)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
