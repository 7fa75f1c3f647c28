"""Which files of a project `catalog check` reads: text files a person keeps, not what git ignores.

Inside a git work tree the files are those `git ls-files` names (tracked, plus untracked files
git does not ignore), so build output, virtual environments and other ignored folders are never
read or rewritten. Outside one, every file under the folder but `.git`. Symbolic links are not
followed (a link could lead out of the project or round in a loop), binary files (a NUL byte in
the first 8 KiB) and files over `MAX_FILE_BYTES` are skipped. Plain `os` calls, not `Path`
objects: a scan of 20,000 files spends most of its time here.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable, Iterator

MAX_FILE_BYTES = 1024 * 1024
BINARY_SNIFF_BYTES = 8192


def list_project_files(paths: Iterable[str]) -> list[str]:
    """The files under `paths` (files or folders) that a check reads, each once, in a stable order."""
    seen: set[str] = set()
    listed = []
    for path in paths:
        for candidate in _files_under(path):
            key = os.path.normpath(os.path.abspath(candidate))  # no realpath: 5 syscalls a file
            if key not in seen:
                seen.add(key)
                listed.append(candidate)
    return listed


def _files_under(path: str) -> Iterator[str]:
    if os.path.islink(path):
        return
    if not os.path.isdir(path):
        yield path
        return
    listed = _git_files(path)
    yield from _walk(path) if listed is None else (os.path.join(path, name) for name in listed)


def _git_files(folder: str) -> list[str] | None:
    """Files under `folder` that git tracks or would track; None outside a work tree (or no git)."""
    try:
        done = subprocess.run(
            ["git", "-C", folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
        )
    except OSError:  # no git on this machine
        return None
    if done.returncode != 0:
        return None
    return sorted({name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name})


def _walk(folder: str) -> Iterator[str]:
    with os.scandir(folder) as entries:
        ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != ".git":
                yield from _walk(entry.path)
        elif entry.is_file(follow_symlinks=False):
            yield entry.path


def read_text(path: str) -> bytes | None:
    """The file's bytes; None for a binary file, one over MAX_FILE_BYTES, a link or a vanished file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # vanished, unreadable, or a link (git lists links too): nothing to check
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        data = os.read(fd, info.st_size + 1)  # one more byte: a file that grew since fstat is too big
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES or data.find(b"\0", 0, BINARY_SNIFF_BYTES) != -1:
        return None
    return data
