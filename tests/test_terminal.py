"""At a terminal: tables that fit, colour that means something, progress on long work.

The commands run as real processes with stdout (or stderr) on a pseudo-terminal whose window
size is set with TIOCSWINSZ, exactly as a person's terminal would present them.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unicodedata
from pathlib import Path

import pytest
from fakeapi import catalog_doc, model
from test_import import needs_git, scraped_repo

from catalog.display import cells, term

REPO = Path(__file__).resolve().parents[1]
LONG_ID = "cognitivecomputations/dolphin-mistral-24b-venice-edition-preview:free"  # 69 characters
DAY1 = catalog_doc(
    [
        model("google/gemma-3-27b-it:free", context_length=131072, name="Google: Gemma 3 27B (free) 通义千问"),
        model("qwen/qwen3-4b:free", context_length=40960),
        model(LONG_ID, context_length=32768),
    ]
)
DAY2 = catalog_doc(
    [
        model("google/gemma-3-27b-it:free", context_length=96000, name="Google: Gemma 3 27B (free) 通义千问"),
        model(LONG_ID, context_length=32768),
        model("google/gemini-2.0-flash-exp:free", context_length=1048576),
    ]
)
DAY3 = catalog_doc(DAY1["data"] + [model("google/gemini-2.0-flash-exp:free", context_length=1048576)])
WIDTHS = (80, 120)


@pytest.fixture
def registry(cli, answer_file, tmp_path):
    for doc, when in ((DAY1, "2026-01-01T00:00Z"), (DAY2, "2026-01-08T00:00Z"), (DAY3, "2026-01-09T06:30Z")):
        out = cli("sync", "--db", "t.db", "--from-file", answer_file(doc), "--observed-at", when, "--no-render")
        assert out.code == 0, out.err
    return tmp_path / "t.db"


# --- running under a pseudo-terminal ----------------------------------------------------------


def run(args, *, columns=80, tty=("stdout",), env=None, cwd=None):
    """Run `python -m catalog ARGS`; the streams named in `tty` go to one pseudo-terminal of
    `columns` columns, the others to files. Returns (code, stdout, stderr) as text; what the
    terminal received is in the stream(s) it replaced."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "CATALOG_DB")}
    environment.update({"TERM": "xterm", "PYTHONPATH": str(REPO), **(env or {})})
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "catalog", *map(str, args)],
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=cwd,
            stdout=follower if "stdout" in tty else out_file,
            stderr=follower if "stderr" in tty else err_file,
        )
        os.close(follower)
        screen = b""
        deadline = time.monotonic() + 60
        try:
            while True:  # until the child closes the terminal (EIO on Linux), for at most 60 s
                left = deadline - time.monotonic()
                assert left > 0, f"catalog {args} still writing to the terminal after 60 s"
                if not select.select([leader], [], [], left)[0]:
                    continue
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk
        finally:
            os.close(leader)
            if proc.poll() is None and time.monotonic() > deadline:
                proc.kill()
        code = proc.wait(timeout=60)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode()
    seen = screen.decode().replace("\r\n", "\n")  # the terminal's ONLCR
    return code, (seen if "stdout" in tty else out), (seen if tty == ("stderr",) else err)


def lines(text: str) -> list[str]:
    return text.splitlines()


def assert_fits(text: str, columns: int) -> None:
    too_long = [line for line in lines(text) if cells.text_width(term.strip_escapes(line)) > columns]
    assert too_long == []


def header(text: str) -> list[str]:
    return term.strip_escapes(lines(text)[0]).split()


# --- tables that fit ----------------------------------------------------------------------------


FREE_IDS = sorted([LONG_ID, "google/gemini-2.0-flash-exp:free", "google/gemma-3-27b-it:free", "qwen/qwen3-4b:free"])


def footer(text: str) -> str:
    """The dim lines under a table, as one line of text."""
    return " ".join(term.strip_escapes(line) for line in lines(text) if line.startswith("\x1b[2m"))


@pytest.mark.parametrize("columns", WIDTHS)
def test_models_shows_ids_whole_and_names_the_columns_it_left_out(registry, columns):
    code, out, err = run(["models", "--db", registry], columns=columns)
    assert code == 0, err
    assert_fits(out, columns)
    body = {line.split()[0]: line.split()[1:] for line in lines(out)[2:6]}
    assert sorted(body) == FREE_IDS  # the 69-character id too
    if columns == 80:
        # id 69 + context 7 leave no room: the vendor (the id's first part) goes first, then the
        # health (unknown on every row), then free_since, the rightmost of what is left
        assert header(out) == ["id", "context"]
        assert body["google/gemini-2.0-flash-exp:free"] == ["1M"]
        assert footer(out) == (
            "hidden to fit 80 columns: vendor (part of the id), health (all ⚪ unknown), free_since; --wide shows all"
        )
    else:
        assert header(out) == ["id", "context", "free_since", "health"]
        assert body["google/gemini-2.0-flash-exp:free"] == ["1M", "2026-01-08", "00:00", "⚪", "unknown"]
        assert body["google/gemma-3-27b-it:free"][0] == "131K"
        assert footer(out) == "hidden to fit 120 columns: vendor (part of the id); --wide shows all"
    code, out, err = run(["models", "--db", registry], columns=140)  # room for all: nothing hidden
    assert header(out) == ["id", "context", "vendor", "free_since", "health"] and footer(out) == ""


@pytest.mark.parametrize("columns", WIDTHS)
def test_changes_and_history_fit_and_colour_the_kinds(registry, columns):
    code, out, _ = run(["changes", "--db", registry], columns=columns)
    assert code == 0
    assert_fits(out, columns)
    assert "\x1b[32madded\x1b[0m" in out and "\x1b[31mremoved\x1b[0m" in out and "\x1b[34mreturned\x1b[0m" in out
    changed = [line for line in lines(out) if " changed " in line]
    assert changed and all("\x1b[" not in line for line in changed)  # `changed` carries no colour
    models = {term.strip_escapes(line).split()[3] for line in lines(out)[2:] if not line.startswith("\x1b[2m")}
    if columns == 120:  # age repeats when: it goes first, and the ids stay whole
        assert header(out) == ["when", "kind", "model", "detail"]
        assert models == set(FREE_IDS)
        assert any(line.endswith("  context_length: 131K…") for line in changed)  # 21 cells left
        assert footer(out) == "hidden to fit 120 columns: age (counted from when); --wide shows all"
    else:  # an event keeps its time and kind: with the 69-character id that leaves 52 cells for it
        assert header(out) == ["when", "kind", "model"]
        assert models == set(FREE_IDS) - {LONG_ID} | {LONG_ID[:51] + "…"}
        assert footer(out) == "hidden to fit 80 columns: age (counted from when), detail; --wide shows all"
    code, out, _ = run(["history", "--db", registry, "qwen/qwen3-4b:free"], columns=columns)
    assert code == 0
    assert_fits(out, columns)
    assert header(out) == ["when", "age", "kind", "detail"]
    kinds = [term.strip_escapes(line).split()[3] for line in lines(out)[2:]]
    assert kinds == ["added", "removed", "returned"]
    assert "delisted" in lines(out)[3]


WIDE_HEADERS = [
    "id",
    "name",
    "vendor",
    "context",
    "max_output",
    "input",
    "output",
    "expires",
    "first_seen",
    "free_since",
    "health",
    "uptime_1d",
    "avail_7d",
    "p50_ms",
]


@pytest.mark.parametrize("columns", WIDTHS)
def test_wide_lists_all_fourteen_columns_one_row_per_model(registry, columns):
    code, out, _ = run(["models", "--db", registry, "--wide"], columns=columns)
    assert code == 0
    assert len(lines(out)[1].split()) == 14  # one rule per column: none dropped
    assert len(lines(out)) == 2 + 4  # the four free models, and no footer: nothing hidden
    assert max(cells.text_width(term.strip_escapes(line)) for line in lines(out)) > columns
    code, out, _ = run(["models", "--db", registry, "--all", "--wide"], columns=columns)
    assert code == 0 and len(lines(out)) == 2 + 4
    assert len(lines(out)[1].split()) == 19  # --all adds free, last_seen, left_at, left_why, removals


@pytest.mark.parametrize("columns", WIDTHS)
def test_wide_shows_every_column_whole(registry, columns):
    code, out, _ = run(["models", "--db", registry, "--wide"], columns=columns)
    assert code == 0
    assert header(out) == WIDE_HEADERS
    assert any(LONG_ID in line for line in lines(out))
    assert "Google: Gemma 3 27B (free) 通义千问" in out
    code, out, _ = run(["models", "--db", registry, "--all", "--wide"], columns=columns)
    assert header(out) == [*WIDE_HEADERS, "free", "last_seen", "left_at", "left_why", "removals"]


def test_wide_into_a_pipe_cuts_no_cell(cli, registry, answer_file):
    long_name = "A name of more than forty-eight characters, which the plain table cuts"
    doc = catalog_doc([model("v/long:free", name=long_name)])
    assert cli("sync", "--db", "w.db", "--from-file", answer_file(doc), "--no-render").code == 0
    assert long_name in cli("models", "--db", "w.db", "--wide").out
    assert long_name not in cli("models", "--db", "w.db", "--format", "table").out  # as before: cut at 48


@pytest.mark.parametrize("columns", WIDTHS)
def test_columns_picks_any_by_header_or_name_in_order(registry, columns):
    code, out, _ = run(["models", "--db", registry, "--columns", "vendor,context_length,name"], columns=columns)
    assert code == 0
    assert_fits(out, columns)
    assert header(out) == ["vendor", "context", "name"]
    assert "通义千问" in out
    code, out, _ = run(["changes", "--db", registry, "--columns", "model,kind,run"], columns=columns)
    assert header(out) == ["model", "kind", "run"]


def test_an_unknown_column_is_one_line_naming_the_valid_ones(registry):
    code, out, err = run(["models", "--db", registry, "--columns", "id,healthy"], tty=("stdout",))
    assert code == 2 and out == ""
    assert lines(err) == [
        "catalog: error: unknown column 'healthy'; choose from id, name, vendor, context, max_output, "
        "input, output, expires, first_seen, free_since, health, uptime_1d, avail_7d, p50_ms"
    ]


@pytest.mark.parametrize("columns", WIDTHS)
def test_query_pools_and_status_fit_the_terminal(registry, columns):
    sql = "SELECT id, description, supported_parameters, pricing FROM model_versions"
    code, out, err = run(["query", "--db", registry, sql], columns=columns)
    assert code == 0, err
    assert_fits(out, columns)
    assert header(out) == ["id", "description", "supported_parameters", "pricing"]
    code, out, _ = run(
        ["query", "--db", registry, "SELECT max(context_length) AS n FROM model_versions"], columns=columns
    )
    assert lines(out)[2].strip() == "1048576"  # SQL's own values: no 1M here
    code, out, err = run(["pools", "--db", registry], columns=columns)
    assert code == 0, err
    assert_fits(out, columns)
    # at 80 columns the 69-character id leaves room for the pool alone
    assert header(out) == (["pool", "model"] if columns == 80 else ["pool", "rank", "model", "context", "why"])
    assert LONG_ID in out
    code, out, err = run(["status", "--db", registry, "--max-age", "1h"], columns=columns)
    assert code == 1
    assert_fits(out, columns)
    assert "\x1b[31m1h: STALE\x1b[0m" in out


def test_more_columns_than_fit_are_cut_at_the_edge(registry):
    sql = "SELECT " + ", ".join(f"id AS column_number_{n}" for n in range(30)) + " FROM models"
    code, out, _ = run(["query", "--db", registry, sql], columns=80)
    assert code == 0
    assert_fits(out, 80)
    assert all(line.rstrip().endswith("…") for line in lines(out)[2:])


def test_columns_env_wins_over_the_window_size(registry):
    code, out, _ = run(["models", "--db", registry], columns=120, env={"COLUMNS": "60"})
    assert code == 0
    assert_fits(out, 60)
    assert max(cells.text_width(line) for line in lines(out)) > 50
    # an id wider than the terminal is the one thing cut, alone on its line
    assert header(out) == ["id"] and LONG_ID[:59] + "…" in out


# --- colour only where it may ----------------------------------------------------------------


@pytest.mark.parametrize("how", [{"env": {"NO_COLOR": "1"}}, {"flag": "--no-color"}, {"env": {"TERM": "dumb"}}])
def test_no_escape_codes_with_no_color(registry, how):
    flag = [how["flag"]] if "flag" in how else []
    for command in (
        ["changes"],
        ["history", "qwen/qwen3-4b:free"],
        ["status", "--max-age", "1h"],
        ["models"],
        ["pools"],
    ):
        _, out, _ = run([*command, "--db", registry, *flag], env=how.get("env"))
        assert "\x1b" not in out
        assert len(lines(out)) > 2
    _code, out, _ = run(["changes", "--db", registry], env={"NO_COLOR": ""})  # set but empty: colour
    assert "\x1b[32m" in out


# --- not a terminal: as before -----------------------------------------------------------------


# What the three syncs of `registry` leave, worked out by hand from DAY1..DAY3: the models free now,
# in id order, every column in the row's own names, raw values (what JSON, CSV and Markdown carry).
MODEL_NAMES = [
    "id",
    "name",
    "vendor",
    "context_length",
    "max_completion_tokens",
    "input_modalities",
    "output_modalities",
    "expiration_date",
    "first_seen_free",
    "free_since",
    "health",
    "uptime_1d",
    "availability_7d",
    "latency_p50_ms",
]


def free_model(mid, name, vendor, context, first_seen, free_since):
    return dict(
        zip(
            MODEL_NAMES,
            [
                mid,
                name,
                vendor,
                context,
                None,
                ["text"],
                ["text"],
                None,
                first_seen,
                free_since,
                "unknown",
                None,
                None,
                None,
            ],
        )
    )


EXPECTED_MODELS = [
    free_model(
        LONG_ID,
        "Cognitivecomputations: dolphin-mistral-24b-venice-edition-preview (free)",
        "cognitivecomputations",
        32768,
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    ),
    free_model(
        "google/gemini-2.0-flash-exp:free",
        "Google: gemini-2.0-flash-exp (free)",
        "google",
        1048576,
        "2026-01-08T00:00:00Z",
        "2026-01-08T00:00:00Z",
    ),
    free_model(
        "google/gemma-3-27b-it:free",
        "Google: Gemma 3 27B (free) 通义千问",
        "google",
        131072,
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    ),
    free_model(
        "qwen/qwen3-4b:free", "Qwen: qwen3-4b (free)", "qwen", 40960, "2026-01-01T00:00:00Z", "2026-01-09T06:30:00Z"
    ),  # removed on day 2, back on day 3
]
EVENT_NAMES = ["observed_at", "model_id", "kind", "reason", "field", "old", "new", "run_id"]
DAY_1, DAY_2, DAY_3 = "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z", "2026-01-09T06:30:00Z"
EXPECTED_EVENTS = [
    dict(zip(EVENT_NAMES, values))
    for values in [  # newest first
        (DAY_3, "qwen/qwen3-4b:free", "returned", None, None, None, None, 3),
        (DAY_3, "google/gemma-3-27b-it:free", "changed", None, "top_provider.context_length", 96000, 131072, 3),
        (DAY_3, "google/gemma-3-27b-it:free", "changed", None, "context_length", 96000, 131072, 3),
        (DAY_2, "qwen/qwen3-4b:free", "removed", "delisted", None, None, None, 2),
        (DAY_2, "google/gemma-3-27b-it:free", "changed", None, "top_provider.context_length", 131072, 96000, 2),
        (DAY_2, "google/gemma-3-27b-it:free", "changed", None, "context_length", 131072, 96000, 2),
        (DAY_2, "google/gemini-2.0-flash-exp:free", "added", None, None, None, None, 2),
        (DAY_1, "qwen/qwen3-4b:free", "added", None, None, None, None, 1),
        (DAY_1, "google/gemma-3-27b-it:free", "added", None, None, None, None, 1),
        (DAY_1, LONG_ID, "added", None, None, None, None, 1),
    ]
]


def plain_text(value) -> str:
    """A value as the plain formats write it: nothing for null, lists as JSON."""
    return "" if value is None else json.dumps(value) if isinstance(value, list) else str(value)


def md_escaped(text: str) -> str:
    """The Markdown of these rows' text: of the characters Markdown acts on, they hold only
    `_` (column and field names) and `[ ]` (lists as JSON), each escaped with a backslash."""
    return text.replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")


def display_slices(line: str, starts: list[int]) -> list[str]:
    """The cells of a table line cut at display columns `starts` (wide characters take two)."""
    cells, column, current = [], 0, ""
    bounds = [*starts[1:], 10**9]
    for ch in line:
        if column >= bounds[len(cells)]:
            cells.append(current)
            current = ""
        current += ch
        column += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    cells.append(current)
    return [c.strip() for c in cells] + [""] * (len(starts) - len(cells))


def test_a_piped_table_is_the_plain_table_of_before(cli, registry):
    piped = cli("models", "--db", registry, "--format", "table")
    assert "\x1b" not in piped.out
    head, rule, *body = piped.out.splitlines()
    starts = [m.start() for m in re.finditer(r"-+", rule)]
    assert rule.replace("-", "").strip() == "" and len(starts) == len(MODEL_NAMES)
    assert display_slices(head, starts) == MODEL_NAMES  # full column names, not the terminal's short ones
    assert len(body) == len(EXPECTED_MODELS)
    for line, model_row in zip(body, EXPECTED_MODELS):
        for cell, name in zip(display_slices(line, starts), MODEL_NAMES):
            full = plain_text(model_row[name])
            assert cell == full or (cell.endswith("…") and full.startswith(cell[:-1])), (name, cell, full)
        assert display_slices(line, starts)[3] == str(model_row["context_length"])  # raw, not 131K
    picked = cli("models", "--db", registry, "--columns", "id,context")  # picking columns means a table
    assert picked.out.splitlines()[0].split() == ["id", "context_length"]
    assert "131072" in picked.out  # raw values off a terminal


def test_wide_and_columns_are_refused_with_other_formats(cli, registry):
    for fmt in ("json", "csv", "markdown"):
        refused = cli("models", "--db", registry, "--format", fmt, "--wide")
        assert refused.code == 2 and "always carries every column" in refused.err
    assert cli("pools", "--db", registry, "--format", "json", "--columns", "model").code == 2
    assert cli("models", "--db", registry, "--wide", "--columns", "id").code == 2


def test_the_json_csv_and_markdown_of_every_reader_hold_the_registry_s_rows(cli, registry):
    """Off a terminal, the formats carry every column with raw values: the expected rows are
    worked out by hand from the three syncs (EXPECTED_MODELS, EXPECTED_EVENTS)."""
    import csv
    import io

    for command, names, expected in (
        ("models", MODEL_NAMES, EXPECTED_MODELS),
        ("changes", EVENT_NAMES, EXPECTED_EVENTS),
    ):
        assert json.loads(cli(command, "--db", registry, "--format", "json").out) == expected, command
        text_rows = [[plain_text(row[n]) for n in names] for row in expected]
        got_csv = list(csv.reader(io.StringIO(cli(command, "--db", registry, "--format", "csv").out, newline="")))
        assert got_csv == [names, *text_rows], command
        md = cli(command, "--db", registry, "--format", "markdown").out.splitlines()
        assert md[0] == "| " + " | ".join(map(md_escaped, names)) + " |"
        assert md[1] == "| " + " | ".join(["---"] * len(names)) + " |"
        assert md[2:] == ["| " + " | ".join(map(md_escaped, cells)) + " |" for cells in text_rows], command
    assert {m["id"]: m["context_length"] for m in json.loads(cli("models", "--db", registry).out)}[
        "google/gemini-2.0-flash-exp:free"
    ] == 1048576  # piped: JSON with raw values


def test_json_output_and_help_import_no_table_or_progress_code(registry):
    probe = (
        "import sys\nfrom catalog.cli import main\nsys.stdout = open('/dev/null', 'w')\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.__stdout__.write(' '.join(sorted(m for m in sys.modules if m.startswith(('catalog.display.termtable', 'catalog.display.progress', 'catalog.output.render', 'rich')))))"
    )
    for args in (["--help"], ["models", "--db", str(registry), "--format", "json"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
            timeout=60,
        )
        assert done.stdout == ""


# --- progress on long work ---------------------------------------------------------------------


@needs_git
def test_import_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path):
    docs = [DAY1, DAY2, DAY3, DAY1]
    stamps = ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"]
    repo = scraped_repo(tmp_path, [json.dumps(doc).encode() for doc in docs], stamps)
    args = ["import", "--db", tmp_path / "p.db", "--git", repo, "--path", "data/models.json", "--no-render"]
    code, out, screen = run(args, tty=("stderr",), columns=80)
    assert code == 0, screen
    assert "importing  0/4 commits  0%" in screen
    assert "importing  4/4 commits  100%" in screen
    assert screen.endswith("\r")  # the line is wiped at the end
    assert len(lines(out)) == 1 and out.startswith("4 answers: 4 imported;")
    piped = subprocess.run(
        [sys.executable, "-m", "catalog", *map(str, args[:2]), tmp_path / "q.db", *map(str, args[3:])],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=60,
    )
    assert piped.returncode == 0
    assert piped.stderr == ""
    assert len(piped.stdout.splitlines()) == 1 and piped.stdout.startswith("4 answers: 4 imported")


def test_progress_gets_out_of_the_way_of_log_lines(tmp_path, answer_file):
    good, bad = answer_file(DAY1), answer_file(b"{not json")
    os.utime(bad, (1767312000, 1767312000))  # observed after the good one
    os.utime(good, (1767225600, 1767225600))
    code, _, screen = run(["import", "--db", tmp_path / "l.db", good, bad, "--no-render"], tty=("stderr",))
    assert code == 1
    warning = next(line for line in lines(screen) if "failed file:" in line)
    assert warning.split("\r")[-1].startswith("catalog: failed file:")  # not glued to the progress text
    assert "importing  2/2 files  100%" in screen


def test_progress_line_reads_done_total_rate_and_time_left():
    import io

    from catalog.display.progress import ProgressLine, clock

    line = ProgressLine("importing", 10, "files", io.StringIO())
    line.done = 3
    assert line.text(line.started + 2.0) == "importing  3/10 files  30%  1.5/s  0:05 left"
    line.done = 10
    assert line.text(line.started + 4.0) == "importing  10/10 files  100%  2.5/s"
    assert [clock(7), clock(750), clock(3723)] == ["0:07", "12:30", "1:02:03"]


def test_progress_draws_nothing_and_costs_nothing_off_a_terminal():
    import io

    from catalog.display.progress import progress

    stream = io.StringIO()
    with progress("importing", 5, "files", stream=stream) as tick:
        assert tick is None  # the caller skips its per-item call entirely
    assert stream.getvalue() == ""


def test_health_badges_for_health_states():
    assert term.health_badge("up") == ("🟢 up", "green")
    assert term.health_badge("down") == ("🔴 down", "red")
    assert term.health_badge("unknown") == ("⚪ unknown", None)
    assert term.health_badge("something new") == ("something new", None)
    assert cells.text_width(term.health_badge("degraded")[0]) == len("degraded") + 3  # the badge is 2 cells
    assert term.strip_escapes(term.paint("x", "red")) == "x" and term.paint("x", None) == "x"


def test_fit_keeps_short_columns_whole_and_cuts_the_widest():
    from catalog.display.termtable import fit_widths

    # id 60, time 16 (rigid), reason 40: at 80 cells the reason and id give way, the time stays
    widths = fit_widths([60, 16, 40], [2, 4, 6], [False, True, False], 80)
    assert widths[1] == 16 and sum(widths) + 4 == 80 and abs(widths[0] - widths[2]) <= 1
    assert fit_widths([10, 10], [2, 2], [False, False], 80) == [10, 10]


def test_control_codes_from_the_api_never_reach_the_terminal(cli, answer_file, tmp_path):
    doc = catalog_doc([model("evil/x:free", name="Evil\x1b]0;pwned\x07 \x1b[31mred\nnext\u202eline")])
    assert cli("sync", "--db", "e.db", "--from-file", answer_file(doc), "--no-render").code == 0
    code, out, _ = run(["models", "--db", tmp_path / "e.db", "--columns", "id,name", "--no-color"], cwd=tmp_path)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert lines(out)[2].split() == ["evil/x:free", "Evil\\x1b]0;pwned\\x07", "\\x1b[31mred\\nnext\\u202eline"]


@pytest.mark.parametrize("columns", WIDTHS)
def test_health_fits_and_shows_its_default_columns(registry, columns):
    code, out, err = run(["health", "--db", registry], columns=columns)
    assert code == 0, err
    assert_fits(out, columns)
    rows = [line for line in lines(out)[2:] if not line.startswith("\x1b[2m")]
    assert sorted(line.split()[0] for line in rows) == FREE_IDS
    if columns == 120:  # never sampled: unknown, not up; the two empty columns on the right go
        assert header(out) == ["model", "state", "uptime_1d", "avail_7d", "p50_ms"]
        assert all("⚪ unknown" in line for line in rows)  # and no key: the account column is empty
        assert footer(out) == (
            "hidden to fit 120 columns: account (all empty), sampled (all empty), last_probe (all empty); "
            "--wide shows all"
        )
    else:  # the id is 69 characters: every other column is empty or unknown, and named
        assert header(out) == ["model"]
        assert footer(out) == (
            "hidden to fit 80 columns: account (all empty), sampled (all empty), last_probe (all empty), "
            "p50_ms (all empty), "
            "avail_7d (all empty), uptime_1d (all empty), state (all ⚪ unknown); --wide shows all"
        )


def test_health_refresh_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path, fake_api):
    from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, model

    ids = [f"v/m{i}:free" for i in range(5)]
    fake_api.serve(catalog_doc([model(m) for m in ids]))
    for m in ids:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    db = tmp_path / "h.db"
    code, _, screen = run(
        ["sync", "--db", db, "--api-url", fake_api.url, "--no-render", "--no-health"], tty=("stderr",)
    )
    assert code == 0, screen
    args = ["health", "--refresh", "--db", db, "--api-url", fake_api.url, "--no-render"]
    code, out, screen = run(args, tty=("stderr",))
    assert code == 0, screen
    assert "health  5/5 models  100%" in screen and screen.endswith("\r")
    assert out.startswith("health: 5 up, 0 degraded, 0 down, 0 unknown")
    piped = subprocess.run(
        [sys.executable, "-m", "catalog", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=60,
    )
    assert piped.returncode == 0 and piped.stderr == ""
