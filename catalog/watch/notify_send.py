"""What a notification says and how it reaches a target: the versioned JSON payload a webhook gets
(signed with HMAC-SHA256 when the target has a secret), and the short Markdown digest Apprise
sends. Sending is bounded by a deadline and returns one line of error, never the URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from catalog.config.watch import Target
from catalog.display.formats import json_value
from catalog.errors import CatalogError
from catalog.output.feed import REASONS
from catalog.registry.queries import EVENT_COLUMNS
from catalog.state import EventRecord
from catalog.times import format_time

if TYPE_CHECKING:
    import httpx

SCHEMA = "catalog.notify/1"
DIGEST_LINES = 20  # Apprise: one line per event up to this many, then "and N more"
SIGNATURE_HEADER = "X-Catalog-Signature"
KIND_MARKS = {"added": "➕", "returned": "↩️", "removed": "➖", "changed": "✏️"}


@dataclass(frozen=True)
class Message:
    title: str | None  # Apprise only
    body: str  # the webhook's JSON, or Apprise's Markdown


@dataclass(frozen=True)
class RunFacts:
    run_id: int
    observed_at: datetime
    source: str
    free_count: int | None


def event_json(event: EventRecord) -> dict[str, Any]:
    """An event exactly as `catalog changes --format json` prints it."""

    doc = event.as_dict()
    event_doc: dict[str, Any] = json_value({column: doc[column] for column in EVENT_COLUMNS})  # a Mapping stays a dict
    return event_doc


def digest(target: Target, run: RunFacts, events: Sequence[EventRecord]) -> Message:
    if target.kind == "webhook":
        return Message(
            None,
            payload(
                {
                    "kind": "digest",
                    **run_fields(run),
                    "free_count": run.free_count,
                    "events": [event_json(e) for e in events],
                }
            ),
        )
    counts = {kind: sum(e.kind == kind for e in events) for kind in KIND_MARKS}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    lines = [event_line(e) for e in events[:DIGEST_LINES]]
    if len(events) > DIGEST_LINES:
        lines.append(f"- and {len(events) - DIGEST_LINES} more (`catalog changes` lists them)")
    free = f" · {run.free_count} free now" if run.free_count is not None else ""
    return Message(
        f"OpenRouter free models: {summary}", "\n".join(lines) + f"\n\nObserved {format_time(run.observed_at)}{free}."
    )


def failure(target: Target, run: RunFacts, error: str) -> Message:
    if target.kind == "webhook":
        return Message(None, payload({"kind": "failure", **run_fields(run), "error": error}))
    return Message(
        "catalog: a sync failed",
        f"Sync #{run.run_id} at {format_time(run.observed_at)} failed: {error}\n\n"
        "Nothing was stored; `catalog status` shows the streak. No further alert until a sync succeeds.",
    )


def test_message(target: Target, at: datetime) -> Message:
    if target.kind == "webhook":
        return Message(None, payload({"kind": "test", "sent_at": format_time(at), "events": []}))
    return Message(
        "catalog: test notification",
        f"This target is set up right: it will get a digest after each sync with changes ({', '.join(target.events)}).",
    )


def run_fields(run: RunFacts) -> dict[str, Any]:
    return {"run_id": run.run_id, "observed_at": format_time(run.observed_at), "source": run.source}


def payload(fields: dict[str, Any]) -> str:
    return json.dumps({"schema": SCHEMA, **fields}, ensure_ascii=False, sort_keys=False)


def event_line(event: EventRecord) -> str:
    mark = KIND_MARKS.get(event.kind, "•")
    text = f"- {mark} {event.kind}: `{event.model_id.replace('`', '')}`"
    if event.kind == "removed" and event.reason:
        return f"{text} ({REASONS.get(event.reason, event.reason)})"
    if event.kind == "changed":
        old, new = (short(v) for v in (event.old, event.new))
        return f"{text} {event.field}: {old} → {new}"
    return text


def short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- sending


def send(
    target: Target,
    message: Message,
    *,
    delivery: str,
    deadline: float,
    transport: httpx.BaseTransport | None = None,
) -> str | None:
    """Deliver one message before `deadline` (time.monotonic()); None on success, else why not.

    The client's own timeouts bound each connect and read; a worker thread bounds the whole call,
    so a target trickling its answer byte by byte cannot hold the sync either. A call cut off this
    way counts as failed (and is retried), even if the target later takes it."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return "no time left before the target's timeout"
    outcome: list[str | None] = []

    def call() -> None:
        try:
            if target.kind == "webhook":
                outcome.append(post_webhook(target, message, delivery, remaining, transport))
            else:
                outcome.append(send_apprise(target, message, remaining))
        except Exception as exc:
            outcome.append(one_line(exc, target))

    worker = threading.Thread(target=call, name="catalog-notify", daemon=True)
    worker.start()
    worker.join(remaining + 0.5)  # the client's timeouts fire first; this is the backstop
    if not outcome:
        return f"timed out after {target.timeout:g} s"
    return outcome[0]


def post_webhook(
    target: Target, message: Message, delivery: str, timeout: float, transport: httpx.BaseTransport | None
) -> str | None:
    import httpx

    from catalog import __version__  # read from the package metadata: only when a message is sent

    body = message.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"catalog/{__version__}",
        "X-Catalog-Delivery": delivery,
    }
    secret = target.secret()
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    with httpx.Client(timeout=httpx.Timeout(timeout), transport=transport, follow_redirects=False) as client:
        response = client.post(target.url, content=body, headers=headers)
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def send_apprise(target: Target, message: Message, timeout: float) -> str | None:
    try:
        import apprise
    except ImportError:
        return "Apprise is not installed: pip install '.[notify]' in catalog's clone (or 'openrouter-free-catalog[notify]' once published)"
    import logging

    logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its log lines may quote the URL's secrets
    sender = apprise.Apprise()
    if not sender.add(with_timeouts(target.url, timeout)):
        return "Apprise does not understand this URL; check it against the Apprise documentation"
    ok = sender.notify(title=message.title or "", body=message.body, body_format=apprise.NotifyFormat.MARKDOWN)
    return None if ok else "Apprise reported a failed delivery"


def with_timeouts(url: str, timeout: float) -> str:
    """Apprise's connect (cto) and read (rto) timeouts, unless the URL sets its own."""
    query = urlsplit(url).query
    extra = [f"{key}={timeout:g}" for key in ("cto", "rto") if f"{key}=" not in query]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def one_line(exc: BaseException, target: Target) -> str:

    text = str(exc) if isinstance(exc, CatalogError) else f"{type(exc).__name__}: {exc}"
    text = (text.splitlines() or [type(exc).__name__])[0]
    return text.replace(target.url, target.label)[:300]
