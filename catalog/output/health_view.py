"""Plain data for the "Measured availability" section and the pool file's health facts.

Only what was measured is given; anything else is None, which the templates show as `—`.
"""

from __future__ import annotations

from collections import Counter
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
        "account": h.account,
        "last_probe": None
        if probe is None
        else {
            "outcome": probe.outcome,
            "at": format_time(probe.at),
            "ttft_ms": probe.ttft_ms,
        },
    }


def health_views(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """health_facts of every free model, by id; the models never measured share one."""
    unmeasured = health_facts(None)
    measured = snapshot.health
    return {
        mid: unmeasured if (h := measured.get(mid)) is None else health_facts(h)
        for mid in (m.record.id for m in snapshot.models)
    }


def availability_views(health: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Rows for every free model (working ones first), and what the reader should know; `health`
    is health_views()."""
    rows = []
    for mid, facts in health.items():
        probe = facts["last_probe"]
        rows.append(
            {
                "id": mid,
                **facts,
                "probe_outcome": probe["outcome"] if probe else None,
                "probe_day": probe["at"][:10] if probe else None,
            }
        )
    rows.sort(key=lambda r: (STATE_ORDER.get(r["state"], 9), r["id"]))
    states = Counter(r["state"] for r in rows)
    return {
        "rows": rows,
        "measured": any(r["sampled_at"] or r["probe_outcome"] for r in rows),
        "blocked": [r["id"] for r in rows if r["probe_outcome"] == "blocked_by_account"],
        "privacy_url": PRIVACY_URL,
        "account_blocked": [r["id"] for r in rows if r["account"] == "blocked"],
        "counts": {state: states[state] for state in STATE_ORDER},
    }
