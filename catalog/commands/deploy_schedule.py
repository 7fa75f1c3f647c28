"""When a deployed sync runs: a systemd OnCalendar= expression or the five crontab fields for a
period, and systemd's spelling of a time span.

Start times are spread: the minute (and hour, for long periods) comes from a hash of the
registry's path, so installations that all ask for "hourly" do not all call the API at :00,
while one installation always gets the same schedule when re-deployed.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from catalog.durations import format_duration
from catalog.errors import UsageError

MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 7 * 86400
WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def spread(seed: str, modulo: int, salt: str = "") -> int:
    """A stable pseudo-random offset in [0, modulo) for this registry."""
    digest = hashlib.sha256(f"{salt}{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulo


def _seconds(every: timedelta) -> int:
    seconds = int(every.total_seconds())
    if seconds <= 0 or seconds != every.total_seconds():
        raise UsageError(f"--every must be a whole number of seconds, got {every}")
    return seconds


def calendar_spec(every: timedelta, seed: str) -> str | None:
    """An OnCalendar= expression for periods that divide an hour, a day, or a week; else None."""
    seconds = _seconds(every)
    minute = spread(seed, 60, "minute")
    if seconds % MINUTE or seconds < MINUTE:
        return None
    minutes = seconds // MINUTE
    if HOUR % seconds == 0:  # 1m .. 1h
        if minutes == 60:
            return f"*-*-* *:{minute:02d}:00"
        return f"*-*-* *:{spread(seed, minutes, 'minute'):02d}/{minutes}:00"
    if seconds % HOUR == 0 and DAY % seconds == 0:  # 2h .. 1d
        hours = seconds // HOUR
        if hours == 24:
            return f"*-*-* {spread(seed, 24, 'hour'):02d}:{minute:02d}:00"
        return f"*-*-* {spread(seed, hours, 'hour'):02d}/{hours}:{minute:02d}:00"
    if seconds == WEEK:
        return f"{WEEKDAYS[spread(seed, 7, 'day')]} *-*-* {spread(seed, 24, 'hour'):02d}:{minute:02d}:00"
    return None


def cron_schedule(every: timedelta, seed: str) -> str:
    """The five crontab fields for `every`; UsageError when cron cannot express it evenly."""
    seconds = _seconds(every)
    minute = spread(seed, 60, "minute")
    if seconds % MINUTE == 0 and HOUR % seconds == 0:
        minutes = seconds // MINUTE
        if minutes == 1:
            return "* * * * *"
        first = spread(seed, minutes, "minute")
        return f"{','.join(str(m) for m in range(first, 60, minutes))} * * * *"
    if seconds % HOUR == 0 and DAY % seconds == 0:
        hours = seconds // HOUR
        first = spread(seed, hours, "hour")
        return f"{minute} {'*' if hours == 1 else ','.join(str(h) for h in range(first, 24, hours))} * * *"
    if seconds == WEEK:
        return f"{minute} {spread(seed, 24, 'hour')} * * {spread(seed, 7, 'day')}"
    raise UsageError(
        f"cron cannot run every {format_duration(every)} evenly; use a period that divides an hour (15m, 30m) "
        "or a day (2h, 6h, 1d), or 7d, or use `catalog deploy systemd` or `catalog schedule`"
    )


def systemd_timespan(seconds: float) -> str:
    """90 -> `1min 30s`: systemd's own spelling, readable in `systemctl list-timers`."""
    seconds = int(seconds)
    parts = []
    for unit, size in (("d", DAY), ("h", HOUR), ("min", MINUTE), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0"


def default_jitter(every: timedelta) -> float:
    """RandomizedDelaySec: a tenth of the period, at most 5 minutes, on top of the hashed offset."""
    return min(300.0, every.total_seconds() / 10)
