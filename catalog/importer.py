"""Backfill history from saved answers: files, or every commit of a git-scraped file.

One process, one lock, one engine; each answer is its own transaction so an interrupted import
keeps what it finished and a re-run skips it (same bytes at the same observed time).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from catalog import store
from catalog.db import open_registry, registry_error
from catalog.errors import CatalogError, FetchError, UsageError
from catalog.lock import registry_lock
from catalog.settings import Settings
from catalog.sync import now_utc, paused_gc, payload_hash, record_failure, render_snapshot, store_answer

log = logging.getLogger("catalog.import")


@dataclass(frozen=True)
class Answer:
    body: bytes
    observed_at: datetime
    source: str


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    already: int = 0
    older: int = 0
    failed: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("added", "returned", "removed", "changed"), 0))
    seconds: float = 0.0
    render_error: str | None = None

    def summary(self) -> str:
        c = self.counts
        parts = [f"{self.imported} imported"]
        if self.already:
            parts.append(f"{self.already} already imported")
        if self.older:
            parts.append(f"{self.older} older than the registry (skipped)")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return (
            f"{self.total} answers: {', '.join(parts)}; +{c['added']} added, {c['returned']} returned, "
            f"-{c['removed']} removed, {c['changed']} changed ({self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class Answers:
    """Answers to import, oldest first, read one at a time; `len()` is known before the first
    is read (progress shows it), though a git commit that deleted the file yields nothing."""

    total: int
    items: Iterable[Answer]

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[Answer]:
        return iter(self.items)


def answers_from_files(paths: Iterable[Path]) -> Answers:
    """Oldest modification time first; each observed at its modification time."""
    stamped = []
    for path in paths:
        try:
            stamped.append((path.stat().st_mtime, str(path), path))
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}; check the file names") from None
    return Answers(len(stamped), _read_files(sorted(stamped)))


def _read_files(stamped: list[tuple[float, str, Path]]) -> Iterator[Answer]:
    for mtime, _, path in stamped:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}; check the file names") from None
        observed = datetime.fromtimestamp(int(mtime), timezone.utc)
        yield Answer(body, observed, f"file:{path}")


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("`git` is not installed; install git to import from a repository") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise UsageError(f"git failed in {repo}: {message}; check --git and --path")
    return done.stdout


def answers_from_git(repo: Path, path: str) -> Answers:
    """Every commit that touched `path`, oldest first, observed at its commit time."""
    path = path.removeprefix("./")
    log_lines = _git(repo, "log", "--reverse", "--format=%H %ct", "--", path).split()
    commits = list(zip(log_lines[0::2], log_lines[1::2]))
    if not commits:
        raise UsageError(f"no commit in {repo} touches {path}; check --path (relative to the repository root)")
    return Answers(len(commits), _read_commits(repo, path, commits))


def _read_commits(repo: Path, path: str, commits: list[tuple[str, str]]) -> Iterator[Answer]:
    """Blobs are read through one `git cat-file --batch` process rather than one `git show` per
    commit. Every request is written up front, from a thread, so git inflates the next blobs on
    the other core while this one is parsed and stored."""
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    writer = threading.Thread(target=_request_blobs, args=(proc.stdin, path, commits), daemon=True)
    writer.start()
    try:
        for sha, stamp in commits:
            header = proc.stdout.readline().decode().split()
            if len(header) < 3 or header[1] != "blob":  # deleted in this commit, or not a file
                continue
            body = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
            yield Answer(body, datetime.fromtimestamp(int(stamp), timezone.utc), f"git:{repo.name}@{sha[:12]}:{path}")
    finally:
        proc.stdout.close()  # a writer still blocked on a full pipe gets a broken pipe and ends
        writer.join()
        proc.wait()


def _request_blobs(stdin, path: str, commits: list[tuple[str, str]]) -> None:
    try:
        with stdin:
            for sha, _ in commits:
                stdin.write(f"{sha}:{path}\n".encode())
    except (BrokenPipeError, ValueError):  # the reader stopped early and git has gone
        pass


def import_answers(settings: Settings, answers: Iterable[Answer],
                   on_answer: Callable[[], None] | None = None) -> ImportResult:
    """Import `answers` in order; `on_answer()`, when given, is called after each (progress)."""
    clock = time.perf_counter()
    result = ImportResult()
    with registry_lock(settings.db, wait=settings.lock_wait), paused_gc():
        engine = open_registry(settings.db)
        try:
            # One connection for every answer: closing SQLite's last connection checkpoints the
            # WAL, which a connection per answer paid 54 times (0.26 s of the 54 real captures).
            with engine.connect() as conn:
                for answer in answers:
                    result.total += 1
                    _import_one(engine, conn, answer, settings, result)
                    if on_answer:
                        on_answer()
            if settings.render and result.imported:
                try:
                    render_snapshot(engine, settings)
                except CatalogError as exc:
                    result.render_error = str(exc)
        finally:
            engine.dispose()
    result.seconds = time.perf_counter() - clock
    return result


def _import_one(engine, conn, answer: Answer, settings: Settings, result: ImportResult) -> None:
    started = now_utc()
    try:
        with conn.begin():
            if store.payload_seen(conn, payload_hash(answer.body), answer.observed_at):
                result.already += 1
                return
            last = store.last_ok_run(conn)
            if last is not None and answer.observed_at < last.observed_at:
                log.warning("skipped %s: observed %s, before the registry's newest run", answer.source, answer.observed_at)
                result.older += 1
                return
            synced = store_answer(
                conn, body=answer.body, source=answer.source, observed=answer.observed_at,
                started=started, allow_mass_removal=settings.allow_mass_removal,
            )
    except Exception as exc:
        error = registry_error(exc, settings.db)
        if not isinstance(error, CatalogError):
            raise
        log.warning("failed %s: %s", answer.source, error)
        record_failure(engine, source=answer.source, observed=answer.observed_at, started=started, error=str(error))
        result.failed += 1
        return
    result.imported += 1
    for kind, count in synced.counts.items():
        result.counts[kind] += count
