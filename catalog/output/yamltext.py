"""A small YAML writer for plain data (dicts, lists, strings, integers, booleans, None), so the
gateway configs need no YAML library at run time. No floats: YAML 1.1 readers take `1e+100` for a
string, and nothing written here needs one.

Every string is a double-quoted scalar, escaped as JSON escapes it (JSON's double-quoted strings
are valid YAML), plus the characters YAML will not take raw: a model id from the API can never
end a scalar early, start a comment, or turn into a number, a boolean or an alias.
"""

from __future__ import annotations

import re
from typing import Any

# What YAML takes raw inside a quoted scalar and reads back unchanged; everything else (C0/C1
# controls, DEL, lone surrogates, U+FFFE/U+FFFF, and NEL, LS and PS, which YAML 1.1 folds as line
# breaks) is written as an escape.
_PRINTABLE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quoted(text: str) -> str:
    """A double-quoted YAML scalar that reads back as `text`; a lone surrogate becomes U+FFFD."""
    parts = ['"']
    for char in text:
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif _PRINTABLE.fullmatch(char):
            parts.append(char)
        elif "\ud800" <= char <= "\udfff":
            parts.append("\\ufffd")
        else:
            parts.append(f"\\u{ord(char):04x}")  # every character escaped here is in the BMP
    parts.append('"')
    return "".join(parts)


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def key(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"YAML keys here are strings, not {type(name).__name__}")
    return name if _PLAIN_KEY.fullmatch(name) and name.lower() not in _RESERVED else quoted(name)


# Plain words YAML 1.1 reads as booleans or null: never left unquoted, even as keys.
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def dump(value: Any) -> str:
    """Block-style YAML for a mapping or a list (a scalar alone is one line), ending in a newline."""
    return "\n".join(_lines(value, 0)) + "\n"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for name, item in value.items():
            if _is_block(item):
                lines.append(f"{pad}{key(name)}:")
                lines += _lines(item, indent + 2)
            else:
                lines.append(f"{pad}{key(name)}: {_inline(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            if _is_block(item):
                inner = _lines(item, indent + 2)
                # The first line of the item shares the dash: "- key: value".
                lines.append(f"{pad}- {inner[0][indent + 2 :]}")
                lines += inner[1:]
            else:
                lines.append(f"{pad}- {_inline(item)}")
        return lines
    return [pad + scalar(value)]


def _is_block(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)
