"""What a notification says and how it reaches a target: the versioned JSON payload a webhook gets
(signed with HMAC-SHA256 when the target has a secret), and the short Markdown digest Apprise
sends. Sending is bounded by a deadline and returns one line of error, never the URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from catalog.config.watch import Target
from catalog.display.formats import json_value
from catalog.errors import CatalogError
from catalog.ingest.secrets import clip, secrets_of
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
    """A webhook's body, with a new `delivery_id`: stored with the message, it is the same on every
    attempt at it and never the same for two messages, even of two registries (whose outbox row
    ids both start at 1)."""
    doc = {"schema": SCHEMA, "delivery_id": str(uuid.uuid4()), **fields}
    return json.dumps(doc, ensure_ascii=False, sort_keys=False)


def delivery_id(body: str, fallback: str) -> str:
    """The X-Catalog-Delivery header: the body's delivery_id; `fallback` for a body without one
    (Apprise's Markdown, or a message queued before webhook bodies carried it)."""
    try:
        found = json.loads(body).get("delivery_id")
    except (ValueError, AttributeError):
        found = None
    return found if isinstance(found, str) else fallback


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
    target: Target, message: Message, *, delivery: str, transport: httpx.BaseTransport | None = None
) -> str | None:
    """Deliver one message within the target's timeout; None on success, else why not (one line).

    The timeout bounds this one delivery as a whole, whatever the target does (trickling its
    answer, never answering). A call cut off counts as failed (and is retried), even if the target
    later takes it."""
    try:
        if target.kind == "webhook":
            return post_webhook(target, message, delivery, transport)
        return send_apprise(target, message)
    except Exception as exc:
        return failure_line(exc, target)


def post_webhook(target: Target, message: Message, delivery: str, transport: httpx.BaseTransport | None) -> str | None:
    import httpx

    from catalog import __version__  # read from the package metadata: only when a message is sent
    from catalog.ingest import deadline

    body = message.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"catalog/{__version__}",
        "X-Catalog-Delivery": delivery,
    }
    secret = target.secret()
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    try:
        with (
            deadline.deadline(target.timeout),
            deadline.client(
                timeout=httpx.Timeout(target.timeout), transport=transport, follow_redirects=False
            ) as client,
            client.stream("POST", target.url, content=body, headers=headers) as response,
        ):
            # The status line is the whole answer we need: the body, however large, is never read.
            status, reason = response.status_code, response.reason_phrase
    except httpx.TimeoutException:
        return f"timed out after {target.timeout:g} s"
    if 200 <= status < 300:
        return None
    return f"HTTP {status} {reason}".strip()


def send_apprise(target: Target, message: Message) -> str | None:
    """Apprise in a child process (catalog.watch.apprise_call), killed at the target's timeout:
    Apprise's own HTTP calls cannot be bounded as a whole from inside."""
    import os
    import subprocess
    import sys

    import catalog

    request = json.dumps(
        {"url": with_timeouts(target.url, target.timeout), "title": message.title or "", "body": message.body}
    )
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(catalog.__file__)))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        "MALLOC_ARENA_MAX": "2",  # each thread's malloc arena reserves 64 MiB of the child's address space
    }
    with subprocess.Popen(
        [sys.executable, "-m", "catalog.watch.apprise_call"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # Apprise's tracebacks may quote the URL
        env=env,
    ) as child:
        try:
            out, _ = child.communicate(request.encode(), timeout=target.timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return f"timed out after {target.timeout:g} s"
    try:
        error: str | None = json.loads(out)["error"]
    except (ValueError, KeyError, TypeError):
        return f"the Apprise process ended without an answer (exit status {child.returncode})"
    return error


def with_timeouts(url: str, timeout: float) -> str:
    """Apprise's connect (cto) and read (rto) timeouts, unless the URL sets its own."""
    query = urlsplit(url).query
    extra = [f"{key}={timeout:g}" for key in ("cto", "rto") if f"{key}=" not in query]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def failure_line(exc: BaseException, target: Target) -> str:
    """Why a delivery failed, on one line: the URL shown as its label, its password and the
    webhook's secret scrubbed before the line is cut."""
    text = str(exc) if isinstance(exc, CatalogError) else f"{type(exc).__name__}: {exc}"
    text = (text.splitlines() or [type(exc).__name__])[0]
    try:
        secret = target.secret()
    except CatalogError:  # its variable is not set: that is the failure being reported
        secret = None
    return clip(text.replace(target.url, target.label), 300, secrets_of(target.url, None, secret))
