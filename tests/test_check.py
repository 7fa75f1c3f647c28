"""`catalog check`: verdicts, replacements, formats, --fix, and what the scan reads and skips,
on a planted project against a registry built by real syncs on both engines."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, model

from catalog.jobs.id_finder import IdFinder
from catalog.jobs.project_files import MAX_FILE_BYTES

SOON = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
LATER = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()

OK = "meta-llama/llama-3.3-70b-instruct:free"
ALSO_OK = "meta-llama/llama-3.1-70b-instruct:free"
GONE = "meta-llama/llama-3.2-70b-instruct:free"
PAID = "qwen/qwen3-32b"  # free by its price, then paid: a `:free` id is free whatever its price
DOWN = "mistralai/mistral-7b-instruct:free"
EXPIRING = "google/gemma-3-27b-it:free"
UNKNOWN = "nobody/never-seen:free"


def first_catalog() -> dict:
    return catalog_doc(
        [
            model(OK),
            model(ALSO_OK),
            model(GONE),
            model(PAID),
            model(DOWN),
            model(EXPIRING, expiration_date=SOON),
            model("google/gemma-3-12b-it:free", expiration_date=LATER),
        ]
    )


def second_catalog() -> dict:
    doc = first_catalog()
    doc["data"] = [m for m in doc["data"] if m["id"] != GONE]
    for entry in doc["data"]:
        if entry["id"] == PAID:
            entry["pricing"] = {**entry["pricing"], "prompt": "0.0000001", "completion": "0.0000002"}
    return doc


@pytest.fixture
def registry(cli, fake_api, db_url):
    """A registry two syncs old: GONE delisted, PAID paid, DOWN measured down, EXPIRING soon."""
    for doc in (first_catalog(), second_catalog()):
        fake_api.serve(doc)
        for entry in doc["data"]:
            status = -5 if entry["id"] == DOWN else 0
            fake_api.route(
                endpoints_path(entry["id"]), endpoints_doc(entry["id"], endpoint(status=status, model_id=entry["id"]))
            )
        out = cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render")
        assert out.code == 0, out.err
    return db_url


def plant(root, files: dict[str, str | bytes]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode())


def git_init(root) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


PROJECT = {
    "app/models.py": (
        f'PRIMARY = "{OK}"\n'
        f'FALLBACK = "{GONE}"  # and again: openrouter/{GONE}\n'
        f"others = ['{PAID}', '{DOWN}', '{EXPIRING}']\n"
        f"# a typo: {UNKNOWN}\n"
    ),
    "README.md": f"Use `{ALSO_OK}`.\n",
}


def occurrences(line: str, model_id: str) -> list[int]:
    """1-based columns of `model_id` in `line` where it is not part of a longer id."""
    columns, start = [], line.find(model_id)
    while start != -1:
        columns.append(start + 1)
        start = line.find(model_id, start + 1)
    return columns


def findings(cli, db, *paths, extra=()) -> tuple[int, list[dict]]:
    out = cli("check", "--db", db, "--format", "json", *extra, *paths)
    assert out.code in (0, 1) and out.out, out.err
    return out.code, out.json()


def test_each_id_gets_its_verdict_and_a_free_replacement(cli, registry, tmp_path):
    plant(tmp_path / "proj", PROJECT)
    code, found = findings(cli, registry, "proj")
    assert code == 1  # gone, not_free and unknown fail by default
    verdicts = {(f["path"].split("/", 1)[1], f["line"], f["column"]): (f["model_id"], f["verdict"]) for f in found}
    expected_verdicts = {OK: "ok", ALSO_OK: "ok", GONE: "gone", PAID: "not_free", DOWN: "down"}
    expected_verdicts |= {EXPIRING: "expiring", UNKNOWN: "unknown"}
    assert verdicts == {
        (name, number, column): (model_id, expected_verdicts[model_id])
        for name, body in PROJECT.items()
        for number, line in enumerate(body.splitlines(), 1)
        for model_id in expected_verdicts
        for column in occurrences(line, model_id)
    }
    assert len(verdicts) == 8
    free_now = {r["id"]: r for r in json.loads(cli("models", "--db", registry, "--format", "json").out)}
    for finding in found:
        if finding["verdict"] in ("gone", "not_free", "down", "expiring"):
            assert finding["replacement"] in free_now, finding
            assert free_now[finding["replacement"]]["health"] != "down"
            assert finding["replacement"] != finding["model_id"]
        else:
            assert finding["replacement"] is None
    since = {f["verdict"]: f["since"] for f in found if f["since"]}
    assert set(since) == {"gone", "not_free"}
    assert [f["expires_at"] for f in found if f["verdict"] == "expiring"] == [SOON]


def test_fail_on_and_expiring_days_choose_what_fails(cli, registry, tmp_path):
    plant(tmp_path / "proj", {"a.txt": f"{OK} {EXPIRING}\n"})
    assert findings(cli, registry, "proj")[0] == 0
    code, found = findings(cli, registry, "proj", extra=("--fail-on", "expiring"))
    assert code == 1
    code, found = findings(cli, registry, "proj", extra=("--fail-on", "expiring", "--expiring-days", "2"))
    assert code == 0 and {f["verdict"] for f in found} == {"ok"}
    assert cli("check", "--db", registry, "--fail-on", "bogus", "proj").code == 2
    assert cli("check", "--db", registry, "no-such-folder").code == 2


def test_git_ignored_binary_and_oversized_files_are_not_read(cli, registry, tmp_path):
    root = tmp_path / "proj"
    plant(
        root,
        {
            ".gitignore": "build/\n*.log\n",
            "src/main.py": f'M = "{GONE}"\n',
            "build/out.py": f'M = "{GONE}"\n',
            "debug.log": f"{GONE}\n",
            "blob.bin": b"\0\1\2" + GONE.encode(),
            "huge.txt": GONE.encode() + b"\n" + b"x" * MAX_FILE_BYTES,
        },
    )
    git_init(root)
    _, found = findings(cli, registry, "proj")
    assert sorted(f["path"] for f in found) == ["proj/src/main.py"]
    # Outside a git work tree nothing is ignored but .git, binary and oversized files.
    plain = tmp_path / "plain"
    plant(plain, {"build/out.py": f'M = "{GONE}"\n', "blob.bin": b"\0" + GONE.encode()})
    _, found = findings(cli, registry, "plain")
    assert [f["path"] for f in found] == ["plain/build/out.py"]


def test_fix_rewrites_gone_and_paid_ids_only_and_prints_the_diff(cli, registry, tmp_path):
    root = tmp_path / "proj"
    plant(root, {**PROJECT, ".gitignore": "ignored.py\n", "ignored.py": f'M = "{GONE}"\n'})
    git_init(root)
    _, before = findings(cli, registry, "proj")
    replacement = {f["model_id"]: f["replacement"] for f in before}

    dry = cli("check", "--db", registry, "--fix", "--dry-run", "proj")
    assert dry.code == 1  # nothing changed, so the gone ids still fail
    assert (root / "app/models.py").read_text() == PROJECT["app/models.py"]
    assert f'-FALLBACK = "{GONE}"' in dry.out and f'+FALLBACK = "{replacement[GONE]}"' in dry.out

    fixed = cli("check", "--db", registry, "--fix", "proj")
    assert fixed.out == dry.out
    text = (root / "app/models.py").read_text()
    assert GONE not in text and PAID not in text
    assert text.count(replacement[GONE]) >= 2 and replacement[PAID] in text
    for untouched in (OK, DOWN, EXPIRING, UNKNOWN):
        assert untouched in text
    assert (root / "ignored.py").read_text() == f'M = "{GONE}"\n'
    assert fixed.code == 1  # the unknown id is still there
    _, after = findings(cli, registry, "proj")
    assert {f["verdict"] for f in after} <= {"ok", "down", "expiring", "unknown"}

    cli("check", "--db", registry, "--fix", "--fix-expiring", "proj")
    assert EXPIRING not in (root / "app/models.py").read_text()


def test_a_large_tree_is_scanned_in_parallel_with_the_same_findings(cli, registry, tmp_path, monkeypatch):
    from catalog.jobs import id_scan

    root = tmp_path / "proj"
    plant(root, {f"pkg{i % 7}/m{i}.py": f"# {i}\nA = '{[OK, GONE, UNKNOWN][i % 3]}'\n" for i in range(60)})
    serial = findings(cli, registry, "proj")
    monkeypatch.setattr(id_scan, "PARALLEL_FILES", 10)
    forked = []
    real = id_scan.ProcessPoolExecutor

    def counting(*args, **kwargs):
        forked.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(id_scan, "ProcessPoolExecutor", counting)
    assert findings(cli, registry, "proj") == serial
    assert forked or id_scan._workers(60) == 1  # one core: nothing to fork for
    assert len(serial[1]) == 60


def test_github_annotations_and_text_lines(cli, registry, tmp_path):
    plant(tmp_path / "proj", {"m.py": f"{OK}\n{GONE}\n{DOWN}\n{UNKNOWN}\n"})
    github = cli("check", "--db", registry, "--format", "github", "proj")
    lines = github.out.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::error"]
    assert lines[0].startswith("::error file=proj/m.py,line=2,col=1,title=catalog check%3A gone::")
    assert GONE in lines[0] and "replace it with" in lines[0]
    text = cli("check", "--db", registry, "proj")
    assert text.out.splitlines()[0] == f"proj/m.py:1:1: ok {OK}"
    assert text.out.splitlines()[1].startswith(f"proj/m.py:2:1: gone {GONE} (delisted since ")
    assert " — " in text.out.splitlines()[1]
    assert "4 model ids in 1 file: 1 ok, 1 down, 1 gone, 1 unknown" in text.err


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a google/gemma-3-27b-it:free b", ["google/gemma-3-27b-it:free"]),
        ("openrouter/google/gemma-3-27b-it:free", ["google/gemma-3-27b-it:free"]),
        ("https://openrouter.ai/google/gemma-3-27b-it:free/api", ["google/gemma-3-27b-it:free"]),
        ("end of sentence google/gemma-3-27b-it:free.", ["google/gemma-3-27b-it:free"]),
        ("xgoogle/gemma-3-27b-it:free", ["xgoogle/gemma-3-27b-it:free"]),  # a :free id, never seen
        ("google/gemma-3-27b-it", []),  # the paid sibling is not a free id
        ("foo/bar:freestyle", []),
        ("openrouter/sonoma-sky-alpha, ok", ["openrouter/sonoma-sky-alpha"]),
    ],
)
def test_the_id_finder(text, found):
    finder = IdFinder({"google/gemma-3-27b-it:free", "openrouter/sonoma-sky-alpha"})
    assert [o.model_id for _, o in finder.find_in([text.encode()])] == found


def test_columns_count_characters_and_lines_count_from_one():
    finder = IdFinder({"a/b:free"})
    hits = list(finder.find_in(["é a/b:free\n\nxx a/b:free".encode(), b"a/b:free"]))
    assert [(index, o.line, o.column) for index, o in hits] == [(0, 1, 3), (0, 3, 4), (1, 1, 1)]


def test_the_command_line_names_the_verdicts_and_defaults_of_the_job():
    from catalog.commands import cli_check
    from catalog.jobs import check

    assert cli_check.VERDICTS == check.VERDICTS
    assert cli_check.DEFAULT_EXPIRING_DAYS == check.DEFAULT_EXPIRING_DAYS
