"""Tables drawn for a person at a terminal: the view's columns, values for people, every line
within the terminal's width (nothing wraps), colour where it means something.

The id is what a person reads and copies, so it is shown whole. A command's default columns that
do not fit are fitted step by step, until they do:

1. redundant columns are left out: one that repeats another (`vendor`, the id's first part;
   `age`, counted from `when`), then a column empty on every row, then one with the same value on
   every row (each from the right);
2. text columns other than the id narrow to their header or 6 cells (ending in "…"), while
   times, numbers and kinds keep their width;
3. the rightmost columns other than the id are left out, but for those a view keeps (an event's
   time and kind);
4. only then is the id cut: when it alone, or with the kept columns, is wider than the terminal.

A dim line under the table names what was left out, so nothing is hidden silently. Columns picked
with --columns are narrowed but never left out (past their floors, the line is cut at the edge);
--wide shows every column whole, lines as long as they need (for `less -S`). Numbers, raw or as
shown for people (`131K`, `99.2%`), are right-aligned.

Anywhere else (`--format table` into a pipe or a file) the plain table of `formats` is written,
as before: every column and raw values, or the columns picked with --wide / --columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from catalog.display import term, views
from catalog.display.cells import as_tuples, is_number, text_value, text_width, truncate
from catalog.display.plaintable import TABLE_GAP, write_table, write_whole_table
from catalog.display.visible import visible
from catalog.display.wrap import wrap_words

Floor = Callable[[int, int, bool], int]  # (natural width, header width, rigid) -> narrowest width

# Shrinking a table that is too wide, pass by pass until one fits: first only the text columns
# give way (down to 6 cells or their header), while times, numbers and kinds keep their width;
# then every column keeps at least its header (or 4 cells); then at least 3 cells. Past that
# the line itself is cut at the terminal's edge. A default view uses the first pass only, and
# leaves columns out instead of cutting them further.
_FLOORS: tuple[Floor, ...] = (
    lambda natural, head, rigid: natural if rigid else max(6, head),
    lambda natural, head, rigid: max(4, head),
    lambda natural, head, rigid: 3,
)
_SAME_VALUE_SHOWN = 24  # cells of the shared value a footer note quotes


@dataclass
class Column:
    name: str
    head: str
    cells: list[str]
    right: bool  # numbers, right-aligned
    rigid: bool  # short values that keep their width while text gives way
    key: bool  # the id: shown whole
    kept: bool  # left out only when nothing else can be
    colors: list[str | None] | None

    @property
    def natural(self) -> int:
        return max([text_width(self.head)] + [text_width(cell) for cell in self.cells])


def print_table(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str], options: views.TableOptions, out: TextIO
) -> None:
    dicts = [row if isinstance(row, Mapping) else dict(zip(columns, row, strict=True)) for row in rows]
    now = datetime.now(UTC)
    if not term.is_terminal(out):
        if not options.shaped:
            write_table(as_tuples(dicts, columns), list(columns), out)  # exactly the plain table of before
        else:
            names = views.choose(options, columns)
            plain = [{name: _raw(name, row, now) for name in names} for row in dicts]
            if options.wide:
                write_whole_table(plain, names, out)
            else:
                write_table(as_tuples(plain, names), names, out)
        out.flush()
        return
    colored = term.color_wanted(out, options.no_color)
    table = [_column(options.view, name, dicts, now, colored) for name in views.choose(options, columns)]
    width = term.width(out)
    notes: list[str] = []
    if options.wide:
        shown, widths = table, [column.natural for column in table]
    elif options.columns is None and options.view in views.DEFAULT_COLUMNS:
        shown, widths, notes = fit_view(table, width)
    else:
        shown = table
        natural = [column.natural for column in table]
        heads = [text_width(column.head) for column in table]
        fitted = fit_widths(natural, heads, [c.rigid for c in table], width, [c.key for c in table])
        widths = _visible(fitted, width)
    write_columns(shown, widths, out)
    if notes:
        footer = f"hidden to fit {width} columns: {', '.join(notes)}; --wide shows all"
        for line in wrap_words(footer, width):
            out.write((term.paint(line, "dim") if colored else line) + "\n")
    out.flush()


def _column(view: str | None, name: str, rows: list[Mapping[str, Any]], now: datetime, colored: bool) -> Column:
    cells = [_cell(view, name, row, now) for row in rows]
    numeric = any(row.get(name) is not None for row in rows) and all(
        row.get(name) is None or is_number(row.get(name)) for row in rows
    )
    right = numeric or (view is not None and views.reads_as_number(cells))
    return Column(
        name=name,
        head=visible(views.header(view, name)),
        cells=cells,
        right=right,
        rigid=right or views.is_rigid(name),
        key=view is not None and views.is_key(name),
        kept=views.is_kept(view, name),
        colors=[views.color_of(name, row.get(name)) for row in rows] if colored else None,
    )


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


# --- fitting ------------------------------------------------------------------------------------


def fit_view(table: Sequence[Column], width: int) -> tuple[list[Column], list[int], list[str]]:
    """A default view fitted to `width` (the steps in the module's docstring): the columns
    shown, their widths, and a note for each column left out."""
    shown, notes = list(table), []
    for column, why in redundant(list(shown)):  # a copy: `shown` loses columns as this goes
        if _line_width([c.natural for c in shown]) <= width:
            break
        shown.remove(column)
        notes.append(f"{column.head} ({why})")
    while True:
        widths = _first_pass(shown, width)
        if widths is not None:
            return shown, widths, notes
        others = [c for c in shown if not c.key and not c.kept]
        if not others or len(shown) == 1:  # one column is always shown, cut if it must be
            break
        shown.remove(others[-1])
        notes.append(others[-1].head)
    # The id and the columns the view keeps are wider than the terminal: now the id gives way.
    natural = [c.natural for c in shown]
    fitted = fit_widths(natural, [text_width(c.head) for c in shown], [c.rigid for c in shown], width)
    return shown, _visible(fitted, width), notes


def redundant(table: Sequence[Column]) -> Iterator[tuple[Column, str]]:
    """The columns a person loses nothing without, in the order they are left out, each with
    why: one that repeats another (the vendor, part of the id), an empty one, one of one value."""
    names = [c.name for c in table]
    for c in table:
        if how := views.repeated(c.name, names):
            yield c, how
    others = [c for c in reversed(table) if not c.key and not views.repeated(c.name, names)]
    empty = [c for c in others if c.cells and all(cell in views.BLANK for cell in c.cells)]
    yield from ((c, "all empty") for c in empty)
    for c in others:
        if c not in empty and len(c.cells) > 1 and len(set(c.cells)) == 1:
            yield c, f"all {truncate(c.cells[0], _SAME_VALUE_SHOWN)}"


def _first_pass(table: Sequence[Column], width: int) -> list[int] | None:
    natural = [c.natural for c in table]
    floors = [
        min(n, width) if c.key else min(n, _FLOORS[0](n, text_width(c.head), c.rigid))
        for n, c in zip(natural, table, strict=True)
    ]
    return _capped(natural, floors, width)


def fit_widths(
    natural: Sequence[int],
    heads: Sequence[int],
    rigid: Sequence[bool],
    width: int,
    key: Sequence[bool] | None = None,
) -> list[int]:
    """Column widths whose sum with the gaps is at most `width`, cutting the widest first.

    Within a pass every column is capped at one common limit, the largest that fits, so short
    columns keep their full width while long ones (names, reasons) give way; a `key` column (the
    id) keeps its whole width up to the terminal's. Returns widths that may still overflow when
    even the last floors do not fit; the writer then cuts lines.
    """
    key = key or [False] * len(natural)
    if _line_width(natural) <= width:
        return list(natural)
    floors: list[int] = []
    for floor_of in _FLOORS:
        floors = [
            min(n, width) if k else min(n, floor_of(n, h, r))
            for n, h, r, k in zip(natural, heads, rigid, key, strict=True)
        ]
        widths = _capped(natural, floors, width)
        if widths is not None:
            return widths
    return floors  # even the last floors are too wide: let lines be cut


def _capped(natural: Sequence[int], floors: Sequence[int], width: int) -> list[int] | None:
    """Widths between `floors` and `natural` that fill `width`: one common cap, the largest that
    fits, then the cells it left over, left to right. None when the floors alone are too wide."""
    if _line_width(floors) > width:
        return None
    room = width - _line_width([0] * len(natural))
    limit = max(natural, default=0)
    while sum(max(f, min(n, limit)) for n, f in zip(natural, floors, strict=True)) > room:
        limit -= 1
    widths = [max(f, min(n, limit)) for n, f in zip(natural, floors, strict=True)]
    spare = room - sum(widths)
    for i, n in enumerate(natural):
        if spare and widths[i] < n:
            grow = min(spare, n - widths[i])
            widths[i] += grow
            spare -= grow
    return widths


def _line_width(widths: Sequence[int]) -> int:
    return sum(widths) + len(TABLE_GAP) * max(0, len(widths) - 1)


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


# --- writing ------------------------------------------------------------------------------------


def write_columns(table: Sequence[Column], widths: Sequence[int], out: TextIO) -> None:
    """A header, a rule and the rows of the first len(widths) columns, each cut to its width."""
    if not widths:
        return
    table = table[: len(widths)]
    right = [c.right for c in table]
    _line(out, [c.head for c in table], widths, right, None)
    out.write(TABLE_GAP.join("-" * w for w in widths).rstrip() + "\n")
    for i in range(len(table[0].cells)):
        colors = [c.colors[i] if c.colors is not None else None for c in table]
        _line(out, [c.cells[i] for c in table], widths, right, colors)


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
