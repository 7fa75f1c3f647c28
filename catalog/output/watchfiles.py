"""The files that watch the catalog from a feed reader or a glance: the Atom feed and the two SVG
charts, each rendered from its own (autoescaped) XML template with data from catalog.feed and the
geometry from catalog.charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.config.watch import WatchConfig
from catalog.output.charts import COUNT_FILE, TIMELINE_FILE, count_chart, timeline_chart
from catalog.output.departures import Departure
from catalog.output.feed import FEED_FILE, feed_view
from catalog.registry.history import History

CHART_KINDS = {COUNT_FILE: "count", TIMELINE_FILE: "timeline"}  # embedded in the report, in this order


@dataclass(frozen=True)
class Watched:
    """What the feed and charts are built from, and the command line's say over them."""

    history: History | None  # None: an empty registry, so no feed and no chart
    feed_url: str | None = None  # --feed-url, over [feed] url
    charts: bool = True  # --no-charts: False
    gone: tuple[Departure, ...] = ()  # free-models.json's gone models (catalog.output.departures)


def watch_files(
    render: Callable[[str, dict[str, Any]], str], watched: Watched | None, config: WatchConfig, lang: str, report: str
) -> dict[str, str]:
    """File name -> text: the feed and, unless switched off, the charts."""
    if watched is None or watched.history is None:
        return {}
    history = watched.history
    url = watched.feed_url or config.feed.url
    feed = feed_view(history, url=url, limit=config.feed.limit, report=report)
    files = {FEED_FILE: render(f"{FEED_FILE}.j2", {"feed": feed, "lang": lang})}
    if watched.charts:
        views = {
            COUNT_FILE: count_chart(history.counts),
            TIMELINE_FILE: timeline_chart(history.periods, history.newest, config.charts.days, history.counts[0][0]),
        }
        files.update({name: render(f"{name}.j2", {"chart": chart, "lang": lang}) for name, chart in views.items()})
    return files
