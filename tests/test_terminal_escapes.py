"""Text from the server never drives the terminal: escape codes and bidi controls in ids, names
and descriptions reach a person only as visible escapes (`\\x1b`, `\\u202e`), on every channel,
while the data formats written to a file or a pipe keep every character."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fakeapi import catalog_doc, model
from test_terminal import lines, run

CLEAR = "\x1b[2J"  # erase the screen
TITLE = "\x1b]0;pwned\x07"  # OSC: set the window title, ended by BEL
RLO = "\u202e"  # right-to-left override
HOSTILE = f"Evil{CLEAR} {TITLE}{RLO}gnp.exe"
RAW = ("\x1b", "\x07", RLO)  # what must never reach a terminal from the server's text
SHOWN = "Evil\\x1b[2J \\x1b]0;pwned\\x07\\u202egnp.exe"  # the same text, as a person sees it
BAD_ID = f"evil/{CLEAR}{TITLE}{RLO}x:free"
HOSTILE_ID = f"evil/{CLEAR}{TITLE}{RLO}y:free"


@pytest.fixture
def hostile_db(fake_api, cli, tmp_path):
    """A registry synced from a fake API whose entries have a hostile name and description, a
    hostile id, and a malformed entry (a text context length) with a hostile id."""
    fake_api.serve(
        catalog_doc(
            [
                model("evil/x:free", name=HOSTILE, description=HOSTILE),
                model("safe/y:free", name="![img](http://evil.example/x.png)"),
                model(HOSTILE_ID),  # listed, or skipped with a warning should ids like it be refused
                model(BAD_ID, context_length="lots"),
            ]
        )
    )
    done = cli("sync", "--db", "h.db", "--api-url", fake_api.url, "--no-render", "--no-health")
    assert done.code == 0, done.err
    return tmp_path / "h.db"


def assert_harmless(text: str) -> None:
    assert [ch for ch in RAW if ch in text] == []


def test_the_skipped_entry_warning_shows_a_hostile_id_as_escapes(fake_api, tmp_path):
    fake_api.serve(catalog_doc([model("ok/a:free"), model(BAD_ID, context_length="lots")]))
    args = ["sync", "--db", tmp_path / "w.db", "--api-url", fake_api.url, "--no-render", "--no-health"]
    code, _, screen = run(args, tty=("stderr",))
    assert code == 0, screen
    assert_harmless(screen)
    warning = next(line for line in lines(screen) if "skipped entry" in line)
    assert "(evil/\\x1b[2J\\x1b]0;pwned\\x07\\u202ex:free)" in warning


def test_json_log_lines_keep_the_id_and_escape_the_bidi_override(fake_api, tmp_path):
    fake_api.serve(catalog_doc([model("ok/a:free"), model(BAD_ID, context_length="lots")]))
    args = ["sync", "--db", tmp_path / "j.db", "--api-url", fake_api.url, "--no-render", "--no-health"]
    code, _, screen = run([*args, "--log-format", "json"], tty=("stderr",))
    assert code == 0, screen
    assert_harmless(screen)
    warning = next(json.loads(line) for line in lines(screen) if "skipped entry" in line)
    assert BAD_ID in warning["message"]  # JSON escapes lose nothing


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_every_format_at_a_terminal_shows_escapes_not_control_codes(hostile_db, fmt):
    shape = ["--columns", "id,name"] if fmt == "table" else []  # the name is not a default column
    code, out, err = run(["models", "--db", hostile_db, "--format", fmt, "--no-color", *shape])
    assert code == 0, err
    assert_harmless(out)
    if fmt == "json":
        row = next(r for r in json.loads(out) if r["id"] == "evil/x:free")
        assert row["name"] == HOSTILE  # lossless: \u001b and \u202e escapes read back as the text
        assert "\\u202e" in out
    elif fmt == "csv":
        assert SHOWN in out
    elif fmt == "markdown":
        assert r"Evil\\x1b\[2J \\x1b\]0;pwned\\x07\\u202egnp.exe" in out  # and Markdown-escaped
    else:
        assert "Evil\\x1b[2J" in out  # the name column is cut to fit, the escape shows first


def test_description_and_name_show_as_escapes_in_a_wide_table(hostile_db):
    code, out, err = run(["models", "--db", hostile_db, "--columns", "id,name", "--no-color"], columns=120)
    assert code == 0, err
    assert_harmless(out)
    assert any(line.split(None, 1) == ["evil/x:free", SHOWN] for line in lines(out))


def test_into_a_pipe_json_and_csv_keep_every_character(cli, hostile_db):
    rows = cli("models", "--db", hostile_db, "--format", "json").json()
    assert next(r for r in rows if r["id"] == "evil/x:free")["name"] == HOSTILE
    raw = cli("models", "--db", hostile_db, "--format", "json").out
    assert_harmless(raw)  # the ESC and BEL as JSON escapes JSON always had, the override too
    piped = cli("models", "--db", hostile_db, "--format", "csv").out
    assert HOSTILE in piped  # byte for byte
    records = list(csv.DictReader(io.StringIO(piped, newline="")))
    assert next(r for r in records if r["id"] == "evil/x:free")["name"] == HOSTILE


def test_into_a_pipe_the_table_and_markdown_stay_harmless(cli, hostile_db):
    for fmt in ("table", "markdown"):
        assert_harmless(cli("models", "--db", hostile_db, "--format", fmt).out)


def test_markdown_cells_cannot_become_an_image_or_a_link(cli, hostile_db):
    out = cli("models", "--db", hostile_db, "--format", "markdown").out
    row = next(line for line in lines(out) if line.startswith("| safe/y:free"))
    assert "| !\\[img\\](http://evil.example/x.png) |" in row
    assert "![img](" not in out


def test_an_error_quoting_a_server_shows_its_escapes_now_and_in_status(fake_api, tmp_path):
    from fakeapi import reply

    fake_api.queue(reply({"error": {"message": f"no{CLEAR}{RLO}"}}, status=404))
    code, _, screen = run(["sync", "--db", tmp_path / "e.db", "--api-url", fake_api.url], tty=("stderr",))
    assert code != 0
    assert_harmless(screen)
    assert "catalog: error:" in screen and "no\\x1b[2J\\u202e" in screen
    _, out, _ = run(["status", "--db", tmp_path / "e.db", "--no-color"], columns=200)
    assert_harmless(out)
    assert "no\\x1b[2J\\u202e" in next(line for line in lines(out) if line.lstrip().startswith("error"))


def test_a_dry_run_never_prints_a_hostile_id_raw(fake_api, tmp_path):
    fake_api.serve(catalog_doc([model("ok/a:free"), model(f"evil/{RLO}{CLEAR}x:free")]))
    args = ["sync", "--db", tmp_path / "d.db", "--api-url", fake_api.url, "--dry-run", "--no-health"]
    code, screen, _ = run(args, tty=("stdout", "stderr"))
    assert code == 0, screen
    assert_harmless(screen)
    # listed as added, or (were such an id refused) named in the skipped-entry warning
    assert "evil/\\u202e\\x1b[2Jx:free" in screen


def test_a_traceback_under_verbose_shows_escapes_and_no_key(capsys, monkeypatch):
    """The secret scrubber formats the traceback before the text formatter sees it: the escapes
    must still be applied to that text."""
    import logging

    from catalog.commands.cliutil import setup_logging

    key = "sk-or-v1-" + "0123456789abcdef" * 4
    monkeypatch.setenv("OPENROUTER_API_KEY", key)
    setup_logging(verbose=True, log_format="text")
    try:
        raise ValueError(f"server said \x1b[2J\x1b]0;title\x07 \u202e with {key}")
    except ValueError:
        logging.getLogger("catalog.test").exception("traceback")
    err = capsys.readouterr().err
    assert "Traceback" in err and "\\x1b[2J" in err
    assert not any(ch in err for ch in "\x1b\x07\u202e")
    secret = key[len("sk-or-v1-") :]
    assert not any(secret[i : i + 8] in err for i in range(len(secret) - 7))  # no 8-character run of it
