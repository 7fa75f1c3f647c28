"""Get the raw catalog bytes: over HTTP(S) with retries inside one deadline, or from a saved file.

No JSON here: `normalize.parse_payload` reads the bytes. Every failure is a `FetchError` whose
text is one line. The API key travels only in the request header: it is never put in a message,
a log line or an exception, and errors are raised `from None` so no httpx exception (which may
quote headers or URLs) is chained under a -v traceback.
"""

from __future__ import annotations

import email.utils
import io
import logging
import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from catalog import __version__
from catalog.errors import FetchError
from catalog.ingest.bodies import api_error_message
from catalog.ingest.secrets import checked_key, clip, redact_url, scrub, secrets_of

if TYPE_CHECKING:  # httpx is imported lazily so that `catalog --help` stays fast
    import httpx

log = logging.getLogger("catalog.fetch")

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_USER_AGENT = f"catalog/{__version__} (+openrouter free-model registry)"
MAX_ATTEMPTS = 5
MAX_REDIRECTS = 5
BACKOFF_BASE = 0.5  # seconds before the 2nd attempt; doubles each time
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 60.0  # a longer Retry-After is shortened to this
# 408 and the 52x family (Cloudflare: origin down, timed out, overloaded) are transient too.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, *range(520, 530)})
RETRY_AFTER_STATUSES = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
SCHEMES = ("http", "https")

# Indirections that tests replace so that retries need no real waiting.
sleep = time.sleep
monotonic = time.monotonic


@dataclass(frozen=True)
class Fetched:
    body: bytes
    source: str  # the URL without credentials, or "file:PATH"
    received_at: datetime  # tz-aware UTC: when the body finished arriving (a file: its mtime)


# --------------------------------------------------------------------------- public entry points


def fetch(
    url: str,
    *,
    timeout: float = 30.0,
    api_key: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    transport: httpx.BaseTransport | None = None,
    user_agent: str | None = None,
) -> Fetched:
    """GET `url`, retrying transient failures, all within `timeout` seconds."""
    secrets = secrets_of(url, api_key)
    try:
        return _fetch(url, timeout, api_key, max_bytes, transport, user_agent)
    except FetchError as exc:
        raise FetchError(scrub(str(exc), secrets)) from None
    except Exception as exc:  # anything httpx raised that we did not map: still one safe line
        if not _is_httpx_error(exc):
            raise
        detail = _describe(exc, secrets)
        raise FetchError(f"cannot fetch {redact_url(url)}: {detail}; check --api-url") from None


def read_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Fetched:
    """A saved API answer, received now: `sync --from-file` is a sync like any other (a plain `cp`
    changes a file's modification time, so that time says nothing; `catalog import` has its own rule)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_size > max_bytes:
                raise _too_large_file(path, max_bytes)
            body = fh.read(max_bytes + 1)  # st_size is 0 for pipes: bound the read itself
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise FetchError(f"cannot read {path}: {reason}; check --from-file") from None
    if len(body) > max_bytes:
        raise _too_large_file(path, max_bytes)
    return Fetched(body=body, source=f"file:{path}", received_at=datetime.now(UTC))


# --------------------------------------------------------------------------- pure helpers


def backoff_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): 0.5, 1, 2, 4, 8, 8..."""
    delay: float = BACKOFF_BASE * 2 ** (attempt - 1)  # an int power: typeshed cannot tell its sign
    return min(delay, BACKOFF_CAP)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked by a Retry-After header (delay-seconds or HTTP-date); None when unusable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None  # since Python 3.10 an unparsable date raises instead of returning None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --------------------------------------------------------------------------- the retry loop


class _Transient(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, reason: str, hint: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Job:
    url: str
    shown: str
    timeout: float
    deadline: float
    max_bytes: int
    secrets: list[str]  # scrubbed from every text taken from the server or httpx


def _fetch(
    url: str,
    timeout: float,
    api_key: str | None,
    max_bytes: int,
    transport: httpx.BaseTransport | None,
    user_agent: str | None,
) -> Fetched:
    from catalog.ingest import deadline

    shown = redact_url(url)
    if not _is_http(url, need_host=True):
        raise FetchError(f"{shown!r} is not a valid http or https URL; check --api-url")
    if not (timeout > 0 and math.isfinite(timeout)):
        raise FetchError(f"the timeout must be greater than zero (got {timeout}); check --timeout")
    headers = {
        "User-Agent": user_agent or DEFAULT_USER_AGENT,
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate",
    }
    if api_key:
        headers["Authorization"] = f"Bearer {checked_key(api_key)}"
    job = _Job(url, shown, timeout, monotonic() + timeout, max_bytes, secrets_of(url, api_key))
    # Redirects are followed by hand (follow_redirects=False) to check each hop's scheme and count.
    # The deadline bounds every socket operation of every attempt by what is left of `timeout`,
    # so a server trickling its headers or body cannot stretch the call past it.
    with (
        deadline.client(headers=headers, transport=transport, follow_redirects=False) as client,
        deadline.deadline(timeout),
    ):
        return _retry_loop(client, job)


def _retry_loop(client: httpx.Client, job: _Job) -> Fetched:
    import httpx

    started = monotonic()
    attempt = 0
    while True:
        attempt += 1
        remaining = job.deadline - monotonic()
        log.debug("GET %s (attempt %d of %d, %.1f s left)", job.shown, attempt, MAX_ATTEMPTS, remaining)
        try:
            return _attempt(client, job)
        except httpx.TransportError as exc:
            failure = _transient_of(exc, job)
        except _Transient as exc:
            failure = exc
        wait = _wait_before_retry(failure, attempt, job, started)
        log.warning(
            "GET %s failed: %s; retrying in %.1f s (attempt %d of %d)",
            job.shown,
            failure.reason,
            wait,
            attempt + 1,
            MAX_ATTEMPTS,
        )
        sleep(wait)


def _wait_before_retry(failure: _Transient, attempt: int, job: _Job, started: float) -> float:
    """Seconds to wait before the next attempt, or a FetchError when there must be none."""
    elapsed = monotonic() - started
    if failure.retry_after is not None:
        wait = min(failure.retry_after, RETRY_AFTER_CAP)
        if monotonic() + wait > job.deadline:
            raise FetchError(
                f"{_who(job.url)} {_status_phrase(failure.status)} and asked to wait "
                f"{_seconds(failure.retry_after)} s, past the {_seconds(job.timeout)} s timeout; "
                f"try again later"
            )
    else:
        wait = backoff_delay(attempt)
    if attempt >= MAX_ATTEMPTS or monotonic() + wait >= job.deadline:
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        raise FetchError(
            f"cannot fetch {job.shown}: {failure.reason} (gave up after {tries} in {elapsed:.1f} s, "
            f"timeout {_seconds(job.timeout)} s); {failure.hint}"
        )
    return wait


def _attempt(client: httpx.Client, job: _Job) -> Fetched:
    """One GET, following up to MAX_REDIRECTS redirects; raises _Transient or FetchError."""
    request = client.build_request("GET", job.url, timeout=_timeout_left(job))
    for hop in range(MAX_REDIRECTS + 1):
        response = client.send(request, stream=True)
        try:
            if response.status_code not in REDIRECT_STATUSES or response.next_request is None:
                return _answer(response, job)
            if hop == MAX_REDIRECTS:
                raise FetchError(f"{job.shown} redirected more than {MAX_REDIRECTS} times; check --api-url")
            request = response.next_request
            target = redact_url(str(request.url))
            if not _is_http(str(request.url)):
                raise FetchError(f"{job.shown} redirected to {target!r}, which is not http or https; check --api-url")
            request.extensions["timeout"] = _timeout_left(job).as_dict()
            log.debug("HTTP %d: following the redirect to %s", response.status_code, target)
        finally:
            response.close()
    raise AssertionError("unreachable")


def _answer(response: httpx.Response, job: _Job) -> Fetched:
    status = response.status_code
    if 200 <= status < 300:
        body = _read_body(response, job)
        return Fetched(body=body, source=job.shown, received_at=datetime.now(UTC))
    detail = _status_detail(response, job.secrets)
    if status in RETRY_STATUSES:
        retry_after = None
        if status in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), _server_now(response))
        raise _Transient(detail, "try again later", status=status, retry_after=retry_after)
    raise FetchError(f"{job.shown} answered {detail}; {_hint_for(status)}")


def _read_body(response: httpx.Response, job: _Job) -> bytes:
    """The decoded body, refused as soon as it passes max_bytes or the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > job.max_bytes:
        raise _too_large_answer(job, f"it declares {int(declared):,} bytes")
    # One growing buffer whose bytes getvalue() hands over without a copy: a list of chunks joined
    # at the end held the body twice (peak +179 MiB fetching an 88 MB answer; now +90 MiB).
    body = io.BytesIO()
    # iter_bytes yields decoded data, so a small gzip bomb is caught after inflating too.
    for chunk in response.iter_bytes():
        if body.tell() + len(chunk) > job.max_bytes:
            raise _too_large_answer(job, f"more than {job.max_bytes:,} bytes arrived")
        body.write(chunk)
        if monotonic() > job.deadline:  # a trickling body: read timeouts alone never fire
            raise FetchError(
                f"the answer from {job.shown} did not finish arriving within the "
                f"{_seconds(job.timeout)} s timeout; try again later or raise --timeout"
            )
    return body.getvalue()


def _status_detail(response: httpx.Response, secrets: list[str]) -> str:
    """'HTTP 401 Unauthorized: <the API's error.message>' from at most ERROR_BODY_LIMIT bytes."""
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = response.reason_phrase or ""
    text = f"HTTP {status} {phrase}".rstrip()
    message = api_error_message(response)
    return f"{text}: {clip(message, 200, secrets)}" if message else text


def _transient_of(exc: Exception, job: _Job) -> _Transient:
    """Map an httpx transport failure to a retryable one, or raise FetchError when it is not."""
    import httpx

    what = _describe(exc, job.secrets)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        raise FetchError(f"cannot send the request to {job.shown}: {what}; check --api-url")
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return _Transient(f"could not connect ({what})", "check the network and --api-url")
    if isinstance(exc, httpx.TimeoutException):
        return _Transient(f"no answer in time ({what})", "try again later or raise --timeout")
    return _Transient(f"the connection broke ({what})", "try again later")


def _describe(exc: Exception, secrets: list[str]) -> str:
    text = clip(exc, 160, secrets)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _hint_for(status: int) -> str:
    if status in (401, 403):
        return "check OPENROUTER_API_KEY"
    if status in (404, 410):
        return "check --api-url: the models URL (…/api/v1/models) or the API's base (…/api/v1)"
    if 300 <= status < 400:
        return "check --api-url"
    if status in (400, 422):
        return "check the query part of --api-url"
    return "try again later or check --api-url"


def _status_phrase(status: int | None) -> str:
    if status == 429:
        return "rate-limited the request (HTTP 429)"
    return f"answered HTTP {status}" if status else "refused the request"


def _who(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    if host == "openrouter.ai" or host.endswith(".openrouter.ai"):
        return "OpenRouter"
    return f"the server at {host or redact_url(url)}"


def _server_now(response: httpx.Response) -> datetime:
    """The server's clock when it says (an HTTP-date Retry-After is relative to it), else ours."""
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        return datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _timeout_left(job: _Job) -> httpx.Timeout:
    import httpx

    # Each wait inside an attempt (connect, each read) is bounded by what is left overall.
    return httpx.Timeout(max(job.deadline - monotonic(), 0.001))


def _is_http(url: str, need_host: bool = False) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in SCHEMES and (bool(parts.hostname) or not need_host)
    except ValueError:
        return False


def _seconds(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _too_large_answer(job: _Job, why: str) -> FetchError:
    return FetchError(
        f"the answer from {job.shown} is larger than the {job.max_bytes:,}-byte limit ({why}); "
        f"raise --max-bytes if that is expected"
    )


def _too_large_file(path: Path, max_bytes: int) -> FetchError:
    return FetchError(f"{path} is larger than the {max_bytes:,}-byte limit; raise --max-bytes if that is expected")


def _is_httpx_error(exc: Exception) -> bool:
    import httpx

    return isinstance(exc, (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError))
