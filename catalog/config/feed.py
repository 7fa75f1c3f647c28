"""`[feed] grace_days` in `catalog.toml`: how long a model that stopped being free stays in the
`gone` list of free-models.json, in whole days back from the newest run. The `[feed]` table also
holds the Atom feed's `url` and `limit` (catalog.config.watch reads the table and asks this module
for the key)."""

from __future__ import annotations

from typing import Any

from catalog.config.checks import kind
from catalog.errors import CatalogError

DEFAULT_GRACE_DAYS = 14
MAX_GRACE_DAYS = 365


def grace_days(value: Any, key: str, where: str) -> int:
    """A whole number of days from 0 (only models gone today) to MAX_GRACE_DAYS."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRACE_DAYS:
        raise CatalogError(
            f"{where}: `{key}` must be a whole number of days from 0 to {MAX_GRACE_DAYS}, not {kind(value)}"
        )
    return value
