"""One sync at a time per registry: an exclusive `flock` on a file beside the database.

The kernel drops a `flock` when its holder dies, however it dies, so a killed sync can never
leave the registry locked. The file also carries who holds it (pid, start time, host, command),
written after the lock is taken, so that a second sync can say whom it is waiting for. That text
can outlive its writer (after a SIGKILL), so it is only read while the lock is really held by
someone else, and a pid that no longer exists on this host is not reported.

Readers never take this lock: SQLite's own locking (WAL) keeps their snapshots consistent.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.errors import LockedError, RegistryError
from catalog.registry.locations import sqlite_path
from catalog.times import format_time, parse_time

log = logging.getLogger("catalog")

POLL_SECONDS = 0.1  # how often --wait retries; a lock is held for seconds, so this is plenty
NOTE_SECONDS = 0.5  # how long a refused sync waits for a new holder to write who it is
NOTE_POLL_SECONDS = 0.02


def lock_path(db: str) -> Path:
    """`<db file>.lock` for SQLite; for other URLs a file named by a hash of the URL.

    Such a file lock is per host. PostgreSQL does not use it: its lock lives on the server
    (catalog.registry.pglock). CATALOG_LOCK_DIR moves those files.
    """
    path = sqlite_path(db)
    if path is not None:
        # Resolved like catalog.db opens it, so every spelling of one file shares one lock.
        path = path.resolve()
        return path.with_name(path.name + ".lock")
    digest = hashlib.sha256(db.encode()).hexdigest()[:16]
    folder = Path(os.environ.get("CATALOG_LOCK_DIR") or tempfile.gettempdir())
    return folder / f"catalog-{digest}.lock"


@contextmanager
def registry_lock(db: str, *, wait: float | None = None) -> Iterator[Path]:
    """Hold the registry's sync lock for the `with` block; yields the lock file's path.

    Raises LockedError (exit 75) when another process holds it, at once or after `wait` seconds.
    """
    path = lock_path(db)
    fd, writable = _open(path)
    try:
        _acquire(fd, path, wait)
        try:
            if writable:
                _write_holder(fd)
            yield path
        finally:
            if writable:
                _clear_holder(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(path: Path) -> tuple[int, bool]:
    """Open (creating) the lock file; read-only still locks, it just cannot say who holds it."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666), True
    except PermissionError:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC), False
        except OSError as exc:
            raise RegistryError(f"cannot open lock file {path}: {exc.strerror}") from None
    except FileNotFoundError:
        raise RegistryError(f"cannot lock the registry: folder {path.parent} does not exist") from None
    except OSError as exc:
        raise RegistryError(f"cannot create lock file {path}: {exc.strerror}; check the folder's permissions") from None


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise RegistryError(f"cannot lock the registry: {exc.strerror}") from None
    return True


def _acquire(fd: int, path: Path, wait: float | None) -> None:
    if _try_flock(fd):
        return
    acquired, note = _holder_note(fd, path)
    if acquired:
        return
    holder = describe_holder(note)
    if not wait:
        raise LockedError(f"another sync is running{holder}; try again later or pass --wait SECONDS")
    log.info("waiting up to %g s for another sync to finish%s", wait, holder)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        if _try_flock(fd):
            return
    holder = describe_holder(read_holder(path))
    raise LockedError(
        f"another sync is still running after {wait:g} s{holder}; try again later or pass a longer --wait"
    )


def _holder_note(fd: int, path: Path) -> tuple[bool, dict[str, Any] | None]:
    """The holder's note, given the moment between its taking the lock and writing the note;
    (True, None) when the lock came free meanwhile and is now ours."""
    deadline = time.monotonic() + NOTE_SECONDS
    while True:
        note = read_holder(path)
        if note is not None or time.monotonic() >= deadline:
            return False, note
        time.sleep(NOTE_POLL_SECONDS)
        if _try_flock(fd):
            return True, None


def _write_holder(fd: int) -> None:
    info = {
        "pid": os.getpid(),
        "since": format_time(datetime.now(UTC)),
        "host": socket.gethostname(),
        "command": " ".join(sys.argv)[:500],
    }
    data = (json.dumps(info) + "\n").encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
    except OSError as exc:  # the lock itself is held; only the courtesy note failed
        log.debug("could not record the lock holder: %s", exc)


def _clear_holder(fd: int) -> None:
    """Empty the file before unlocking, so a clean exit leaves no text to misread."""
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass


def read_holder(path: Path) -> dict[str, Any] | None:
    """The holder note in the lock file, or None when absent, unreadable or stale."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not written yet (the holder took the lock a moment ago) or emptied
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    if info.get("host") == socket.gethostname() and not pid_alive(info["pid"]):
        return None  # left by a killed process; the current holder has not written yet
    return info


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def describe_holder(info: dict[str, Any] | None) -> str:
    """` (pid 1234, since 12:00:03)` for messages; empty when the holder is unknown."""
    if not info:
        return ""
    where = "" if info.get("host") in (None, socket.gethostname()) else f" on {info['host']}"
    since = _local_time(info.get("since"))
    return f" (pid {info['pid']}{where}{', since ' + since if since else ''})"


def _local_time(text: object) -> str:
    """The holder's start in this machine's local time: HH:MM:SS today, else with the date."""
    try:
        moment = parse_time(str(text)).astimezone()
    except ValueError:
        return ""
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")
