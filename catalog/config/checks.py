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


def whole(value: Any, key: str, where: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`: every count in the file has a range, so a huge one is
    this one line naming its key rather than an overflow somewhere downstream."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CatalogError(f"{where}: `{key}` must be a whole number from {low:,} to {high:,}, not {kind(value)}")
    return value


def number(value: Any, key: str, where: str, high: float) -> float:
    """A number above 0 and at most `high` (so never infinite or NaN); a whole number is taken too."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= high:
        raise CatalogError(f"{where}: `{key}` must be a number above 0 and at most {high:,g}, not {kind(value)}")
    return float(value)


def ranged(reader: Callable[..., Any], *bounds: float) -> Callable[[Any, str, str], Any]:
    """`reader` with its range bound in: a reader taking (value, key, where) like the others."""

    def read(value: Any, key: str, where: str) -> Any:
        return reader(value, key, where, *bounds)

    return read


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
    shown = repr(value)
    if len(shown) > 40:
        shown = f"{len(str(value))} digits" if isinstance(value, int) else shown[:39] + "…"
    return f"{label} ({shown})"
