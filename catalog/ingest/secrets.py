"""Secrets in requests and in what is shown: the API key checked before it goes into a header,
URL passwords redacted, and every secret scrubbed from text a server sent back, before that text
is cut, kept or shown. Used by every outbound call (models fetch, /endpoints, /key, probes), by
the jobs that report them, and by the log handler (`LogScrubber`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from catalog.errors import CatalogError, FetchError, one_line
from catalog.settings import env_api_key

# Anything shaped like an OpenRouter key (`sk-or-v1-` and 64 hex digits today), configured or not:
# a server may quote another key of the account, or ours cut short.
KEY_SHAPED = re.compile(r"sk-or-[A-Za-z0-9_-]*", re.IGNORECASE)
MASK = "***"


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


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with every given secret and anything key-shaped replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return KEY_SHAPED.sub(MASK, text)


def clip(text: object, limit: int, secrets: Iterable[str] = ()) -> str:
    """Text from a server made fit to keep or show: scrubbed first, then put on one line and cut
    to `limit` characters. In the other order a cut could leave a part of a secret behind."""
    return one_line(scrub(str(text), secrets), limit)


def exception_line(exc: BaseException, secrets: Iterable[str] = (), limit: int = 300) -> str:
    """A failure as one line for a note or a log: our own errors as they read, others with their
    type; scrubbed, then cut (see clip)."""
    text = str(exc) if isinstance(exc, CatalogError) else f"{type(exc).__name__}: {exc}"
    return clip((text.strip().splitlines() or [type(exc).__name__])[0], limit, secrets)


_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def checked_key(api_key: str) -> str:
    key = api_key.strip()
    if not _HEADER_SAFE.fullmatch(key):
        # h11/httpx would quote the bad header value in their error: refuse before they see it.
        raise FetchError(
            "OPENROUTER_API_KEY contains spaces or characters not allowed in a header; check OPENROUTER_API_KEY"
        )
    return key


def secrets_of(url: str, api_key: str | None, *others: str | None) -> list[str]:
    """Texts never to show: the key (as given and stripped), a password inside the URL, and any
    other secret the caller knows (a webhook's secret, a password in a target's URL)."""
    found = {s for s in (api_key, api_key.strip() if api_key else None, _password(url)) if s}
    found |= {s for s in others if s}
    return sorted(found, key=len, reverse=True)  # longest first, so no partial replacement remains


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class LogScrubber(logging.Filter):
    """Scrubs every record a handler emits: its message, its traceback and its extra fields.
    Installed on the CLI's log handler, so no log line shows a key whatever logged it."""

    def __init__(self, secrets: Iterable[str] | None = None) -> None:
        super().__init__()
        self.secrets = list(secrets) if secrets is not None else secrets_of("", env_api_key())

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: scrub(v, self.secrets) if isinstance(v, str) else v for k, v in fields.items()}
        return True
