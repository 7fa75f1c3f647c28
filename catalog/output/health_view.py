"""Plain data for the "Measured availability" section and the pool file's health facts.

Only what was measured is given; anything else is None, which the templates show as `—`.
"""

from __future__ import annotations

from typing import Any

from catalog.availability.probe import PRIVACY_URL
from catalog.state import ModelHealth, Snapshot
from catalog.times import format_time

STATE_ORDER = {"up": 0, "degraded": 1, "down": 2, "unknown": 3}


def health_facts(h: ModelHealth | None) -> dict[str, Any]:
    """One model's measured facts, the same keys in the report data and the JSON pool file."""
    h = h or ModelHealth()
    probe = h.last_probe
    return {
        "state": h.state,
        "uptime_1d": h.uptime_1d,
        "availability_7d": h.availability_7d,
        "latency_p50_ms": h.latency_p50_ms,
        "throughput_p50": h.throughput_p50,
        "sampled_at": format_time(h.sampled_at) if h.sampled_at else None,
        "last_probe": None if probe is None else {
            "outcome": probe.outcome,
            "at": format_time(probe.at),
            "ttft_ms": probe.ttft_ms,
        },
    }


def availability_views(snapshot: Snapshot) -> dict[str, Any]:
    """Rows for every free model (working ones first), and what the reader should know."""
    rows = []
    for model in snapshot.models:
        facts = health_facts(snapshot.health.get(model.id))
        probe = facts["last_probe"]
        rows.append({
            "id": model.id,
            **facts,
            "probe_outcome": probe["outcome"] if probe else None,
            "probe_day": probe["at"][:10] if probe else None,
        })
    rows.sort(key=lambda r: (STATE_ORDER.get(r["state"], 9), r["id"]))
    return {
        "rows": rows,
        "measured": any(r["sampled_at"] or r["probe_outcome"] for r in rows),
        "blocked": [r["id"] for r in rows if r["probe_outcome"] == "blocked_by_account"],
        "privacy_url": PRIVACY_URL,
        "counts": {state: sum(1 for r in rows if r["state"] == state) for state in STATE_ORDER},
    }
