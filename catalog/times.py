"""The one clock, and the one way times are written and read: ISO 8601 UTC to the second (`2026-01-24T08:00:00Z`).

Stored in the registry, printed by every format, and sorted as plain text. Stdlib only, so that
light modules (formats, lock) can use it without importing SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@lru_cache(maxsize=256)  # a sync writes the same few times into every row it touches
def format_time(value: datetime) -> str:
    """A naive time is taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(TIME_FORMAT)


@lru_cache(maxsize=4096)  # a snapshot reads the same few times from thousands of rows
def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)  # ~60x faster than strptime; reads the trailing Z
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now_utc() -> datetime:
    """This host's clock, full precision: run durations are exact."""
    return datetime.now(UTC)


def now_utc_seconds() -> datetime:
    """This host's clock to the whole second, as a stored sample or probe time reads back."""
    return now_utc().replace(microsecond=0)


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of the day `moment` falls in: where a day's probe budget starts."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
