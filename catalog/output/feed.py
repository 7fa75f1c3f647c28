"""Plain data for the Atom feed template (free-models.atom.j2): one entry per change event, newest
first. Ids are tag URIs fixed by the registry and the event's number, so a reader never shows an
entry twice; every time comes from the registry, never from the clock. Text is stripped of what
XML 1.0 cannot carry; the template's autoescape does the rest."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

from catalog.output.filters import clean
from catalog.registry.history import History
from catalog.state import EventRecord
from catalog.times import format_time

FEED_FILE = "free-models.atom"
TAG_AUTHORITY = "openrouter-free-catalog"
REASONS = {"delisted": "no longer listed", "now_paid": "no longer free"}
VALUE_LIMIT = 60  # a changed value in the title
DETAIL_LIMIT = 2000  # and in the content
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any, limit: int | None = None) -> str:
    """One line of visible text XML 1.0 can hold: the report's cleaning (no control, bidi or
    surrogate characters) and no U+FFFE/U+FFFF either."""
    return _NOT_XML.sub("", clean(value, limit))


def feed_id(history: History) -> str:
    return f"tag:{TAG_AUTHORITY},{history.born.strftime('%Y-%m-%d')}:registry/{history.registry_id}"


def feed_view(history: History, *, url: str | None, limit: int, report: str) -> dict[str, Any]:
    """Everything the template needs; `url` is the feed's public address (rel="self") or None."""
    base = feed_id(history)
    entries = [entry(base, number, event) for number, event in history.events[:limit]]
    return {
        "id": base,
        "updated": entries[0]["updated"] if entries else format_time(history.newest),
        "self_url": xml_text(url) if url else None,
        "report_url": xml_text(urljoin(url, report)) if url else None,
        "entries": entries,
    }


def entry(base: str, number: int, event: EventRecord) -> dict[str, Any]:
    vendor = event.model_id.split("/", 1)[0] if "/" in event.model_id else event.model_id
    return {
        "id": f"{base}/event/{number}",
        "title": xml_text(title(event)),
        "updated": format_time(event.observed_at),
        "kind": event.kind,
        "vendor": xml_text(vendor),
        "model_id": xml_text(event.model_id),
        "reason": REASONS.get(event.reason or "", xml_text(event.reason)) if event.reason else None,
        "field": xml_text(event.field) if event.field else None,
        "old": xml_text(value_text(event.old), DETAIL_LIMIT),
        "new": xml_text(value_text(event.new), DETAIL_LIMIT),
        "run_id": event.run_id,
    }


def title(event: EventRecord) -> str:
    """`removed: qwen/qwen3-coder:free (delisted)`, `changed: … context_length 131072 → 262144`."""
    text = f"{event.kind}: {event.model_id}"
    if event.kind == "removed" and event.reason:
        return f"{text} ({event.reason})"
    if event.kind == "changed":
        old, new = (xml_text(value_text(v), VALUE_LIMIT) for v in (event.old, event.new))
        return f"{text} {event.field} {old} → {new}"
    return text


def value_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
