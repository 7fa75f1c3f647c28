"""Scan many files for model ids: in batches (one regex pass for many small files), and on every
core when the tree is large (reading and searching 20,000 files is CPU work; the processes are
forked, so they start in milliseconds and share the finder)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from catalog.jobs.id_finder import IdFinder, Occurrence
from catalog.jobs.project_files import read_text

BATCH_BYTES = 4 * 1024 * 1024  # searched at once: memory stays bounded, the search fast
PARALLEL_FILES = 2000  # fewer files are scanned in this process: forking would cost more than it saves
MAX_WORKERS = 8


@dataclass(frozen=True)
class FileHits:
    path: str
    occurrences: tuple[Occurrence, ...]


@dataclass(frozen=True)
class ScanResult:
    files: int  # read (text files within the size limit)
    hits: list[FileHits]  # files with at least one id, in the order listed


def scan(paths: Sequence[str], finder: IdFinder) -> ScanResult:
    workers = _workers(len(paths))
    if workers <= 1:
        return _scan_part(finder, paths)
    size = -(-len(paths) // (workers * 4))  # a few parts per worker, so none waits on a slow one
    parts = [paths[i : i + size] for i in range(0, len(paths), size)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        done = list(pool.map(_scan_part, [finder] * len(parts), parts))
    return ScanResult(sum(d.files for d in done), [hit for d in done for hit in d.hits])


def _workers(files: int) -> int:
    if files < PARALLEL_FILES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, MAX_WORKERS))


def _scan_part(finder: IdFinder, paths: Sequence[str]) -> ScanResult:
    files, hits = 0, []
    for batch in _batches(paths):
        files += len(batch)
        found: dict[int, list[Occurrence]] = {}
        for index, occurrence in finder.find_in([data for _, data in batch]):
            found.setdefault(index, []).append(occurrence)
        hits += [FileHits(batch[index][0], tuple(occurrences)) for index, occurrences in sorted(found.items())]
    return ScanResult(files, hits)


def _batches(paths: Sequence[str]) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for path in paths:
        data = read_text(path)
        if data is None:
            continue
        batch.append((path, data))
        size += len(data)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
