"""What each reading command shows at a terminal: its default columns, short headers, values
written for people, and the colours that carry meaning.

The tables at the top are plain data: showing one more column by default (say `health` in
`models`) is one line in DEFAULT_COLUMNS. JSON, CSV and Markdown never pass through here; they
keep every column and raw value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from catalog.display import term
from catalog.display.cells import text_value
from catalog.durations import format_age
from catalog.errors import UsageError
from catalog.output.filters import tokens

if TYPE_CHECKING:
    import argparse

# The columns a command shows at a terminal unless given --wide (every column) or --columns.
# Names are the row's own column names (as in JSON) or a derived column below.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "models": ("id", "context_length", "vendor", "free_since", "health"),
    "models --all": ("id", "context_length", "vendor", "is_free", "left_at", "left_reason"),
    "changes": ("observed_at", "age", "kind", "model_id", "detail"),
    "history": ("observed_at", "age", "kind", "detail"),
    "pools": ("pool", "rank", "model", "context", "why"),
    "health": (
        "model_id",
        "state",
        "uptime_1d",
        "availability_7d",
        "latency_p50_ms",
        "last_probe",
        "sampled_at",
        "account",
    ),
    "health MODEL_ID": (
        "sampled_at",
        "state",
        "status",
        "endpoints",
        "uptime_30m",
        "uptime_1d",
        "latency_p50_ms",
        "error",
    ),
    "probe": ("model_id", "outcome", "http_status", "ttft_ms", "detail"),
}
# `query` has no view: its columns are whatever the SQL selects, all shown by default.

# Short headers at a terminal; --columns takes either the header or the column's name.
HEADERS = {
    "context_length": "context",
    "max_completion_tokens": "max_output",
    "input_modalities": "input",
    "output_modalities": "output",
    "expiration_date": "expires",
    "first_seen_free": "first_seen",
    "last_seen_free": "last_seen",
    "left_reason": "left_why",
    "times_removed": "removals",
    "is_free": "free",
    "observed_at": "when",
    "model_id": "model",
    "run_id": "run",
    "uptime_1d": "uptime_1d",
    "availability_7d": "avail_7d",
    "latency_p50_ms": "p50_ms",
    "sampled_at": "sampled",
    "http_status": "http",
}

# Columns computed from a row for people, per view; never part of JSON, CSV or Markdown.
DERIVED: dict[str, tuple[str, ...]] = {
    "changes": ("age", "detail"),
    "history": ("age", "detail"),
}

TOKEN_COLUMNS = frozenset({"context_length", "max_completion_tokens", "top_context_length"})
TIME_COLUMNS = frozenset(
    {"observed_at", "first_seen_free", "free_since", "last_seen_free", "left_at", "sampled_at", "at"}
)
PERCENT_COLUMNS = frozenset({"uptime_5m", "uptime_30m", "uptime_1d"})  # OpenRouter's, in percent
FRACTION_COLUMNS = frozenset({"availability_7d"})  # catalog's own, a fraction
TOKEN_FIELDS = frozenset({"context_length", "top_provider.context_length", "top_provider.max_completion_tokens"})

# Columns of short values that should not be cut while a text column can give way.
RIGID_COLUMNS = (
    TIME_COLUMNS
    | TOKEN_COLUMNS
    | frozenset({"age", "kind", "rank", "score", "context", "health", "state", "outcome", "is_free"})
)

# The id a row is about: what a person reads and copies, so a table shows it whole.
KEY_COLUMNS = frozenset({"id", "model_id", "model"})
# Columns that only repeat another one: the column they repeat, and how they repeat it.
REPEATS: dict[str, tuple[str, str]] = {
    "vendor": ("id", "part of the id"),
    "age": ("observed_at", "counted from when"),
}
# Columns a view keeps at a terminal while they fit, even at the cost of cutting a long id:
# an event without its time or kind says nothing.
KEPT: dict[str, frozenset[str]] = {
    "changes": frozenset({"observed_at", "kind"}),
    "history": frozenset({"observed_at", "kind"}),
}
# What a cell for people shows for "no value".
BLANK = frozenset({"", "-", "—"})
# Numbers as they are shown for people: 131K, 1M, 1.5M, 99.2%, 1,234, 0.93.
_NUMBER_TEXT = re.compile(r"[-+]?\d[\d,]*(\.\d+)?[KM%]?")

# Colour by value, per column: only where the colour says something.
COLORS_BY_VALUE: dict[str, dict[str, str | None]] = {  # None: no colour (term.HEALTH's unknown)
    "kind": {"added": "green", "removed": "red", "returned": "blue"},
    "health": {state: color for state, (_, color) in term.HEALTH.items()},
    "account": {"usable": "green", "blocked": "red"},
    "state": {state: color for state, (_, color) in term.HEALTH.items()},
    "outcome": {
        "ok": "green",
        "blocked_by_account": "red",
        "unavailable": "red",
        "gated": "red",
        "quota_exhausted": "yellow",
        "rate_limited": "yellow",
        "timeout": "yellow",
        "error": "yellow",
    },
}


@dataclass(frozen=True)
class TableOptions:
    """How a command wants its table: which view, --wide, --columns, --no-color."""

    view: str | None = None
    wide: bool = False
    columns: tuple[str, ...] | None = None
    no_color: bool = False

    @property
    def shaped(self) -> bool:
        """True when the user chose the columns (which only a table can honour)."""
        return self.wide or self.columns is not None


def options_from_args(args: argparse.Namespace, view: str | None) -> TableOptions:
    columns = getattr(args, "columns", None)
    return TableOptions(
        view, getattr(args, "wide", False), tuple(columns) if columns else None, getattr(args, "no_color", False)
    )


def header(view: str | None, name: str) -> str:
    return HEADERS.get(name, name) if view else name


def choose(options: TableOptions, columns: Sequence[str]) -> list[str]:
    """Column names to show: those asked for (by header or name), every one, or the defaults."""
    view = options.view
    derived = DERIVED.get(view, ()) if view is not None else ()
    if options.columns is not None:
        known = {header(view, name): name for name in (*columns, *derived)}
        known.update({name: name for name in (*columns, *derived)})
        unknown = [name for name in options.columns if name not in known]
        if unknown:
            valid = ", ".join(header(view, name) for name in (*columns, *derived))
            raise UsageError(f"unknown column {unknown[0]!r}; choose from {valid}")
        return [known[name] for name in options.columns]
    if options.wide or view not in DEFAULT_COLUMNS:
        return list(columns)
    return [name for name in DEFAULT_COLUMNS[view] if name in columns or name in derived]


# --- values for people ----------------------------------------------------------------------


def short_time(value: datetime | str) -> str:
    """`2026-01-24 08:00` (UTC) from a datetime or an ISO 8601 string; other text as it is."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        when = value
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M")


def people_value(name: str, value: Any) -> str:
    """One cell as a person reads it: 131K, 2026-01-24 08:00, yes/no, text, image; - for none."""

    if value is None or value == "":
        return "-"
    if name in ("health", "state"):
        return term.health_badge(value)[0]
    if name in PERCENT_COLUMNS and isinstance(value, (int, float)):
        return f"{value:.1f}%"
    if name in FRACTION_COLUMNS and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%"
    if name.endswith(("_ms", "throughput_p50")) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,.0f}"
    if name == "last_probe" and isinstance(value, Mapping):
        return f"{value['outcome']} {short_time(value['at'])}"
    if name in TOKEN_COLUMNS and isinstance(value, int):
        return tokens(value)
    if name in TIME_COLUMNS or isinstance(value, datetime):
        return short_time(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(text_value(item) for item in value) or "-"
    if name.endswith("reason") and isinstance(value, str):
        return value.replace("_", " ")
    return text_value(value)


def derived_value(name: str, row: Mapping[str, Any], now: datetime) -> str:
    """`age`: how long ago the event was observed; `detail`: what an event did, in a phrase."""

    if name == "age":
        observed = (
            datetime.fromisoformat(row["observed_at"]) if isinstance(row["observed_at"], str) else row["observed_at"]
        )
        return format_age(now - observed)
    if name == "detail":
        if row["kind"] == "changed":
            return f"{row['field']}: {_changed_value(row['field'], row['old'])} → {_changed_value(row['field'], row['new'])}"
        return people_value("reason", row["reason"]) if row["reason"] else ""
    raise KeyError(name)


def _changed_value(field: str | None, value: Any) -> str:

    if field in TOKEN_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return tokens(value)
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def is_key(name: str) -> bool:
    return name in KEY_COLUMNS


def repeated(name: str, names: Sequence[str]) -> str | None:
    """How column `name` repeats another one of `names`, or None when it does not."""
    source, how = REPEATS.get(name, ("", ""))
    return how if source in names else None


def is_kept(view: str | None, name: str) -> bool:
    return name in KEPT.get(view or "", ())


def reads_as_number(cells: Sequence[str]) -> bool:
    """True when every cell that holds something is a number as shown for people (`131K`,
    `99.2%`, `1,234`): such a column is right-aligned like the raw numbers it came from."""
    filled = [cell for cell in cells if cell not in BLANK]
    return bool(filled) and all(_NUMBER_TEXT.fullmatch(cell) for cell in filled)


def is_rigid(name: str) -> bool:
    return name in RIGID_COLUMNS


def color_of(name: str, value: Any) -> str | None:
    return COLORS_BY_VALUE.get(name, {}).get(value) if isinstance(value, str) else None
