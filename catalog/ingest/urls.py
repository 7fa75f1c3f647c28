"""OpenRouter URLs derived from the models URL, so that `--api-url` moves every call together.

`--api-url` names the models URL (`https://openrouter.ai/api/v1/models?...`); the API's base
(`.../api/v1`) is accepted too and means its `/models`. A model's `/endpoints` URL is built only
for an id that cannot leave `/models/` (see endpoints_url).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

_VERSION = re.compile(r"v\d+")
# Characters an id may not hold in a URL path: query and fragment marks, an escape that a server
# could decode into `/` or `..`, a backslash that some servers read as `/`.
_UNSAFE = frozenset("?#%\\")


def models_url(api_url: str) -> str:
    """The models URL for `--api-url`: `/models` is appended to an API base (a path ending in a
    version segment such as `/api/v1`); anything else is kept as given."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/")
    if not _VERSION.fullmatch(path.rsplit("/", 1)[-1]):
        return api_url
    return urlunsplit(parts._replace(path=f"{path}/models"))


def models_base(api_url: str) -> str:
    """`https://openrouter.ai/api/v1/models?output_modalities=all` -> `.../api/v1/models`."""
    parts = urlsplit(models_url(api_url))
    return urlunsplit(parts._replace(query="", fragment="")).rstrip("/")


def safe_model_id(model_id: str) -> bool:
    """Whether the id can stand in a URL path under `/models/` as it is: no empty, `.` or `..`
    segment (a client or server would resolve it and leave `/models/`), no control character,
    and none of `? # % \\`."""
    if not model_id or any(ch in _UNSAFE or unicodedata.category(ch) == "Cc" for ch in model_id):
        return False
    return all(segment not in ("", ".", "..") for segment in model_id.split("/"))


def endpoints_url(api_url: str, model_id: str) -> str | None:
    """`<models URL without its query>/<id>/endpoints`, the id keeping its `/` and `:`; None when
    the id is not safe_model_id: the caller must not ask anything about it (skip it, warn)."""
    if not safe_model_id(model_id):
        return None
    return f"{models_base(api_url)}/{quote(model_id, safe='/:')}/endpoints"


def api_base(api_url: str) -> str:
    """The API root the chat and key calls hang off: the models URL minus `/models`."""
    return models_base(api_url).removesuffix("/models")
