"""The `[feed]`, `[charts]` and `[notify]` tables of `catalog.toml`: defaults and strict validation,
in the same one-line-per-mistake style as the pool rules (catalog.config.checks).

A notification target is known by a stable id derived from its kind and URL (a hash), so the
registry's outbox never holds a URL or a secret, and a target added later starts with no backlog.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from catalog.config.checks import boolean, check_keys, kind, nonempty, strings, table, whole
from catalog.config.feed import DEFAULT_GRACE_DAYS, grace_days
from catalog.durations import parse_duration
from catalog.errors import CatalogError
from catalog.events import EVENT_KINDS

TARGET_KINDS = ("webhook", "apprise")
DEFAULT_FEED_LIMIT = 100
MAX_FEED_LIMIT = 1000  # catalog.registry.history.MAX_FEED_EVENTS: what the feed is built from
DEFAULT_CHART_DAYS = 90
MAX_CHART_DAYS = 3650  # ten years
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_AGE = timedelta(hours=24)
MAX_TIMEOUT = 300.0
MAX_MAX_AGE = timedelta(days=365)


@dataclass(frozen=True)
class FeedConfig:
    url: str | None = None  # the feed's own public address: the rel="self" link
    limit: int = DEFAULT_FEED_LIMIT
    grace_days: int = DEFAULT_GRACE_DAYS  # free-models.json: how long a gone model stays listed


@dataclass(frozen=True)
class ChartsConfig:
    days: int = DEFAULT_CHART_DAYS


@dataclass(frozen=True)
class Target:
    """One `[[notify.webhook]]` or `[[notify.apprise]]` entry."""

    kind: str  # webhook / apprise
    url: str  # may hold a secret: never printed, logged or stored (see `label`)
    events: tuple[str, ...] = EVENT_KINDS
    timeout: float = DEFAULT_TIMEOUT
    secret_env: str | None = None  # webhook: env var holding the HMAC secret
    on_failure: bool = False  # also alert when a sync fails (once per streak of failed runs)

    @property
    def id(self) -> str:
        """Stable across restarts and reorderings; changes when the URL does (a new target)."""
        return hashlib.sha256(f"{self.kind}\0{self.url}".encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return f"{self.kind} {redacted(self.url)}"

    def secret(self) -> str | None:
        if self.secret_env is None:
            return None
        value = os.environ.get(self.secret_env)
        if not value:
            raise CatalogError(f"{self.label}: the environment variable {self.secret_env} (secret_env) is not set")
        return value


@dataclass(frozen=True)
class NotifyConfig:
    targets: tuple[Target, ...] = ()
    max_age: timedelta = DEFAULT_MAX_AGE  # a digest not delivered by then is given up


@dataclass(frozen=True)
class WatchConfig:
    feed: FeedConfig = field(default_factory=FeedConfig)
    charts: ChartsConfig = field(default_factory=ChartsConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)


def redacted(url: str) -> str:
    """Scheme and host only (`https://hooks.slack.com/…`): paths and user parts often are secrets."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<invalid URL>"
    rest = "/…" if (parts.path.strip("/") or parts.query or "@" in parts.netloc) else ""
    return f"{parts.scheme}://{host}{rest}" if parts.scheme else "<URL>"


def parse_watch(doc: dict[str, Any], where: str) -> WatchConfig:

    feed_doc = table(doc.get("feed", {}), "feed", where)
    check_keys(feed_doc, {"url", "limit", "grace_days"}, "feed.", where)
    feed = FeedConfig(
        url=http_url(feed_doc["url"], "feed.url", where) if "url" in feed_doc else None,
        limit=whole(feed_doc["limit"], "feed.limit", where, 1, MAX_FEED_LIMIT)
        if "limit" in feed_doc
        else DEFAULT_FEED_LIMIT,
        grace_days=grace_days(feed_doc["grace_days"], "feed.grace_days", where)
        if "grace_days" in feed_doc
        else DEFAULT_GRACE_DAYS,
    )
    charts_doc = table(doc.get("charts", {}), "charts", where)
    check_keys(charts_doc, {"days"}, "charts.", where)
    charts = ChartsConfig(
        days=whole(charts_doc["days"], "charts.days", where, 1, MAX_CHART_DAYS)
        if "days" in charts_doc
        else DEFAULT_CHART_DAYS
    )
    return WatchConfig(
        feed=feed, charts=charts, notify=parse_notify(table(doc.get("notify", {}), "notify", where), where)
    )


def parse_notify(doc: dict[str, Any], where: str) -> NotifyConfig:

    check_keys(doc, {"max_age", *TARGET_KINDS}, "notify.", where)
    targets = []
    for target_kind in TARGET_KINDS:
        entries = doc.get(target_kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise CatalogError(f"{where}: `notify.{target_kind}` must be an array of tables ([[notify.{target_kind}]])")
        targets += [
            parse_target(target_kind, entry, f"notify.{target_kind}[{i}]", where) for i, entry in enumerate(entries)
        ]
    ids = [t.id for t in targets]
    if len(set(ids)) != len(ids):
        raise CatalogError(f"{where}: a notification target is listed twice (same kind and url)")
    max_age = duration(doc["max_age"], "notify.max_age", where) if "max_age" in doc else DEFAULT_MAX_AGE
    return NotifyConfig(targets=tuple(targets), max_age=max_age)


def parse_target(kind: str, doc: dict[str, Any], key: str, where: str) -> Target:

    known = {"url", "events", "timeout", "on_failure"} | ({"secret_env"} if kind == "webhook" else set())
    check_keys(doc, known, f"{key}.", where)
    if "url" not in doc:
        raise CatalogError(f"{where}: `{key}.url` is missing; every target needs one")
    url = (
        http_url(doc["url"], f"{key}.url", where) if kind == "webhook" else apprise_url(doc["url"], f"{key}.url", where)
    )
    values: dict[str, Any] = {"kind": kind, "url": url}
    if "events" in doc:
        events = strings(doc["events"], f"{key}.events", where)
        for name in events:
            if name not in EVENT_KINDS:
                raise CatalogError(
                    f"{where}: `{key}.events` has unknown kind {name!r} (known: {', '.join(EVENT_KINDS)})"
                )
        if not events:
            raise CatalogError(f"{where}: `{key}.events` is empty; drop the target or name at least one kind")
        values["events"] = tuple(dict.fromkeys(events))
    if "timeout" in doc:
        values["timeout"] = seconds(doc["timeout"], f"{key}.timeout", where)
    if "secret_env" in doc:
        values["secret_env"] = nonempty(doc["secret_env"], f"{key}.secret_env", where)
    if "on_failure" in doc:
        values["on_failure"] = boolean(doc["on_failure"], f"{key}.on_failure", where)
    return Target(**values)


def http_url(value: Any, key: str, where: str) -> str:

    if not isinstance(value, str):
        raise CatalogError(f"{where}: `{key}` must be an http:// or https:// URL, not {kind(value)}")
    try:
        parts = urlsplit(value.strip())
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:  # never echoed: a URL may hold a secret
        raise CatalogError(f"{where}: `{key}` must be an http:// or https:// URL (scheme and host)")
    return value.strip()


def apprise_url(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or "://" not in value:
        raise CatalogError(f"{where}: `{key}` must be an Apprise URL such as ntfy://ntfy.sh/topic or slack://…")
    return value.strip()


def seconds(value: Any, key: str, where: str) -> float:

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
        raise CatalogError(
            f"{where}: `{key}` must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, not {kind(value)}"
        )
    return float(value)


def duration(value: Any, key: str, where: str) -> timedelta:

    if not isinstance(value, str):
        raise CatalogError(f'{where}: `{key}` must be a duration string such as "24h", not {kind(value)}')
    try:
        return parse_duration(value, maximum=MAX_MAX_AGE)
    except ValueError as exc:
        raise CatalogError(f"{where}: `{key}`: {exc}") from None
