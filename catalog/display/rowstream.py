"""Rows that arrive in batches, written out as they come: `catalog query` on an answer of any size.

JSON, CSV and Markdown write row by row already (catalog.display.formats); here each batch is
flushed before the next is fetched, so a reader sees rows while the query still runs and memory
holds one batch. A table needs its rows to size its columns, so it is printed in blocks of at most
TABLE_BLOCK rows, each under its own header; an answer that fits one block looks as it always did.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any

from catalog.display.formats import default_format, print_rows
from catalog.display.views import TableOptions

TABLE_BLOCK = 1000

Row = Sequence[Any]


def print_batches(
    batches: Iterable[Sequence[Row]], columns: Sequence[str], fmt: str | None, table: TableOptions
) -> None:
    """Rows to stdout in `fmt` (or the default for where stdout goes) as their batches arrive."""
    shaped_table = fmt is None and table.shaped
    if (fmt or ("table" if shaped_table else default_format(sys.stdout))) == "table":
        _print_blocks(chain.from_iterable(batches), columns, fmt, table)
        return
    print_rows(_flushed(batches), columns, fmt, table)


def _flushed(batches: Iterable[Sequence[Row]]) -> Iterator[Row]:
    """Each batch's rows, with stdout flushed once they are written and before the next batch is
    fetched (which may take a while)."""
    for batch in batches:
        yield from batch
        sys.stdout.flush()


def _print_blocks(rows: Iterator[Row], columns: Sequence[str], fmt: str | None, table: TableOptions) -> None:
    block = list(islice(rows, TABLE_BLOCK))
    print_rows(block, columns, fmt, table)  # the header alone when there are no rows
    while block := list(islice(rows, TABLE_BLOCK)):
        sys.stdout.write("\n")
        print_rows(block, columns, fmt, table)
