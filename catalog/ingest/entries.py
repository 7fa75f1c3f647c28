"""An answer's bytes -> its normalized catalog, decoding one window of text and one entry at a time.

`normalize(parse_payload(body))` holds the bytes, their whole decoded text (twice their size as
soon as one character is past Latin-1) and every entry's dict at once: 550 MiB at the peak of a
50,000-model sync of an 88 MB answer. Here only the bytes, a window of text and the records kept
are alive together.

Only the shape the API sends is read this way: `{"data": [entry, ...]}`, with JSON whitespace
anywhere. Any other document, valid or not (another key, bad UTF-8, a JSON error, an empty list),
stops the stream and is read the ordinary way, so it gets exactly the result or error it always did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from catalog.ingest.normalize import Catalog, normalize, parse_payload

WINDOW = 1 << 20  # bytes decoded at a time; an entry longer than a window widens it
# The next window is joined on when less than this is left, so an entry is seldom cut: a cut one
# costs a failed decode, whose JSONDecodeError counts the newlines of the text before it.
MARGIN = 1 << 16
HEAD_LIMIT = 256  # characters of text that must hold `{"data": [` (whitespace included)
_WS = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module reads it
_HEAD = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"data"[ \t\n\r]*:[ \t\n\r]*\[[ \t\n\r]*')
_TAIL = re.compile(r"[ \t\n\r]*\}[ \t\n\r]*")
# Escapes of NUL and of UTF-16 surrogates, the only ways a decoded string can need `storable`
# (JSON forbids a raw control character in a string; strict UTF-8 decoding refuses a surrogate).
# An escaped backslash before "u0000" also matches: that only costs the quick path.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_decode = json.JSONDecoder().raw_decode  # what json.loads reads each value with


class _NotPlain(Exception):
    """The answer is not in the API's own shape: read it the ordinary way."""


def read_catalog(body: bytes, *, paid_as_ids: bool = False) -> Catalog:
    """`normalize(parse_payload(body), paid_as_ids=...)`: the same catalog, or the same error."""
    clean = _UNSTORABLE_ESCAPE.search(body) is None
    try:
        return normalize(data_entries(body), paid_as_ids=paid_as_ids, clean=clean)
    except _NotPlain:
        return normalize(parse_payload(body), paid_as_ids=paid_as_ids, clean=clean)


def data_entries(body: bytes) -> Iterator[Any]:
    """The entries of `{"data": [...]}` one by one, as json.loads would give them; _NotPlain
    (possibly after some entries) when the body is anything else."""
    window = _Windows(body)
    text = window.next("")
    while len(text) < HEAD_LIMIT and not window.done:  # `{"data": [` and the next character, whole
        text = window.next(text)
    head = _HEAD.match(text)
    if head is None or head.end() == len(text) or text.startswith("]", head.end()):
        raise _NotPlain  # another shape, or no entry at all (parse_payload says which)
    pos = head.end()
    cut = False  # the last try ran into the window's end
    while True:
        if len(text) - pos < MARGIN and not window.done:
            text, pos = window.next(text[pos:]), 0
        space = _WS.match(text, pos)  # (raw_decode skips none)
        assert space is not None  # _WS matches the empty string too
        pos = space.end()
        try:
            entry, end = _decode(text, pos)
            space = _WS.match(text, end)
            assert space is not None  # _WS matches the empty string too
            after = space.end()
            delimiter = text[after] if after < len(text) else ""
        except (ValueError, RecursionError):  # a cut entry, or a real error found again by json.loads
            delimiter = ""
        if delimiter not in (",", "]"):  # cut by the window's end (or not JSON: then the body ends first)
            text, pos, cut = window.next(text[pos:], widen=cut), 0, True
            continue
        if cut:
            window.size, cut = WINDOW, False
        yield entry
        if delimiter == "]":
            rest = text[after + 1 :] + window.rest()
            if _TAIL.fullmatch(rest) is None:
                raise _NotPlain
            return
        pos = after + 1


class _Windows:
    """The body's text, a window at a time, each cut on a character boundary."""

    def __init__(self, body: bytes) -> None:
        self.view = memoryview(body)
        self.at = 0
        self.size = WINDOW

    @property
    def done(self) -> bool:
        return self.at >= len(self.view)

    def next(self, kept: str, *, widen: bool = False) -> str:
        """`kept` followed by the next window's text; `widen` doubles the window (until an entry is
        read whole again), so a long entry (or a broken body) costs linear time."""
        total = len(self.view)
        if self.at >= total:
            raise _NotPlain  # the text ended inside an entry: not JSON, or not this shape
        if widen:
            self.size *= 2
        end = min(self.at + self.size, total)
        while end < total and self.view[end] & 0xC0 == 0x80:  # on to the end of a UTF-8 character
            end += 1
        text = self._decode(self.at, end)
        self.at = end
        return kept + text

    def rest(self) -> str:
        text = self._decode(self.at, len(self.view))
        self.at = len(self.view)
        return text

    def _decode(self, start: int, end: int) -> str:
        try:
            return str(self.view[start:end], "utf-8")
        except UnicodeDecodeError:
            raise _NotPlain from None  # parse_payload names the offset in the whole body
