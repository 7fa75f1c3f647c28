"""Tables drawn for a person at a terminal: the view's columns, values for people, every line cut
to the terminal's width (long cells end in "…", nothing wraps), colour where it means something.

Anywhere else (`--format table` into a pipe or a file) the plain table of `formats` is written,
as before: every column and raw values, or the columns picked with --wide / --columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from catalog.display import term, views
from catalog.display.formats import TABLE_GAP, _is_number, text_value, text_width, truncate, write_rows
from catalog.display.visible import visible

# Shrinking a table that is too wide, pass by pass until one fits: first only the text columns
# give way (down to 6 cells or their header), while times, numbers and kinds keep their width;
# then every column keeps at least its header (or 4 cells); then at least 3 cells. Past that
# the line itself is cut at the terminal's edge.
_FLOORS = (
    lambda natural, head, rigid: natural if rigid else max(6, head),
    lambda natural, head, rigid: max(4, head),
    lambda natural, head, rigid: 3,
)


def print_table(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str], options: views.TableOptions, out: TextIO
) -> None:
    dicts = [row if isinstance(row, Mapping) else dict(zip(columns, row, strict=True)) for row in rows]
    now = datetime.now(UTC)
    if not term.is_terminal(out):
        if not options.shaped:
            write_rows(dicts, columns, "table", out)  # exactly the plain table of before
            return
        names = views.choose(options, columns)
        plain = [{name: _raw(name, row, now) for name in names} for row in dicts]
        write_rows(plain, names, "table", out)
        return
    names = views.choose(options, columns)
    heads = [visible(views.header(options.view, name)) for name in names]
    cells = [[_cell(options.view, name, row, now) for name in names] for row in dicts]
    right = [
        any(r.get(n) is not None for r in dicts) and all(r.get(n) is None or _is_number(r.get(n)) for r in dicts)
        for n in names
    ]
    rigid = [right[i] or views.is_rigid(name) for i, name in enumerate(names)]
    colors = None
    if term.color_wanted(out, options.no_color):
        colors = [[views.color_of(name, row.get(name)) for name in names] for row in dicts]
    write_fitted(heads, cells, right, rigid, colors, term.width(out), out)
    out.flush()


def _raw(name: str, row: Mapping[str, Any], now: datetime) -> Any:
    return row[name] if name in row else views.derived_value(name, row, now)


def _cell(view: str | None, name: str, row: Mapping[str, Any], now: datetime) -> str:
    if view is None:  # `query`: the SQL's own values, as the user selected them
        text = text_value(row[name])
    else:
        text = views.people_value(name, row[name]) if name in row else views.derived_value(name, row, now)
    # One line per row, and text from the API never reaches the terminal as control codes
    # (an escape sequence in a model name could recolour or retitle the user's terminal).
    return visible(text)


def fit_widths(natural: Sequence[int], heads: Sequence[int], rigid: Sequence[bool], width: int) -> list[int]:
    """Column widths whose sum with the gaps is at most `width`, cutting the widest first.

    Within a pass every column is capped at one common limit, the largest that fits, so short
    columns keep their full width while long ones (ids, names, reasons) give way. Returns widths
    that may still overflow when even the last floors do not fit; the writer then cuts lines.
    """
    gaps = len(TABLE_GAP) * max(0, len(natural) - 1)
    if sum(natural) + gaps <= width:
        return list(natural)
    for floor_of in _FLOORS:
        floors = [min(n, floor_of(n, h, r)) for n, h, r in zip(natural, heads, rigid, strict=True)]
        if sum(floors) + gaps > width:
            continue  # try the lower floors; after the last, return them and let lines be cut
        room = width - gaps
        limit = max(natural)
        while sum(max(f, min(n, limit)) for n, f in zip(natural, floors, strict=True)) > room:
            limit -= 1
        widths = [max(f, min(n, limit)) for n, f in zip(natural, floors, strict=True)]
        spare = room - sum(widths)
        for i, n in enumerate(natural):  # the cells the common cap left over, left to right
            if spare and widths[i] < n:
                widths[i] += 1
                spare -= 1
        return widths
    return floors


def write_fitted(
    heads: Sequence[str],
    cells: Sequence[Sequence[str]],
    right: Sequence[bool],
    rigid: Sequence[bool],
    colors: Sequence[Sequence[str | None]] | None,
    width: int,
    out: TextIO,
) -> None:
    if not heads:
        return
    natural = [max([text_width(h)] + [text_width(row[i]) for row in cells]) for i, h in enumerate(heads)]
    widths = _visible(fit_widths(natural, [text_width(h) for h in heads], rigid, width), width)
    _line(out, heads, widths, right, None)
    out.write(TABLE_GAP.join("-" * w for w in widths).rstrip() + "\n")
    for i, row in enumerate(cells):
        _line(out, row, widths, right, colors[i] if colors else None)


def _visible(widths: Sequence[int], width: int) -> list[int]:
    """The widths of the columns that fit on a line of `width` cells: all of them, or the first
    few with the last one narrowed to the edge (its cells then end in "…")."""
    shown: list[int] = []
    used = 0
    for w in widths:
        gap = len(TABLE_GAP) if shown else 0
        if used + gap + w <= width:
            shown.append(w)
            used += gap + w
            continue
        if width - used - gap >= 2:
            shown.append(width - used - gap)
        break
    return shown


def _line(
    out: TextIO, texts: Sequence[str], widths: Sequence[int], right: Sequence[bool], colors: Sequence[str | None] | None
) -> None:
    parts = []
    for i, w in enumerate(widths):
        text = truncate(texts[i], w)
        pad = " " * (w - text_width(text))
        text = term.paint(text, colors[i]) if colors else text
        parts.append(pad + text if right[i] else text + pad)
    out.write(TABLE_GAP.join(parts).rstrip() + "\n")
