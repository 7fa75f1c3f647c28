"""The `[exports]` table of `catalog.toml`: gateway configs written with every render, so the timer
keeps them current. Each mistake is one CatalogError line naming the key.

    [exports]
    litellm = "litellm-config.yaml"                              # a path inside the output folder
    openrouter = { path = "code-models.json", pool = "CODE" }   # a table: path, and pool (openrouter)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from catalog.config.checks import check_keys, kind, nonempty, table
from catalog.errors import CatalogError

EXPORT_KINDS = ("litellm", "openrouter")  # catalog.output.exports writes each


@dataclass(frozen=True)
class Export:
    kind: str  # one of EXPORT_KINDS
    path: str  # relative to the output folder, `/`-separated, never leaving it
    pool: str | None = None  # openrouter: the pool (None: the first in the pools' order)


def parse_exports(doc: dict[str, Any], pools: Collection[str], where: str) -> tuple[Export, ...]:
    """The exports in the file's order; `pools` are the enabled pools' names."""
    exports_doc = table(doc.get("exports", {}), "exports", where)
    check_keys(exports_doc, set(EXPORT_KINDS), "exports.", where)
    found: list[Export] = []
    for name, value in exports_doc.items():
        key = f"exports.{name}"
        if isinstance(value, dict):
            check_keys(value, {"path", "pool"} if name == "openrouter" else {"path"}, f"{key}.", where)
            if "path" not in value:
                raise CatalogError(f"{where}: `{key}.path` is missing; name the file to write")
            export = Export(name, inside_path(value["path"], f"{key}.path", where))
            if "pool" in value:
                export = Export(name, export.path, enabled_pool(value["pool"], pools, f"{key}.pool", where))
        else:
            export = Export(name, inside_path(value, key, where))
        for other in found:
            if other.path == export.path:
                raise CatalogError(f"{where}: `{key}` writes {export.path}, as `exports.{other.kind}` does")
        found.append(export)
    return tuple(found)


def inside_path(value: Any, key: str, where: str) -> str:
    """A relative path that stays inside the output folder, normalized (`./a//b` -> `a/b`)."""
    text = nonempty(value, key, where)
    path = PurePosixPath(text)
    escapes = path.is_absolute() or ".." in path.parts or text.startswith("~") or "\\" in text
    if escapes or text.endswith("/") or not path.parts or path.name in (".", ""):
        raise CatalogError(
            f"{where}: `{key}` must be a file path inside the output folder (relative, without ..), not {kind(value)}"
        )
    return str(path)


def enabled_pool(value: Any, pools: Collection[str], key: str, where: str) -> str:
    name = nonempty(value, key, where)
    if name not in pools:
        raise CatalogError(f"{where}: `{key}` names {name!r}, which is no enabled pool (pools: {', '.join(pools)})")
    return name
