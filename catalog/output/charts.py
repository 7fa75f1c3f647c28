"""Geometry of the two report charts, as plain numbers and short strings for the SVG templates.

Pure: the same history gives the same coordinates, formatted the same way, so the SVG bytes only
change when the registry does. Time runs from the registry's runs, never from the clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.output.feed import xml_text
from catalog.registry.history import Period

COUNT_FILE = "free-models-count.svg"
TIMELINE_FILE = "free-models-timeline.svg"
WIDTH = 800
TICK_DAYS = (1, 2, 7, 14, 28, 56, 91, 182, 364, 728)
MONTH_STEPS = (1, 2, 3, 6, 12)
MAX_TICKS = 6
ROW_HEIGHT = 16
MAX_ROWS = 200  # past this many models, the timeline says how many more there are
LABEL_LIMIT = 40  # characters of a model id in the row label
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Frame:
    """The plot area inside the fixed viewBox, and the time span it maps onto."""

    left: float
    top: float
    right: float
    bottom: float
    t0: datetime
    t1: datetime

    def x(self, when: datetime) -> float:
        span = (self.t1 - self.t0).total_seconds()
        share = (when - self.t0).total_seconds() / span if span > 0 else 1.0
        return self.left + min(max(share, 0.0), 1.0) * (self.right - self.left)


def num(value: float) -> str:
    """Coordinates with one decimal and no trailing zeros: short, and stable across platforms."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def time_ticks(frame: Frame) -> list[dict[str, str]]:
    """UTC midnights at a step that gives at most MAX_TICKS labels, each with its x: days or weeks
    for short spans, the first of every 1, 2, 3, 6 or 12 months for long ones."""
    span_days = max((frame.t1 - frame.t0).total_seconds() / 86400, 1e-9)
    step = next((d for d in TICK_DAYS if span_days / d <= MAX_TICKS), math.ceil(span_days / MAX_TICKS))
    if step < 28:
        first = math.ceil((frame.t0 - EPOCH).total_seconds() / 86400 / step) * step
        moments = (EPOCH + timedelta(days=first + i * step) for i in range(MAX_TICKS + 1))
    else:
        months = next((m for m in MONTH_STEPS if m * 30 >= step), 12 * math.ceil(step / 365))
        start = frame.t0.year * 12 + frame.t0.month - 1
        moments = (
            datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
            for index in range(start + 1, start + (MAX_TICKS + 1) * months + 1)
            if index % months == 0
        )
    inside = [when for when in moments if frame.t0 <= when <= frame.t1]
    if not any(when < frame.t1 for when in inside):
        # Within one UTC day: the only midnight is the right edge, which would name the next day.
        return [day_tick(frame, frame.t0)]
    return [day_tick(frame, when) for when in inside]


def day_tick(frame: Frame, when: datetime) -> dict[str, str]:
    """A tick at `when`, labelled with its UTC day."""
    x = frame.x(when)
    return {"x": num(x), "label": when.astimezone(UTC).strftime("%Y-%m-%d"), "anchor": anchor(frame, x)}


def anchor(frame: Frame, x: float) -> str:
    """A date label centred on its tick, unless that would push it past the chart's edge."""
    if x > WIDTH - 34:
        return "end"
    return "start" if x < 34 else "middle"


def nice_max(value: int) -> tuple[int, int]:
    """An axis top at or above `value` and a step giving 4-5 gridlines: 87 -> (100, 25)."""
    value = max(value, 1)
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(math.ceil(step), 1)
    return int(math.ceil(value / step) * step), step


def horizon(newest: datetime) -> datetime:
    """The charts' right edge: the end of the newest run's UTC day. The charts show time by the
    day, so every sync of one day draws the same bytes (and an unchanged resync need not render)."""
    day = newest.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def count_chart(counts: Sequence[tuple[datetime, int]]) -> dict[str, Any]:
    """Free models after each successful run, as a step line: a level holds until the next run.
    A registry of one run (or of runs on one UTC day that found the same count) is one point, at
    the first run's time within its day, with its count and its own date: there is no history to
    draw yet. Later runs that change nothing, that day, leave the chart as it is."""
    height = 280
    last_when, last = counts[-1]
    t0, t1 = counts[0][0], horizon(last_when)
    single = len({n for _, n in counts}) == 1 and t1 - timedelta(days=1) <= t0
    if single:
        t0 = t1 - timedelta(days=1)  # the run's own UTC day
    frame = Frame(left=56, top=44, right=WIDTH - 112, bottom=height - 40, t0=t0, t1=t1)
    top_value, step = nice_max(max(n for _, n in counts))

    def y(n: int) -> float:
        return frame.bottom - n / top_value * (frame.bottom - frame.top)

    if single:
        line = area = ""
        current_x = frame.x(counts[0][0])
        x_ticks = [day_tick(frame, counts[0][0])]
    else:
        path, level = [f"M{num(frame.left)} {num(y(counts[0][1]))}"], counts[0][1]
        for when, n in counts[1:]:
            if n != level:
                path.append(f"H{num(frame.x(when))} V{num(y(n))}")
                level = n
        path.append(f"H{num(frame.right)}")
        line = " ".join(path)
        area = f"{line} V{num(frame.bottom)} H{num(frame.left)} Z"
        current_x, x_ticks = frame.right, time_ticks(frame)
    return {
        "width": WIDTH,
        "height": height,
        "frame": frame_view(frame),
        "line": line,  # empty for a single run: a point, no line
        "area": area,
        "y_ticks": [{"y": num(y(v)), "label": str(v)} for v in range(0, top_value + 1, step)],
        "x_ticks": x_ticks,
        "current": {"x": num(current_x), "y": num(y(last)), "count": last},
        "first": counts[0][0].strftime("%Y-%m-%d"),
        "last": last_when.strftime("%Y-%m-%d"),
        "low": min(n for _, n in counts),
        "high": max(n for _, n in counts),
    }


def timeline_chart(
    periods: Sequence[Period], newest: datetime, days: int, first: datetime | None = None
) -> dict[str, Any]:
    """One row per model free at any time in the `days` up to `newest`; a bar per free period,
    and an end mark where a period closed inside the window (its reason picks the colour). The
    axis starts at the registry's first run when that is later: before it nothing is known."""
    edge = horizon(newest)
    start = edge - timedelta(days=days)
    clamped = False
    if first is not None and start < first < edge:
        start, clamped = first, True
    by_model: dict[str, list[Period]] = {}
    for p in periods:
        if p.start <= edge and (p.end is None or p.end >= start):
            by_model.setdefault(p.model_id, []).append(p)
    order = sorted(by_model, key=lambda m: (max(by_model[m][0].start, start), m))
    shown = order[:MAX_ROWS]
    top, label_width = 64, 300
    height = top + max(len(shown), 1) * ROW_HEIGHT + 40
    frame = Frame(left=label_width, top=top, right=WIDTH - 40, bottom=height - 40, t0=start, t1=edge)
    rows = []
    for index, model_id in enumerate(shown):
        y = top + index * ROW_HEIGHT
        bars, marks = [], []
        for p in by_model[model_id]:
            x0, x1 = frame.x(max(p.start, start)), frame.x(p.end or edge)
            bars.append({"x": num(x0), "width": num(max(x1 - x0, 2.0))})
            if p.end is not None:
                marks.append({"x": num(max(x1 - 1.5, frame.left)), "reason": p.reason or "delisted"})
        rows.append(
            {
                "y": num(y),
                "text_y": num(y + ROW_HEIGHT - 4),
                "bar_y": num(y + 3),
                "label": xml_text(model_id, LABEL_LIMIT),
                "model_id": xml_text(model_id),
                "bars": bars,
                "marks": marks,
                "free_now": by_model[model_id][-1].end is None,
            }
        )
    return {
        "width": WIDTH,
        "height": height,
        "frame": frame_view(frame),
        "rows": rows,
        "more": len(order) - len(shown),
        "x_ticks": time_ticks(frame),
        "days": days,
        "clamped": clamped,  # the registry is younger than `days`
        "from": start.strftime("%Y-%m-%d"),
        "to": newest.strftime("%Y-%m-%d"),
        "bar_height": ROW_HEIGHT - 6,
    }


def frame_view(frame: Frame) -> dict[str, str]:
    return {
        "left": num(frame.left),
        "top": num(frame.top),
        "right": num(frame.right),
        "bottom": num(frame.bottom),
        "tick_end": num(frame.bottom + 5),
        "label_y": num(frame.bottom + 18),  # the date axis below the plot
        "label_x": num(frame.left - 8),
        "note_y": num(frame.top + 12),  # row labels; the empty-chart note
    }
