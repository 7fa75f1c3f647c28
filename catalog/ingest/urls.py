"""OpenRouter URLs derived from the models URL, so that `--api-url` moves every call together."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def models_base(api_url: str) -> str:
    """`https://openrouter.ai/api/v1/models?output_modalities=all` -> `.../api/v1/models`."""
    parts = urlsplit(api_url)
    return urlunsplit(parts._replace(query="", fragment="")).rstrip("/")


def endpoints_url(api_url: str, model_id: str) -> str:
    """`<models URL without its query>/<id>/endpoints`; the id keeps its `/` and `:`."""
    return f"{models_base(api_url)}/{quote(model_id, safe='/:')}/endpoints"


def api_base(api_url: str) -> str:
    """The API root the chat and key calls hang off: the models URL minus `/models`."""
    return models_base(api_url).removesuffix("/models")
