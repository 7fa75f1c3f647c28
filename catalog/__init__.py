"""catalog: an always-current registry of OpenRouter's free models."""

from __future__ import annotations

DISTRIBUTION = "openrouter-free-catalog"


def __getattr__(name: str) -> str:
    # The version is written once, in pyproject.toml; read lazily, so commands that never show it
    # do not pay for importlib.metadata at start-up.
    if name != "__version__":
        raise AttributeError(f"module 'catalog' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # a checkout run without installing it
        return "0+unknown"
