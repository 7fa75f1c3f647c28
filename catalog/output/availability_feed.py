"""free-models.json, the availability feed: a versioned document for other tools, with its JSON
Schema (free-models.schema.json, shipped in this package and written beside it). Built by code
with json.dumps, as data: nothing to present, so no template.

Every time in it comes from the registry, never the clock, so the same registry gives the same
bytes. The contract is the schema: fields are only ever added under schema_version 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from catalog.ingest.normalize import vendor_of
from catalog.output.departures import Departure
from catalog.output.modelfacts import expiry_date
from catalog.output.poolrecords import Profile
from catalog.output.pools import Pools
from catalog.output.replacement import Replacements, build_replacements, size_b_of
from catalog.registry.history import History
from catalog.state import ModelHealth, Snapshot
from catalog.times import format_time

FEED_FILE = "free-models.json"
SCHEMA_FILE = "free-models.schema.json"
SCHEMA_VERSION = 1
GONE_REASONS = {"delisted": "delisted", "now_paid": "no_longer_free"}
BLOCKED_PROBE = "blocked_by_account"  # a probe refused for this account's privacy or guardrail settings


@cache
def schema_text() -> str:
    """The schema as shipped in the package (the wheel holds it beside this module)."""
    return files(__package__ or "catalog.output").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def feed_files(snapshot: Snapshot, pools: Pools, history: History, gone: Sequence[Departure]) -> dict[str, str]:
    """The feed and its schema, by file name."""
    doc = feed_document(snapshot, pools, history, gone)
    # ASCII-only, as the pool file: API text may hold lone surrogates or line separators.
    return {FEED_FILE: json.dumps(doc, ensure_ascii=True, indent=2) + "\n", SCHEMA_FILE: schema_text()}


def feed_document(snapshot: Snapshot, pools: Pools, history: History, gone: Sequence[Departure]) -> dict[str, Any]:
    member_of: dict[str, list[str]] = {}
    for name, entries in pools.pools.items():
        for entry in entries:
            member_of.setdefault(entry.id, []).append(name)
    replacements = build_replacements(pools)
    free = {m.id for m in snapshot.models}
    return {
        "$schema": SCHEMA_FILE,
        "schema_version": SCHEMA_VERSION,
        "generated_at": format_time(generated_at(snapshot, history)),
        "source": snapshot.source,
        "registry": history.registry_id,
        "free_count": len(snapshot.models),
        "models": [model_entry(pools.profiles[m.id], member_of.get(m.id, [])) for m in snapshot.models],
        # A model gone and back within the window is free again: it is in `models`, not here.
        "gone": [gone_entry(d, replacements) for d in gone if d.id not in free],
        "pools": {name: pools.ids(name) for name in pools.pools},
    }


def generated_at(snapshot: Snapshot, history: History) -> datetime:
    """The newest change or measurement the file holds: what the render's skip digest covers
    (catalog/output/render_skip.py), so a skipped render never leaves a stale time behind."""
    times = [t for t in (snapshot.last_changed_at, *measured_times(snapshot.health.values())) if t is not None]
    return max(times, default=history.born)


def measured_times(health: Iterable[ModelHealth]) -> list[datetime | None]:
    found: list[datetime | None] = []
    for h in health:
        found.append(h.sampled_at)
        found.append(h.last_probe.at if h.last_probe else None)
    return found


def model_entry(p: Profile, pools: list[str]) -> dict[str, Any]:
    record, model = p.record, p.model
    params = record.supported_parameters
    expires = expiry_date(record)
    return {
        "id": p.id,
        "name": record.name,
        "vendor": record.vendor,
        "context_length": record.context_length or record.top_context_length,
        "max_completion_tokens": record.max_completion_tokens,
        "input_modalities": list(record.input_modalities),
        "output_modalities": list(record.output_modalities),
        "capabilities": {
            "tools": p.tools,
            "reasoning": p.reasoning,
            "vision": p.reads_images,
            "structured_outputs": "structured_outputs" in params,
        },
        "first_seen": format_time(model.first_seen_free),
        "free_since": format_time(model.free_since),
        "expires_at": expires.isoformat() if expires else None,
        "status": model_status(p),
        "health": health_entry(p.health),
        "last_probe": probe_entry(p.health),
        "pools": pools,
    }


def model_status(p: Profile) -> str:
    """blocked, down, expiring, degraded or active: the first that applies (see the schema)."""
    if p.unusable is not None:  # measured down, or a recent probe that cannot succeed
        probe = p.health.last_probe
        blocked = p.health.state != "down" and probe is not None and probe.outcome == BLOCKED_PROBE
        return "blocked" if blocked else "down"
    if p.expires is not None:
        return "expiring"
    if p.health.state == "degraded":
        return "degraded"
    return "active"


def health_entry(h: ModelHealth) -> dict[str, Any] | None:
    if h.sampled_at is None:  # never sampled (perhaps only probed)
        return None
    return {
        "state": h.state,
        "uptime_1d": h.uptime_1d,
        "availability_7d": h.availability_7d,
        "latency_p50_ms": h.latency_p50_ms,
        "sampled_at": format_time(h.sampled_at),
    }


def probe_entry(h: ModelHealth) -> dict[str, Any] | None:
    probe = h.last_probe
    if probe is None:
        return None
    return {"outcome": probe.outcome, "at": format_time(probe.at), "ttft_ms": probe.ttft_ms}


def gone_entry(d: Departure, replacements: Replacements) -> dict[str, Any]:
    vendor = d.last.record.vendor if d.last else vendor_of(d.id)
    size = size_b_of(d.last.record) if d.last else None
    last_pools = list(d.last.pools) if d.last else []
    return {
        "id": d.id,
        "gone_since": format_time(d.gone_since),
        "reason": GONE_REASONS.get(d.reason, "delisted"),
        "last_pools": last_pools,
        "replacement": replacements.for_model(d.id, vendor, size, last_pools),
    }
