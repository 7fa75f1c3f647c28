"""The account job: after an HTTP sync with the API key, read the account's own view (no quota
spent) and store it beside the sync. It cannot fail a sync: whatever goes wrong is one warning
line, and the view is absent for that run (so nothing is marked blocked)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.ingest import secrets
from catalog.ingest.account import AccountView, FreeRequests, read_account
from catalog.registry import account_store, reads
from catalog.settings import Settings

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

log = logging.getLogger("catalog.sync")


@dataclass(frozen=True)
class AccountResult:
    blocked: list[str] | None  # None when /models/user was not read
    free_count: int
    free_requests: FreeRequests | None

    def summary(self) -> str:
        parts = []
        if self.blocked is not None:
            parts.append(f"{len(self.blocked)} of {self.free_count} free models blocked")
        quota = self.free_requests
        if quota is not None and quota.remaining is not None:
            of = f" of {quota.limit}" if quota.limit is not None else ""
            parts.append(f"{quota.remaining}{of} free requests left today")
        return "account: " + (", ".join(parts) or "read")


def wanted(settings: Settings) -> bool:
    """Only a sync over HTTP with a key asks: without a key nothing is asked, nothing marked."""
    return bool(settings.api_key) and settings.from_file is None


def record_account(
    engine: Engine, settings: Settings, run_id: int | None, transport: httpx.BaseTransport | None = None
) -> AccountResult | None:
    """Read and store the view; None (after one warning line) when nothing could be read."""
    if not wanted(settings):
        return None
    assert settings.api_key is not None  # wanted() says so
    try:
        view = read_account(
            settings.api_url,
            settings.api_key,
            timeout=settings.timeout,
            max_bytes=settings.max_bytes,
            transport=transport,
        )
        if view.problems:
            unmarked = "; no model is marked blocked for this run" if view.usable is None else ""
            log.warning("account view incomplete: %s%s", "; ".join(view.problems), unmarked)
        if not view.read_anything:
            return None
        return store(engine, run_id, view)
    except Exception as exc:
        log.warning(
            "account view not read: %s",
            secrets.exception_line(exc, secrets.secrets_of(settings.api_url, settings.api_key)),
        )
        return None


def store(engine: Engine, run_id: int | None, view: AccountView) -> AccountResult:
    with engine.begin() as conn:
        free = reads.free_ids(conn)
        blocked = account_store.insert_check(conn, run_id, view, free)
    return AccountResult(blocked if view.usable is not None else None, len(free), view.free_requests)
