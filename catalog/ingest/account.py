"""The account's own view, read with the API key at no quota cost: which models this account may
use (`GET <base>/models/user`, filtered by its privacy settings and guardrails) and how many
free-model requests it has left today (`GET <base>/key`). Neither is a model request.

Both calls share one whole-call deadline, and each body is read up to a size bound. Each call
fails on its own, as one scrubbed line: the caller keeps what the other one read. The key travels
only in the request header and is scrubbed from every message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalog.errors import CatalogError
from catalog.ingest.bodies import TooLarge, api_error_message, read_at_most
from catalog.ingest.fetch import DEFAULT_USER_AGENT
from catalog.ingest.secrets import checked_key, clip, scrub, secrets_of
from catalog.ingest.urls import api_base, models_base
from catalog.times import now_utc_seconds

if TYPE_CHECKING:  # httpx is imported lazily so that `catalog --help` stays fast
    import httpx

KEY_MAX_BYTES = 64 * 1024  # a /key answer is well under 1 KiB
# /models/user, like /models, lists text-output models only unless asked for all of them: without
# this every image model would look blocked.
USER_MODELS_QUERY = "output_modalities=all"


class AccountError(CatalogError):
    """One account call failed; its text is one line, with the key scrubbed."""


@dataclass(frozen=True)
class FreeRequests:
    """`free_model_daily_requests` of `/key`: the counter the free-model quota is enforced on."""

    remaining: int | None
    limit: int | None


@dataclass
class AccountView:
    read_at: datetime
    usable: frozenset[str] | None = None  # ids /models/user lists; None when it could not be read
    free_requests: FreeRequests | None = None  # None when /key could not be read
    problems: list[str] = field(default_factory=list)  # one line per call that failed

    @property
    def read_anything(self) -> bool:
        return self.usable is not None or self.free_requests is not None


def user_models_url(api_url: str) -> str:
    return f"{models_base(api_url)}/user?{USER_MODELS_QUERY}"


def key_url(api_url: str) -> str:
    return f"{api_base(api_url)}/key"


def read_account(
    api_url: str,
    api_key: str,
    *,
    timeout: float,
    max_bytes: int,
    transport: httpx.BaseTransport | None = None,
) -> AccountView:
    """Both reads within `timeout` seconds overall; a failed one leaves its part None and a line
    in `problems`."""
    from catalog.ingest import deadline

    secrets = secrets_of(api_url, api_key)
    headers = {
        "User-Agent": DEFAULT_USER_AGENT,
        "Accept": "application/json",
        "Authorization": f"Bearer {checked_key(api_key)}",
    }
    view = AccountView(read_at=now_utc_seconds())
    with deadline.deadline(timeout), deadline.client(headers=headers, transport=transport) as client:
        # /key first: a tiny answer, so a slow /models/user cannot take its share of the deadline.
        try:
            view.free_requests = free_requests(read_json(client, key_url(api_url), KEY_MAX_BYTES, timeout, secrets))
        except AccountError as exc:
            view.problems.append(scrub(f"/key: {exc}", secrets))
        try:
            view.usable = usable_models(read_json(client, user_models_url(api_url), max_bytes, timeout, secrets))
        except AccountError as exc:
            view.problems.append(scrub(f"/models/user: {exc}", secrets))
    return view


def read_json(client: httpx.Client, url: str, max_bytes: int, timeout: float, secrets: list[str]) -> Any:
    """The decoded JSON of a 200 answer, read up to `max_bytes`; AccountError (scrubbed) otherwise."""
    import httpx

    try:
        with client.stream("GET", url, timeout=timeout) as response:
            if response.status_code in (401, 403):
                raise AccountError(
                    f"OpenRouter refused OPENROUTER_API_KEY (HTTP {response.status_code}); check the key"
                )
            if response.status_code != 200:
                message = api_error_message(response)
                detail = f": {clip(message, 160, secrets)}" if message else ""
                raise AccountError(f"HTTP {response.status_code}{detail}")
            body = read_at_most(response, max_bytes)  # decoded: a small gzip bomb is caught after inflating
    except TooLarge:
        raise AccountError(f"the answer is larger than {max_bytes:,} bytes") from None
    except httpx.TimeoutException:
        raise AccountError(f"no complete answer within the {timeout:g} s timeout") from None
    except httpx.HTTPError as exc:
        raise AccountError(clip(f"{type(exc).__name__}: {exc}", 160, secrets)) from None
    try:
        return json.loads(body)
    except ValueError:
        raise AccountError("the answer is not JSON") from None


def usable_models(doc: Any) -> frozenset[str]:
    """The ids of `{"data": [model, ...]}`. An empty list is refused: read as it stands it would
    mark every free model blocked, and an account that may use no model at all is far less likely
    than a bad answer."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise AccountError('the answer has no "data" list of models')
    ids = frozenset(m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"])
    if not ids:
        raise AccountError("the answer lists no model at all")
    return ids


def free_requests(doc: Any) -> FreeRequests:
    """`data.free_model_daily_requests` (remaining, limit); None for what the key does not report."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise AccountError('the answer has no "data" object')
    quota = data.get("free_model_daily_requests")
    quota = quota if isinstance(quota, dict) else {}
    return FreeRequests(count(quota.get("remaining")), count(quota.get("limit")))


def count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
