"""`[feed] grace_days` in `catalog.toml`: how long a model that stopped being free stays in the
`gone` list of free-models.json, in whole days back from the newest run. The `[feed]` table also
holds the Atom feed's `url` and `limit` (catalog.config.watch reads the table and asks this module
for the key)."""

from __future__ import annotations

from typing import Any

from catalog.config.checks import whole

DEFAULT_GRACE_DAYS = 14
MAX_GRACE_DAYS = 365


def grace_days(value: Any, key: str, where: str) -> int:
    """A whole number of days from 0 (only models gone today) to MAX_GRACE_DAYS."""
    return whole(value, key, where, 0, MAX_GRACE_DAYS)
