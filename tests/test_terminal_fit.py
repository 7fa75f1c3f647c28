"""Tables at 80 and 120 columns on the seed-day catalog: every free model's id whole, no line wider
than the terminal, redundant columns left out first and named under the table, numbers
right-aligned, `--wide` whole, and `pools --explain` wrapped between words.

The registry is the real captures of tests/fixtures replayed in order, the newest one served by a
fake OpenRouter on 127.0.0.1 whose `/endpoints` answers give every model a health sample."""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import captures
from fakeapi import endpoint, endpoints_doc, endpoints_path
from test_terminal import WIDTHS, lines, run

ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def width_of(text: str) -> int:
    """Display columns as a terminal counts them: East Asian wide characters (the health badges
    among them) take two, combining marks none."""
    total = 0
    for ch in ESCAPE.sub("", text):
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return total


def spans(rule: str) -> list[tuple[int, int]]:
    """(start, end) display columns of each column, from the rule under the header (ASCII only)."""
    return [m.span() for m in re.finditer(r"-+", rule)]


def cell(line: str, start: int, end: int) -> str:
    """The text of `line` between display columns `start` and `end`."""
    out, column = "", 0
    for ch in ESCAPE.sub("", line):
        if start <= column < end:
            out += ch
        column += width_of(ch)
    return out


def body(out: str) -> list[str]:
    """The rows: the lines under the rule, down to the dim footer (if any)."""
    rows = []
    for line in lines(out)[2:]:
        if line.startswith("\x1b[2m"):
            break
        rows.append(line)
    return rows


def footer(out: str) -> str:
    return " ".join(ESCAPE.sub("", line) for line in lines(out)[2 + len(body(out)) :])


def column_of(out: str, head: str) -> list[str]:
    """The raw cells (padding kept) of the column headed `head`, one per row."""
    head_line, rule = lines(out)[:2]
    start, end = spans(rule)[ESCAPE.sub("", head_line).split().index(head)]
    return [cell(line, start, end) for line in body(out)]


@pytest.fixture(scope="module")
def seed_day(tmp_path_factory):
    """The fixtures' captures synced oldest first; the newest through the fake API, with health."""
    import json

    from fakeapi import FakeAPI

    from catalog.cli import main

    folder = tmp_path_factory.mktemp("seed")
    db = folder / "seed.db"
    *older, newest = captures()
    for path in older:
        assert main(["sync", "--db", str(db), "--from-file", str(path), "--no-render"]) == 0
    doc = json.loads(newest.read_bytes())
    api = FakeAPI()
    try:
        api.serve(doc)
        for i, entry in enumerate(doc["data"]):
            mid = entry["id"]
            latency = {"p50": 400 + 97 * i, "p90": 2000} if i % 3 else None
            answer = endpoint(status=0 if i % 5 else -2, uptime_1d=80 + i % 20, latency=latency, model_id=mid)
            api.route(endpoints_path(mid), endpoints_doc(mid, answer))
        assert main(["sync", "--db", str(db), "--api-url", api.url, "--no-render"]) == 0
    finally:
        api.close()
    return db


@pytest.fixture(scope="module")
def free_ids(seed_day):
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "catalog", "models", "--db", str(seed_day), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ids = [row["id"] for row in json.loads(done.stdout)]
    assert len(ids) == 33 and max(map(len, ids)) == 61  # the newest capture's free models
    return ids


def right_aligned(cells: list[str]) -> bool:
    """Every cell ends at the column's right edge, and some are padded on the left to get there."""
    return all(c == c.rstrip() and c.strip() for c in cells) and any(c.startswith(" ") for c in cells)


def assert_within(out: str, columns: int) -> None:
    assert [line for line in lines(out) if width_of(line) > columns] == []


def first_cells(out: str) -> list[str]:
    return [line.split()[0] for line in body(out)]


@pytest.mark.parametrize("columns", WIDTHS)
def test_models_shows_every_id_whole_within_the_width(seed_day, free_ids, columns):
    code, out, err = run(["models", "--db", seed_day], columns=columns)
    assert code == 0, err
    assert_within(out, columns)
    assert sorted(first_cells(out)) == sorted(free_ids)
    head = ESCAPE.sub("", lines(out)[0]).split()
    assert "vendor" not in head  # the id's first part goes first
    note = footer(out)
    assert note.startswith(f"hidden to fit {columns} columns: vendor (part of the id)")
    assert note.endswith("--wide shows all")
    for name in {"context", "free_since", "health"} - set(head):  # what else is left out is named
        assert name in note
    assert right_aligned(column_of(out, "context"))


@pytest.mark.parametrize("columns", WIDTHS)
def test_health_shows_every_id_whole_leaving_empty_and_same_value_columns_out(seed_day, free_ids, columns):
    code, out, err = run(["health", "--db", seed_day], columns=columns)
    assert code == 0, err
    assert_within(out, columns)
    assert sorted(first_cells(out)) == sorted(free_ids)
    head = ESCAPE.sub("", lines(out)[0]).split()
    note = footer(out)
    # No key (no account view), never probed, and one sample only (no 7-day availability yet): empty.
    empty = "account (all empty), last_probe (all empty), avail_7d (all empty)"
    assert note.startswith(f"hidden to fit {columns} columns: {empty}")
    if columns == 80:  # the sample's time, the same on every row, goes before any column with news
        assert head == ["model", "state"]
        assert re.search(r"sampled \(all \d{4}-\d\d-\d\d \d\d:\d\d\), p50_ms, uptime_1d;", note)
    else:
        assert head == ["model", "state", "uptime_1d", "p50_ms", "sampled"]
        for name in ("uptime_1d", "p50_ms"):  # numbers as shown (91.0%, 1,467) right-aligned
            cells = [c for c in column_of(out, name) if c.strip() != "-"]
            assert right_aligned(cells), name


@pytest.mark.parametrize("columns", WIDTHS)
def test_pools_shows_ids_whole_and_right_aligns_context(seed_day, columns):
    code, out, err = run(["pools", "--db", seed_day], columns=columns)
    assert code == 0, err
    assert_within(out, columns)
    models = [c.strip() for c in column_of(out, "model")]
    assert "qwen/qwen3-next-80b-a3b-instruct:free" in models and not any(m.endswith("…") for m in models)
    for name in ("rank", "context"):
        cells = [c for c in column_of(out, name) if c.strip() not in ("-", "—")]
        assert right_aligned(cells), name


@pytest.mark.parametrize("columns", WIDTHS)
def test_wide_shows_every_column_and_id_whole_lines_as_long_as_needed(seed_day, free_ids, columns):
    code, out, err = run(["models", "--db", seed_day, "--wide"], columns=columns)
    assert code == 0, err
    head = ESCAPE.sub("", lines(out)[0]).split()
    assert head[:4] == ["id", "name", "vendor", "context"] and len(head) == 14
    assert not any(h.endswith("…") for h in head)
    assert sorted(first_cells(out)) == sorted(free_ids)
    assert "…" not in out
    assert max(width_of(line) for line in lines(out)) > columns  # not squeezed into the window
    assert len(lines(out)) == 2 + len(free_ids)  # no footer: nothing hidden


@pytest.mark.parametrize("columns", WIDTHS)
def test_pools_explain_wraps_between_words(seed_day, columns):
    import subprocess
    import sys

    piped = subprocess.run(
        [sys.executable, "-m", "catalog", "pools", "--explain", "--format", "table", "--db", str(seed_day)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert max(map(width_of, lines(piped))) > 80  # lines that need wrapping at 80 columns
    code, out, err = run(["pools", "--explain", "--db", seed_day], columns=columns)
    assert code == 0, err
    assert_within(out, columns)
    assert out.split() == piped.split()  # same words in the same order: none broken, none joined
    assert "tools" in out.split() and any(w.startswith("+") and w.endswith(".00") for w in out.split())


def test_wrap_breaks_only_between_words_and_keeps_a_long_word_whole():
    from catalog.display.wrap import wrap_words

    assert wrap_words("  a bb ccc  dd", 80) == ["  a bb ccc  dd"]  # fits: as written
    assert wrap_words("  one two three", 9, "  ") == ["  one two", "  three"]
    long = "x" * 12
    assert wrap_words(f"  a {long} b", 8, "  ") == ["  a", f"  {long}", "  b"]
    assert wrap_words("通义 千问 模型", 9) == ["通义 千问", "模型"]  # wide characters count two


def test_side_by_side_redundant_columns_both_go_before_any_other():
    from catalog.display.termtable import Column, fit_view

    def column(name, cells, **flags):
        return Column(
            name, name, cells, **{"right": False, "rigid": False, "key": False, "kept": False} | flags, colors=None
        )

    table = [
        column("observed_at", ["2026-01-09 06:30", "2026-01-08 00:00"], rigid=True, kept=True),
        column("id", ["google/gemma-3-27b-it:free", "qwen/qwen3-4b:free"], key=True),
        column("vendor", ["google", "qwen"]),
        column("age", ["3d", "4d"]),
        column("note", ["a note thirty characters long.", "another one, just as long too."]),
    ]
    shown, widths, notes = fit_view(table, 80)
    assert [c.name for c in shown] == ["observed_at", "id", "note"]
    assert notes == ["vendor (part of the id)", "age (counted from when)"]
    assert widths == [16, 26, 30]
