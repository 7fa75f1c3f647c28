"""Where OpenRouter model ids occur in a file's bytes.

Every OpenRouter id is `vendor/model`, one slash, the model part maybe with a `:variant`. Two
shapes are found: any id the registry knows, and any `vendor/model:free` string, known or not.
An id must start a word, so `xgoogle/…` is not `google/…`, but may follow a slash, so
`openrouter/google/gemma-3-27b-it:free` (LiteLLM's form) and URLs on openrouter.ai are found.
Trailing `.`, `:` and `-` end a sentence, not an id.

Speed is the point here (a scan of a large tree should cost a small multiple of `grep`'s): files
are searched many at a time, and every search starts with a literal, which the regex engine finds in C. Known ids are found from their
slash: the bytes are searched reversed, where `/` comes before the reversed vendor names. `:free`
ids are found from `:free`, their start found by matching the reversed bytes backwards from it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

_WORD = rb"A-Za-z0-9_.\-"  # what a vendor or a model name is made of
_MODEL = re.compile(rb"[A-Za-z0-9_.\-:]+")
_FREE = re.compile(rb":free(?![A-Za-z0-9_\-])")
_TOKEN_BACKWARDS = re.compile(rb"[" + _WORD + rb"]+/[" + _WORD + rb"]+(?![" + _WORD + rb"])")


@dataclass(frozen=True)
class Occurrence:
    line: int  # 1-based
    column: int  # 1-based, in characters
    model_id: str


class IdFinder:
    """Built once from the ids the registry knows; `find` then runs over each file's bytes."""

    def __init__(self, known_ids: Collection[str]) -> None:
        self.known = frozenset(known_ids)
        vendors = sorted({i.split("/", 1)[0].encode() for i in self.known if "/" in i}, key=len, reverse=True)
        reversed_names = b"|".join(re.escape(vendor[::-1]) for vendor in vendors)
        self._vendor_backwards = re.compile(rb"/(?:" + reversed_names + rb")(?![" + _WORD + rb"])") if vendors else None

    def find_in(self, files: Sequence[bytes]) -> Iterator[tuple[int, Occurrence]]:
        """The ids in each of `files` as (index of the file, occurrence), in order. The files are
        searched joined by newlines (which no id crosses): one regex pass for many small files
        costs far less than one pass each."""
        blob = b"\n".join(files)
        offsets = list(accumulate((len(data) + 1 for data in files[:-1]), initial=0))
        starts = self._known_starts(blob)
        if blob.find(b":free") != -1:
            starts = self._free_starts(blob, starts)
        current, line, line_start, counted_to = -1, 1, 0, 0
        for start in sorted(starts):
            index = bisect_right(offsets, start) - 1
            if index != current:
                current, line, line_start, counted_to = index, 1, offsets[index], offsets[index]
            newlines = blob.count(b"\n", counted_to, start)
            if newlines:
                line += newlines
                line_start = blob.rindex(b"\n", counted_to, start) + 1
            counted_to = start
            token = starts[start]
            column = len(blob[line_start:start].decode("utf-8", "surrogateescape")) + 1
            yield index, Occurrence(line, column, token)

    def _known_starts(self, data: bytes) -> dict[int, str]:
        found: dict[int, str] = {}
        if self._vendor_backwards is None or data.find(b"/") == -1:
            return found
        size = len(data)
        for match in self._vendor_backwards.finditer(data[::-1]):
            start, slash = size - match.end(), size - match.start() - 1
            model = _MODEL.match(data, slash + 1)
            if model is None or data[model.end() : model.end() + 1] == b"/":  # `openrouter/<id>`: a prefix
                continue
            token = data[start : model.end()].rstrip(b".:-").decode("ascii")
            if token in self.known:
                found[start] = token
        return found

    def _free_starts(self, data: bytes, found: dict[int, str]) -> dict[int, str]:
        size, backwards = len(data), data[::-1]
        for match in _FREE.finditer(data):
            token = _TOKEN_BACKWARDS.match(backwards, size - match.start())
            if token is not None:
                start = size - token.end()
                found.setdefault(start, data[start : match.end()].decode("ascii"))
        return found
