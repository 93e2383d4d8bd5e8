"""Monitoring states and how they combine (conventions.md section 1)."""
from ibmi_trust.errors import EXIT_CRITICAL, EXIT_OK, EXIT_UNKNOWN, EXIT_WARNING

OK, WARNING, CRITICAL, UNKNOWN = "OK", "WARNING", "CRITICAL", "UNKNOWN"

EXIT_CODES = {OK: EXIT_OK, WARNING: EXIT_WARNING, CRITICAL: EXIT_CRITICAL, UNKNOWN: EXIT_UNKNOWN}
# Severity order for "the worst status": UNKNOWN ranks below CRITICAL (a known
# failure is worse news than an unknown), above WARNING.
_RANK = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}


def worst(statuses) -> str:
    statuses = list(statuses)
    if not statuses:
        return UNKNOWN
    return max(statuses, key=_RANK.__getitem__)


def exit_code(status: str) -> int:
    return EXIT_CODES[status]
