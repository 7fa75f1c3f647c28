"""A real HTTP receiver on 127.0.0.1 for notification tests: records every POST and answers from
a script: status codes, `HANG` to hold the request until the test lets it go, `Slow(seconds)` to
answer 200 that much later, or `ENDLESS` to answer 200 with a body that streams until the client
hangs up (or ENDLESS_BYTES were sent). Also `sync_answer`, the library sync these tests run.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fakeapi import catalog_doc

HANG = "hang"
ENDLESS = "endless"
ENDLESS_BYTES = 1536 * 1024 * 1024  # 1.5 GiB
CHUNK = b"x" * (1024 * 1024)


@dataclass(frozen=True)
class Slow:
    seconds: float


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque = deque()
        self.release = threading.Event()
        self.streamed: list[int] = []  # bytes of each ENDLESS body sent before the client hung up
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answer = receiver.script.popleft() if receiver.script else 200
                if answer == HANG:
                    receiver.release.wait(30)
                    return
                if isinstance(answer, Slow):
                    receiver.release.wait(answer.seconds)
                    answer = 200
                if answer == ENDLESS:
                    self.stream_endless()
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def stream_endless(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()  # no length: the body ends when the connection does
                sent = 0
                while sent < ENDLESS_BYTES and not receiver.release.is_set():
                    try:
                        self.wfile.write(CHUNK)
                    except OSError:  # the client hung up
                        break
                    sent += len(CHUNK)
                receiver.streamed.append(sent)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-path-123"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def sync_answer(tmp_path: Path, db: str, cfg: Path, models: list[dict], when: int):
    """`run_once` of a saved answer holding `models`, observed on 2026-01-0WHEN, with `cfg`'s
    [notify] targets and no render: a sync whose notifications the test then reads."""
    from catalog.commands.cliutil import parse_time_arg
    from catalog.settings import Settings
    from catalog.sync import run_once

    answer = tmp_path / f"answer-{when}.json"
    answer.write_text(json.dumps(catalog_doc(models)))
    return run_once(
        Settings(
            db=db,
            from_file=answer,
            config_path=cfg,
            render=False,
            observed_at=parse_time_arg(f"2026-01-0{when}T00:00:00Z"),
        )
    )
