"""catalog.fetch against a real local server (tests/fakeapi.py) and httpx.MockTransport."""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from fakeapi import (  # noqa: F401  (fake_api is a fixture)
    catalog_doc,
    error_reply,
    fake_api,
    hang,
    huge_body,
    model,
    redirect,
    reply,
    reset_mid_body,
    short_body,
)

from catalog import __version__
from catalog.errors import FetchError
from catalog.ingest import fetch as fetch_mod
from catalog.ingest.fetch import Fetched, backoff_delay, fetch, parse_retry_after, read_file
from catalog.ingest.secrets import redact_url

KEY = "sk-or-v1-CANARY0123456789abcdef"
DOC = catalog_doc([model("vendor/a:free"), model("vendor/b", prompt="0.000001", completion="0.000002")])
DOC_BYTES = json.dumps(DOC).encode()


class FakeClock:
    """monotonic() and sleep() for the fetch module: sleeping advances the clock instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    # httpx honours *_PROXY variables; the local server must be reached directly.
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the waits between retries instead of waiting (the real clock still runs)."""
    waits: list[float] = []
    monkeypatch.setattr(fetch_mod, "sleep", waits.append)
    return waits


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(fetch_mod, "sleep", fake.sleep)
    monkeypatch.setattr(fetch_mod, "monotonic", fake.monotonic)
    return fake


def fails(fn, *args, **kwargs) -> str:
    with pytest.raises(FetchError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    # No chained httpx/OS exception under a -v traceback (it could quote headers or URLs).
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    return message


# --------------------------------------------------------------------------- real server


def test_success_returns_body_source_and_time(fake_api):
    fake_api.serve(DOC)
    before = datetime.now(UTC)
    got = fetch(fake_api.url, timeout=5)
    assert isinstance(got, Fetched)
    assert json.loads(got.body) == DOC
    assert got.source == fake_api.url
    assert got.received_at.tzinfo is not None and before <= got.received_at <= datetime.now(UTC)
    [request] = fake_api.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["method"] == "GET" and request["path"] == "/api/v1/models"
    assert headers["user-agent"] == f"catalog/{__version__} (+openrouter free-model registry)"
    assert "gzip" in headers["accept-encoding"]
    assert "authorization" not in headers


def test_custom_user_agent(fake_api):
    fake_api.serve(DOC)
    fetch(fake_api.url, timeout=5, user_agent="probe/1")
    assert fake_api.requests[0]["headers"]["User-Agent"] == "probe/1"


def test_bearer_key_sent(fake_api):
    fake_api.serve(DOC)
    fetch(fake_api.url, timeout=5, api_key=KEY)
    assert fake_api.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_key_never_in_messages_or_logs(fake_api, sleeps, caplog, status):
    # The API echoing the key back in its error message must not leak it either.
    fake_api.serve(error_reply(status, f"bad key {KEY} (Bearer {KEY})"))
    caplog.set_level(logging.DEBUG, logger="catalog")
    message = fails(fetch, fake_api.url, timeout=5, api_key=KEY)
    assert KEY not in message and "CANARY" not in message
    assert "***" in message
    assert all("CANARY" not in r.getMessage() for r in caplog.records)


def test_key_with_bad_characters_refused_without_quoting_it(fake_api):
    fake_api.serve(DOC)
    message = fails(fetch, fake_api.url, timeout=5, api_key="sk-CANARY\nInjected: yes")
    assert "CANARY" not in message and "OPENROUTER_API_KEY" in message
    assert fake_api.requests == []


def test_credentials_in_url_not_shown(fake_api):
    fake_api.serve(error_reply(404, "nope"))
    url = fake_api.url.replace("http://", "http://user:CANARYPASS@")
    message = fails(fetch, url, timeout=5)
    assert "CANARYPASS" not in message and fake_api.url in message
    fake_api.serve(DOC)
    assert fetch(url, timeout=5).source == fake_api.url


@pytest.mark.parametrize("status", [500, 502, 503, 524, 529])
def test_server_errors_retried_then_fail(fake_api, sleeps, status):
    fake_api.serve(error_reply(status, "upstream trouble"))
    message = fails(fetch, fake_api.url, timeout=30)
    assert len(fake_api.requests) == fetch_mod.MAX_ATTEMPTS
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert f"HTTP {status}" in message and "upstream trouble" in message
    assert "gave up after 5 attempts" in message and "try again later" in message


def test_server_error_then_success(fake_api, sleeps, caplog):
    fake_api.serve(DOC)
    fake_api.queue(error_reply(502, "bad gateway"), reply(b"", status=529))
    caplog.set_level(logging.DEBUG, logger="catalog.fetch")
    assert json.loads(fetch(fake_api.url, timeout=30).body) == DOC
    assert len(fake_api.requests) == 3 and sleeps == [0.5, 1.0]
    levels = [r.levelname for r in caplog.records if r.name == "catalog.fetch"]
    assert levels.count("DEBUG") == 3 and levels.count("WARNING") == 2


def test_429_retry_after_honoured_then_success(fake_api, sleeps):
    fake_api.serve(DOC)
    fake_api.queue(error_reply(429, "slow down", headers={"Retry-After": "1"}))
    assert json.loads(fetch(fake_api.url, timeout=10).body) == DOC
    assert sleeps == [1.0]
    assert len(fake_api.requests) == 2


def test_503_retry_after_http_date(fake_api, sleeps):
    server_now = datetime(2026, 1, 24, 8, 0, 0, tzinfo=UTC)
    # The wait is counted from the server's Date, not from our clock.
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=3), usegmt=True),
    }
    fake_api.queue(reply(b"busy", status=503, headers=headers))
    fake_api.serve(DOC)
    fetch(fake_api.url, timeout=10)
    assert sleeps == [3.0]


def test_429_retry_after_past_deadline_fails_at_once(fake_api, sleeps):
    fake_api.serve(error_reply(429, "rate limited", headers={"Retry-After": "120"}))
    message = fails(fetch, fake_api.url, timeout=30)
    assert len(fake_api.requests) == 1 and sleeps == []
    assert message == (
        "the server at 127.0.0.1 rate-limited the request (HTTP 429) and asked to wait 120 s, "
        "past the 30 s timeout; try again later"
    )


@pytest.mark.parametrize(
    "status, hint",
    [
        (401, "check OPENROUTER_API_KEY"),
        (403, "check OPENROUTER_API_KEY"),
        (404, "check --api-url: the models URL (…/api/v1/models) or the API's base (…/api/v1)"),
    ],
)
def test_client_errors_fail_at_once(fake_api, sleeps, status, hint):
    fake_api.serve(error_reply(status, "No auth credentials found"))
    message = fails(fetch, fake_api.url, timeout=5)
    assert len(fake_api.requests) == 1 and sleeps == []
    assert f"HTTP {status}" in message and "No auth credentials found" in message
    assert message.endswith(hint)


def test_client_error_with_non_json_body(fake_api):
    fake_api.serve(reply("<html>nope</html>", status=404))
    message = fails(fetch, fake_api.url, timeout=5)
    assert message == (
        f"{fake_api.url} answered HTTP 404 Not Found; "
        "check --api-url: the models URL (…/api/v1/models) or the API's base (…/api/v1)"
    )


def test_large_error_page_reported_by_its_status(fake_api):
    # Only the head of an error page is read: its size never turns into a size error.
    fake_api.serve(reply(b"x" * 5_000_000, status=403))
    message = fails(fetch, fake_api.url, timeout=5, max_bytes=1_000_000)
    assert message == f"{fake_api.url} answered HTTP 403 Forbidden; check OPENROUTER_API_KEY"


def test_connection_refused(sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now.
    message = fails(fetch, f"http://127.0.0.1:{port}/api/v1/models", timeout=30)
    assert "could not connect" in message and "ConnectError" in message
    assert "check the network and --api-url" in message
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_hang_fails_within_timeout(fake_api):
    fake_api.serve(hang())
    message = fails(fetch, fake_api.url, timeout=0.5)
    assert "no answer in time" in message and "timeout 0.5 s" in message
    assert len(fake_api.requests) == 1  # the 0.5 s backoff would pass the deadline


def test_reset_mid_body_retried(fake_api, sleeps):
    fake_api.serve(DOC)
    fake_api.queue(reset_mid_body())
    assert json.loads(fetch(fake_api.url, timeout=10).body) == DOC
    assert len(fake_api.requests) == 2 and sleeps == [0.5]


def test_reset_mid_body_every_time(fake_api, sleeps):
    fake_api.serve(reset_mid_body())
    message = fails(fetch, fake_api.url, timeout=10)
    assert "the connection broke" in message and len(fake_api.requests) == 5


def test_short_body_retried_then_fails(fake_api, sleeps):
    fake_api.serve(short_body())
    message = fails(fetch, fake_api.url, timeout=10)
    assert "RemoteProtocolError" in message and len(fake_api.requests) == 5


def test_huge_chunked_body_refused_without_reading_all(fake_api, sleeps):
    total = 64 * 1024 * 1024
    fake_api.serve(huge_body(total))
    message = fails(fetch, fake_api.url, timeout=10, max_bytes=256 * 1024)
    assert "larger than the 262,144-byte limit" in message and "--max-bytes" in message
    assert len(fake_api.requests) == 1 and sleeps == []
    # Had the client read everything, the server would have counted it all before fetch returned
    # (give or take the last chunk, which the slack covers).
    assert fake_api.bytes_sent < total - 65536


def test_declared_length_too_big_refused_at_once(fake_api):
    fake_api.serve(huge_body(10_000_000, chunked=False))
    message = fails(fetch, fake_api.url, timeout=10, max_bytes=1_000_000)
    assert "it declares 10,000,000 bytes" in message


def test_body_exactly_at_limit_accepted(fake_api):
    fake_api.serve(b"x" * 1000)
    assert len(fetch(fake_api.url, timeout=5, max_bytes=1000).body) == 1000
    assert fails(fetch, fake_api.url, timeout=5, max_bytes=999)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/models", "file:///etc/passwd", "example.com/models", "", "http://", "http://[::1"]
)
def test_non_http_url_refused(url):
    message = fails(fetch, url, timeout=1)
    assert message == f"{url!r} is not a valid http or https URL; check --api-url"


def test_redirect_followed(fake_api):
    fake_api.queue(redirect("/elsewhere", 301), redirect(fake_api.base + "/final", 307))
    fake_api.serve(DOC)
    got = fetch(fake_api.url, timeout=5, api_key=KEY)
    assert json.loads(got.body) == DOC
    assert [r["path"] for r in fake_api.requests] == ["/api/v1/models", "/elsewhere", "/final"]
    assert all(r["headers"].get("Authorization") == f"Bearer {KEY}" for r in fake_api.requests)


def test_redirect_loop_bounded(fake_api, sleeps):
    fake_api.serve(redirect("/api/v1/models"))
    message = fails(fetch, fake_api.url, timeout=5)
    assert "redirected more than 5 times" in message
    assert len(fake_api.requests) == 6 and sleeps == []


def test_redirect_to_other_scheme_refused(fake_api):
    fake_api.serve(redirect("ftp://example.com/models"))
    message = fails(fetch, fake_api.url, timeout=5)
    assert "redirected to 'ftp://example.com/models', which is not http or https" in message


def test_redirect_to_other_host_drops_key(fake_api):
    fake_api.queue(redirect(fake_api.url.replace("127.0.0.1", "localhost")))
    fake_api.serve(DOC)
    fetch(fake_api.url, timeout=5, api_key=KEY)
    assert "Authorization" in fake_api.requests[0]["headers"]
    assert "Authorization" not in fake_api.requests[1]["headers"]


def test_gzip_answer_decoded(fake_api):
    fake_api.serve(reply(DOC, gzip=True))
    got = fetch(fake_api.url, timeout=5)
    assert json.loads(got.body) == DOC


def test_gzip_bomb_bounded_after_decoding(fake_api):
    fake_api.serve(reply(b" " * 5_000_000, gzip=True))  # ~5 KB on the wire
    message = fails(fetch, fake_api.url, timeout=5, max_bytes=1_000_000)
    assert "more than 1,000,000 bytes arrived" in message


# --------------------------------------------------------------------------- MockTransport units


def mock(*answers):
    """A transport answering in order (the last one repeats); records requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


URL = "https://openrouter.ai/api/v1/models"


def test_backoff_delays():
    assert [backoff_delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]


def test_retry_uses_backoff_without_waiting(clock):
    transport, seen = mock(httpx.Response(503), httpx.Response(500), httpx.Response(200, content=b"{}"))
    got = fetch(URL, timeout=30, transport=transport)
    assert got.body == b"{}" and len(seen) == 3 and clock.sleeps == [0.5, 1.0]


def test_retries_stop_at_deadline(clock):
    transport, seen = mock(httpx.Response(502))
    message = fails(fetch, URL, timeout=2, transport=transport)
    # 0.5 + 1 = 1.5 s spent; waiting 2 s more would pass the 2 s deadline.
    assert clock.sleeps == [0.5, 1.0] and len(seen) == 3
    assert "gave up after 3 attempts in 1.5 s, timeout 2 s" in message


def test_retry_after_capped(clock):
    transport, _seen = mock(httpx.Response(429, headers={"Retry-After": "90"}), httpx.Response(200, content=b"[]"))
    assert fetch(URL, timeout=100, transport=transport).body == b"[]"
    assert clock.sleeps == [fetch_mod.RETRY_AFTER_CAP]


def test_retry_after_past_deadline_openrouter_message(clock):
    transport, _seen = mock(httpx.Response(429, headers={"Retry-After": "120"}))
    message = fails(fetch, URL, timeout=30, transport=transport)
    assert message == (
        "OpenRouter rate-limited the request (HTTP 429) and asked to wait 120 s, past the 30 s timeout; try again later"
    )
    assert clock.sleeps == []


def test_retry_after_http_date_from_mock(clock):
    date = datetime(2026, 1, 24, 8, 0, 0, tzinfo=UTC)
    headers = {
        "Date": format_datetime(date, usegmt=True),
        "Retry-After": format_datetime(date + timedelta(seconds=7), usegmt=True),
    }
    transport, _ = mock(httpx.Response(503, headers=headers), httpx.Response(200, content=b"{}"))
    fetch(URL, timeout=30, transport=transport)
    assert clock.sleeps == [7.0]


def test_retry_after_ignored_on_500(clock):
    transport, _ = mock(httpx.Response(500, headers={"Retry-After": "9"}), httpx.Response(200))
    fetch(URL, timeout=30, transport=transport)
    assert clock.sleeps == [0.5]


def test_unparsable_retry_after_falls_back_to_backoff(clock):
    transport, _ = mock(httpx.Response(429, headers={"Retry-After": "soon"}), httpx.Response(200))
    fetch(URL, timeout=30, transport=transport)
    assert clock.sleeps == [0.5]


def test_transport_errors_retried(clock):
    request = httpx.Request("GET", URL)
    transport, _seen = mock(
        httpx.ConnectError("refused", request=request),
        httpx.ReadTimeout("timed out", request=request),
        httpx.RemoteProtocolError("peer closed", request=request),
        httpx.Response(200, content=b"ok"),
    )
    assert fetch(URL, timeout=30, transport=transport).body == b"ok"
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_trickling_body_stops_at_deadline(clock):
    def trickle():
        for _ in range(100):
            clock.now += 10  # each chunk arrives 10 s after the previous one
            yield b"x"

    transport, seen = mock(httpx.Response(200, content=trickle()))
    message = fails(fetch, URL, timeout=30, transport=transport)
    assert message == (
        f"the answer from {URL} did not finish arriving within the 30 s timeout; try again later or raise --timeout"
    )
    assert len(seen) == 1 and clock.now == 1040


def test_unexpected_status_not_retried(clock):
    transport, seen = mock(httpx.Response(501), httpx.Response(200))
    message = fails(fetch, URL, timeout=30, transport=transport)
    assert "HTTP 501 Not Implemented" in message and len(seen) == 1


def test_api_error_message_in_400(clock):
    body = {"error": {"code": 400, "message": "Invalid   output_modalities\nvalue"}}
    transport, _ = mock(httpx.Response(400, json=body))
    message = fails(fetch, URL, timeout=30, transport=transport)
    assert message == (
        f"{URL} answered HTTP 400 Bad Request: Invalid output_modalities value; check the query part of --api-url"
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", 0.0),
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", None),
        ("nan", None),
        ("", None),
        (None, None),
        ("soon", None),
        ("Sat, 24 Jan 2026 08:00:30 GMT", 30.0),
        ("Sat, 24 Jan 2026 07:59:00 GMT", 0.0),  # in the past: retry now
        ("Saturday, 24-Jan-26 08:01:00 GMT", 60.0),  # RFC 850 form
    ],
)
def test_parse_retry_after(value, expected):
    now = datetime(2026, 1, 24, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


def test_redact_url():
    assert redact_url("https://u:p@host:8080/x?y=1") == "https://host:8080/x?y=1"
    assert redact_url("https://host/x") == "https://host/x"


# --------------------------------------------------------------------------- read_file


def test_read_file_is_received_now_whatever_its_mtime(tmp_path):
    path = tmp_path / "answer.json"
    path.write_bytes(DOC_BYTES)
    stamp = datetime(2026, 1, 24, 8, 0, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    before = datetime.now(UTC)
    got = read_file(path)
    assert got.body == DOC_BYTES
    assert got.source == f"file:{path}"
    assert before <= got.received_at <= datetime.now(UTC)


def test_read_file_missing(tmp_path):
    path = tmp_path / "nope.json"
    assert fails(read_file, path) == f"cannot read {path}: No such file or directory; check --from-file"


def test_read_file_directory(tmp_path):
    assert fails(read_file, tmp_path) == f"cannot read {tmp_path}: Is a directory; check --from-file"


def test_read_file_below_a_file(tmp_path):
    path = tmp_path / "file.json"
    path.write_bytes(b"{}")
    assert fails(read_file, path / "x") == f"cannot read {path / 'x'}: Not a directory; check --from-file"


def test_read_file_too_large(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 101)
    assert "larger than the 100-byte limit" in fails(read_file, path, max_bytes=100)
    assert read_file(path, max_bytes=101).body == b"x" * 101


def test_read_file_from_pipe_bounded(tmp_path):
    read_end, write_end = os.pipe()
    os.write(write_end, b"y" * 200)
    os.close(write_end)
    path = Path(f"/dev/fd/{read_end}")
    try:
        assert "larger than the 100-byte limit" in fails(read_file, path, max_bytes=100)
    finally:
        os.close(read_end)


# --------------------------------------------------------------------------- fakeapi helpers


def test_fake_catalog_is_a_valid_answer():
    from catalog.ingest.normalize import normalize, parse_payload

    doc = catalog_doc(
        [
            model("v/free-one:free"),
            model("v/zero-priced"),
            model("v/paid", prompt="0.000001", completion="0.000002", context_length=None),
            model("v/custom", pricing={"prompt": "-1"}, top_provider={"is_moderated": True}, knowledge_cutoff="2025"),
        ]
    )
    catalog = normalize(parse_payload(json.dumps(doc).encode()))
    assert not catalog.skipped
    assert set(catalog.free) == {"v/free-one:free", "v/zero-priced"}
    assert catalog.records["v/paid"].context_length is None
    custom = doc["data"][3]
    assert custom["pricing"]["completion"] == "0" and custom["pricing"]["prompt"] == "-1"
    assert custom["top_provider"]["context_length"] == 131072 and custom["knowledge_cutoff"] == "2025"
