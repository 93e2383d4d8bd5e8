"""How every text output writes a fingerprint and a day count, so outputs agree.

Fingerprints: the SHA-256 of the DER in lowercase hex, whole (64 digits) or
shortened to its first 16 digits followed by "..." (a prefix of the whole
one, never another spelling: no colons, no capitals).

Days: whole days, rounded to the nearest, as the expires-soon finding writes
them ("expires in %.0f days": analyse/quality.py); negative once expired.
"""
SHORT_DIGITS = 16


def fingerprint(sha256: str) -> str:
    return (sha256 or "?").lower()


def short_fingerprint(sha256: str) -> str:
    return sha256[:SHORT_DIGITS].lower() + "..." if sha256 else "?"


def whole_days(days: float) -> int:
    """`days` (fractional, as Cert.days_left gives) as the outputs print it."""
    return int(round(days))


def days_text(days: float) -> str:
    """"12 days left", "1 day left", "expired 3 days ago", "expires today"."""
    whole = whole_days(days)
    if whole > 0:
        return "%d day%s left" % (whole, "" if whole == 1 else "s")
    if whole == 0:
        return "expires today" if days >= 0 else "expired today"
    return "expired %d day%s ago" % (-whole, "" if whole == -1 else "s")
