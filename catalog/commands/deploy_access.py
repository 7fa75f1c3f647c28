"""Can a user other than the owner start this installation's `catalog`? A system unit deployed
as root runs as a dynamic user, which reaches only what is open to everyone: a virtual
environment under /root, say, would fail only when the timer first runs it."""

from __future__ import annotations

import stat
from pathlib import Path


def hidden_from_others(argv: list[str]) -> Path | None:
    """The first file a user other than its owner could not reach to start `argv` (the program,
    through its symlinks, and a script's interpreter): a folder on the way without the others'
    x bit, or the file without their r and x bits. None when all of it is open to everyone."""
    program = Path(argv[0])
    seen: set[Path] = set()
    todo = [program]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_absolute():
            continue
        seen.add(path)
        real = path.resolve()
        for folder in reversed(real.parents):
            if not _others_may(folder, stat.S_IXOTH):
                return folder
        if not _others_may(real, stat.S_IROTH | stat.S_IXOTH):
            return real
        todo.append(real)
        todo.extend(_interpreter(real))
    return None


def _others_may(path: Path, bits: int) -> bool:
    try:
        return path.stat().st_mode & bits == bits
    except OSError:
        return True  # not there to check: systemd will say so


def _interpreter(script: Path) -> list[Path]:
    """A script's `#!` interpreter, as a path."""
    try:
        with script.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return []
    if not first.startswith(b"#!"):
        return []
    words = first[2:].decode(errors="replace").split()
    return [Path(words[0])] if words else []
