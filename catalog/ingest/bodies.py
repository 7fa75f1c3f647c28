"""Answers read only as far as they are needed: a body up to a bound, and the API's error
message from the head of an error answer. Every outbound call reads through these, so a server
answering gigabytes costs at most the bound."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is imported lazily so that `catalog --help` stays fast
    import httpx

ERROR_BODY_LIMIT = 4096  # enough for the API's {"error": {...}} shape


class TooLarge(Exception):
    """An answer passed the number of bytes its reader allows."""


def read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The decoded body of a streamed response; TooLarge as soon as more than `limit` bytes came,
    so an answer whose size does not matter to us never costs more memory than that."""
    body = bytearray()
    for piece in response.iter_bytes():
        body += piece
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


def error_doc(response: httpx.Response, limit: int = ERROR_BODY_LIMIT) -> Any:
    """An error answer's JSON from its first `limit` bytes, or None: the status says what failed,
    the body only why, so a body cut short (or by the deadline) is read as far as it came."""
    import httpx

    head = b""
    try:
        for chunk in response.iter_bytes():  # decoded: error pages may be gzipped too
            head += chunk
            if len(head) >= limit:
                break
    except httpx.HTTPError:
        pass
    try:
        return json.loads(head[:limit].decode("utf-8", "replace"))
    except ValueError:
        return None


def api_error_message(response: httpx.Response) -> str | None:
    """The API's `error.message` from the first ERROR_BODY_LIMIT bytes of an error answer."""
    doc = error_doc(response)
    error = doc.get("error") if isinstance(doc, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message.strip() else None
