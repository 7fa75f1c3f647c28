"""Where OpenRouter model ids occur in a file's bytes.

Every OpenRouter id is `vendor/model`, one slash, the model part maybe with a `:variant`. Two
shapes are found: any id the registry knows (its vendor starts the match), and any
`vendor/model:free` string, known or not. A match must start a word, so `xgoogle/…` is not
`google/…`, but may follow a slash, so `openrouter/google/gemma-3-27b-it:free` (LiteLLM's form)
and URLs on openrouter.ai are found. Trailing `.`, `:` and `-` end a sentence, not an id.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

FREE_SUFFIX = ":free"
_NAME = rb"[A-Za-z0-9_.\-]"
_MODEL = rb"[A-Za-z0-9_.\-:]"
_START = rb"(?<![A-Za-z0-9_.\-])"
_END = rb"(?![A-Za-z0-9_.\-:/])"  # a known vendor followed by a slash is a prefix: `openrouter/<id>`
_FREE_END = rb"(?![A-Za-z0-9_\-])"


@dataclass(frozen=True)
class Occurrence:
    line: int  # 1-based
    column: int  # 1-based, in characters
    model_id: str
    known: bool


class IdFinder:
    """Built once from the ids the registry knows; `find` then runs over each file's bytes."""

    def __init__(self, known_ids: Collection[str]) -> None:
        self.known = frozenset(known_ids)
        vendors = sorted({i.split("/", 1)[0] for i in self.known if "/" in i}, key=len, reverse=True)
        shapes = [_START + _NAME + rb"+/" + _NAME + rb"+:free" + _FREE_END]
        if vendors:
            alternatives = b"|".join(re.escape(v.encode()) for v in vendors)
            shapes.insert(0, _START + rb"(?:" + alternatives + rb")/" + _MODEL + rb"+" + _END)
        self._pattern = re.compile(b"|".join(shapes))

    def find(self, data: bytes) -> Iterator[Occurrence]:
        line, line_start, counted_to = 1, 0, 0
        for match in self._pattern.finditer(data):
            token = match.group().rstrip(b".:-").decode("ascii")
            known = token in self.known
            if not known and not token.endswith(FREE_SUFFIX):
                continue
            start = match.start()
            newlines = data.count(b"\n", counted_to, start)
            if newlines:
                line += newlines
                line_start = data.rindex(b"\n", counted_to, start) + 1
            counted_to = start
            column = len(data[line_start:start].decode("utf-8", "replace")) + 1
            yield Occurrence(line, column, token, known)
