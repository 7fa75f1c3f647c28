"""Template filters: they only format and escape, never decide. API text passes through `clean`
(one line of visible text) and then the escape of the file it lands in: Markdown cells and code
spans, TypeScript string literals and comments.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

_LINE_BREAKS = set("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_MD_SPECIAL = set("\\`*_[]|<>&~$")
_MD_ESCAPES = str.maketrans({ch: "\\" + ch for ch in _MD_SPECIAL})  # one pass in C, not per char
_MD_SPECIAL_ANY = re.compile("[" + re.escape("".join(sorted(_MD_SPECIAL))) + "]")


def clean(value: Any, limit: int | None = None) -> str:
    """One line of visible text: breaks become spaces; control, format (bidi) chars are dropped."""
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():  # most API text: no break, control or format char
        # Its only white space is " ": already one line of single spaces unless doubled or at an end.
        if "  " in text or text[:1] == " " or text[-1:] == " ":
            text = " ".join(text.split())
        return _shortened(text, limit)
    kept = []
    for ch in text:
        if ch in _LINE_BREAKS:
            kept.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            kept.append(ch)
    return _shortened(" ".join("".join(kept).split()), limit)


def _shortened(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def tokens(value: Any) -> str:
    """131072 -> 131K, 1048576 -> 1M, 1500000 -> 1.5M; unknown -> —."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return "—" if value is None else clean(value)
    if value >= 1_000_000:
        return f"{round(value / 1_000_000, 1):g}M"
    if value >= 1000:
        return f"{value // 1000}K"
    return str(value)


def percent(value: Any, scale: float = 1.0) -> str:
    """99.82 -> 99.8%; 0.9712 with scale 100 -> 97.1%; unmeasured -> —."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value * scale:.1f}%"


def number(value: Any, unit: str = "") -> str:
    """812.4 -> 812 ms (with unit " ms"); unmeasured -> —."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:,.0f}{unit}"


def md_cell(value: Any, limit: int | None = 200) -> str:
    """Plain text that stays plain and inside its table cell: Markdown and HTML are escaped."""
    text = clean(value, limit)
    # translate() maps char by char through a dict; most cells have nothing to escape.
    return text.translate(_MD_ESCAPES) if _MD_SPECIAL_ANY.search(text) else text


def md_code(value: Any) -> str:
    """Inline code for any text; a pipe or backslash (which no code span can carry safely inside
    a table) falls back to escaped plain text."""
    text = clean(value)
    if not text or "|" in text or "\\" in text:
        return md_cell(text, None)
    if "`" not in text:  # almost always: the shortest fence, no padding
        return f"`{text}`"
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def ts_string(value: Any) -> str:
    """A JSON literal, which TypeScript reads as the same value; nothing in it can end a string,
    a comment, a template literal, a Markdown fence or an HTML script."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("`", "\\u0060").replace("*/", "*\\/")


def ts_comment(value: Any, limit: int = 160) -> str:
    """Text for a `//` comment: one line, and nothing that could close a block comment, a
    Markdown fence, or the HTML script the compiled file may one day be inlined into."""
    text = clean(value, limit).replace("*/", "* /").replace("`", "'")
    return text.replace("<", "‹").replace(">", "›")


FILTERS = {
    "tokens": tokens,
    "md_cell": md_cell,
    "md_code": md_code,
    "ts_string": ts_string,
    "ts_comment": ts_comment,
    "percent": percent,
    "number": number,
}
