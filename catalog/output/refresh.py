"""The newest snapshot, read from the registry and rendered; skipped when the files already hold it.
Called by the sync, import and health jobs after they store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

from catalog.errors import CatalogError
from catalog.output import render, render_skip
from catalog.output.departures import read_departures
from catalog.output.watchfiles import Watched
from catalog.registry import reads
from catalog.registry.history import load_history
from catalog.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("catalog.sync")


class _RenderOptions(TypedDict):
    out_dir: Path
    lang: str
    templates_dir: Path | None
    config_path: Path | None


class _WatchOptions(TypedDict):
    feed_url: str | None
    charts: bool


class Rendered(Protocol):
    """A job's result that keeps what its render wrote, or why the render failed."""

    written: list[Path]
    render_error: str | None


def render_snapshot(engine: Engine, settings: Settings) -> list[Path]:
    """Render the newest snapshot, unless the files already hold what it would write."""
    options = _RenderOptions(
        out_dir=settings.out_dir,
        lang=settings.lang,
        templates_dir=settings.templates_dir,
        config_path=settings.config_path,
    )
    watched = _WatchOptions(feed_url=settings.feed_url, charts=settings.charts)
    with engine.connect() as conn:  # one read transaction: the digest is of the snapshot rendered
        digest = render_skip.inputs_digest(conn, db=settings.db, **options, **watched)
        if render_skip.unchanged(settings.out_dir, digest):
            log.debug("render skipped: its inputs are those of the files in %s", settings.out_dir)
            return []
        snapshot = reads.load_snapshot(conn)
        history = load_history(conn, snapshot.observed_at)
        gone = read_departures(conn, history, settings.config_path)
    report = render.generate(snapshot, **options, watch=Watched(history, settings.feed_url, settings.charts, gone))
    render_skip.remember(settings.out_dir, digest, report.files)
    return report.written


def render_after(engine: Engine, settings: Settings, result: Rendered) -> None:
    """Rebuild the generated files from what was just measured; a failure is the result's note."""
    try:
        result.written = render_snapshot(engine, settings)
    except CatalogError as exc:
        result.render_error = str(exc)
