"""Secrets in requests and in what is shown: the API key checked before it goes into a header,
URL passwords redacted, and every known secret scrubbed from text a server sent back. Used by
every outbound call (models fetch, /endpoints, /key, probes) and by the jobs that report them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from catalog.errors import FetchError


def redact_url(url: str) -> str:
    """The URL without user:password@ (shown in messages and stored as the source)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>" if "@" in url else url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def checked_key(api_key: str) -> str:
    key = api_key.strip()
    if not _HEADER_SAFE.fullmatch(key):
        # h11/httpx would quote the bad header value in their error: refuse before they see it.
        raise FetchError(
            "OPENROUTER_API_KEY contains spaces or characters not allowed in a header; check OPENROUTER_API_KEY"
        )
    return key


def secrets_of(url: str, api_key: str | None) -> list[str]:
    """Texts never to show: the key (as given and stripped) and a password inside the URL."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    found = {s for s in (api_key, api_key.strip() if api_key else None, password) if s}
    return sorted(found, key=len, reverse=True)  # longest first, so no partial replacement remains
