"""Rows out as text: an aligned table for people, JSON, CSV and Markdown for everything else.

Values are shown the same way in every format: times as ISO 8601 UTC (`2026-01-24T08:00:00Z`),
lists and dicts as JSON (native in the JSON format), bytes as hex, NULL as empty (`null` in JSON).
Errors writing to `out` (a closed pipe) are left to the caller; the CLI maps them to a quiet exit.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from catalog.display.term import is_terminal
from catalog.display.visible import json_escaped, visible
from catalog.errors import UsageError
from catalog.output.filters import md_cell
from catalog.times import format_time

if TYPE_CHECKING:
    from catalog.display.views import TableOptions

FORMATS = ("table", "json", "csv", "markdown")
# Widest table cell, in terminal cells; longer text ends in "…". Other formats never truncate.
TABLE_MAX_WIDTH = 48
TABLE_GAP = "  "
_CSV_KEEP = "\t\n"  # quoted CSV carries these; a carriage return could overwrite a line on screen


def default_format(stream: TextIO) -> str:
    """`table` for a person at a terminal, `json` for a program reading a pipe or file."""
    try:
        return "table" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return "json"


def write_rows(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str], fmt: str, out: TextIO
) -> None:
    """Write `rows` (mappings by column name, or sequences in column order) in format `fmt`."""
    writers = {"table": _write_table, "json": _write_json, "csv": _write_csv, "markdown": _write_markdown}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    writers[fmt](_as_tuples(rows, columns), list(columns), out)
    out.flush()  # a closed pipe fails here, inside the command, not at interpreter exit


def print_rows(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    columns: Sequence[str],
    fmt: str | None,
    table: TableOptions | None = None,
) -> None:
    """A command's rows to stdout, in `fmt` or the default for where stdout goes. A table goes
    through `table` (the command's terminal view, --wide, --columns, --no-color) when given."""
    if table is not None and table.shaped and fmt not in (None, "table"):
        raise UsageError(f"--wide and --columns shape tables; --format {fmt} always carries every column")
    fmt = fmt or ("table" if table is not None and table.shaped else default_format(sys.stdout))
    if fmt == "table" and table is not None:
        from catalog.display.termtable import print_table  # terminal tables import formats back

        print_table(rows, columns, table, sys.stdout)
        return
    if fmt == "csv" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(newline="")  # the CSV writer's CRLF must not be translated again
    write_rows(rows, columns, fmt, sys.stdout)


def _as_tuples(rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    for row in rows:
        if isinstance(row, Mapping):
            yield tuple(row[name] for name in columns)
        else:
            yield tuple(row)


# --- values ---------------------------------------------------------------------------------


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


# --- json ---------------------------------------------------------------------------------


def _write_json(rows: Iterable[tuple[Any, ...]], columns: list[str], out: TextIO) -> None:
    """An array of objects, one object per line: valid JSON that also greps and diffs well."""
    out.write("[")
    first = True
    for row in rows:
        item = {name: json_value(value) for name, value in zip(columns, row, strict=True)}
        out.write(("\n" if first else ",\n") + json_escaped(json.dumps(item, ensure_ascii=False)))
        first = False
    out.write("]\n" if first else "\n]\n")


# --- csv ------------------------------------------------------------------------------------


def _write_csv(rows: Iterable[tuple[Any, ...]], columns: list[str], out: TextIO) -> None:
    """RFC 4180: CRLF line ends, a header row, quotes only where a field needs them. Into a file
    or a pipe every byte is kept; at a terminal, control and bidi characters show as escapes."""
    writer = csv.writer(out, lineterminator="\r\n")
    if is_terminal(out):
        writer.writerow([visible(name, keep=_CSV_KEEP) for name in columns])
        for row in rows:
            writer.writerow([visible(text_value(value), keep=_CSV_KEEP) for value in row])
        return
    writer.writerow(columns)
    for row in rows:
        writer.writerow([text_value(value) for value in row])


# --- markdown -------------------------------------------------------------------------------


def markdown_cell(text: str) -> str:
    """Text that stays plain and inside one cell of a GitHub-flavoured Markdown table, as in the
    generated report: control characters as visible escapes, line breaks as spaces, and every
    character Markdown or HTML would act on (`[ ] ( ) ! * _ | < >` ...) escaped."""
    return md_cell(visible(text, keep="\t\n\r"), None)


def _write_markdown(rows: Iterable[tuple[Any, ...]], columns: list[str], out: TextIO) -> None:
    if not columns:
        return
    out.write("| " + " | ".join(markdown_cell(name) for name in columns) + " |\n")
    out.write("|" + "|".join(" --- " for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(markdown_cell(text_value(value)) for value in row) + " |\n")


# --- table ----------------------------------------------------------------------------------


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


def _table_cell(value: Any, width: int | None) -> str:
    # One line per row, and nothing in it that a terminal would act on.
    return _cut(visible(text_value(value)), width)


def _cut(text: str, width: int | None) -> str:
    return text if width is None else truncate(text, width)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def write_whole_table(rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str], out: TextIO) -> None:
    """The plain table with no cell cut: lines as long as they need (`--wide` into `less -S`)."""
    _write_table(_as_tuples(rows, columns), list(columns), out, cell_width=None)
    out.flush()


def _write_table(
    rows: Iterable[tuple[Any, ...]], columns: list[str], out: TextIO, cell_width: int | None = TABLE_MAX_WIDTH
) -> None:
    """Aligned columns under a header and a rule; no rows: the header alone."""
    if not columns:
        return
    rows = list(rows)  # widths need every row first
    cells = [[_table_cell(value, cell_width) for value in row] for row in rows]
    header = [_cut(visible(name), cell_width) for name in columns]
    widths = [max([text_width(h)] + [text_width(r[i]) for r in cells]) for i, h in enumerate(header)]
    numeric = [
        any(row[i] is not None for row in rows) and all(row[i] is None or _is_number(row[i]) for row in rows)
        for i in range(len(columns))
    ]
    _write_table_line(out, header, widths, numeric)
    out.write(TABLE_GAP.join("-" * width for width in widths).rstrip() + "\n")
    for row in cells:
        _write_table_line(out, row, widths, numeric)


def _write_table_line(out: TextIO, texts: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> None:
    parts = []
    for text, width, align_right in zip(texts, widths, right, strict=True):
        pad = " " * (width - text_width(text))
        parts.append(pad + text if align_right else text + pad)
    out.write(TABLE_GAP.join(parts).rstrip() + "\n")
