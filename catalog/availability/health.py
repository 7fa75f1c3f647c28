"""Passive health: what a model's `GET /models/<id>/endpoints` answer says, as one sample. Pure.

OpenRouter's `status` is a bucket of `uptime_last_30m` (0: 95% and up, -2: 80 to 95%, -5: below
80%; see shared/openrouter/endpoints/README.md), so the state is read from the best endpoint's
status: the one an app's request would reach. A failed call or a router (which lists no endpoints
of its own) is `unknown`: never guessed up or down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from catalog.ingest.secrets import clip

STATES = ("up", "degraded", "down", "unknown")
DOWN_STATUS = -5  # this status or lower is down; between it and 0 is degraded
# Routers pick another model per request: their health is that model's, not theirs.
ROUTER_GLOBS = ("openrouter/*", "~*")
ROUTER_NOTE = "a router: it has no endpoints of its own"
PROVIDER_NAME_LIMIT = 100  # characters of a provider's name kept (real ones are a few words)
# What each measured number may be. A value outside its range (or not a finite number) is dropped
# as if absent: an answer cannot push a number into the registry that its columns cannot hold,
# and a status dropped from the best endpoint makes the model `unknown`, never up or down.
STATUS_RANGE = (-100, 100)  # real statuses are 0, -2, -5 (and a few others near them)
UPTIME_RANGE = (0.0, 100.0)  # percent
LATENCY_RANGE = (0.0, 86_400_000.0)  # milliseconds: a day
THROUGHPUT_RANGE = (0.0, 1_000_000.0)  # tokens per second


# What a sample measures, in the order every table of samples shows it.
MEASURED = (
    "state",
    "status",
    "endpoints",
    "providers",
    "uptime_5m",
    "uptime_30m",
    "uptime_1d",
    "latency_p50_ms",
    "latency_p90_ms",
    "throughput_p50",
)


@dataclass(frozen=True, slots=True)
class Sample:
    model_id: str
    state: str
    status: int | None = None
    endpoints: int | None = None  # None: the call failed, so the count is not known
    providers: tuple[str, ...] = ()
    uptime_5m: float | None = None
    uptime_30m: float | None = None
    uptime_1d: float | None = None
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    throughput_p50: float | None = None
    error: str | None = None  # why the state is unknown

    @property
    def failed(self) -> bool:
        """The call failed (a router's `unknown` is an answer, not a failure)."""
        return self.state == "unknown" and self.error not in (None, ROUTER_NOTE)


def is_router(model_id: str) -> bool:
    return any(fnmatchcase(model_id.lower(), glob) for glob in ROUTER_GLOBS)


def state_of(status: int | None, endpoints: int) -> str:
    if endpoints == 0:
        return "down"
    if status is None:
        return "unknown"
    if status >= 0:
        return "up"
    return "down" if status <= DOWN_STATUS else "degraded"


def unknown(model_id: str, error: str) -> Sample:
    return Sample(model_id=model_id, state="unknown", error=error)


def sample_from_answer(model_id: str, doc: Any, secrets: Sequence[str] = ()) -> Sample:
    """One sample from a parsed `/endpoints` answer; a body of the wrong shape is `unknown`.
    Provider names, the only text kept from the answer, are scrubbed of `secrets` and cut."""
    data = doc.get("data") if isinstance(doc, dict) else None
    endpoints = data.get("endpoints") if isinstance(data, dict) else None
    if not isinstance(endpoints, list):
        return unknown(model_id, "the answer has no data.endpoints list")
    rows = [e for e in endpoints if isinstance(e, dict)]
    if len(rows) != len(endpoints):  # an answer we cannot read says nothing, least of all "down"
        return unknown(model_id, "the answer lists endpoints that are not objects")
    if is_router(model_id):
        return Sample(model_id, "unknown", endpoints=len(rows), error=ROUTER_NOTE)
    if not rows:
        return Sample(model_id, "down", endpoints=0)
    best = max(rows, key=_rank)
    status = _integer(best.get("status"))
    latency, throughput = _percentiles(best.get("latency_last_30m")), _percentiles(best.get("throughput_last_30m"))
    return Sample(
        model_id=model_id,
        state=state_of(status, len(rows)),
        status=status,
        endpoints=len(rows),
        providers=_providers(rows, secrets),
        uptime_5m=_uptime(best, "uptime_last_5m"),
        uptime_30m=_uptime(best, "uptime_last_30m"),
        uptime_1d=_uptime(best, "uptime_last_1d"),
        latency_p50_ms=_within(latency.get("p50"), LATENCY_RANGE),
        latency_p90_ms=_within(latency.get("p90"), LATENCY_RANGE),
        throughput_p50=_within(throughput.get("p50"), THROUGHPUT_RANGE),
    )


def _providers(rows: list[dict[str, Any]], secrets: Sequence[str]) -> tuple[str, ...]:
    names = (e.get("provider_name") for e in rows)
    return tuple(sorted({clip(name, PROVIDER_NAME_LIMIT, secrets) for name in names if isinstance(name, str)}))


def _rank(endpoint: dict[str, Any]) -> tuple[float, float, float, float]:
    """Best first: highest status, then highest recent uptime, then lowest latency."""
    status = _integer(endpoint.get("status"))
    uptime = _uptime(endpoint, "uptime_last_30m")
    day = _uptime(endpoint, "uptime_last_1d")
    latency = _within(_percentiles(endpoint.get("latency_last_30m")).get("p50"), LATENCY_RANGE)
    return (
        status if status is not None else -math.inf,
        uptime if uptime is not None else -1.0,
        day if day is not None else -1.0,
        -latency if latency is not None else -math.inf,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)  # an int past a float's range raises here
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _within(value: float | None, bounds: tuple[float, float]) -> float | None:
    return value if value is not None and bounds[0] <= value <= bounds[1] else None


def _uptime(endpoint: dict[str, Any], key: str) -> float | None:
    return _within(_number(endpoint.get(key)), UPTIME_RANGE)


def _integer(value: Any) -> int | None:
    """A status: a whole number within STATUS_RANGE, else None."""
    number = _within(_number(value), STATUS_RANGE)
    return int(number) if number is not None and number == int(number) else None


def _percentiles(value: Any) -> dict[str, float]:
    """`{p50, p75, p90, p99}` (present with a key), or nothing."""
    if not isinstance(value, dict):
        return {}
    return {k: n for k in ("p50", "p90") if (n := _number(value.get(k))) is not None}


def counts(samples: list[Sample]) -> dict[str, int]:
    found = dict.fromkeys(STATES, 0)
    for sample in samples:
        found[sample.state] += 1
    return found
