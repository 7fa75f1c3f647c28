"""Durations as people write them on a command line: `90s`, `15m`, `6h`, `1d`, `1h30m`.

A bare number is refused on purpose: `--every 60` could mean seconds or minutes, and guessing
wrong runs a job sixty times too often.
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"\s*(\d+)\s*([wdhms])", re.IGNORECASE)
EXAMPLES = "e.g. 90s, 15m, 6h, 1d, 1h30m"
# The longest duration anything takes (ten years): far past any interval or age that means
# something, and far below what a timedelta or a date can hold.
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """`1h30m` -> timedelta(hours=1, minutes=30); ValueError with a one-line message otherwise,
    and for a duration longer than `maximum`."""
    source = text.strip()
    seconds, pos, last_unit = 0, 0, None
    while pos < len(source):
        match = _PART.match(source, pos)
        if not match:
            raise ValueError(f"{shown(text)} is not a duration ({EXAMPLES})")
        unit = match.group(2).lower()
        # Units must go from large to small, each once: `30m1h` is more likely a typo than intent.
        if last_unit is not None and UNITS[unit] >= UNITS[last_unit]:
            raise ValueError(f"{shown(text)} is not a duration: write units from largest to smallest ({EXAMPLES})")
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > 15:  # longer than any maximum; int() refuses past 4300 digits anyway
            raise ValueError(f"{shown(text)} must be at most {format_duration(maximum)}")
        seconds += int(digits) * UNITS[unit]
        pos, last_unit = match.end(), unit
    if last_unit is None:
        raise ValueError(f"{shown(text)} is not a duration ({EXAMPLES})")
    if seconds <= 0:
        raise ValueError(f"{shown(text)} must be longer than zero")
    if seconds > maximum.total_seconds():
        raise ValueError(f"{shown(text)} must be at most {format_duration(maximum)}")
    return timedelta(seconds=seconds)


def shown(text: str) -> str:
    """The text as an error message quotes it: whole when short."""
    return repr(text) if len(text) <= 40 else repr(text[:39] + "…")


def duration_arg(text: str) -> timedelta:
    """argparse `type=`: the same parse, with the message argparse shows as is."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def format_duration(value: timedelta) -> str:
    """timedelta(seconds=5400) -> `1h30m`: the inverse of parse_duration, largest units first."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def format_age(value: timedelta) -> str:
    """A rounded age for people: `45s`, `12m`, `3h`, `3h5m`, `2d4h` (two units at most)."""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h" if rest < 60 else f"{hours}h{rest // 60}m"
    days, rest = divmod(seconds, 86400)
    return f"{days}d" if rest < 3600 else f"{days}d{rest // 3600}h"
