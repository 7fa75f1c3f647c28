"""Active probes: one small streamed chat completion per model, and what its answer means.

Passive health cannot see a busy shared free pool (rate-limited calls are left out of uptime) or a
model blocked by the account's own settings; only a real call can, and each costs one request of
the account's free-model quota. So probes are opt-in, counted, and never retried.

Error bodies are told apart by `error.metadata` (`limit_source`, `failed_routing_step`,
`ineligibility_reasons`), with the message text only as a fallback for older bodies: OpenRouter
has reworded the messages several times (shared/openrouter/chat-errors.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from catalog.ingest.bodies import TooLarge, error_doc, read_at_most
from catalog.ingest.secrets import clip

if TYPE_CHECKING:  # httpx is imported lazily, by the function that calls it
    import httpx

OUTCOMES = (
    "ok",
    "rate_limited",
    "quota_exhausted",
    "blocked_by_account",
    "unavailable",
    "gated",
    "payment_required",
    "timeout",
    "error",
)
# These stop the run's remaining probes: they hold for the whole account, not one model.
ACCOUNT_WIDE = frozenset({"quota_exhausted", "payment_required"})
# These keep a model out of the pools while the probe is recent: calls to it cannot succeed.
EXCLUDING = frozenset({"unavailable", "blocked_by_account", "gated"})
PROMPT = "Reply with the single word: ok"
MAX_TOKENS = 16  # a few output tokens; reasoning tokens count as an answer too
ERROR_BODY_LIMIT = 8192  # bytes of an error answer read: enough for {"error": {...}}
MAX_ANSWER = 1024 * 1024  # bytes of a successful answer read: a few tokens take a few KiB
DETAIL_LIMIT = 200  # characters of a server's message kept in a probe's detail
PRIVACY_URL = "https://openrouter.ai/settings/privacy"
monotonic = time.monotonic


@dataclass(frozen=True)
class Outcome:
    outcome: str
    http_status: int | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    detail: str | None = None


def request_body(model_id: str) -> dict[str, Any]:
    return {
        "model": model_id,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
        "stream": True,
    }


# ---------------------------------------------------------------- classifying an error answer


def classify_error(status: int, doc: Any) -> tuple[str, str]:
    """(outcome, detail) for a non-2xx answer, from its `{"error": {...}}` body when there is one."""
    found = doc.get("error") if isinstance(doc, dict) else None
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    metadata = error.get("metadata")
    meta: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    low = " ".join(f"{message} {meta.get('raw') or ''}".lower().split())  # real messages break lines
    detail = message if message else f"HTTP {status}"  # cut only after scrubbing, by probe_once
    if status == 429:
        source = meta.get("limit_source")
        if source == "openrouter_free_tier_daily" or "free-models-per-day" in low:
            return "quota_exhausted", "the account's free-model requests for today are used up (resets 00:00 UTC)"
        if "free-models-per-min" in low:
            return "quota_exhausted", "the account's free-model requests per minute are used up"
        return "rate_limited", detail
    if status == 404 and _blocked_by_settings(meta, low):
        return "blocked_by_account", (
            f"the account's privacy or guardrail settings exclude every endpoint of this model; allow "
            f"free-model training and publication at {PRIVACY_URL}"
        )
    if status == 404 or (status == 400 and "not a valid model id" in low):
        if meta.get("failed_routing_step") and "no endpoints found for" not in low:
            return "error", detail  # a routing filter of this request (tools, context), not the model
        return "unavailable", detail
    if status == 403:
        return "gated", detail
    if status == 402:
        return "payment_required", detail
    return "error", detail


def _blocked_by_settings(meta: dict[str, Any], low: str) -> bool:
    step = str(meta.get("failed_routing_step") or "").lower()
    if "guardrail" in step or meta.get("ineligibility_reasons"):
        return True
    return "guardrail restrictions and data policy" in low or "matching your data policy" in low


# ---------------------------------------------------------------- reading a streamed answer


@dataclass
class StreamState:
    first_token: float | None = None  # monotonic time of the first content or reasoning
    error: str | None = None
    finish_reason: str | None = None
    done: bool = False


def read_event(data: str, state: StreamState, now: float) -> None:
    """Fold one SSE `data:` payload into the state."""
    if data.strip() == "[DONE]":
        state.done = True
        return
    try:
        chunk = json.loads(data)
    except ValueError:
        state.error = state.error or "a streamed chunk is not JSON"
        return
    if not isinstance(chunk, dict):
        return
    if isinstance(chunk.get("error"), dict) or chunk.get("error"):
        err = chunk["error"]
        message = err.get("message") if isinstance(err, dict) else err
        state.error = f"error inside the answer: {message}"  # cut only after scrubbing, by probe_once
    choices = chunk.get("choices") if isinstance(chunk.get("choices"), list) else []
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    delta = first.get("delta") or first.get("message") or {}
    if isinstance(delta, dict) and state.first_token is None:
        if any(isinstance(delta.get(k), str) and delta.get(k) for k in ("content", "reasoning", "reasoning_content")):
            state.first_token = now
    reason = first.get("finish_reason")
    if reason:
        state.finish_reason = reason
        if reason == "error" and state.error is None:
            state.error = 'the answer ended with finish_reason "error"'


def stream_outcome(
    lines: Iterable[str], started: float, deadline: float, clock: Callable[[], float] | None = None
) -> Outcome:
    """Read SSE lines (comments are keep-alives) to the end, or to the first error."""
    clock = clock or monotonic
    state = StreamState()
    for line in lines:
        now = clock()
        if now > deadline:
            return Outcome("timeout", 200, _ms(state.first_token, started), None, "the answer did not finish in time")
        if line.startswith("data:"):
            read_event(line[5:].strip(), state, now)
        if state.error or state.done:
            break
    return finished(state, started, clock())


def json_outcome(doc: Any, started: float, now: float) -> Outcome:
    """A server that answered the whole completion at once instead of streaming it."""
    state = StreamState()
    if isinstance(doc, dict):
        read_event(json.dumps(doc), state, now)
    return finished(state, started, now)


def finished(state: StreamState, started: float, now: float) -> Outcome:
    ttft, total = _ms(state.first_token, started), _ms(now, started)
    if state.error:
        return Outcome("error", 200, ttft, total, state.error)
    if state.first_token is None:
        why = f" (finish_reason {state.finish_reason})" if state.finish_reason else ""
        return Outcome("error", 200, None, total, f"an empty answer{why}")
    return Outcome("ok", 200, ttft, total, None)


def _ms(when: float | None, started: float) -> float | None:
    return None if when is None else round((when - started) * 1000, 1)


# ---------------------------------------------------------------- one probe over HTTP


def probe_once(client: httpx.Client, url: str, model_id: str, timeout: float, secrets: Sequence[str] = ()) -> Outcome:
    """POST one streamed completion; every failure is an Outcome, never an exception. The detail,
    text from the server, is scrubbed of `secrets` (and anything key-shaped) before it is cut."""
    outcome = _post(client, url, model_id, timeout)
    detail = clip(outcome.detail, DETAIL_LIMIT, secrets) if outcome.detail is not None else None
    return replace(outcome, detail=detail)


def _post(client: httpx.Client, url: str, model_id: str, timeout: float) -> Outcome:
    import httpx

    from catalog.ingest import deadline as calls

    started = monotonic()
    deadline = started + timeout
    try:
        # The whole call, headers and every byte of the stream, ends by the deadline: a server
        # trickling keep-alives or bytes never trips a per-read timeout.
        with (
            calls.deadline(timeout),
            client.stream("POST", url, json=request_body(model_id), timeout=httpx.Timeout(timeout)) as response,
        ):
            status = response.status_code
            if not 200 <= status < 300:
                outcome, detail = classify_error(status, error_doc(response, ERROR_BODY_LIMIT))
                return Outcome(outcome, status, None, _ms(monotonic(), started), detail)
            if "text/event-stream" in response.headers.get("content-type", ""):
                return _streamed(response, started, deadline)
            return json_outcome(_json(read_at_most(response, MAX_ANSWER)), started, monotonic())
    except TooLarge:
        return Outcome("error", 200, None, _ms(monotonic(), started), f"the answer is larger than {MAX_ANSWER} bytes")
    except httpx.TimeoutException:
        return Outcome("timeout", None, None, _ms(monotonic(), started), f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome("error", None, None, _ms(monotonic(), started), f"{type(exc).__name__}: {exc}")


def _streamed(response: httpx.Response, started: float, deadline: float) -> Outcome:
    lines = _Lines(response)
    outcome = stream_outcome(lines, started, deadline)
    if lines.timed_out:  # the deadline cut the stream: a timeout, whatever arrived before it
        return Outcome("timeout", 200, outcome.ttft_ms, None, "the answer did not finish in time")
    if lines.too_large:
        return Outcome("error", 200, outcome.ttft_ms, outcome.total_ms, f"the answer is larger than {MAX_ANSWER} bytes")
    return outcome


class _Lines:
    """The lines of a streamed answer, from at most MAX_ANSWER bytes (a line that never ends is
    not buffered without bound). Ends early, saying why, when the deadline cuts the stream
    (`timed_out`) or the answer passes the bound (`too_large`)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.timed_out = self.too_large = False

    def __iter__(self) -> Iterator[str]:
        import httpx

        pending, size = b"", 0
        try:
            for piece in self.response.iter_bytes():
                size += len(piece)
                if size > MAX_ANSWER:
                    self.too_large = True
                    return
                *lines, pending = (pending + piece).split(b"\n")
                for line in lines:
                    yield line.rstrip(b"\r").decode("utf-8", "replace")
        except httpx.TimeoutException:
            self.timed_out = True
            return
        if pending:
            yield pending.decode("utf-8", "replace")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None
