"""Text wrapped to a terminal's width between words, never inside one: a model id, a number like
`5.00` or a word like `tools` stays whole, so it can be read and copied.

Off a terminal nothing is wrapped: a pipe or a file gets the lines as written.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

from catalog.display import term
from catalog.display.cells import text_width

_WORDS = re.compile(r"(\s*)(\S+)")


def wrap_words(text: str, width: int, indent: str = "") -> list[str]:
    """`text` in lines of at most `width` cells, broken only between words; a word wider than a
    line stands alone on its line, whole. Spacing inside a line is kept; lines after the first
    start with `indent`."""
    if text_width(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for space, word in _WORDS.findall(text):
        if not line:
            line = space + word  # the text's own leading space
        elif text_width(line) + text_width(space) + text_width(word) <= width:
            line += space + word
        else:
            lines.append(line)
            line = indent + word
    return [*lines, line] if line else lines


class _WrappedLines(io.TextIOBase):
    """A text stream that writes each whole line to `out` wrapped to `width`, continuation lines
    indented like the line they continue."""

    def __init__(self, out: TextIO, width: int):
        self.out, self.width, self.pending = out, width, ""

    def write(self, text: str) -> int:
        self.pending += text
        *whole, self.pending = self.pending.split("\n")
        for line in whole:
            indent = line[: len(line) - len(line.lstrip(" "))]
            self.out.write("\n".join(wrap_words(line, self.width, indent)) + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:  # a last line without its newline
            indent = self.pending[: len(self.pending) - len(self.pending.lstrip(" "))]
            self.out.write("\n".join(wrap_words(self.pending, self.width, indent)))
            self.pending = ""
        self.out.flush()


def wrapped(out: TextIO) -> TextIO:
    """`out` itself off a terminal; at one, a stream that wraps each line to its width."""
    if not term.is_terminal(out):
        return out
    return _WrappedLines(out, term.width(out))  # type: ignore[return-value]
