"""Rows out as text: an aligned table for people (`plaintable`, or `termtable` at a terminal),
JSON, CSV and Markdown for everything else.

Values are shown the same way in every format: times as ISO 8601 UTC (`2026-01-24T08:00:00Z`),
lists and dicts as JSON (native in the JSON format), bytes as hex, NULL as empty (`null` in JSON).
Errors writing to `out` (a closed pipe) are left to the caller; the CLI maps them to a quiet exit.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from catalog.display.cells import as_tuples, text_value
from catalog.display.cells import json_value as json_value  # where callers have always found it
from catalog.display.plaintable import write_table
from catalog.display.term import is_terminal
from catalog.display.visible import json_escaped, visible
from catalog.errors import UsageError
from catalog.output.filters import md_cell

if TYPE_CHECKING:
    from catalog.display.views import TableOptions

FORMATS = ("table", "json", "csv", "markdown")
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
    writers = {"table": write_table, "json": _write_json, "csv": _write_csv, "markdown": _write_markdown}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    writers[fmt](as_tuples(rows, columns), list(columns), out)
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
        from catalog.display.termtable import print_table  # only for a table: keeps JSON output light

        print_table(rows, columns, table, sys.stdout)
        return
    if fmt == "csv" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(newline="")  # the CSV writer's CRLF must not be translated again
    write_rows(rows, columns, fmt, sys.stdout)


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
