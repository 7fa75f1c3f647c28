"""Text from servers made harmless for a person's terminal: the one place that decides how.

A model's id, name or description, or an error body, may hold an escape sequence that clears
the screen, retitles the window or rewrites what was printed before, or a bidi control that makes
the text read in another order than it runs. On every channel a person reads (tables, log lines,
errors, CSV and Markdown at a terminal) such characters are written as visible escapes instead,
the way Python's `repr` writes them: `\\x1b`, `\\x07`, `\\n`, `\\u202e`. The text stays readable
and nothing is silently dropped. JSON is escaped too (`\\u202e` inside a string), which loses
nothing: a JSON reader gets the same string back.
"""

from __future__ import annotations

import functools
import re

# C0 controls, DEL and C1 controls (CSI is U+009B, OSC U+009D), the bidi marks, embeddings,
# overrides and isolates, the line and paragraph separators, and lone surrogates (which cannot
# even be written as UTF-8).
_UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# What json.dumps leaves raw (it escapes only U+0000-U+001F, quote and backslash).
_RAW_IN_JSON = re.compile("[" + _UNSAFE.replace("\x00-\x1f", "") + "]")


@functools.cache
def _unsafe_except(keep: str) -> re.Pattern[str]:
    if not keep:
        return re.compile("[" + _UNSAFE + "]")
    allowed = "".join(re.escape(ch) for ch in keep)
    return re.compile(f"(?![{allowed}])[{_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every control, bidi and separator character written as a visible escape;
    the characters in `keep` (say "\\n" for text that may span lines) are left as they are."""
    if text.isascii() and text.isprintable():  # most text: nothing to look for (both run in C)
        return text
    pattern = _unsafe_except(keep)
    return pattern.sub(_escape, text) if pattern.search(text) else text


def json_escaped(json_text: str) -> str:
    """JSON text (as `json.dumps(..., ensure_ascii=False)` writes it) with the characters it
    leaves raw, DEL, C1, bidi controls and separators, written as `\\uXXXX` escapes; such
    characters occur only inside strings there, so the JSON still reads back the same."""
    if json_text.isascii():  # a flag CPython keeps on every string: of these, only DEL is ASCII
        return json_text.replace("\x7f", "\\u007f") if "\x7f" in json_text else json_text
    if not _RAW_IN_JSON.search(json_text):
        return json_text
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)
