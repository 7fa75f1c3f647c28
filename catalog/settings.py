"""Everything one sync needs, in one frozen value. Built by the CLI, or directly from Python."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

DEFAULT_API_URL = "https://openrouter.ai/api/v1/models?output_modalities=all"
DEFAULT_DB = "catalog.db"
DEFAULT_OUT = "generated"
DEFAULT_CONFIG = "catalog.toml"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_HEALTH_TIMEOUT = 30.0
DEFAULT_HEALTH_CONCURRENCY = 8
DEFAULT_HEALTH_KEEP = timedelta(days=90)
DEFAULT_PROBE_BUDGET = 10  # probes per UTC day, all processes together
DEFAULT_PROBE_RESERVE = 20  # free-model requests left untouched for the app itself
DEFAULT_PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB  # a path or a SQLAlchemy URL
    api_url: str = DEFAULT_API_URL
    from_file: Path | None = None  # read a saved answer instead of the network
    api_key: str | None = None  # sent as a bearer token; never printed, logged or stored
    timeout: float = DEFAULT_TIMEOUT  # bounds the whole fetch, retries included
    max_bytes: int = DEFAULT_MAX_BYTES
    observed_at: datetime | None = None  # None: the time the answer arrived
    out_dir: Path = Path(DEFAULT_OUT)
    render: bool = True
    lang: str = "en"
    templates_dir: Path | None = None
    feed_url: str | None = None  # the feed's public address (rel="self"); None: [feed] url
    charts: bool = True  # the two SVG charts, embedded in the report
    config_path: Path | None = None  # None: ./catalog.toml when it exists
    dry_run: bool = False
    allow_mass_removal: bool = False
    lock_wait: float | None = None  # None: fail at once when another sync holds the lock
    health: bool = True  # sample /endpoints of every free model after an HTTP sync
    health_timeout: float = DEFAULT_HEALTH_TIMEOUT  # one deadline over all the health calls
    health_concurrency: int = DEFAULT_HEALTH_CONCURRENCY
    health_keep: timedelta = DEFAULT_HEALTH_KEEP  # samples older than this are pruned
    probe: bool = False  # probe after the sync (needs the API key)
    probe_budget: int = DEFAULT_PROBE_BUDGET
    probe_reserve: int = DEFAULT_PROBE_RESERVE
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT  # per probe
    probe_models: tuple[str, ...] = ()  # explicit targets; empty: each pool's fallbacks
    probe_pools: tuple[str, ...] = ()  # only these pools' fallbacks

    @property
    def source(self) -> str:
        return f"file:{self.from_file}" if self.from_file else self.api_url


def env_db() -> str:
    return os.environ.get("CATALOG_DB") or DEFAULT_DB


def env_api_url() -> str:
    return os.environ.get("CATALOG_API_URL") or DEFAULT_API_URL


def env_api_key() -> str | None:
    return os.environ.get("OPENROUTER_API_KEY") or None
