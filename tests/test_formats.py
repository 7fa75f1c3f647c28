"""Output formats: each parses back to the values written, and the table lines up."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
from datetime import datetime, timedelta, timezone

import pytest

from catalog.display import cells, formats, plaintable

COLUMNS = ["id", "context", "seen", "modalities", "note"]
ROWS = [
    {
        "id": "qwen/qwen3:free",
        "context": 131072,
        "seen": datetime(2026, 1, 24, 16, 0, tzinfo=timezone(timedelta(hours=8))),
        "modalities": ["text", "image"],
        "note": 'comma, "quote"\nand a newline',
    },
    {
        "id": "z-ai/glm:free",
        "context": None,
        "seen": datetime(2026, 1, 24, 8, 0),
        "modalities": None,
        "note": "通义千问 | `x`",
    },
]


def render(fmt: str, rows=ROWS, columns=COLUMNS) -> str:
    out = io.StringIO()
    formats.write_rows(rows, columns, fmt, out)
    return out.getvalue()


def test_json_is_an_array_of_objects_with_native_values():
    data = json.loads(render("json"))
    assert data == [
        {
            "id": "qwen/qwen3:free",
            "context": 131072,
            "seen": "2026-01-24T08:00:00Z",  # +08:00 converted to UTC
            "modalities": ["text", "image"],
            "note": 'comma, "quote"\nand a newline',
        },
        {
            "id": "z-ai/glm:free",
            "context": None,
            "seen": "2026-01-24T08:00:00Z",
            "modalities": None,
            "note": "通义千问 | `x`",
        },
    ]


def test_json_keeps_non_ascii_readable_and_empty_result_is_an_empty_array():
    assert "通义千问" in render("json")
    assert json.loads(render("json", rows=[])) == []


def test_json_writes_non_finite_floats_and_bytes_as_valid_json():
    text = render("json", rows=[(float("inf"), b"\x00\xff")], columns=["f", "b"])
    assert json.loads(text) == [{"f": None, "b": "00ff"}]


def test_csv_round_trips_through_an_rfc4180_reader():
    text = render("csv")
    assert text.startswith("id,context,seen,modalities,note\r\n")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records == [
        COLUMNS,
        ["qwen/qwen3:free", "131072", "2026-01-24T08:00:00Z", '["text", "image"]', 'comma, "quote"\nand a newline'],
        ["z-ai/glm:free", "", "2026-01-24T08:00:00Z", "", "通义千问 | `x`"],
    ]


def test_csv_of_no_rows_is_the_header_alone():
    assert render("csv", rows=[]) == "id,context,seen,modalities,note\r\n"


def markdown_cells(line: str) -> list[str]:
    """Split a table row on pipes that are not escaped, the way GitHub does."""
    cells, current, escaped = [], "", False
    for char in line.strip()[1:-1]:
        if char == "|" and not escaped:
            cells.append(current.strip())
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*cells, current.strip()]


def test_markdown_table_keeps_every_row_in_its_cells():
    lines = render("markdown").splitlines()
    assert len(lines) == 2 + len(ROWS)  # newlines inside cells did not split rows
    assert all(len(markdown_cells(line)) == len(COLUMNS) for line in lines)
    assert markdown_cells(lines[3])[4] == "通义千问 \\| \\`x\\`"
    assert markdown_cells(lines[2])[4] == 'comma, "quote" and a newline'  # one line, as in the report
    assert markdown_cells(lines[2])[3] == '\\["text", "image"\\]'


def test_markdown_escapes_a_trailing_backslash_so_it_cannot_eat_the_pipe():
    lines = render("markdown", rows=[("a\\", "b")], columns=["x", "y"]).splitlines()
    assert markdown_cells(lines[2]) == ["a\\\\", "b"]


def test_markdown_escapes_what_would_make_a_link_an_image_or_emphasis():
    lines = render("markdown", rows=[("![img](http://evil.example/x.png) *b* _i_ <b>",)], columns=["n"]).splitlines()
    assert lines[2] == "| !\\[img\\](http://evil.example/x.png) \\*b\\* \\_i\\_ \\<b\\> |"


HOSTILE = "a\x1b[2Jb\x1b]0;t\x07c\u202ed\x9be\u2066f"
SHOWN = "a\\x1b[2Jb\\x1b]0;t\\x07c\\u202ed\\x9be\\u2066f"


def test_visible_writes_control_and_bidi_characters_as_escapes():
    from catalog.display.visible import visible

    assert visible(HOSTILE) == SHOWN
    assert visible("tab\tline\nret\r\u200e\u061c\u2028") == "tab\\tline\\nret\\r\\u200e\\u061c\\u2028"
    assert visible("one\ntwo\x1b", keep="\n") == "one\ntwo\\x1b"
    assert visible("通义千问 café 🟢 e\u0301") == "通义千问 café 🟢 e\u0301"  # printable text as it is


def test_json_escapes_bidi_and_c1_characters_and_reads_back_the_same():
    text = render("json", rows=[(HOSTILE,)], columns=["n"])
    assert not any(ch in text for ch in "\x1b\x07\u202e\x9b\u2066")
    assert "\\u202e" in text and "\\u009b" in text
    assert json.loads(text) == [{"n": HOSTILE}]
    ascii_only = render("json", rows=[("a\x7fb",)], columns=["n"])  # DEL: the one ASCII character
    assert "\x7f" not in ascii_only and json.loads(ascii_only) == [{"n": "a\x7fb"}]


def test_table_and_markdown_show_escapes_csv_into_a_file_keeps_every_character():
    assert SHOWN in render("table", rows=[(HOSTILE,)], columns=["n"])
    assert "\\\\x1b\\[2J" in render("markdown", rows=[(HOSTILE,)], columns=["n"])
    assert list(csv.reader(io.StringIO(render("csv", rows=[(HOSTILE,)], columns=["n"]), newline=""))) == [
        ["n"],
        [HOSTILE],
    ]


def test_csv_at_a_terminal_shows_escapes():
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", newline="") as terminal:
            formats.write_rows([(HOSTILE, "x\ny")], ["n", "m"], "csv", terminal)
        # The terminal side is closed: read until the pty says there is nothing more (EIO on Linux),
        # as one read may return only the first line.
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        seen = b"".join(chunks).decode()
    finally:
        os.close(leader)
    assert SHOWN in seen and not any(ch in seen for ch in "\x1b\x07\u202e")
    assert '"x\r\ny"' in seen  # a quoted newline is CSV, not a control code (the pty adds the \r)


def test_text_width_counts_wide_and_combining_characters():
    assert cells.text_width("abc") == 3
    assert cells.text_width("通义") == 4
    assert cells.text_width("e\u0301") == 1  # e + combining acute


def test_table_columns_line_up_in_terminal_cells():
    rows = [("通义千问", 1), ("abc", 2), ("e\u0301x", 3)]
    lines = render("table", rows=rows, columns=["name", "n"]).splitlines()
    # The last column is right-aligned one-digit numbers: every line ends in the same cell only
    # if the wide and combining characters before it were measured as a terminal shows them.
    assert {cells.text_width(line) for line in lines} == {cells.text_width("通义千问") + 2 + 1}
    assert [line.split()[-1] for line in lines[2:]] == ["1", "2", "3"]


def test_table_shows_a_newline_in_a_cell_instead_of_breaking_the_row():
    lines = render("table").splitlines()
    assert len(lines) == 2 + len(ROWS)
    assert 'comma, "quote"\\nand a newline' in lines[2]
    assert lines[0].split() == COLUMNS


def test_table_right_aligns_numbers_and_leaves_null_empty():
    lines = render("table", rows=[(5, None), (131072, None)], columns=["n", "x"]).splitlines()
    assert lines[2].startswith("     5")
    assert lines[3].startswith("131072")
    assert lines[2].rstrip().endswith("5")  # the NULL column adds nothing visible


def test_table_truncates_long_cells_with_an_ellipsis_in_table_only():
    long = "字" * 100
    line = render("table", rows=[(long,)], columns=["t"]).splitlines()[2]
    assert line.endswith("…")
    assert cells.text_width(line) <= plaintable.TABLE_MAX_WIDTH
    assert long in render("csv", rows=[(long,)], columns=["t"])


def test_table_of_no_rows_is_the_header_and_rule():
    assert render("table", rows=[]).splitlines()[0].split() == COLUMNS
    assert len(render("table", rows=[]).splitlines()) == 2


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render("yaml")


def test_default_format_is_table_on_a_terminal_and_json_otherwise(tmp_path):
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as terminal:
            assert formats.default_format(terminal) == "table"
    finally:
        os.close(leader)
        os.close(follower)
    with open(tmp_path / "out.txt", "w") as file:
        assert formats.default_format(file) == "json"


def test_a_closed_pipe_is_reported_not_swallowed():
    read_end, write_end = os.pipe()
    os.close(read_end)
    out = open(write_end, "w")  # noqa: SIM115 - the test closes it by hand, after the pipe is gone
    # One small row sits in the buffer: write_rows must flush it to find out the pipe is gone,
    # while the command can still turn that into a quiet exit.
    with pytest.raises(BrokenPipeError):
        formats.write_rows([{"n": 1}], ["n"], "json", out)
    try:
        out.close()
    except BrokenPipeError:
        pass
