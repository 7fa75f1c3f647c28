"""One value as the text of a cell, and the cells a terminal draws it in: shared by every
output format, the terminal tables, wrapping and progress.

Values are shown the same way everywhere: times as ISO 8601 UTC (`2026-01-24T08:00:00Z`), lists
and dicts as JSON (native in the JSON format), bytes as hex, NULL as empty (`null` in JSON).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from catalog.times import format_time


def as_tuples(rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    for row in rows:
        if isinstance(row, Mapping):
            yield tuple(row[name] for name in columns)
        else:
            yield tuple(row)


def json_value(value: Any) -> Any:
    """A value `json.dumps` writes faithfully (no NaN, which is not JSON)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return json_value(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(item) for item in value]
    return str(value)


def text_value(value: Any) -> str:
    """The cell text for table, CSV and Markdown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return json.dumps(json_value(value), ensure_ascii=False)
    plain = json_value(value)
    return plain if isinstance(plain, str) else str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def char_width(char: str) -> int:
    """Terminal cells one character takes: 2 for wide East Asian, 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(char) for char in text)


def truncate(text: str, width: int) -> str:
    """`text` cut to at most `width` cells, ending in "…" when anything was cut."""
    if text_width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        cells = char_width(char)
        if used + cells > width - 1:
            break
        kept.append(char)
        used += cells
    return "".join(kept) + "…"
