"""Take one health sample of many models: `GET <models>/<id>/endpoints` for each, concurrently.

A bounded pool of threads shares one httpx client; every call is bounded by what is left of one
deadline, so a hanging server costs the deadline, not a call's worth of time per model. A call
that fails in any way is a result (state `unknown`), never an exception that loses the others.
Costs no quota: listing endpoints is not a model request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from catalog.availability.health import ROUTER_NOTE, Sample, is_router, sample_from_answer, unknown
from catalog.ingest.fetch import DEFAULT_USER_AGENT
from catalog.ingest.secrets import checked_key, clip, secrets_of
from catalog.ingest.urls import endpoints_url

if TYPE_CHECKING:  # httpx is imported lazily, by the functions that call it
    import httpx

log = logging.getLogger("catalog.health")

DEFAULT_CONCURRENCY = 8
MAX_BODY = 1024 * 1024  # an /endpoints answer is a few KiB; anything near this is not one
monotonic = time.monotonic  # replaced by tests that move time without sleeping


def sample_models(
    model_ids: Iterable[str],
    *,
    api_url: str,
    api_key: str | None = None,
    timeout: float = 30.0,
    concurrency: int = DEFAULT_CONCURRENCY,
    transport: httpx.BaseTransport | None = None,
    on_done: Callable[[Sample], None] | None = None,
) -> list[Sample]:
    """One sample per id, in the order given, all within `timeout` seconds."""
    import httpx

    from catalog.ingest import deadline as calls

    ids = list(dict.fromkeys(model_ids))
    deadline = monotonic() + timeout
    secrets = secrets_of(api_url, api_key)
    headers = {"User-Agent": DEFAULT_USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {checked_key(api_key)}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    def one(model_id: str) -> Sample:
        try:
            sample = _sample_one(client, model_id, api_url, deadline, secrets)
        except Exception as exc:  # one model's answer, however odd, costs only that model
            sample = unknown(model_id, f"the answer could not be read ({type(exc).__name__})")
        if on_done is not None:
            on_done(sample)
        return sample

    with (
        calls.client(headers=headers, transport=transport, limits=limits, follow_redirects=True) as client,
        ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="health") as pool,
    ):
        return list(pool.map(one, ids))


def _sample_one(client: httpx.Client, model_id: str, api_url: str, deadline: float, secrets: list[str]) -> Sample:
    import httpx

    from catalog.ingest import deadline as calls

    if is_router(model_id):  # nothing to ask: a router lists no endpoints of its own
        return unknown(model_id, ROUTER_NOTE)
    url = endpoints_url(api_url, model_id)
    if url is None:  # `..`, `?`, `%`, control characters...: a request could leave /models/
        log.warning("skipped the health check of %r: its id cannot be used in a URL", model_id[:100])
        return unknown(model_id, "not asked: the id cannot be used in a URL")
    left = deadline - monotonic()
    if left <= 0:
        return unknown(model_id, "not asked: the health timeout ran out first")
    try:
        # Set in this thread (the deadline is per thread): it bounds every socket operation of the
        # call, so trickling headers or a body that never ends cost at most what is left.
        with (
            calls.deadline(left),
            client.stream("GET", url, timeout=httpx.Timeout(left)) as response,
        ):
            if response.status_code != 200:
                return unknown(model_id, f"HTTP {response.status_code}")
            body = _read(response, deadline)
    except httpx.TimeoutException:
        return unknown(model_id, "no answer within the health timeout")
    except _TooSlow:
        return unknown(model_id, "the answer did not finish within the health timeout")
    except _TooLarge:
        return unknown(model_id, f"the answer is larger than {MAX_BODY} bytes")
    except httpx.HTTPError as exc:
        return unknown(model_id, clip(f"{type(exc).__name__}: {exc}", 160, secrets))
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can go
        return unknown(model_id, "the answer is not JSON")
    return sample_from_answer(model_id, doc, secrets)


class _TooSlow(Exception):
    pass


class _TooLarge(Exception):
    pass


def _read(response: httpx.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        if monotonic() > deadline:
            raise _TooSlow
        chunks.append(chunk)
    return b"".join(chunks)
