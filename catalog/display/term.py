"""The terminal: is there one, how wide is it, may we colour, and the few colours we use.

Stdlib only and no work at import, so any command may ask without slowing `--help`. Colour is
plain ANSI SGR: it is used only where it carries meaning, only when the stream is a terminal,
and never when `NO_COLOR` is set to anything (https://no-color.org), `TERM` is `dumb`, or the
command was given `--no-color`.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

DEFAULT_WIDTH = 80

# SGR foreground colours by name; styles elsewhere are these names, so no escape code leaks
# into data or tests.
COLORS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2"}
RESET = "\x1b[0m"
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# Health states as the registry names them, each with its badge and colour. The badges are
# emoji two cells wide; the table writer measures them so.
HEALTH = {
    "up": ("🟢", "green"),
    "degraded": ("🟡", "yellow"),
    "down": ("🔴", "red"),
    "unknown": ("⚪", None),
}


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def width(stream: TextIO) -> int:
    """Columns of the terminal behind `stream`; `COLUMNS` wins when it is a positive number,
    as `shutil.get_terminal_size` does, but the stream asked about is the one written to."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    try:
        return os.get_terminal_size(stream.fileno()).columns or DEFAULT_WIDTH
    except (AttributeError, ValueError, OSError):
        return DEFAULT_WIDTH


def color_wanted(stream: TextIO, no_color: bool = False) -> bool:
    """Colour for `stream`: a terminal, no `--no-color`, no non-empty `NO_COLOR`, not `TERM=dumb`."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def paint(text: str, color: str | None) -> str:
    """`text` in `color` (a name from COLORS); unchanged for None or an empty text."""
    if not color or not text:
        return text
    return f"\x1b[{COLORS[color]}m{text}{RESET}"


def strip_escapes(text: str) -> str:
    return _ESCAPE.sub("", text)


def health_badge(state: str | None) -> tuple[str, str | None]:
    """`("🟢 up", "green")` for a health state; unknown states get no badge and no colour."""
    if state is None:
        return "", None
    badge, color = HEALTH.get(state, ("", None))
    return (f"{badge} {state}" if badge else state), color
