"""Atomic, skip-if-unchanged file writes for the generated files.

A reader (a web server, the app that imports the pool file) sees either the old file or the new
one, never half of one; a file whose bytes would not change keeps its modification time, so
watchers and `make`-style tools only react to real changes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.registry.lock import pid_alive

NEW_FILE_MODE = 0o644  # generated files are meant to be read by others (web servers, builds)


@dataclass
class WriteReport:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return sorted(self.written + self.unchanged)


def write_files(out_dir: Path, files: dict[str, str]) -> WriteReport:
    """Write each name -> text as UTF-8 under out_dir; OSError (with the path) on failure. A name
    is a file name, or a relative `/`-separated path inside out_dir (its folders are made)."""
    out_dir = Path(out_dir)
    for name in files:
        if not inside(name):
            raise ValueError(f"not a file name or a path inside the output folder: {name!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir, files)
    report = WriteReport()
    for name in sorted(files):
        path = out_dir / name
        data = files[name].encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        if same_bytes(path, data):
            report.unchanged.append(path)
        else:
            atomic_write(path, data)
            report.written.append(path)
    return report


def inside(name: str) -> bool:
    """A relative path that names a file and never leaves the folder it is relative to."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def remove_stale_temporaries(out_dir: Path, names: Iterable[str]) -> None:
    """Temporary files of writers that died before their rename (SIGKILL, power loss): named
    `.NAME.PID.XXXX.tmp` beside NAME, they are removed once PID no longer runs, never while it might."""
    import glob

    for relative in names:
        folder, name = (out_dir / relative).parent, Path(relative).name
        for tmp in folder.glob(f".{glob.escape(name)}.*.tmp"):
            pid = tmp.name[len(name) + 2 :].split(".", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                try:
                    tmp.unlink()
                except FileNotFoundError:
                    pass


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def atomic_write(path: Path, data: bytes) -> None:
    """Temporary file in the same folder (so rename stays on one file system), fsync, rename."""
    mode = existing_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def existing_mode(path: Path) -> int:
    """Keep the permissions a user gave the file; new files are world-readable."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return NEW_FILE_MODE


def fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; not every platform lets a folder be opened, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
