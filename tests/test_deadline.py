"""A whole-call deadline holds against servers that trickle, whatever part they trickle."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from catalog.ingest.deadline import client, deadline, time_left


def _trickler(head: bytes, body: bytes, gap: float) -> Iterator[str]:
    """A server that sends `head` then `body` one byte every `gap` seconds, forever if asked."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                for byte in head + body:
                    if stop.wait(gap):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"


@pytest.fixture
def trickling_head() -> Iterator[str]:
    yield from _trickler(HEAD + b"x" * 200, b"", 0.05)


@pytest.fixture
def trickling_body() -> Iterator[str]:
    yield from _trickler(HEAD, b"x" * 100000, 0.02)


@pytest.mark.parametrize("fixture", ["trickling_head", "trickling_body"])
def test_a_trickling_server_is_cut_at_the_deadline(fixture: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(fixture)
    started = time.monotonic()
    with client(timeout=5.0) as http, deadline(1.0), pytest.raises(httpx.TimeoutException):
        http.get(url)
    # Each byte arrives well inside the 5 s per-read timeout: only the whole-call deadline ends it.
    assert time.monotonic() - started < 3.0


def test_without_a_deadline_only_the_per_read_timeout_applies() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    for url in _trickler(head, b"", 0.01):
        with client(timeout=5.0) as http:
            assert time_left() is None
            assert http.get(url).text == "hello"


def test_the_nearest_deadline_wins() -> None:
    with deadline(10.0) as outer, deadline(1.0) as inner:
        assert inner < outer
        left = time_left()
        assert left is not None and left <= 1.0
    with deadline(1.0) as outer, deadline(10.0) as inner:
        assert inner == outer
