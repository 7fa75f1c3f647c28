"""The plain table: aligned columns of raw values under a header and a rule, no colour and no
view. It is `--format table` into a pipe or a file; at a terminal `termtable` draws instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from catalog.display.cells import as_tuples, is_number, text_value, text_width, truncate
from catalog.display.visible import visible

# Widest table cell, in terminal cells; longer text ends in "…". Other formats never truncate.
TABLE_MAX_WIDTH = 48
TABLE_GAP = "  "


def write_whole_table(rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str], out: TextIO) -> None:
    """The plain table with no cell cut: lines as long as they need (`--wide` into `less -S`)."""
    write_table(as_tuples(rows, columns), list(columns), out, cell_width=None)
    out.flush()


def write_table(
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
        any(row[i] is not None for row in rows) and all(row[i] is None or is_number(row[i]) for row in rows)
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


def _table_cell(value: Any, width: int | None) -> str:
    # One line per row, and nothing in it that a terminal would act on.
    return _cut(visible(text_value(value)), width)


def _cut(text: str, width: int | None) -> str:
    return text if width is None else truncate(text, width)
