"""Plain data read back from the registry: what the renderer, pools and queries consume."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.ingest.normalize import ModelRecord
from catalog.times import format_time


@dataclass(frozen=True, slots=True)
class FreeModel:
    record: ModelRecord  # the values as of the snapshot
    first_seen_free: datetime
    free_since: datetime  # start of the uninterrupted free streak that includes the snapshot
    times_removed: int  # how often it stopped being free before the snapshot

    @property
    def id(self) -> str:
        return self.record.id


@dataclass(frozen=True, slots=True)
class EventRecord:
    run_id: int
    observed_at: datetime
    model_id: str
    kind: str  # added / returned / removed / changed
    reason: str | None = None  # removed: delisted / now_paid
    field: str | None = None  # changed: dotted API path
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "kind": self.kind,
            "reason": self.reason,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "observed_at": format_time(self.observed_at),
            "run_id": self.run_id,
        }


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    model_id: str
    outcome: str  # ok / rate_limited / quota_exhausted / blocked_by_account / unavailable / ...
    at: datetime
    http_status: int | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ModelHealth:
    """A model's latest health sample, its 7-day record and its latest probe."""

    state: str = "unknown"  # up / degraded / down / unknown (never sampled, or the call failed)
    status: int | None = None
    endpoints: int | None = None
    providers: tuple[str, ...] = ()
    uptime_5m: float | None = None
    uptime_30m: float | None = None
    uptime_1d: float | None = None
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    throughput_p50: float | None = None
    sampled_at: datetime | None = None
    error: str | None = None
    available_7d: int = 0  # samples in the 7 days to the newest sample that were up or degraded
    known_7d: int = 0  # samples in those 7 days whose state was known
    availability_7d: float | None = None  # available / known, only with enough known samples
    last_probe: ProbeRecord | None = None
    account: str | None = None  # usable / blocked for this account (/models/user); None: not read


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The free catalog after one successful sync (the newest, or the one a time travel names)."""

    models: tuple[FreeModel, ...]  # free at that sync, sorted by id; records without description
    observed_at: datetime | None  # that sync's observed time; None for an empty registry
    last_changed_at: datetime | None  # observed time of the newest run with events, up to it
    source: str | None
    recent_events: tuple[EventRecord, ...]  # newest first, up to and including that sync
    health: Mapping[str, ModelHealth] = field(default_factory=dict)  # by model id; absent: never measured
    health_at: datetime | None = None  # newest sample or probe up to the snapshot: "now" for health rules
