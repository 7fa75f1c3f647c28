"""Which files of a project `catalog check` reads: text files a person keeps, not what git ignores.

Inside a git work tree the files are those `git ls-files` names (tracked, plus untracked files
git does not ignore), so build output, virtual environments and other ignored folders are never
read or rewritten. Outside one, every file under the folder but `.git`. Symbolic links are not
followed (a link could lead out of the project or round in a loop), binary files (a NUL byte in
the first 8 KiB) and files over `MAX_FILE_BYTES` are skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 1024 * 1024
BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ProjectFile:
    path: Path  # as the user will read it: relative to the folder given when it was given relative
    data: bytes


def read_project_files(paths: Iterable[Path]) -> Iterator[ProjectFile]:
    """Each text file under `paths` (files or folders) once, with its bytes."""
    seen: set[Path] = set()
    for path in paths:
        for candidate in _files_under(path):
            key = candidate.resolve()
            if key in seen:
                continue
            seen.add(key)
            data = _text_of(candidate)
            if data is not None:
                yield ProjectFile(candidate, data)


def _files_under(path: Path) -> Iterator[Path]:
    if path.is_symlink():
        return
    if path.is_file():
        yield path
        return
    listed = _git_files(path)
    if listed is None:
        yield from _walk(path)
        return
    for name in listed:
        candidate = path / name
        if not candidate.is_symlink() and candidate.is_file():
            yield candidate


def _git_files(folder: Path) -> list[str] | None:
    """Files under `folder` that git tracks or would track; None outside a work tree (or no git)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
        )
    except OSError:  # no git on this machine
        return None
    if done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({name for name in names if name})


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(names):
            candidate = Path(root) / name
            if not candidate.is_symlink():
                yield candidate


def _text_of(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:  # vanished, or unreadable: nothing to check
        return None
    if len(data) > MAX_FILE_BYTES or b"\0" in data[:BINARY_SNIFF_BYTES]:
        return None
    return data
