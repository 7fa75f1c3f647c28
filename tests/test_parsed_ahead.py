"""`catalog import` parses answers in a forked child while it starts up and stores: the history it
keeps, the failures it records and the errors it raises are those of the plain, one-process path."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from conftest import capture_time, captures, rows

from catalog.errors import FetchError
from catalog.ingest.answers import answers_from_files, parsed_ahead
from catalog.jobs.importer import import_answers
from catalog.settings import Settings

HISTORY = (
    "SELECT e.observed_at, e.model_id, e.kind, e.reason, e.field, e.old, e.new FROM events e ORDER BY e.id",
    "SELECT observed_at, status, error, catalog_size, free_count, skipped, payload_hash, added, returned, "
    "removed, changed FROM runs ORDER BY id",
)


def stamped_copies(folder: Path, sources: list[Path]) -> list[Path]:
    """Copies whose modification times are the capture times (an answer file is observed then)."""
    folder.mkdir()
    paths = []
    for source in sources:
        path = folder / source.name
        shutil.copyfile(source, path)
        when = datetime.fromisoformat(capture_time(source).replace("Z", "+00:00")).timestamp()
        os.utime(path, (when, when))
        paths.append(path)
    return paths


def imported(db: Path, paths: list[Path], ahead: bool):
    answers = answers_from_files(paths)
    result = import_answers(Settings(db=str(db), render=False), parsed_ahead(answers) if ahead else answers)
    return result, [rows(db, sql) for sql in HISTORY]


def test_the_real_captures_give_the_same_history_parsed_ahead(tmp_path):
    paths = stamped_copies(tmp_path / "captures", captures())
    plain, plain_rows = imported(tmp_path / "plain.db", paths, ahead=False)
    ahead, ahead_rows = imported(tmp_path / "ahead.db", paths, ahead=True)
    assert len(paths) >= 5 and ahead.imported == plain.imported == len(paths) and ahead.failed == plain.failed == 0
    assert ahead.counts == plain.counts
    assert ahead_rows == plain_rows and plain_rows[0]  # every event and run, field by field


def test_a_bad_answer_parsed_ahead_fails_alone_as_it_would_in_one_process(tmp_path):
    paths = stamped_copies(tmp_path / "captures", captures()[:3])
    paths[1].write_bytes(b"<!doctype html><html>Cloudflare</html>")
    os.utime(paths[1], (os.stat(paths[0]).st_mtime + 60,) * 2)
    plain, plain_rows = imported(tmp_path / "plain.db", paths, ahead=False)
    ahead, ahead_rows = imported(tmp_path / "ahead.db", paths, ahead=True)
    assert (ahead.imported, ahead.failed) == (plain.imported, plain.failed) == (2, 1)
    assert [r[:3] for r in ahead_rows[1]] == [r[:3] for r in plain_rows[1]]
    assert "looks like an HTML page" in next(r[2] for r in ahead_rows[1] if r[1] == "failed")


def test_an_answer_that_cannot_be_read_raises_the_same_error(tmp_path):
    paths = stamped_copies(tmp_path / "captures", captures()[:3])
    messages = []
    for ahead in (False, True):
        answers = answers_from_files(paths)
        paths[2].rename(paths[2].with_suffix(".gone"))  # listed, then gone before it is read
        with pytest.raises(FetchError) as info:
            import_answers(
                Settings(db=str(tmp_path / f"{ahead}.db"), render=False), parsed_ahead(answers) if ahead else answers
            )
        messages.append(str(info.value))
        paths[2].with_suffix(".gone").rename(paths[2])
    assert messages[0] == messages[1] and "cannot read" in messages[0]


def test_one_answer_is_not_worth_a_process(tmp_path):
    answers = answers_from_files(stamped_copies(tmp_path / "captures", captures()[:1]))
    assert parsed_ahead(answers) is answers
