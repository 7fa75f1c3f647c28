"""entries.read_catalog reads an answer one entry at a time and must give exactly what
normalize(parse_payload(body)) gives: the same catalog, or the same error, for any bytes."""

from __future__ import annotations

import json
import random
from contextlib import contextmanager

import pytest
from fakeapi import model

from catalog.errors import PayloadError
from catalog.ingest import entries
from catalog.ingest.entries import data_entries, read_catalog
from catalog.ingest.normalize import normalize, parse_payload


def outcome(read, body: bytes, paid_as_ids: bool):
    try:
        catalog = read(body, paid_as_ids)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    skipped = [(s.index, s.id, s.reason) for s in catalog.skipped]
    return ("catalog", catalog.records, catalog.size, catalog.paid_ids, skipped)


def assert_read_alike(body: bytes, *, streamed: bool = False, monkeypatch=None) -> None:
    """`streamed`: the answer has the API's shape, so when it is valid it must be read without
    parse_payload."""
    for paid_as_ids in (False, True):
        expected = outcome(lambda b, p: normalize(parse_payload(b), paid_as_ids=p), body, paid_as_ids)
        streamed = streamed and expected[0] == "catalog"
        with monkeypatch.context() if streamed else _nothing() as patch:
            if streamed:
                patch.setattr(entries, "parse_payload", _never)
            assert outcome(lambda b, p: read_catalog(b, paid_as_ids=p), body, paid_as_ids) == expected


@contextmanager
def _nothing():
    yield None


def _never(body):
    raise AssertionError("an answer of the API's shape was read whole")


@pytest.fixture(params=[(1, 0), (7, 3), (64, 0), (4096, 1024)], ids=lambda p: f"window{p[0]}")
def small_windows(request, monkeypatch):
    """Windows of a few bytes, so entries, escapes and UTF-8 characters are cut everywhere."""
    window, margin = request.param
    monkeypatch.setattr(entries, "WINDOW", window)
    monkeypatch.setattr(entries, "MARGIN", margin)


ENTRIES = [
    model("a/b:free", name="Ä 日本 \U0001f600", supported_parameters=["b", "a", "a"]),
    model("c/d", prompt="0.1", completion="0.2", description="nul \x00 inside"),
    model("e/f", prompt=0, completion=0, name="lone \ud800 surrogate"),
    model("g/h:free", context_length=12.0, top_provider={"context_length": 5, "max_completion_tokens": None}),
    model("p/q", prompt="1e-7", completion="0.0", created=17_000_000_000, hugging_face_id=""),
    model("z/m:free", pricing={"request": "0", "web_search": "0.0", "image": 0, "audio": "0.01"}),
    {"id": 5},
    "a string",
    None,
    12345,
    [1, 2],
    {"id": "a/b:free"},
    {"id": "x/\x00:free"},
    {"id": "a/bad", "supported_parameters": ["tools", 1]},
    {"id": "a/bad", "pricing": {"prompt": True}},
]


def test_real_captures_read_alike_one_entry_at_a_time(small_windows, monkeypatch):
    from conftest import captures

    for path in captures()[::9]:
        assert_read_alike(path.read_bytes(), streamed=True, monkeypatch=monkeypatch)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_varied_entries_read_alike_one_entry_at_a_time(small_windows, monkeypatch, ensure_ascii):
    rng = random.Random(14)
    for _ in range(20):
        doc = {"data": [rng.choice(ENTRIES) for _ in range(rng.randint(1, 6))]}
        text = json.dumps(doc, ensure_ascii=ensure_ascii, indent=rng.choice([None, 2]))
        assert_read_alike(text.encode("utf-8", "surrogatepass"), streamed=True, monkeypatch=monkeypatch)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",
        b"<!doctype html><html>Cloudflare</html>",
        b"{not json",
        b"[]",
        b"",
        json.dumps({"error": {"code": 502, "message": "upstream\nbroke"}}).encode(),
        b'{"models": []}',
        b'{"data": {"a": 1}}',
        b'{"data": []}',
        b'{"data": [oops',
        b'{"data": [{"id": "a/b:free"},]}',
        b'{"data": [{"id": "a/b:free"}]',
        b'{"data": [{"id": "a/b:free"}]}}',
        b'{"data": [{"id": "a/b:free"}]} x',
        b'{"data": [{"id": "caf\xe9/x:free"}]}',
        b'{"data": [{"id": "a/b:free"}, {"id": "caf\xc3"}]}',
        b'\xef\xbb\xbf{"data": [{"id": "a/b:free"}]}',
        b'{"data": [' + b"[" * 100_000 + b"]}",
        b'{"data": [' + b"9" * 5000 + b"]}",  # past int()'s digit limit: a ValueError, as json.loads raises
    ],
)
def test_bad_answers_fail_alike(small_windows, body):
    assert_read_alike(body)


@pytest.mark.parametrize(
    "body",
    [
        b' \n\t{ "data" :\r[ {"id":"a/b:free"} ,{"id":"c/d:free"}]\n} \n',
        b'{"meta": 1, "data": [{"id": "a/b:free"}]}',
        b'{"data": [{"id": "a/b:free"}], "data": [{"id": "c/d:free"}]}',
        b'{"data": [1.5e3, NaN, -Infinity, true, null, {"id": "a/b:free"}]}',
        b'{"data": [{"id": "a/\\ud83d\\ude00:free", "name": "\\ud83d\\ude00 \\u0000"}]}',
        b'{"data": [{"id": "a/b:free", "description": "' + "é".encode() * 50_000 + b'"}]}',
    ],
)
def test_odd_but_valid_answers_read_alike(small_windows, body):
    assert_read_alike(body)


def test_entries_arrive_before_the_rest_of_the_body_is_read(monkeypatch):
    monkeypatch.setattr(entries, "WINDOW", 64)
    monkeypatch.setattr(entries, "MARGIN", 16)
    body = b'{"data": [{"id": "a/b:free"}, {"id": "c/d:free"}, ' + b"x" * 1_000_000
    stream = data_entries(body)
    assert next(stream) == {"id": "a/b:free"} and next(stream) == {"id": "c/d:free"}
    with pytest.raises(entries._NotPlain):  # not the API's shape after all: read the ordinary way...
        next(stream)
    with pytest.raises(
        PayloadError, match=r"^the answer is not JSON: Expecting value at line 1; check the source URL$"
    ):
        read_catalog(body)  # ...which gives the ordinary error
