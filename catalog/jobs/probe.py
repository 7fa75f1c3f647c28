"""The probe job: budgeted one-line chat calls to free models (within a sync with --probe, or
`catalog probe`), the day's budget counted in the registry across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.availability.probe import ACCOUNT_WIDE, probe_once
from catalog.config.loader import load_config
from catalog.errors import CatalogError, UsageError
from catalog.ingest.account import KEY_MAX_BYTES, AccountError, free_requests, key_url, read_json
from catalog.ingest.fetch import DEFAULT_USER_AGENT
from catalog.ingest.secrets import checked_key, scrub, secrets_of
from catalog.ingest.urls import api_base
from catalog.output.pools import FALLBACK_LIMIT, build_pools
from catalog.output.refresh import render_after
from catalog.registry import health_store, reads
from catalog.registry.db import registry_exists, unlocked_writer
from catalog.settings import Settings
from catalog.state import ProbeRecord
from catalog.times import day_start, now_utc_seconds

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from catalog.config.pools import PoolConfig
    from catalog.state import Snapshot


@dataclass
class ProbeRun:
    results: list[ProbeRecord] = field(default_factory=list)
    budget: int = 0
    used_today: int = 0  # after this run, every process counted
    key_remaining: int | None = None  # OpenRouter's free-model requests left today, before this run
    reserve: int = 0
    stopped: str | None = None  # why probing stopped early, or never started
    written: list[Path] = field(default_factory=list)
    render_error: str | None = None

    def summary(self) -> str:
        tally: dict[str, int] = {}
        for r in self.results:
            tally[r.outcome] = tally.get(r.outcome, 0) + 1
        done = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items())) or "none sent"
        line = f"probes: {done}; {self.used_today} of {self.budget} used today"
        if self.key_remaining is not None:
            line += f"; OpenRouter reported {self.key_remaining} free requests left (keeping {self.reserve})"
        return line + (f"; {self.stopped}" if self.stopped else "")


def require_key(settings: Settings) -> str:
    """The API key, or UsageError when there is none."""
    if not settings.api_key:
        raise UsageError(
            "probes need OPENROUTER_API_KEY: each one is a real chat call on your account's free-model quota"
        )
    return settings.api_key


def run_probes(
    engine: Engine,
    settings: Settings,
    targets: list[str],
    *,
    transport: httpx.BaseTransport | None = None,
    on_probe: Callable[[], None] | None = None,
) -> ProbeRun:
    """Probe `targets` in order, never past the day's budget or OpenRouter's remaining quota
    minus the reserve; stops at the first answer that holds for the whole account."""
    from catalog.ingest import deadline

    api_key = require_key(settings)
    secrets = secrets_of(settings.api_url, settings.api_key)
    today = day_start(now_utc_seconds())
    run = ProbeRun(budget=settings.probe_budget, reserve=settings.probe_reserve)
    with engine.connect() as conn:
        run.used_today = health_store.probes_since(conn, today)
    allowed = settings.probe_budget - run.used_today
    if allowed <= 0:
        run.stopped = f"today's probe budget ({settings.probe_budget}) is used up"
        return run
    headers = {"User-Agent": DEFAULT_USER_AGENT, "Authorization": f"Bearer {checked_key(api_key)}"}
    base = api_base(settings.api_url)
    keeping = f"--reserve keeps {settings.probe_reserve} for the app"
    with deadline.client(headers=headers, transport=transport) as client:
        with engine.connect() as conn:
            mark = health_store.newest_probe_id(conn)  # before /key: what its answer may not count
        run.key_remaining = read_key(client, settings.api_url, settings.probe_timeout, secrets)
        quota = None
        if run.key_remaining is not None:
            # Checked again before each probe against every process's probes since `mark`, so
            # processes started together share the quota left above the reserve, as the budget.
            quota = health_store.KeyQuota(run.key_remaining - settings.probe_reserve, mark)
            allowed = min(allowed, quota.allowed)
            if allowed <= 0:
                run.stopped = f"OpenRouter reports {run.key_remaining} free requests left today; {keeping}"
                return run
        for model_id in targets[:allowed]:
            with engine.begin() as conn:
                probe_id = health_store.reserve_probe(
                    conn, model_id, now_utc_seconds(), today, settings.probe_budget, quota
                )
            if isinstance(probe_id, str):
                run.stopped = (
                    f"today's probe budget ({settings.probe_budget}) was used up by another process"
                    if probe_id == "budget"
                    else f"other processes' probes used the free requests above the reserve; {keeping}"
                )
                break
            outcome = probe_once(client, f"{base}/chat/completions", model_id, settings.probe_timeout, secrets)
            record = ProbeRecord(
                model_id,
                outcome.outcome,
                now_utc_seconds(),
                outcome.http_status,
                outcome.ttft_ms,
                outcome.total_ms,
                outcome.detail,
            )
            with engine.begin() as conn:
                health_store.finish_probe(conn, probe_id, record)
            run.results.append(record)
            if on_probe is not None:
                on_probe()
            if outcome.outcome in ACCOUNT_WIDE:
                run.stopped = f"stopped: {outcome.outcome} holds for the whole account"
                break
    with engine.connect() as conn:
        run.used_today = health_store.probes_since(conn, today)
    return run


def read_key(client: httpx.Client, api_url: str, timeout: float, secrets: list[str]) -> int | None:
    """`free_model_daily_requests.remaining` from `/key` (costs no quota); None when the key does
    not report it. A key OpenRouter refuses, or an answer we cannot read, sends nothing."""
    from catalog.ingest import deadline

    try:
        with deadline.deadline(timeout):
            return free_requests(read_json(client, key_url(api_url), KEY_MAX_BYTES, timeout, secrets)).remaining
    except AccountError as exc:
        where = key_url(api_url)
        raise CatalogError(
            scrub(f"could not read the key's quota at {where}: {exc}; no probe was sent", secrets)
        ) from None


def default_targets(
    snapshot: Snapshot, config: PoolConfig, pools: list[str] | None = None, probed_today: set[str] | None = None
) -> list[str]:
    """Each pool's fallback ids, first choices of every pool first, no model twice; models
    already probed today go last, so a small budget rotates through the pools over the day."""

    names = config.select(pools, "--pool")
    built = build_pools(snapshot, config)
    lists = [built.ids(name)[:FALLBACK_LIMIT] for name in names]
    ordered = list(dict.fromkeys(ids[rank] for rank in range(FALLBACK_LIMIT) for ids in lists if rank < len(ids)))
    seen = probed_today or set()
    return [m for m in ordered if m not in seen] + [m for m in ordered if m in seen]


def probe_targets(engine: Engine, settings: Settings) -> list[str]:
    """`--model` ids as given, else the default targets of `--pool` names (or of every pool)."""

    if settings.probe_models:
        return list(dict.fromkeys(settings.probe_models))
    with engine.connect() as conn:
        snapshot = reads.load_snapshot(conn)
        today = health_store.probed_since(conn, day_start(now_utc_seconds()))
    return default_targets(snapshot, load_config(settings.config_path), list(settings.probe_pools) or None, today)


def probe(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    on_probe: Callable[[], None] | None = None,
) -> ProbeRun:
    """`catalog probe`: probes outside a sync. Not under the sync lock: the budget is counted in
    the registry in transactions of its own, so syncs and other probes may run meanwhile."""

    require_key(settings)
    if not registry_exists(settings.db):
        raise CatalogError(f"no registry at {settings.db}; run `catalog sync` first")
    with unlocked_writer(settings.db, purpose="probe") as engine:
        run = run_probes(engine, settings, probe_targets(engine, settings), transport=transport, on_probe=on_probe)
        if settings.render and run.results:
            render_after(engine, settings, run)
    return run
