"""Plain data read back from the registry: what the renderer, pools and queries consume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from catalog.normalize import ModelRecord
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
class Snapshot:
    """The free catalog after one successful sync (the newest, or the one a time travel names)."""

    models: tuple[FreeModel, ...]  # free at that sync, sorted by id
    observed_at: datetime | None  # that sync's observed time; None for an empty registry
    last_changed_at: datetime | None  # observed time of the newest run with events, up to it
    source: str | None
    recent_events: tuple[EventRecord, ...]  # newest first, up to and including that sync
