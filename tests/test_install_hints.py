"""The install hints name a command that works from a clone (the package is not published), and
the published form for later: the PostgreSQL driver and Apprise."""

from __future__ import annotations

import sys


def test_a_missing_postgresql_driver_says_how_to_install_it_from_a_clone(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError
    result = cli("models", "--db", "postgresql+psycopg://catalog@127.0.0.1:1/catalog")
    assert result.code != 0
    line = result.err.strip()
    assert "\n" not in line
    assert "pip install '.[postgres]'" in line and "'openrouter-free-catalog[postgres]' once published" in line


def test_a_missing_apprise_says_how_to_install_it_from_a_clone(monkeypatch):
    from catalog.watch.apprise_call import notify  # what the Apprise child process runs

    monkeypatch.setitem(sys.modules, "apprise", None)
    error = notify("json://127.0.0.1:1/", "t", "b")
    assert error is not None and "pip install '.[notify]'" in error
    assert "'openrouter-free-catalog[notify]' once published" in error


def test_a_sync_without_the_driver_gets_the_same_hint(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    answer = tmp_path / "models.json"
    answer.write_text('{"data": []}')
    result = cli("sync", "--db", "postgresql+psycopg://catalog@127.0.0.1:1/catalog", "--from-file", answer)
    assert result.code != 0 and "pip install '.[postgres]'" in result.err
