"""Whole-call deadlines for every outbound HTTP call.

httpx's timeouts bound each socket operation, not the call: a server that sends its headers or
body one byte at a time never trips a read timeout. Here every socket operation (connect, TLS,
each write, each read) of a client made by `client()` gets at most the time left before the
deadline set by the nearest enclosing `deadline()` block, and fails once that time is gone. So a
call ends by its deadline whatever the server does (trickling headers, trickling body, never
closing); httpx reports it as its own timeout exception (`httpx.TimeoutException`).

Name resolution is the one step a socket timeout does not cover; it uses the system resolver.
This module imports httpx: import it where httpx is imported, lazily, so `--help` stays fast.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

_end: ContextVar[float | None] = ContextVar("catalog_call_deadline", default=None)

monotonic = time.monotonic


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Calls made inside end within `seconds` (or by an enclosing block's earlier deadline).

    Yields the deadline as a `monotonic()` time, for callers that also check it between calls.
    The deadline is per thread (a context variable): set it in the thread that makes the call.
    """
    end = monotonic() + max(seconds, 0.0)
    outer = _end.get()
    if outer is not None:
        end = min(end, outer)
    token = _end.set(end)
    try:
        yield end
    finally:
        _end.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline (never below 0), or None outside any."""
    end = _end.get()
    return None if end is None else max(end - monotonic(), 0.0)


def client(**options: Any) -> httpx.Client:
    """An `httpx.Client` (same options) whose HTTP transports honour `deadline()` blocks.

    A transport passed in that is not an `httpx.HTTPTransport` (a test's `MockTransport`) is used
    as it is.
    """
    made = httpx.Client(**options)
    for transport in [made._transport, *made._mounts.values()]:
        if isinstance(transport, httpx.HTTPTransport):
            # httpcore's network backend is the only seam below httpx's per-operation timeouts.
            transport._pool._network_backend = _Backend()
    return made


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """The operation's own timeout, cut to the time left; `error` once none is left."""
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's synchronous network backend with every operation cut to the deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
