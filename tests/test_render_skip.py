"""A sync skips the render when its inputs are those of the files already written: proven equal to
a full render at every step (same answer an hour later, the next day, an expiry day, a probe that
expires, a changed answer, a changed config or template, a file edited by hand)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fakeapi import catalog_doc, model

from catalog.output import render

ANSWER = [
    model("a/alpha-8b:free", supported_parameters=["tools"]),
    model("b/beta-8b:free", supported_parameters=["tools"]),
    model("c/gamma-70b:free", expiration_date="2026-02-10"),
    model("d/delta-27b:free", context_length=32768),
    model("e/paid-9b", prompt="0.1", completion="0.1"),
]
OUT = ["--out", "out"]


@pytest.fixture
def generations(monkeypatch):
    """How many full renders ran (render.generate calls)."""
    calls = []
    real = render.generate

    def counted(*args, **kwargs):
        calls.append(kwargs.get("out_dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "generate", counted)
    return calls


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in sorted(folder.iterdir())}


class Registry:
    def __init__(self, cli, answer_file, tmp_path: Path, generations: list):
        self.cli, self.answer_file, self.tmp, self.generations = cli, answer_file, tmp_path, generations
        self.extra: list[str] = []
        self.paths: dict[int, Path] = {}  # one file per answer: the source is part of the output

    def sync(self, observed: str, answer=ANSWER) -> bool:
        """One sync; True when it rendered in full. Then a full `catalog render` must leave every
        file byte-identical: the skip (or the render) produced what a full render produces."""
        before = len(self.generations)
        path = self.paths.setdefault(len(answer), self.answer_file(catalog_doc(answer)))
        out = self.cli("sync", "--db", "r.db", "--from-file", path, "--observed-at", observed, *OUT, *self.extra)
        assert out.code == 0, out.err
        rendered = len(self.generations) > before
        synced = files(self.tmp / "out")
        full = self.cli("render", "--db", "r.db", *OUT, *self.extra)
        assert full.code == 0, full.err
        assert files(self.tmp / "out") == synced
        return rendered


@pytest.fixture
def registry(cli, answer_file, tmp_path, generations):
    return Registry(cli, answer_file, tmp_path, generations)


def test_an_unchanged_resync_skips_the_render_and_equals_a_full_one(registry, tmp_path):
    assert registry.sync("2026-01-10T08:00:00Z")
    before = stats(tmp_path / "out")
    assert not registry.sync("2026-01-10T09:00:00Z")  # an hour later: the same whole days
    assert not registry.sync("2026-01-10T23:59:00Z")  # the same day, the same whole days of streak
    assert stats(tmp_path / "out") == before  # nothing rewritten, not even touched
    assert registry.sync("2026-01-11T00:00:00Z")  # a new day: what expires soon is read again
    assert not registry.sync("2026-01-11T07:59:00Z")
    assert registry.sync("2026-01-11T08:00:00Z")  # one whole day free: the streak points change


def test_time_that_changes_the_output_renders_in_full(registry, tmp_path):
    assert registry.sync("2026-01-05T08:00:00Z")
    report = (tmp_path / "out" / "free-models.md").read_text()
    # c/gamma-70b expires 2026-02-10: "soon" (within 30 days) from 2026-01-11 on, a date change.
    assert registry.sync("2026-01-11T00:30:00Z")
    assert (tmp_path / "out" / "free-models.md").read_text() != report
    assert not registry.sync("2026-01-11T01:30:00Z")


def test_a_changed_answer_config_template_or_file_renders_in_full(registry, tmp_path):
    assert registry.sync("2026-01-10T08:00:00Z")
    assert registry.sync("2026-01-10T09:00:00Z", ANSWER[:-2])  # d/delta removed
    assert not registry.sync("2026-01-10T10:00:00Z", ANSWER[:-2])
    (tmp_path / "catalog.toml").write_text('[pools.SMALL]\npin = ["b/beta-8b:free"]\n')  # read from ./
    assert registry.sync("2026-01-10T11:00:00Z", ANSWER[:-2])
    assert not registry.sync("2026-01-10T12:00:00Z", ANSWER[:-2])
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "free-model-pool.ts.j2").write_text("// {{ generated }}\nexport const N = {{ free_count }};\n")
    registry.extra = ["--templates", str(templates)]
    assert registry.sync("2026-01-10T13:00:00Z", ANSWER[:-2])
    assert not registry.sync("2026-01-10T14:00:00Z", ANSWER[:-2])
    (templates / "free-model-pool.ts.j2").write_text("// {{ generated }}\nexport const M = {{ free_count }};\n")
    assert registry.sync("2026-01-10T15:00:00Z", ANSWER[:-2])
    (tmp_path / "out" / "free-models.md").write_text("edited by hand\n")
    assert registry.sync("2026-01-10T16:00:00Z", ANSWER[:-2])
    assert "edited by hand" not in (tmp_path / "out" / "free-models.md").read_text()
    (tmp_path / "out" / "free-model-pool.json").unlink()
    assert registry.sync("2026-01-10T17:00:00Z", ANSWER[:-2])
    assert (tmp_path / "out" / "free-model-pool.json").is_file()


def test_a_probe_result_and_its_expiry_render_in_full(registry, tmp_path):
    assert registry.sync("2026-01-10T08:00:00Z")
    conn = sqlite3.connect(tmp_path / "r.db")
    with conn:
        conn.execute(
            "INSERT INTO probes (probed_at, model_id, outcome, http_status) "
            "VALUES ('2026-01-10T08:30:00Z', 'a/alpha-8b:free', 'unavailable', 503)"
        )
    conn.close()
    assert registry.sync("2026-01-10T09:00:00Z")  # a new probe: alpha is out of the pools
    assert not registry.sync("2026-01-10T10:00:00Z")
    pools = (tmp_path / "out" / "free-model-pool.json").read_text()
    assert registry.sync("2026-01-11T08:31:00Z")  # 24 h later the probe no longer excludes it
    assert (tmp_path / "out" / "free-model-pool.json").read_text() != pools


def test_an_unwritable_cache_only_costs_a_full_render(registry, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert registry.sync("2026-01-10T08:00:00Z")
    assert registry.sync("2026-01-10T09:00:00Z")


def test_no_home_and_no_cache_folder_only_costs_a_full_render(registry, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: (_ for _ in ()).throw(RuntimeError("no home"))))
    assert registry.sync("2026-01-10T08:00:00Z")
    assert registry.sync("2026-01-10T09:00:00Z")
