"""free-models.json, the availability feed: a versioned document for other tools, with its JSON
Schema (free-models.schema.json, shipped in this package and written beside it). Built by code
with json.dumps, as data: nothing to present, so no template.

Every time in it comes from the registry, never the clock, so the same registry gives the same
bytes. The contract is the schema: fields are only ever added under schema_version 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache
from importlib.resources import files
from itertools import islice
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
NO_POOLS: list[str] = []  # shared, never changed: most free models are in no pool
BLOCKED_PROBE = "blocked_by_account"  # a probe refused for this account's privacy or guardrail settings


@cache
def schema_text() -> str:
    """The schema as shipped in the package (the wheel holds it beside this module)."""
    return files(__package__ or "catalog.output").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def feed_files(snapshot: Snapshot, pools: Pools, history: History, gone: Sequence[Departure]) -> dict[str, str]:
    """The feed and its schema, by file name."""
    return {FEED_FILE: feed_text(_feed_parts(snapshot, pools, history, gone)), SCHEMA_FILE: schema_text()}


# ASCII-only, as the pool file: API text may hold lone surrogates or line separators.
_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
# Where one object of `models` or `gone` ends and the next begins: each starts with its "id", and
# inside an encoded string every quote is escaped, so this text occurs nowhere else.
_NEXT_ITEM = '}, {"id": '
CHUNK = 1000  # objects encoded in one call
ITEM_LISTS = ("models", "gone")  # one object a line


def feed_text(doc: dict[str, Any]) -> str:
    """One top-level key a line, and one model, gone model or pool a line inside: as readable
    (and diffable) as an indented file, yet each list is encoded in one call of json's C encoder,
    which `indent` turns off (an indented dump took three times as long at 50,000 models)."""
    pieces = ["{"]  # joined once at the end: the models' text is never copied whole in between
    for number, (key, value) in enumerate(doc.items()):
        pieces.append(("," if number else "") + f"\n  {_ENCODE(key)}: ")
        if key in ITEM_LISTS:
            items = list(_encoded_items(value))
            pieces += ["[\n    ", *_between(items, ",\n    "), "\n  ]"] if items else ["[]"]
        elif key == "pools" and value:
            pieces.append("{\n" + ",\n".join(f"    {_ENCODE(k)}: {_ENCODE(v)}" for k, v in value.items()) + "\n  }")
        else:
            pieces.append(_ENCODE(value))
    pieces.append("\n}\n")
    return "".join(pieces)


def _between(items: list[str], separator: str) -> Iterator[str]:
    for number, item in enumerate(items):
        if number:
            yield separator
        yield item


def _encoded_items(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The items encoded one a line, CHUNK at a time: each chunk in one call of the C encoder, and
    only one chunk's objects alive at once (the `models` list is built lazily: at 50,000 free models
    the objects all at once cost over 100 MiB)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield _ENCODE(chunk)[1:-1].replace(_NEXT_ITEM, '},\n    {"id": ')


def feed_document(snapshot: Snapshot, pools: Pools, history: History, gone: Sequence[Departure]) -> dict[str, Any]:
    """The feed as data (its lists built), as free-models.json holds it."""
    parts = _feed_parts(snapshot, pools, history, gone)
    return {key: list(value) if key in ITEM_LISTS else value for key, value in parts.items()}


def _feed_parts(snapshot: Snapshot, pools: Pools, history: History, gone: Sequence[Departure]) -> dict[str, Any]:
    """The feed with `models` and `gone` as iterators, built as they are encoded."""
    member_of: dict[str, list[str]] = {}
    for name, entries in pools.pools.items():
        for entry in entries:
            member_of.setdefault(entry.id, []).append(name)
    free = {m.id for m in snapshot.models}
    departed = [d for d in gone if d.id not in free]
    # Built only when asked: about a quarter of the feed's time at 10,000 free models, most often for nothing.
    replacements = build_replacements(pools) if departed else None
    return {
        "$schema": SCHEMA_FILE,
        "schema_version": SCHEMA_VERSION,
        "generated_at": format_time(generated_at(snapshot, history)),
        "source": snapshot.source,
        "registry": history.registry_id,
        "free_count": len(snapshot.models),
        "models": (model_entry(pools.profiles[m.id], member_of.get(m.id, NO_POOLS)) for m in snapshot.models),
        # A model gone and back within the window is free again: it is in `models`, not here.
        "gone": (gone_entry(d, replacements) for d in departed if replacements is not None),
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
        "capabilities": capabilities(p.tools, p.reasoning, p.reads_images, "structured_outputs" in params),
        "first_seen": format_time(model.first_seen_free),
        "free_since": format_time(model.free_since),
        "expires_at": expires.isoformat() if expires else None,
        "status": model_status(p),
        "health": health_entry(p.health),
        "last_probe": probe_entry(p.health),
        "pools": pools,
    }


@cache  # sixteen combinations, one dict each, shared by every model that has it
def capabilities(tools: bool, reasoning: bool, vision: bool, structured_outputs: bool) -> dict[str, bool]:
    return {"tools": tools, "reasoning": reasoning, "vision": vision, "structured_outputs": structured_outputs}


def model_status(p: Profile) -> str:
    """blocked, down, expiring, degraded or active: the first that applies (see the schema)."""
    if p.unusable is not None:  # measured down, or a recent probe that cannot succeed
        probe = p.health.last_probe
        refused = p.health.state != "down" and probe is not None and probe.outcome == BLOCKED_PROBE
        blocked = p.health.account == "blocked" or refused  # /models/user left it out, or a probe was refused
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
