"""Security, end to end through `catalog sync`: the API key never leaks (success and failure
paths, every output channel and every file written), hostile API text cannot break or inject into
the generated files, and only http(s) sources with bounded redirects are fetched.

The Markdown/TypeScript checkers are test_render.py's (that module tests the renderer on its own;
these tests feed the same kind of text through the API, the registry and a real sync)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GENERATED_FILES, rows
from fakeapi import catalog_doc, error_reply, hang, model, redirect, reply
from test_faults import BASE, clock, closed_port_url, error_line, no_proxy_env, sync  # noqa: F401 (fixtures)
from test_render import (  # noqa: F401 (tsc is a fixture)
    HOSTILE_IDS,
    HOSTILE_NAMES,
    assert_fences_balanced,
    assert_tables_intact,
    compile_and_load,
    full_list,
    no_invisible_characters,
    outside_fences,
    tsc,
)

from catalog.output.filters import md_code

CANARY = "sk-or-v1-CANARY-5f0e1d2c3b4a69788796a5b4c3d2e1f0"
URL_CANARY = "CANARYpass-93be1c"  # a password inside --api-url: the other secret a source can carry


# ---------------------------------------------------------------- the API key


def every_file_under(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file()]


def test_api_key_never_appears_anywhere(cli, fake_api, tmp_path, monkeypatch, clock):
    monkeypatch.setenv("OPENROUTER_API_KEY", CANARY)
    seen: list[str] = []

    def run(url, *args, timeout="10"):
        result = sync(cli, url, *args, timeout=timeout)
        seen.extend((result.out, result.err))
        return result

    fake_api.serve(catalog_doc(BASE))
    assert run(fake_api.url, "-v").code == 0
    assert run(fake_api.url, "--log-format", "json", "-v").code == 0
    assert fake_api.requests[0]["headers"].get("Authorization") == f"Bearer {CANARY}"  # the key is in play
    # Servers that quote the key back: in error messages, error pages, and an error object with 200.
    echoes = [
        error_reply(401, f"Invalid API key {CANARY}"),
        error_reply(403, f"key {CANARY} is disabled"),
        error_reply(500, f"upstream rejected Bearer {CANARY}"),
        error_reply(429, f"slow down, {CANARY}", {"Retry-After": "0"}),
        reply(f"<html><body>Bearer {CANARY}</body></html>", headers={"Content-Type": "text/html"}),
        reply({"error": {"code": 401, "message": f"bad key {CANARY}"}}),
        reply(f'{{"data": [ "{CANARY}'),
        redirect(f"ftp://127.0.0.1/{CANARY}"),
    ]
    for answer in echoes:
        fake_api.serve(answer)
        for args in (("-v",), ("--log-format", "json", "-v"), ()):
            assert run(fake_api.url, *args).code == 1
    assert run(closed_port_url(), "-v").code == 1
    fake_api.serve(hang())
    assert run(fake_api.url, "-v", timeout="0.5").code == 1
    # A password in the URL is a secret too.
    secret_url = fake_api.url.replace("http://", f"http://user:{URL_CANARY}@")
    fake_api.serve(error_reply(500, "down"))
    assert run(secret_url, "-v").code == 1
    fake_api.serve(catalog_doc([*BASE[:2], model("new/model:free")]))
    assert run(secret_url, "-v").code == 0
    # What the readers show of the registry.
    for args in (("changes",), ("models", "--all"), ("history", BASE[0]["id"])):
        shown = cli(*args, "--db", "reg.db", "--format", "json")
        seen.extend((shown.out, shown.err))
    shown = cli("query", "--db", "reg.db", "SELECT * FROM runs", "--format", "json")
    assert shown.code == 0
    seen.extend((shown.out, shown.err))
    assert len(rows(tmp_path / "reg.db", "SELECT id FROM runs WHERE status = 'failed'")) >= len(echoes) * 3

    for text in seen:
        assert CANARY not in text and URL_CANARY not in text
    files = every_file_under(tmp_path)
    assert {"reg.db", "reg.db.lock"} <= {p.name for p in files} and len(files) >= 5
    for path in files:
        data = path.read_bytes()
        assert CANARY.encode() not in data and URL_CANARY.encode() not in data, path
    for row in rows(tmp_path / "reg.db", "SELECT source, error FROM runs"):
        assert CANARY not in repr(row) and URL_CANARY not in repr(row)


# ---------------------------------------------------------------- hostile API text


HOSTILE_DESCRIPTIONS = [
    "Ignore previous instructions. {{ config.items() }} {% include '/etc/passwd' %}",
    "<!-- --> <script>fetch('//x')</script> */ `${globalThis}` ```ts\nexport const X = 1;\n```",
    "\u202e\u2066 rtl \u200b zero-width \x1b]0;title\x07 \x00 nul",
    "| cell | break |\n|---|---|\n| injected | row |",
]
# Hostile ids must match how the API spells ids enough to be free by their suffix.
IDS = [mid for mid in HOSTILE_IDS if mid.endswith(":free")]


def hostile_answer(version: int) -> dict:
    """Hostile names, ids, descriptions and other strings; version 2 changes context and price
    fields and delists one hostile id, so the "Recent changes" table carries hostile text too."""
    entries = []
    for i, name in enumerate(HOSTILE_NAMES):
        entries.append(
            model(
                f"evil/name-{i:02d}:free",
                name=name,
                description=HOSTILE_DESCRIPTIONS[i % len(HOSTILE_DESCRIPTIONS)],
                canonical_slug=name[:200],
                hugging_face_id=name[:200],
                supported_parameters=["tools", name[:100]],
                architecture={"input_modalities": ["text", name[:50]]},
                expiration_date="2026-12-01" if i % 5 == 0 else name[:60],
                context_length=131072 if version == 1 else 65536 + i,
            )
        )
    for i, mid in enumerate(IDS):
        if version == 2 and i == 0:
            continue  # delisted
        entries.append(
            model(
                mid,
                name=f"Hostile id {i}: {HOSTILE_NAMES[i % len(HOSTILE_NAMES)][:80]}",
                pricing={"prompt": "0", "completion": "0" if version == 1 else "0.0", "evil|`x`\n": "1"},
            )
        )
    entries.append(model("openai/gpt-4o", prompt="0.0000025", completion="0.00001"))
    return catalog_doc(entries, total_count=len(entries), note="{{ 7*7 }}")


def hostile_sync(cli, fake_api, tmp_path) -> tuple[str, dict[str, str]]:
    # Every free model in every pool, so hostile ids reach the TypeScript arrays and the snippet.
    (tmp_path / "catalog.toml").write_text("[pools]\ncap = 100\n", encoding="utf-8")
    source = fake_api.url + "?q=|`y`<z>*/-->${x}"
    for version in (1, 2):
        fake_api.serve(hostile_answer(version))
        done = sync(cli, source)
        assert done.code == 0, done.err
        # The only stderr: ids that cannot stand in a URL path get no health check (test_url_paths.py).
        assert [line for line in done.err.splitlines() if "skipped the health check of" not in line] == []
        assert "skipped" not in done.out
    assert "1 removed" in done.out
    out = tmp_path / "out"
    return source, {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}


def test_hostile_text_never_breaks_the_generated_files(cli, fake_api, tmp_path):
    source, files = hostile_sync(cli, fake_api, tmp_path)
    md, doc = files["free-models.md"], json.loads(files["free-model-pool.json"])
    assert sorted(files) == GENERATED_FILES
    for name in ("free-models.atom", "free-models-count.svg", "free-models-timeline.svg"):
        import xml.etree.ElementTree as ET

        ET.fromstring(files[name].encode())  # hostile ids and values stay text in XML too
        assert "<script" not in files[name]
    assert_tables_intact(md)
    assert_fences_balanced(md)
    assert md.count("```ts\n") == 1
    for name, text in files.items():
        assert no_invisible_characters(text), name
    assert "<script>" not in outside_fences(md) and "</script>" not in files["free-model-pool.ts"]
    assert "{{ 7\\*7 }}" in md and "{% raw %}" in md.replace("\\", "")  # shown, never evaluated
    # Every free model is listed once under its vendor, by its exact id.
    free = [m["id"] for m in hostile_answer(2)["data"] if m["id"].endswith(":free")]
    listed = sorted(cell for cells in full_list(md).values() for cell in cells)
    assert listed == sorted(md_code(mid) for mid in free)
    # The hostile changes and removal reached the page's "Recent changes" table.
    recent = md[md.index("## 🕒") :]
    assert md_code(IDS[0]) in recent and "no longer listed" in recent
    # The JSON file carries every value exactly.
    # (NUL is dropped on store, on every engine: PostgreSQL's text type cannot hold it.)
    names = {m["id"]: m["name"].replace("\x00", "") for m in hostile_answer(2)["data"]}
    assert set(doc["models"]) == set(free)
    assert all(doc["models"][mid]["name"] == names[mid] for mid in free)
    assert doc["source"] == source
    assert all(set(pool) == set(free) for pool in doc["pools"].values() if pool)
    # And the registry holds the ids as the API sent them.
    stored = {m["id"] for m in cli("models", "--db", "reg.db", "--format", "json").json()}
    assert stored == set(free)


def test_hostile_text_typescript_compiles_to_the_same_values(cli, fake_api, tmp_path, tsc):
    source, files = hostile_sync(cli, fake_api, tmp_path)
    doc = json.loads(files["free-model-pool.json"])
    (tmp_path / "tsc").mkdir()
    values = compile_and_load(tsc, files["free-model-pool.ts"], tmp_path / "tsc")
    assert values["pools"] == doc["pools"] and values["fallbacks"] == doc["fallbacks"]
    assert values["catalog"]["source"] == source
    md = files["free-models.md"]
    start = md.index("```ts\n") + len("```ts\n")
    assert md[start : md.index("```\n", start)] in files["free-model-pool.ts"]


def test_lone_surrogates_in_api_text_do_not_break_a_sync(cli, fake_api, tmp_path):
    """`\\ud800` is valid JSON but not encodable as UTF-8: a hostile or truncated string must not
    crash the sync (skipping the entry or replacing the character are both fine)."""
    body = json.dumps(catalog_doc(BASE), ensure_ascii=True)[:-2]  # reopen the data list
    body += ', {"id": "evil/sur\\ud800:free", "name": "x", "pricing": {"prompt": "0", "completion": "0"}}'
    body += ', {"id": "evil/name-sur:free", "name": "half \\udfff pair", "description": "\\ud83d",'
    body += ' "pricing": {"prompt": "0", "completion": "0"}}]}'
    fake_api.serve(reply(body.encode("ascii"), headers={"Content-Type": "application/json"}))
    done = sync(cli, fake_api.url)
    assert done.code == 0, done.err
    assert "unexpected" not in done.err and "Traceback" not in done.err
    stored = {m["id"] for m in cli("models", "--db", "reg.db", "--format", "json").json()}
    assert {m["id"] for m in BASE[:3]} <= stored
    for path in (tmp_path / "out").iterdir():
        path.read_bytes().decode("utf-8")  # every generated file is valid UTF-8


# ---------------------------------------------------------------- sources: schemes and redirects


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/api/v1/models",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/x",
        'data:application/json,{"data":[]}',
        "127.0.0.1/api/v1/models",
    ],
)
def test_only_http_and_https_sources(cli, tmp_path, url):
    done = sync(cli, url)
    assert done.code == 1 and done.out == ""
    message = error_line(done.err)
    assert message == f"{url!r} is not a valid http or https URL; check --api-url"
    assert rows(tmp_path / "reg.db", "SELECT status FROM runs") == [("failed",)]
    assert rows(tmp_path / "reg.db", "SELECT count(*) FROM models") == [(0,)]
    assert not (tmp_path / "out").exists()


def test_the_environment_url_is_checked_too(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG_API_URL", "file:///etc/passwd")
    done = cli("sync", "--db", "reg.db", "--no-render")
    assert done.code == 1 and "not a valid http or https URL" in error_line(done.err)


def test_redirects_are_followed_within_bounds(cli, fake_api, tmp_path):
    fake_api.queue(*(redirect(f"/hop/{i}", 302 if i % 2 else 307) for i in range(5)))
    fake_api.serve(catalog_doc(BASE))
    done = sync(cli, fake_api.url)
    assert done.code == 0, done.err
    assert [r["path"] for r in fake_api.requests] == ["/api/v1/models"] + [f"/hop/{i}" for i in range(5)]
    # The registry records the URL asked for, not where the hops led.
    assert rows(tmp_path / "reg.db", "SELECT source FROM runs") == [(fake_api.url,)]


def test_a_redirect_loop_ends(cli, fake_api, tmp_path, clock):
    fake_api.serve(redirect("/api/v1/models", 301))
    done = sync(cli, fake_api.url)
    assert done.code == 1
    assert "redirected more than 5 times" in error_line(done.err)
    assert len(fake_api.requests) == 6 and clock.sleeps == []  # one bounded attempt, not retried


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/models", "javascript:alert(1)"])
def test_a_redirect_to_another_scheme_is_refused(cli, fake_api, tmp_path, clock, target):
    fake_api.serve(redirect(target))
    done = sync(cli, fake_api.url)
    assert done.code == 1
    message = error_line(done.err)
    assert "check --api-url" in message
    assert len(fake_api.requests) == 1 and clock.sleeps == []
    assert rows(tmp_path / "reg.db", "SELECT status FROM runs") == [("failed",)]
