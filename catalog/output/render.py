"""Snapshot + pools -> the generated files. Code builds plain data; Jinja templates in templates/
hold all presentation; filters (filters.py) only format and escape. API text is only ever data handed to a
template, never compiled as one.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.errors import CatalogError, RenderError
from catalog.gcpause import paused_gc
from catalog.output.advice import advice_views
from catalog.output.availability_feed import feed_files
from catalog.output.exports import export_files
from catalog.output.filters import FILTERS, clean
from catalog.output.health_view import availability_views, health_views
from catalog.output.modelfacts import EXPIRY_WINDOW_DAYS, expires_soon
from catalog.output.poolrecords import Profile
from catalog.output.pools import FALLBACK_LIMIT, Pools, build_pools
from catalog.output.selectors import failure_counts
from catalog.output.watchfiles import CHART_KINDS, Watched, watch_files
from catalog.output.write import WriteReport, write_files
from catalog.state import EventRecord, FreeModel, Snapshot
from catalog.times import format_time

if TYPE_CHECKING:
    import jinja2

    from catalog.output.dataenv import DataEnvironment

LANGS = ("en", "zh")
MARKDOWN = "free-models.md"
TYPESCRIPT = "free-model-pool.ts"
JSON_FILE = "free-model-pool.json"  # built with json.dumps in code: data, nothing to present
CHANGES_SHOWN = 50
# Changed fields the page lists; the rest (descriptions, parameters, ...) is only counted.
SHOWN_FIELDS = ("context_length", "pricing.prompt", "pricing.completion")
STALE = "the registry is up to date but the generated files are stale"


def template_names(lang: str) -> dict[str, str]:
    return {MARKDOWN: f"free-models.{lang}.md.j2", TYPESCRIPT: "free-model-pool.ts.j2"}


# ---------------------------------------------------------------- the public entry points


def generate(
    snapshot: Snapshot,
    *,
    out_dir: Path,
    lang: str = "en",
    templates_dir: Path | None = None,
    config_path: Path | None = None,
    watch: Watched | None = None,
) -> WriteReport:
    """Render every file and write the changed ones atomically; RenderError (one line) on failure."""
    from catalog.config.loader import load_config

    try:
        config = load_config(config_path)
    except CatalogError as exc:
        raise RenderError(f"{exc}; {STALE} — fix it and run `catalog render`") from None
    # As a sync does (which already holds it paused): the collector would rescan the snapshot's
    # objects again and again while 50,000 profiles and views are made, 70% more time.
    with paused_gc():
        pools = build_pools(snapshot, config)
        command = rebuild_command(out_dir, lang, templates_dir, config_path)
        files = render_files(
            snapshot, lang=lang, templates_dir=templates_dir, pools=pools, command=command, watch=watch
        )
    try:
        return write_files(Path(out_dir), files)
    except OSError as exc:
        where = exc.filename or out_dir
        reason = exc.strerror or str(exc)
        raise RenderError(
            f"could not write {where}: {reason}; {STALE} — fix the folder and run `catalog render`"
        ) from None


def render_files(
    snapshot: Snapshot,
    *,
    lang: str,
    templates_dir: Path | None,
    pools: Pools,
    command: str | None = None,
    watch: Watched | None = None,
) -> dict[str, str]:
    """File name -> text. Pure: the same snapshot, history, pools and templates give the same bytes."""
    if lang not in LANGS:
        raise RenderError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    data = page_data(snapshot, pools, command or rebuild_command(Path("generated"), lang, None, None), lang)
    env = environment(templates_dir)
    files = watch_files(
        lambda name, values: render_template(env, name, values), watch, pools.config.watch, lang, MARKDOWN
    )
    data["charts"] = [{"file": name, "kind": kind} for name, kind in CHART_KINDS.items() if name in files]
    files.update({name: render_template(env, template, data) for name, template in template_names(lang).items()})
    files[JSON_FILE] = pool_json(data)
    if watch is not None and watch.history is not None:  # the registry's id and times come from its history
        files.update(feed_files(snapshot, pools, watch.history, watch.gone))
    files.update(export_files(pools, files))  # [exports]: gateway configs, kept current with the rest; last, so
    # an export can never silently take the name of a generated file
    return files


def rebuild_command(out_dir: Path, lang: str, templates_dir: Path | None, config_path: Path | None) -> str:
    parts = ["catalog", "render", "--out", str(out_dir)]
    if lang != "en":
        parts += ["--lang", lang]
    if templates_dir is not None:
        parts += ["--templates", str(templates_dir)]
    if config_path is not None:
        parts += ["--config", str(config_path)]
    # Paths are user text too: it goes into comments, so nothing may end them early.
    return clean(shlex.join(parts)).replace("-->", "-- >").replace("*/", "* /")


# ---------------------------------------------------------------- Jinja


def builtin_templates_dir() -> Path:
    """`_templates` inside an installed wheel; the checkout's top-level `templates/` otherwise."""
    package = Path(__file__).resolve().parent.parent  # the catalog package
    for candidate in (package / "_templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise RenderError("the built-in templates are missing from the installation; reinstall catalog")


def environment(templates_dir: Path | None) -> DataEnvironment:
    import jinja2

    from catalog.output.dataenv import DataEnvironment  # Jinja: only when files are rendered

    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise RenderError(f"templates folder {templates_dir} not found; fix --templates or drop it")
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates_dir())))
    env = DataEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        # XML (the Atom feed, the SVG charts) escapes every value; Markdown and TypeScript have filters.
        autoescape=jinja2.select_autoescape(enabled_extensions=("atom.j2", "svg.j2"), default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_template(env: jinja2.Environment, name: str, data: dict[str, Any]) -> str:
    import jinja2

    try:
        return env.get_template(name).render(**data)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name} not found; {STALE}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"template {exc.name or name} line {exc.lineno}: {exc.message}; {STALE} — fix the template"
        ) from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {name}{template_line(exc)}: {exc}; {STALE} — fix the template") from None


def template_line(exc: BaseException) -> str:
    """The template line a rendering error happened on, from the traceback Jinja rewrites."""
    tb, line = exc.__traceback__, ""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = f" line {tb.tb_lineno}"
        tb = tb.tb_next
    return line


# ---------------------------------------------------------------- plain data for the templates


def page_data(snapshot: Snapshot, pools: Pools, command: str, lang: str = "en") -> dict[str, Any]:
    health = health_views(snapshot)
    profiles = pools.profiles
    views = {m.record.id: model_view(m, profiles.get(m.record.id), health[m.record.id]) for m in snapshot.models}
    pool_views = [pool_view(name, pools, views, lang) for name in pools.pools]
    changes, more, other = change_views(snapshot.recent_events)
    expiring, expired = expiring_views(snapshot, views)
    return {
        "command": command,
        "generated": f"Generated by catalog from its registry; do not edit. Rebuild: {command}",
        "last_changed": utc(snapshot.last_changed_at),
        "last_changed_iso": iso(snapshot.last_changed_at),
        "source": snapshot.source,
        "free_count": len(snapshot.models),
        "pools": pool_views,
        "advice": advice_views(pools, lang, FALLBACK_LIMIT),
        "fallback_limit": FALLBACK_LIMIT,
        "vendors": vendor_views(views),
        "changes": changes,
        "changes_more": more,
        "changes_other": other,
        "expiring": expiring,
        "expired": expired,
        "expiry_window_days": EXPIRY_WINDOW_DAYS,
        "availability": availability_views(health),
    }


def model_view(model: FreeModel, profile: Profile | None, health: dict[str, Any]) -> dict[str, Any]:
    record = model.record
    return {
        "id": model.id,
        "name": record.name,
        "vendor": record.vendor,
        "context": record.context_length or record.top_context_length,
        "max_output": record.max_completion_tokens,
        "size": profile.size.label if profile else None,
        "reasoning": bool(profile and profile.reasoning),
        "tools": bool(profile and profile.tools),
        "vision": bool(profile and profile.reads_images and profile.writes_text_only),
        "input_modalities": list(record.input_modalities),
        "free_since": day(model.free_since),
        "first_seen_free": day(model.first_seen_free),
        "expiration_date": record.expiration_date,
        "health": health,
    }


def pool_view(name: str, pools: Pools, views: dict[str, dict[str, Any]], lang: str) -> dict[str, Any]:
    entries = []
    for rank, entry in enumerate(pools.pools.get(name, []), 1):
        view = dict(views[entry.id])
        view.update(rank=rank, pinned=entry.pinned, filler=entry.filler)
        entries.append(view)
    # Why an empty pool is empty: how many free models each rule or selector turned away.
    failed = [] if entries else failure_counts(pools.explanations.get(name, []))
    return {
        "name": name,
        "title": pools.config.pool(name).text("title", lang),  # None: the template's own title
        "entries": entries,
        "fallbacks": [e["id"] for e in entries[:FALLBACK_LIMIT]],
        "failed": [{"key": key, "count": n} for key, n in failed],
    }


def vendor_views(views: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    by_vendor: dict[str, list[dict[str, Any]]] = {}
    for view in sorted(views.values(), key=lambda v: v["id"]):
        by_vendor.setdefault(view["vendor"], []).append(view)
    return [{"vendor": v, "label": vendor_label(ms), "models": ms} for v, ms in sorted(by_vendor.items())]


def vendor_label(models: list[dict[str, Any]]) -> str | None:
    """The display vendor when every name agrees on it ("Google: Gemma 3 27B" -> "Google")."""
    labels = {(m["name"] or "").partition(": ")[0] for m in models if ": " in (m["name"] or "")}
    if len(labels) == 1 and all(": " in (m["name"] or "") for m in models):
        return labels.pop()
    return None


def change_views(events: tuple[EventRecord, ...]) -> tuple[list[dict[str, Any]], int, int]:
    """Membership changes and context/price changes, newest first; other changes are only counted."""
    shown, other = [], 0
    for event in events:
        relevant = event.kind != "changed" or event.field in SHOWN_FIELDS
        if not relevant:
            other += 1
            continue
        shown.append(
            {
                "when": utc(event.observed_at, with_zone=False),
                "kind": event.kind,
                "reason": event.reason,
                "model_id": event.model_id,
                "field": event.field,
                "old": event.old,
                "new": event.new,
            }
        )
    return shown[:CHANGES_SHOWN], max(0, len(shown) - CHANGES_SHOWN), other


def expiring_views(
    snapshot: Snapshot, views: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(expiring soon, already expired): the models whose expiration date falls within the window
    from the sync's own day on, and those still listed after it. Relative to the sync's observed
    time, never the clock, so the same registry renders the same page."""
    soon: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    for model in snapshot.models:
        when = expires_soon(model.record, snapshot.observed_at)
        if when is not None and snapshot.observed_at is not None:
            past = when < snapshot.observed_at.astimezone(UTC).date()
            (expired if past else soon).append({**views[model.id], "expires": when.isoformat()})
    return sorted(soon, key=by_expiry), sorted(expired, key=by_expiry)


def by_expiry(view: dict[str, Any]) -> tuple[str, str]:
    return view["expires"], view["id"]


def pool_json(data: dict[str, Any]) -> str:
    members: dict[str, dict[str, Any]] = {}
    for pool in data["pools"]:
        for e in pool["entries"]:
            members.setdefault(
                e["id"],
                {
                    "name": e["name"],
                    "context_length": e["context"],
                    "max_completion_tokens": e["max_output"],
                    "size": e["size"],
                    "reasoning": e["reasoning"],
                    "tools": e["tools"],
                    "input_modalities": e["input_modalities"],
                    "free_since": e["free_since"],
                    "health": e["health"],
                    "pools": [],
                },
            )["pools"].append(pool["name"])
    doc = {
        "_generated": data["generated"],
        "source": data["source"],
        "free_catalog_changed_at": data["last_changed_iso"],
        "free_count": data["free_count"],
        "pools": {p["name"]: [e["id"] for e in p["entries"]] for p in data["pools"]},
        "fallbacks": {p["name"]: p["fallbacks"] for p in data["pools"]},
        "models": dict(sorted(members.items())),
    }
    # ASCII-only: API text may hold lone surrogates or line separators that some readers choke on.
    text = json.dumps(doc, ensure_ascii=True, indent=2)
    # `{"_generated": ...` on the first line, like the comment that opens the other files.
    return "{" + text.removeprefix("{\n  ") + "\n"


def utc(value: datetime | None, *, with_zone: bool = True) -> str | None:
    if value is None:
        return None
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return f"{text} UTC" if with_zone else text


def iso(value: datetime | None) -> str | None:
    return format_time(value) if value else None


@lru_cache(maxsize=4096)  # free_since and first_seen_free of 50,000 models: a few hundred distinct times
def day(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else None
