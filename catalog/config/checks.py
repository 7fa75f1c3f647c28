"""Typed readers for `catalog.toml` values: each mistake is one CatalogError line naming the key,
so a typo never silently falls back to a default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.errors import CatalogError


def check_keys(doc: dict[str, Any], known: set[str], prefix: str, where: str) -> None:
    for key in doc:
        if key not in known:
            choices = ", ".join(sorted(known))
            raise CatalogError(f"{where}: unknown key `{prefix}{key}` (known: {choices})")


def table(value: Any, key: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: `{key}` must be a table, not {kind(value)}")
    return value


def strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: `{key}` must be a list of strings, not {kind(value)}")
    return tuple(value)


def count(value: Any, key: str, where: str, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a whole number of at least 0" if allow_zero else "a whole number of at least 1"
        raise CatalogError(f"{where}: `{key}` must be {what}, not {kind(value)}")
    return value


def positive(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise CatalogError(f"{where}: `{key}` must be a number greater than 0, not {kind(value)}")
    return float(value)


def lowered(value: Any, key: str, where: str) -> tuple[str, ...]:
    return tuple(v.lower() for v in strings(value, key, where))


def choice(options: tuple[str, ...]) -> Callable[[Any, str, str], str]:
    def read(value: Any, key: str, where: str) -> str:
        if value not in options:
            raise CatalogError(f"{where}: `{key}` must be one of {', '.join(map(repr, options))}, not {kind(value)}")
        chosen: str = value  # equal to one of the options
        return chosen

    return read


def nonempty(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: `{key}` must be a non-empty string, not {kind(value)}")
    return value


def boolean(value: Any, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: `{key}` must be true or false, not {kind(value)}")
    return value


def kind(value: Any) -> str:
    """How a wrong value is named in a message: its TOML type and a short echo of it."""
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "a table",
    }
    label = names.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return label
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
    return f"{label} ({shown})"
