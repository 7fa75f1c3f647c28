"""Progress of long work on one line of stderr, only when stderr is a terminal.

    with progress("importing", total=len(answers), unit="commits") as tick:
        for answer in answers:
            ...
            if tick:
                tick()

`tick` is None when nothing is drawn (stderr is a pipe, a file, a journal): the loop then does
no work per item, and cron, systemd and logs keep their one summary line and nothing else. On a
terminal the line reads `importing  23/54 commits  42%  11.8/s  0:03 left`, is redrawn at most
ten times a second, is cleared before any log line is written (and redrawn after), and is wiped
at the end so the command's own summary stands alone. No escape codes: a carriage return and
spaces, which every terminal understands.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from catalog.display import term
from catalog.display.cells import text_width, truncate

REDRAW_SECONDS = 0.1


class Tick(Protocol):
    """`tick()` or `tick(n)`: n items done (one when not given). Fits an `on_answer()` callback."""

    def __call__(self, n: int = 1) -> None: ...


@contextmanager
def progress(
    label: str, total: int | None = None, unit: str = "", stream: TextIO | None = None, logger: str = "catalog"
) -> Iterator[Tick | None]:
    """Yield a `tick(n=1)` to call per item done, or None when `stream` (stderr) is no terminal."""
    stream = stream or sys.stderr
    if not term.is_terminal(stream):
        yield None
        return
    line = ProgressLine(label, total, unit, stream)
    quiet = _ClearBeforeLogging(line)
    handlers = logging.getLogger(logger).handlers
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        line.draw()
        yield line.tick
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
        line.clear()


class ProgressLine:
    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO):
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.done = 0
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.shown = 0  # cells on screen, to blank them out

    def tick(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.drawn_at >= REDRAW_SECONDS or self.done == self.total:
            self.draw(now)

    def text(self, now: float) -> str:
        elapsed = now - self.started
        unit = f" {self.unit}" if self.unit else ""
        parts = [self.label, f"{self.done}/{self.total}{unit}" if self.total else f"{self.done}{unit}"]
        if self.total:
            parts.append(f"{100 * self.done // self.total}%")
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            parts.append(f"{rate:.1f}/s" if rate < 100 else f"{rate:.0f}/s")
            if self.total and self.done < self.total:
                parts.append(f"{clock(round((self.total - self.done) / rate))} left")
        return "  ".join(parts)

    def draw(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        # One cell short of the edge: some terminals wrap when the last cell is written.
        text = truncate(self.text(now), term.width(self.stream) - 1)
        self._write("\r" + text + " " * max(0, self.shown - text_width(text)))
        self.shown, self.drawn_at = text_width(text), now

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * self.shown + "\r")
            self.shown = self.drawn_at = 0  # the next tick draws at once

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the work itself goes on
            pass


class _ClearBeforeLogging(logging.Filter):
    """A log line must not land in the middle of the progress line: wipe it first. The next
    tick draws it again below the log line."""

    def __init__(self, line: ProgressLine):
        super().__init__()
        self.line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self.line.clear()
        return True


def clock(seconds: int) -> str:
    """`0:07`, `12:30`, `1:02:03`: time left as a clock reads."""
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
