"""The account's own view written to the registry: one check per sync that read it, and the free
models it leaves out. The key is never among what is written."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import insert

from catalog.ingest.account import AccountView
from catalog.registry.schema import AccountBlocked, AccountCheck

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

checks, blocked_rows = AccountCheck.__table__, AccountBlocked.__table__


def blocked_of(view: AccountView, free_ids: Iterable[str]) -> list[str]:
    """The free models the account may not use; none when /models/user was not read."""
    if view.usable is None:
        return []
    return sorted(set(free_ids) - view.usable)


def insert_check(conn: Connection, run_id: int | None, view: AccountView, free_ids: Iterable[str]) -> list[str]:
    """Store one check; returns the free models it marks blocked."""
    free = list(free_ids)
    blocked = blocked_of(view, free)
    quota = view.free_requests
    key = conn.execute(
        insert(checks).values(
            run_id=run_id,
            read_at=view.read_at,
            models_read=view.usable is not None,
            usable_count=len(free) - len(blocked) if view.usable is not None else None,
            blocked_count=len(blocked) if view.usable is not None else None,
            free_requests_left=quota.remaining if quota else None,
            free_requests_limit=quota.limit if quota else None,
        )
    ).inserted_primary_key
    assert key is not None  # a single-row insert always has one
    check_id = key[0]
    if blocked:
        conn.execute(insert(blocked_rows), [{"check_id": check_id, "model_id": mid} for mid in blocked])
    return blocked
