"""Saved answers to import, oldest first: files, or every commit of a git-scraped file; and the
same answers parsed ahead by a child process while the importer starts up and stores.

No SQLAlchemy here: the child is forked before the importer imports it, so the two overlap on
two cores (the parse of the 54 real captures, 0.25 s, against the 0.33 s of SQLAlchemy and
Alembic imports and the stores).
"""

from __future__ import annotations

import gc
import hashlib
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from catalog.errors import CatalogError, FetchError, UsageError
from catalog.ingest.entries import read_catalog
from catalog.ingest.normalize import Catalog

if TYPE_CHECKING:
    import queue
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess


@dataclass(frozen=True)
class Answer:
    body: bytes  # empty once parsed ahead: `digest` and `parsed` stand for it
    observed_at: datetime
    source: str
    digest: str | None = None  # sync.payload_hash of the body, when parsed ahead
    parsed: Catalog | CatalogError | None = None  # read_catalog(body, paid_as_ids=True), or its error


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
        observed = datetime.fromtimestamp(int(mtime), UTC)
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
    commits = list(zip(log_lines[0::2], log_lines[1::2], strict=False))
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
    assert proc.stdin is not None and proc.stdout is not None  # both are pipes
    writer = threading.Thread(target=_request_blobs, args=(proc.stdin, path, commits), daemon=True)
    writer.start()
    try:
        for sha, stamp in commits:
            header = proc.stdout.readline().decode().split()
            if len(header) < 3 or header[1] != "blob":  # deleted in this commit, or not a file
                continue
            body = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
            yield Answer(body, datetime.fromtimestamp(int(stamp), UTC), f"git:{repo.name}@{sha[:12]}:{path}")
    finally:
        proc.stdout.close()  # a writer still blocked on a full pipe gets a broken pipe and ends
        writer.join()
        proc.wait()


def _request_blobs(stdin: IO[bytes], path: str, commits: list[tuple[str, str]]) -> None:
    try:
        with stdin:
            for sha, _ in commits:
                stdin.write(f"{sha}:{path}\n".encode())
    except (BrokenPipeError, ValueError):  # the reader stopped early and git has gone
        pass


def parsed_ahead(answers: Answers) -> Answers:
    """The same answers, each read, hashed and normalized by a forked child ahead of its use.
    Where fork is unavailable, or for a single answer, the answers are returned as they are."""
    import multiprocessing

    if len(answers) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return answers
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_parse_all, args=(answers, send), daemon=True)
    child.start()  # now, not at the first answer asked for: it works while the importer starts
    send.close()
    return Answers(answers.total, _from_child(child, receive))


def _from_child(child: BaseProcess, receive: Connection) -> Iterator[Answer]:
    try:
        while True:
            item = receive.recv()
            if item is None:
                return
            if isinstance(item, BaseException):  # reading the answers failed: as it would here
                raise item
            yield item
    except EOFError:
        raise FetchError("the process reading the answers ended early; run the import again") from None
    finally:
        receive.close()
        child.terminate()  # stops a child blocked on a full pipe when the import stopped early
        child.join()


def _parse_all(answers: Answers, send: Connection) -> None:
    """Parse every answer as fast as it can, whatever the importer's pace. A pipe holds only a few
    parsed answers (64 KiB), so sending from this thread would stall the parse after two or three
    while the importer is still starting up (measured: the importer then waited 0.5 s on the pipe);
    a second thread sends them instead, from an unbounded queue."""
    import queue

    gc.disable()  # short-lived, and most of what it allocates lives to the end of each answer
    outbox: queue.SimpleQueue[Answer | Exception | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_all, args=(outbox, send))
    sender.start()
    try:
        for answer in answers:
            try:
                parsed: Catalog | CatalogError = read_catalog(answer.body, paid_as_ids=True)
            except CatalogError as exc:
                parsed = exc
            digest = hashlib.sha256(answer.body).hexdigest()  # as sync.payload_hash (which imports SQLAlchemy)
            outbox.put(replace(answer, body=b"", digest=digest, parsed=parsed))
        outbox.put(None)
    except Exception as exc:
        outbox.put(exc)
        outbox.put(None)
    finally:
        sender.join()


def _send_all(outbox: queue.SimpleQueue[Answer | Exception | None], send: Connection) -> None:
    """Send what the parse produces, in order, up to its end (None) or the importer leaving."""
    try:
        while True:
            item = outbox.get()
            if item is None:
                send.send(None)
                return
            send.send(item)
    except OSError:  # the importer stopped early and closed its end
        pass
    finally:
        send.close()
