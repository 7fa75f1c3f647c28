"""A query's answer as both engines hand it on to `catalog query`: unique column names, rows in
small batches, a bound on any one value, and the one-line errors for a query past its time or
past that bound."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from catalog.errors import QueryError

# The longest text or blob one query may produce (SQLite's own limit is 1 GB): a runaway value,
# e.g. printf('%.*c', 900000000, 'x'), fails at once instead of filling memory.
VALUE_LIMIT = 16 * 1024 * 1024
BATCH_ROWS = 500  # rows handed on at a time
BATCH_BYTES = 4 * 1024 * 1024  # or fewer rows, when their text and blobs reach this
Row = tuple[Any, ...]


def batched(rows: Iterable[Row]) -> Iterator[list[Row]]:
    """Rows in lists of at most BATCH_ROWS rows or about BATCH_BYTES of text and blobs, so a batch
    of long values stays as small as one of short ones."""
    batch: list[Row] = []
    size = 0
    for row in rows:
        batch.append(row)
        size += sum(len(value) for value in row if isinstance(value, (str, bytes)))
        if len(batch) >= BATCH_ROWS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def unique_names(names: list[str]) -> list[str]:
    """`SELECT a, a` has two columns named a; JSON objects need distinct keys: a, a_2."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        result.append(candidate)
    return result


def ran_too_long(timeout: float) -> QueryError:
    return QueryError(f"the query ran longer than {timeout:g} s and was stopped; narrow it or raise --timeout")


def too_long(what: str) -> QueryError:
    """`what` (a value, a row) is past VALUE_LIMIT: one line saying how to ask for less."""
    return QueryError(
        f"the query failed: {what} is longer than {VALUE_LIMIT // 2**20} MiB, the most a query may return; "
        "select less of it (substr(), length())"
    )
