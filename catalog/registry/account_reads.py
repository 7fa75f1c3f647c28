"""The account's own view read back. Plain SQL (catalog.registry.sql), like the health reads.

The view that marks models is the one read by the newest successful sync (up to a time): a sync
that did not read it (no key, a failed call, a `--from-file` sync) marks nothing, so a key taken
away or an old answer never keeps a model out of the pools.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalog.registry import sql
from catalog.times import parse_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection

USABLE, BLOCKED = "usable", "blocked"
FREE_AT_RUN = "valid_from_run <= :run AND (valid_to_run IS NULL OR valid_to_run > :run)"


def access_at(conn: AnyConnection, at: datetime | None = None) -> dict[str, str]:
    """model id -> `usable` / `blocked` for each model free at the newest successful sync (up to
    `at`), when that sync read /models/user; else empty."""
    bound, params = sql.up_to("observed_at", at)
    run = sql.scalar(conn, f"SELECT id FROM runs WHERE status = 'ok' AND {bound} ORDER BY id DESC LIMIT 1", params)
    if run is None:
        return {}
    check = sql.scalar(conn, "SELECT max(id) FROM account_checks WHERE run_id = :run AND models_read", {"run": run})
    if check is None:
        return {}
    blocked = {
        row[0] for row in sql.rows(conn, "SELECT model_id FROM account_blocked WHERE check_id = :c", {"c": check})
    }
    # A model has one version valid at a run (a version's runs never overlap the next one's).
    free = sql.rows(conn, f"SELECT model_id FROM model_versions WHERE {FREE_AT_RUN}", {"run": run})
    return {row[0]: BLOCKED if row[0] in blocked else USABLE for row in free}


def free_requests(conn: AnyConnection) -> dict[str, Any] | None:
    """The newest reading of the free-model requests left: {left, limit, read_at}; None if none."""
    found = sql.rows(
        conn,
        "SELECT free_requests_left, free_requests_limit, read_at FROM account_checks"
        " WHERE free_requests_left IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    if not found:
        return None
    left, limit, read_at = found[0]
    return {"left": left, "limit": limit, "read_at": parse_time(read_at)}
