"""The public API of a sync: `run_once(Settings(...))`. The job itself lives in catalog.jobs.sync."""

from catalog.jobs.record import SyncResult
from catalog.jobs.sync import run_once
from catalog.settings import Settings

__all__ = ["Settings", "SyncResult", "run_once"]
