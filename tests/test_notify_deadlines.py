"""Webhook deliveries against hostile receivers on 127.0.0.1: the target's timeout bounds each
delivery as a whole (trickled headers, a hang), and it is per delivery, not per target."""

import json
import socket
import threading
import time

import pytest
from conftest import rows
from fakeapi import model
from receiver import Slow, receiver  # noqa: F401  (the fixture)
from receiver import sync_answer as sync

from catalog.config.watch import Target
from catalog.watch.notify_send import Message, send

BASE = [model("google/gemma-3-27b-it:free")]


class Trickler:
    """A raw socket server answering one request: `head` at once, then `tail` one byte every 0.1 s."""

    def __init__(self, head: bytes, tail: bytes) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.done = threading.Event()
        self.head, self.tail = head, tail
        threading.Thread(target=self.answer, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"

    def answer(self) -> None:
        conn, _ = self.server.accept()
        conn.recv(65536)
        try:
            conn.sendall(self.head)
            for byte in self.tail:
                if self.done.wait(0.1):
                    break
                conn.sendall(bytes([byte]))
        except OSError:  # the client hung up
            pass
        conn.close()

    def close(self) -> None:
        self.done.set()
        self.server.close()


@pytest.fixture
def trickler():
    made: list[Trickler] = []

    def make(head: bytes, tail: bytes) -> Trickler:
        made.append(Trickler(head, tail))
        return made[-1]

    yield make
    for t in made:
        t.close()


def test_a_receiver_trickling_its_headers_is_cut_off_at_the_timeout(trickler):
    """Each byte arrives well within a read timeout, so only the whole-call bound can stop it."""
    server = trickler(b"", b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 1000 + b"\r\nContent-Length: 0\r\n\r\n")
    target = Target("webhook", server.url, timeout=0.5)
    started = time.monotonic()
    error = send(target, Message(None, "{}"), delivery="1")
    assert error == "timed out after 0.5 s" and not server.done.is_set()
    assert time.monotonic() - started < 5  # the headers alone would take 100 s


def test_a_trickled_body_is_not_waited_for_once_the_status_is_in(trickler):
    """The answer's body is never read: a 2xx status line is the receiver's acceptance."""
    server = trickler(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"x" * 100000)
    target = Target("webhook", server.url, timeout=30)
    started = time.monotonic()
    assert send(target, Message(None, "{}"), delivery="1") is None
    assert time.monotonic() - started < 10  # the body would take hours, the timeout is 30 s


def test_the_timeout_is_per_delivery_so_two_slow_messages_both_arrive_once(tmp_path, receiver):
    """Each answer takes 1.2 s of a 2 s timeout: two in a row must both be delivered, once each."""
    db = str(tmp_path / "reg.db")
    cfg = tmp_path / "catalog.toml"
    cfg.write_text(f'[[notify.webhook]]\nurl = "{receiver.url}"\ntimeout = 2\n')
    sync(tmp_path, db, cfg, BASE, 1)
    receiver.script.extend([500])
    sync(tmp_path, db, cfg, [*BASE, model("a/one:free")], 2)  # stays pending
    receiver.script.extend([Slow(1.2), Slow(1.2)])
    result = sync(tmp_path, db, cfg, [*BASE, model("a/one:free"), model("a/two:free")], 3)
    assert [d.error for d in result.deliveries] == [None, None]
    assert [json.loads(r.body)["run_id"] for r in receiver.received] == [2, 2, 3]
    assert rows(db, "SELECT run_id, status, attempts FROM notifications ORDER BY id") == [
        (2, "delivered", 2),
        (3, "delivered", 1),
    ]
