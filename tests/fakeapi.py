"""A real HTTP server standing in for OpenRouter's models API, with scripted answers and faults.

    def test_x(fake_api):                      # the fixture below: started and closed per test
        fake_api.serve(catalog_doc([model("a/b:free")]))
        fake_api.queue(reply({"error": {"code": 503, "message": "busy"}}, status=503))
        fetch(fake_api.url)                    # 503 first, then the catalog

Import with `from fakeapi import fake_api, FakeAPI, reply, ...`: pytest puts tests/ on sys.path
(no tests/__init__.py, default "prepend" import mode). Standalone, for trying the CLI by hand:
`python tests/fakeapi.py --file answer.json --port 8080`.
"""

from __future__ import annotations

import gzip as gzip_module
import json
import socket
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any

import pytest

MODELS_PATH = "/api/v1/models"
# Calls that only routes answer (see FakeAPI.route): never the models script, so a test's queued
# catalog answers are not taken by the health or probe calls that follow a sync.
ROUTED_SUFFIXES = ("/endpoints", "/key", "/chat/completions")


# --------------------------------------------------------------------------- answers


class Answer:
    """One scripted answer; `write` sends it on the handler's connection."""

    def write(self, handler: _Handler) -> None:
        raise NotImplementedError


class Reply(Answer):
    def __init__(self, body: Any, status: int = 200, headers: dict | None = None, gzip: bool = False):
        self.status = status
        self.headers = dict(headers or {})
        self.body = _encode(body)
        if isinstance(body, (dict, list)):
            self.headers.setdefault("Content-Type", "application/json")
        if gzip:
            self.body = gzip_module.compress(self.body)
            self.headers["Content-Encoding"] = "gzip"

    def write(self, handler: _Handler) -> None:
        handler.send_response_only(self.status)
        if not _has(self.headers, "Date"):  # a given Date pins the server's clock for the client
            handler.send_header("Date", handler.date_time_string())
        for name, value in self.headers.items():
            handler.send_header(name, str(value))
        if not _has(self.headers, "Content-Length"):
            handler.send_header("Content-Length", str(len(self.body)))
        handler.end_headers()
        handler.wfile.write(self.body)
        handler.count_sent(len(self.body))


class Delayed(Answer):
    """Another answer, sent after a pause (benchmarks of concurrent calls; tests do not time)."""

    def __init__(self, answer: Answer, seconds: float):
        self.answer, self.seconds = answer, seconds

    def write(self, handler: _Handler) -> None:
        if not handler.server.closing.wait(self.seconds):
            self.answer.write(handler)


class Stream(Answer):
    """A streamed chat completion: `text/event-stream`, one SSE line per item, chunked."""

    def __init__(self, lines: list[str], status: int = 200):
        self.lines, self.status = lines, status

    def write(self, handler: _Handler) -> None:
        handler.send_response(self.status)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for line in self.lines:
            data = (line + "\n\n").encode()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")


class Trickle(Answer):
    """A 200 answer sent as chunks `pause` seconds apart (a slow server that never stops for long
    enough to trip a read timeout); stops early when the server closes or the client goes away."""

    def __init__(self, pieces: list[bytes], pause: float = 0.02, content_type: str = "application/json"):
        self.pieces, self.pause, self.content_type = pieces, pause, content_type

    def write(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", self.content_type)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for piece in self.pieces:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                handler.wfile.flush()
                if handler.server.closing.wait(self.pause):
                    return
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client gave up: what a deadline is for
            handler.close_connection = True


class Drip(Answer):
    """A raw answer, status line and headers included, sent `step` bytes every `pause` seconds
    (the headers at once unless `drip_head`); then, with `endless`, those bytes again and again
    until the server closes: a body that never ends. Each piece comes well inside any per-read
    timeout, so only a whole-call deadline ends the call."""

    def __init__(
        self,
        head: bytes,
        body: bytes = b"",
        *,
        pause: float = 0.05,
        step: int = 1,
        endless: bytes = b"",
        drip_head=False,
    ):
        self.head, self.body, self.pause, self.step = head, body, pause, step
        self.endless, self.drip_head = endless, drip_head

    def write(self, handler: _Handler) -> None:
        handler.close_connection = True
        data = self.body
        try:
            if self.drip_head:
                data = self.head + data
            else:
                handler.wfile.write(self.head)
                handler.wfile.flush()
            while True:
                for at in range(0, len(data), self.step):
                    handler.wfile.write(data[at : at + self.step])
                    handler.wfile.flush()
                    if handler.server.closing.wait(self.pause):
                        return
                if not self.endless:
                    return
                data = self.endless
        except OSError:  # the client gave up: what a deadline is for
            pass


def raw_head(status: int = 200, content_type: str = "application/json", length: int | None = None) -> bytes:
    """A status line and headers; without `length` the body runs until the connection closes."""
    size = f"Content-Length: {length}" if length is not None else "Connection: close"
    return f"HTTP/1.1 {status} Status\r\nContent-Type: {content_type}\r\n{size}\r\n\r\n".encode()


def trickling_head(body: Any, pause: float = 0.5, content_type: str = "application/json") -> Drip:
    """The answer one byte at a time, headers first: the headers alone take about a minute."""
    data = _encode(body)
    return Drip(raw_head(200, content_type, len(data)), data, pause=pause, drip_head=True)


def trickling_body(body: Any, pause: float = 0.05, content_type: str = "application/json") -> Drip:
    """The headers at once, then the body one byte at a time, padded to take about five minutes."""
    data = _encode(body)
    padded = data + b" " * max(0, int(300 / pause) - len(data))
    return Drip(raw_head(200, content_type, len(padded)), padded, pause=pause)


def never_ending(filler: bytes = b" ", pause: float = 0.05, content_type: str = "application/json") -> Drip:
    """The headers at once, then `filler` forever (for a stream, a keep-alive comment); never closes."""
    return Drip(raw_head(200, content_type), b"", pause=pause, step=len(filler), endless=filler)


class Hang(Answer):
    """Read the request, never answer; let go when the server closes."""

    def write(self, handler: _Handler) -> None:
        handler.server.closing.wait(300)  # bounded even if a test forgets to close the server
        handler.close_connection = True


class ResetMidBody(Answer):
    def __init__(self, total: int = 100_000, sent: int = 1000):
        self.total, self.sent = total, sent

    def write(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(self.total))
        handler.end_headers()
        handler.wfile.write(b"[" * self.sent)
        handler.count_sent(self.sent)
        handler.abort()


class ShortBody(Answer):
    def __init__(self, declared: int = 10_000, sent: int = 100):
        self.declared, self.sent = declared, sent

    def write(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(self.declared))
        handler.end_headers()
        handler.wfile.write(b" " * self.sent)
        handler.count_sent(self.sent)
        handler.close_connection = True  # a clean close (FIN) before the declared length


class HugeBody(Answer):
    """n_bytes of JSON-ish filler, streamed in chunks, never held in memory whole."""

    CHUNK = b" " * 65536

    def __init__(self, n_bytes: int, chunked: bool = True, status: int = 200, content_type: str = "application/json"):
        self.n_bytes, self.chunked, self.status, self.content_type = n_bytes, chunked, status, content_type

    def write(self, handler: _Handler) -> None:
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type)
        if self.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(self.n_bytes))
        handler.end_headers()
        left = self.n_bytes
        try:
            while left > 0:
                piece = self.CHUNK[: min(left, len(self.CHUNK))]
                if self.chunked:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    handler.wfile.write(piece)
                handler.count_sent(len(piece))
                left -= len(piece)
            if self.chunked:
                handler.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client stopped reading: that is what tests want to see
            handler.close_connection = True


def chunk(content: str | None = None, *, reasoning: str | None = None, finish: str | None = None, **top: Any) -> str:
    """One SSE `data:` line of a streamed completion."""
    delta = {k: v for k, v in (("content", content), ("reasoning", reasoning)) if v is not None}
    doc = {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **top,
    }
    return "data: " + json.dumps(doc)


def completion_stream(text: str = "ok") -> Stream:
    """A healthy streamed answer: a keep-alive comment, two content chunks, [DONE]."""
    return Stream([": OPENROUTER PROCESSING", chunk(text[:1]), chunk(text[1:], finish="stop"), "data: [DONE]"])


def reply(body: Any = b"", status: int = 200, headers: dict | None = None, *, gzip: bool = False) -> Reply:
    """A full answer: dict/list become JSON, str/bytes are sent as they are."""
    return Reply(body, status, headers, gzip)


def error_reply(status: int, message: str, headers: dict | None = None) -> Reply:
    """The API's error shape: {"error": {"code": status, "message": message}}."""
    return Reply({"error": {"code": status, "message": message}}, status, headers)


def hang() -> Hang:
    return Hang()


def reset_mid_body(total: int = 100_000, sent: int = 1000) -> ResetMidBody:
    return ResetMidBody(total, sent)


def short_body(declared: int = 10_000, sent: int = 100) -> ShortBody:
    return ShortBody(declared, sent)


def huge_body(
    n_bytes: int, *, chunked: bool = True, status: int = 200, content_type: str = "application/json"
) -> HugeBody:
    return HugeBody(n_bytes, chunked, status, content_type)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(b"", status, {"Location": location})


# --------------------------------------------------------------------------- catalog documents


def catalog_doc(models: list[dict], **extra: Any) -> dict:
    """The answer of GET /api/v1/models: {"data": models} (extra keys, e.g. total_count, added)."""
    return {"data": list(models), **extra}


def model(
    id: str,
    *,
    prompt: str = "0",
    completion: str = "0",
    context_length: int | None = 131072,
    name: str | None = None,
    **extra: Any,
) -> dict:
    """A model entry shaped like the real API's. `extra` overrides or adds top-level keys;
    `pricing=`, `architecture=`, `top_provider=` dicts are merged into the defaults."""
    slug = id.split(":", 1)[0]
    vendor, _, short = slug.partition("/")
    free = id.endswith(":free")
    entry: dict[str, Any] = {
        "id": id,
        "canonical_slug": slug,
        "hugging_face_id": f"{vendor}/{short}" if short else "",
        "name": name or f"{vendor.title()}: {short or vendor}{' (free)' if free else ''}",
        "created": 1767225600,  # 2026-01-01T00:00:00Z
        "description": f"{short or vendor} is a test model.\n\nIt has **Markdown** and non-ASCII: café.",
        "context_length": context_length,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {"prompt": prompt, "completion": completion, "request": "0", "image": "0"},
        "top_provider": {"context_length": context_length, "max_completion_tokens": None, "is_moderated": False},
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "tools", "top_p"],
        "default_parameters": {},
        "expiration_date": None,
    }
    for key in ("pricing", "architecture", "top_provider"):
        if isinstance(extra.get(key), dict):
            entry[key] = {**entry[key], **extra.pop(key)}
    entry.update(extra)
    return entry


def endpoint(
    provider: str = "Provider",
    *,
    status: int | None = 0,
    uptime_30m: float | None = 99.5,
    uptime_5m: float | None = 100.0,
    uptime_1d: float | None = 99.2,
    latency: dict | None = None,
    throughput: dict | None = None,
    model_id: str = "vendor/model:free",
) -> dict:
    """One entry of `/endpoints`, shaped like shared/openrouter/endpoints (keyless: no latency)."""
    return {
        "name": f"{provider} | {model_id}",
        "model_id": model_id,
        "model_name": model_id,
        "context_length": 131072,
        "pricing": {"prompt": "0", "completion": "0", "discount": 0},
        "provider_name": provider,
        "tag": provider.lower(),
        "quantization": "unknown",
        "max_completion_tokens": None,
        "max_prompt_tokens": None,
        "supported_parameters": ["max_tokens", "temperature"],
        "status": status,
        "uptime_last_30m": uptime_30m,
        "uptime_last_5m": uptime_5m,
        "uptime_last_1d": uptime_1d,
        "supports_implicit_caching": False,
        "latency_last_30m": latency,
        "throughput_last_30m": throughput,
    }


def endpoints_doc(model_id: str, *endpoints: dict) -> dict:
    """The answer of GET /api/v1/models/<id>/endpoints."""
    return {"data": {"id": model_id, "name": model_id, "architecture": {}, "endpoints": list(endpoints)}}


def endpoints_path(model_id: str) -> str:
    return f"{MODELS_PATH}/{model_id}/endpoints"


# --------------------------------------------------------------------------- the server


class FakeAPI:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> answering every GET from a script."""

    def __init__(self) -> None:
        self.requests: list[dict] = []  # the models script's requests
        self.calls: list[dict] = []  # routed requests: /endpoints, /key, /chat/completions
        self._routes: dict[str, deque[Answer] | Answer] = {}
        self.bytes_sent = 0  # body bytes written by all answers
        self._lock = threading.Lock()
        self._queue: deque[Answer] = deque()
        self._default: Answer = error_reply(404, "FakeAPI has no answer: call serve() or queue()")
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + MODELS_PATH
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def serve(self, body: Any, status: int = 200, headers: dict | None = None) -> None:
        """The answer given whenever the queue is empty (an Answer, or a body for reply())."""
        answer = body if isinstance(body, Answer) else reply(body, status, headers)
        with self._lock:
            self._default = answer

    def queue(self, *answers: Any) -> None:
        """One-shot answers, used in order before the default."""
        with self._lock:
            self._queue.extend(a if isinstance(a, Answer) else reply(a) for a in answers)

    def route(self, path: str, *answers: Any) -> None:
        """Answers for one path (without query): one answer serves every call; several are used
        in order, the last one repeating."""
        made = [a if isinstance(a, Answer) else reply(a) for a in answers]
        with self._lock:
            self._routes[path] = made[0] if len(made) == 1 else deque(made)

    def calls_to(self, suffix: str) -> list[dict]:
        return [c for c in self.calls if c["path"].split("?")[0].endswith(suffix)]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Poll until at least n requests arrived (for tests of concurrent clients)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= n:
                return True
            time.sleep(0.01)
        return len(self.requests) >= n

    def close(self) -> None:
        self._server.closing.set()  # frees hanging handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_answer(self, request: dict) -> Answer:
        path = request["path"].split("?")[0]
        with self._lock:
            if path in self._routes or path.endswith(ROUTED_SUFFIXES):
                self.calls.append(request)
                answer = self._routes.get(path)
                if isinstance(answer, deque):
                    return answer.popleft() if len(answer) > 1 else answer[0]
                return answer or error_reply(404, f"FakeAPI has no route for {path}")
            self.requests.append(request)
            return self._queue.popleft() if self._queue else self._default


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging handler must not hold up close()
    allow_reuse_address = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.closing = threading.Event()
        self.api: FakeAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-answer are the point of several tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like the real API
    disable_nagle_algorithm = True  # headers and body go in separate writes: avoid 40 ms stalls
    timeout = 30  # an idle keep-alive connection frees its thread eventually
    server: _Server

    def do_GET(self) -> None:
        api = self.server.api
        answer = api._next_answer({"method": "GET", "path": self.path, "headers": dict(self.headers)})
        answer.write(self)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = {"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body}
        self.server.api._next_answer(request).write(self)

    def count_sent(self, n: int) -> None:
        with self.server.api._lock:
            self.server.api.bytes_sent += n

    def abort(self) -> None:
        """Close with RST (SO_LINGER 0) instead of FIN: the client sees a connection reset."""
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.wfile.close()
        sock.close()
        # The base class still flushes and closes these after do_GET returns.
        self.rfile, self.wfile = BytesIO(), BytesIO()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


def _encode(body: Any) -> bytes:
    if isinstance(body, (dict, list)):
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def _has(headers: dict, name: str) -> bool:
    return any(key.lower() == name.lower() for key in headers)


@pytest.fixture
def fake_api():
    api = FakeAPI()
    try:
        yield api
    finally:
        api.close()


def _main() -> None:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Serve a saved models answer on 127.0.0.1.")
    parser.add_argument("--file", type=Path, required=True, help="the body to serve for every GET")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    body = args.file.read_bytes()

    class Handler(_Handler):
        def do_GET(self) -> None:
            reply(body, headers={"Content-Type": "application/json"}).write(self)

        def count_sent(self, n: int) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"serving {args.file} at http://127.0.0.1:{args.port}{MODELS_PATH}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    _main()
