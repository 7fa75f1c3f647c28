"""The exported LiteLLM config in the real LiteLLM Router, against a local stand-in for OpenRouter's
chat API: a pool whose first choice answers 429 is answered by the next free model of the pool,
and a pool whose every model answers 429 falls back to the pool its advice names. Nothing leaves
127.0.0.1: LITELLM_LOCAL_MODEL_COST_MAP keeps litellm's import from fetching its cost map, and a
socket guard fails the test on any other address."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from fakeapi import catalog_doc
from fakeapi import model as api_model

KEY = "sk-or-v1-test-only-key"
CODERS = [
    api_model("qwen/qwen3-coder:free", context_length=262000),
    api_model("mistralai/devstral-small:free"),
    api_model("agentica-org/deepcoder-14b:free", context_length=96000),
]
LARGE = [
    api_model("meta-llama/llama-3.3-70b-instruct:free"),
    api_model("nousresearch/hermes-3-llama-3.1-405b:free"),
]
PAID = [  # better by every pool rule; a call to any of them would cost money
    api_model("openai/gpt-codex-max", prompt="0.000001", completion="0.000004", context_length=1048576),
    api_model("qwen/qwen3-coder", prompt="0.0000002", completion="0.0000008", context_length=1048576),
    api_model("meta-llama/llama-3.1-405b-instruct", prompt="0.000003", completion="0.000003"),
]
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ChatServer:
    """POST /api/v1/chat/completions: 429 (OpenRouter's shared-pool body) for the models in
    `limited`, else a completion naming the model; records every model asked for, and the key."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.keys: set[str] = set()
        self.limited: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                mid = body["model"]
                server.asked.append(mid)
                server.keys.add(self.headers.get("Authorization", ""))
                if mid in server.limited:
                    status, doc = (
                        429,
                        {
                            "error": {
                                "code": 429,
                                "message": f"{mid} is temporarily rate-limited upstream.",
                                "metadata": {"raw": "rate limited", "provider_name": "Test"},
                            }
                        },
                    )
                else:
                    status, doc = 200, completion(mid)
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def completion(mid: str) -> dict:
    return {
        "id": "gen-1",
        "object": "chat.completion",
        "created": 1767225600,
        "model": mid,
        "provider": "Test",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"answered by {mid}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
    }


@pytest.fixture
def chat():
    server = ChatServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def outside(monkeypatch):
    """Every connection to an address other than loopback is refused and recorded."""
    tried: list[object] = []
    connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            tried.append(address)
            raise OSError(f"test guard: no network ({address[0]})")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return tried


@pytest.fixture
def exported(cli, answer_file, tmp_path, monkeypatch):
    """The registry synced from an answer holding free and paid models; its LiteLLM export."""
    db = tmp_path / "reg.db"
    doc = catalog_doc(CODERS + LARGE + PAID)
    assert cli("sync", "--db", db, "--from-file", answer_file(doc), "--no-render").code == 0
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    result = cli("export", "litellm", "--db", db)
    assert result.code == 0, result.err
    assert KEY not in result.out
    return result.out


@pytest.fixture
def router_of(chat, outside, monkeypatch):
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("OPENROUTER_API_BASE", chat.base)
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    import litellm

    def make(text: str) -> litellm.Router:
        doc = yaml.safe_load(text)
        # As the proxy does: router_settings are the Router's own arguments.
        return litellm.Router(model_list=doc["model_list"], **doc["router_settings"])

    return make


def group(text: str, name: str) -> list[str]:
    """A model group's OpenRouter ids by their `order`, first choice first."""
    found = [d["litellm_params"] for d in yaml.safe_load(text)["model_list"] if d["model_name"] == name]
    return [p["model"].removeprefix("openrouter/") for p in sorted(found, key=lambda p: p["order"])]


def ask(router, pool: str) -> str:
    answer = router.completion(model=pool, messages=[{"role": "user", "content": "Say ok"}])
    return answer.choices[0].message.content


def test_the_export_holds_the_pools_and_no_paid_model(exported):
    assert set(group(exported, "CODE")) == {m["id"] for m in CODERS}
    assert set(group(exported, "LARGE")) == {m["id"] for m in LARGE}
    for paid in PAID:
        assert f'"openrouter/{paid["id"]}"' not in exported
    assert yaml.safe_load(exported)["router_settings"]["fallbacks"] == [{"CODE": ["LARGE"]}]


def test_a_rate_limited_first_choice_is_answered_by_the_next_free_model(exported, router_of, chat, outside):
    first, second, *_ = group(exported, "CODE")
    chat.limited = {first}
    for _ in range(3):  # a fresh router each time: a shuffle that ignored `order` would show
        chat.asked.clear()
        assert ask(router_of(exported), "CODE") == f"answered by {second}"
        assert chat.asked == [first, second]
    assert chat.keys == {f"Bearer {KEY}"}  # the key came from the environment, as the config says
    assert outside == []


def test_a_pool_whose_every_model_is_rate_limited_falls_back_to_its_fallback_pool(exported, router_of, chat, outside):
    coders = group(exported, "CODE")
    chat.limited = set(coders)
    answer = ask(router_of(exported), "CODE")
    assert answer == f"answered by {group(exported, 'LARGE')[0]}"
    assert set(chat.asked[: len(coders)]) == set(coders)
    free = {m["id"] for m in CODERS + LARGE}
    assert set(chat.asked) <= free  # never a paid model, whatever the router tried
    assert outside == []


def test_importing_litellm_reaches_no_network():
    """In a fresh interpreter, with every non-loopback connection and name lookup recorded."""
    script = """
import socket
tried = []
connect, lookup = socket.socket.connect, socket.getaddrinfo
def guarded(self, address):
    if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        tried.append(address)
        raise OSError("no network")
    return connect(self, address)
def resolve(host, *args, **kwargs):
    if host not in ("127.0.0.1", "::1", "localhost"):
        tried.append(host)
        raise OSError("no network")
    return lookup(host, *args, **kwargs)
socket.socket.connect, socket.getaddrinfo = guarded, resolve
import litellm
litellm.Router(model_list=[{"model_name": "X", "litellm_params": {"model": "openrouter/a/b:free", "api_key": "os.environ/OPENROUTER_API_KEY", "order": 1}}])
print(repr(tried))
"""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "OPENROUTER_API_KEY": KEY}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
