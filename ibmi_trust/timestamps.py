"""UTC time stamps as the package writes them (JSON results, certificate
summaries, lock records): ISO 8601, whole seconds, "Z"."""
import datetime
from typing import Optional


def iso_utc(when: Optional[datetime.datetime] = None) -> str:
    """`when` (an aware datetime; default: now) as e.g. 2024-05-01T12:00:00Z."""
    if when is None:
        when = datetime.datetime.now(datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
