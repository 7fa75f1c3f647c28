"""Skip a render whose inputs have not changed since it wrote the files in the output folder.

A sync of an unchanged answer stores one run row, yet a full render rebuilds every pool and page
(about 5 s of a 6.6 s resync at 50,000 models) only to write the same bytes. The render reads:
- the registry's state at its newest run: which versions are free, the events, the health;
- the values of time at the granularity the output uses them: the newest run's day (the charts'
  right edge, and what expires soon), whole days of each free streak,
  the day that decides "expires soon", which events are recent, which probe results still keep
  a model out of the pools;
- the pool config, the templates, the code and the options.
Their digest is kept with the (size, mtime, inode) of every file written, in the user's cache
folder (never beside the files or the registry). A render with the same digest whose files are
untouched is skipped; anything missing or unreadable means a full render.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

import catalog
from catalog.config.loader import load_config
from catalog.errors import CatalogError
from catalog.output.pools import unusable_because
from catalog.output.render import builtin_templates_dir
from catalog.registry import health_reads, reads
from catalog.registry.schema import Event, ModelVersion, Run

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger("catalog.render")

DAY = timedelta(days=1)
MEMBERSHIP = ("added", "returned")


def inputs_digest(
    conn: Connection,
    *,
    db: str,
    out_dir: Path,
    lang: str,
    templates_dir: Path | None,
    config_path: Path | None,
    feed_url: str | None = None,
    charts: bool = True,
) -> str | None:
    """The digest of everything a render of the newest snapshot reads; None: do not skip."""

    run = reads.last_ok_run(conn)
    if run is None:
        return None
    try:
        config = load_config(config_path)
    except CatalogError:
        return None  # the full render reports it
    now = run.observed_at
    events, versions, runs = Event.__table__, ModelVersion.__table__, Run.__table__
    upto = events.c.run_id <= run.id
    last_event, change_run = conn.execute(select(func.max(events.c.id), func.max(events.c.run_id)).where(upto)).one()
    change = conn.execute(select(runs.c.payload_hash, runs.c.observed_at).where(runs.c.id == change_run)).first()
    starts = conn.execute(select(events.c.observed_at).where(upto, events.c.kind.in_(MEMBERSHIP)).distinct()).scalars()
    recent = conn.execute(
        select(func.count()).where(upto, events.c.observed_at >= now - timedelta(days=reads.RECENT_DAYS))
    ).scalar_one()
    health, measured_at = health_reads.load_health(conn)
    health_at = max(now, measured_at) if measured_at else now
    parts: dict[str, Any] = {
        "code": [catalog.__version__, _stats(_code_files(Path(catalog.__file__).parent))],
        "options": [db, str(Path(out_dir).absolute()), lang, str(templates_dir), str(config_path), feed_url, charts],
        "config": repr(config),
        "templates": [_tree(d) for d in (templates_dir, builtin_templates_dir()) if d is not None],
        "run": [run.source, now.date().isoformat()],  # the day decides what expires soon
        "state": [last_event, conn.execute(select(func.max(versions.c.id))).scalar(), change and list(change)],
        "recent": min(recent, reads.RECENT_LIMIT),
        "streak_days": sorted({(now - start) // DAY for start in starts}),
        "health": sorted((mid, repr(h), unusable_because(h, health_at, config.rules)) for mid, h in health.items()),
    }
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def _code_files(package: Path) -> list[Path]:
    """The modules, and the data files shipped beside them (free-models.schema.json)."""
    return [*package.rglob("*.py"), *package.rglob("*.json")]


def _stats(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in paths)


def _tree(folder: Path) -> list[str | list[tuple[str, str]] | None]:
    folder = Path(folder)
    if not folder.is_dir():
        return [str(folder), None]
    return [
        str(folder),
        sorted(
            (str(p.relative_to(folder)), hashlib.sha256(p.read_bytes()).hexdigest())
            for p in folder.rglob("*")
            if p.is_file()
        ),
    ]


def record_path(out_dir: Path) -> Path:
    """OSError when there is no cache folder to name (no $XDG_CACHE_HOME and no home)."""
    try:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError as exc:  # Path.home() without HOME or a passwd entry
        raise OSError(str(exc)) from None
    name = hashlib.sha256(str(Path(out_dir).absolute()).encode()).hexdigest()[:32]
    return Path(cache) / "catalog" / "renders" / f"{name}.json"


def _file_stats(files: Iterable[Path]) -> dict[str, list[int]]:
    stats = {}
    for path in files:
        st = Path(path).stat()
        stats[str(path)] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return stats


def unchanged(out_dir: Path, digest: str | None) -> bool:
    """True when the last render into out_dir had these inputs and its files are untouched."""
    if digest is None:
        return False
    try:
        record = json.loads(record_path(out_dir).read_text())
        same: bool = record["digest"] == digest and _file_stats(record["files"]) == record["files"]
        return same
    except (OSError, ValueError, KeyError, TypeError):
        return False


def remember(out_dir: Path, digest: str | None, files: Iterable[Path]) -> None:
    """Keep the digest of a render that succeeded; a cache that cannot be written costs only time."""
    try:
        path = record_path(out_dir)
        if digest is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"digest": digest, "files": _file_stats(files)}))
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("render digest not kept (%s): the next render runs in full", exc.strerror or exc)
