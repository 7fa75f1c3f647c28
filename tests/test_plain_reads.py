"""The registry's reads are plain SQL (catalog.registry.sql): the query commands run them on a
sqlite3 connection without importing SQLAlchemy, sync and render on a SQLAlchemy one. Both must
read the same registry the same way."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import fields

from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, model

from catalog.ingest.normalize import ModelRecord
from catalog.registry import health_reads, readonly, reads
from catalog.registry.db import write_engine

IDS = ["a/one:free", "b/two:free", "c/three:free", "d/four:free"]


def build_registry(cli, fake_api, db: str) -> None:
    """Three syncs: added, then changes of every JSON kind (number, text, list, object), then a removal
    and a return; health samples with providers after each."""
    first = [model(i, context_length=4096 * (n + 1)) for n, i in enumerate(IDS)]
    second = [dict(m) for m in first]
    second[0] = model(IDS[0], context_length=8192, name="Renamed: one (free)")  # number and text
    second[1] = model(IDS[1], architecture={"input_modalities": ["text", "image"]})  # a list
    second[2] = model(IDS[2], top_provider={"max_completion_tokens": 2048})
    third = [m for m in second if m["id"] != IDS[3]] + [model("e/five:free")]
    for n, i in enumerate(IDS):
        fake_api.route(endpoints_path(i), endpoints_doc(i, endpoint(f"P{n}", status=-5 * (n % 2), uptime_30m=90.0 + n)))
    for doc in (first, second, third, first):
        fake_api.serve(catalog_doc(doc))
        out = cli("sync", "--db", db, "--api-url", fake_api.url, "--no-render")
        assert out.code == 0, out.err


def read_everything(conn) -> dict:
    return {
        "snapshot": reads.load_snapshot(conn),
        "latest": reads.latest_versions(conn),
        "events": reads.load_events(conn),
        "events of one": reads.load_events(conn, kinds=["changed", "removed"], model_id=IDS[0]),
        "state": reads.load_state(conn),
        "free": reads.free_ids(conn),
        "samples": health_reads.samples_of(conn, IDS[1]),
        "last run": reads.last_ok_run(conn),
    }


def test_a_plain_sqlite3_connection_reads_what_sqlalchemy_reads(cli, fake_api, tmp_path):
    db = str(tmp_path / "reg.db")
    build_registry(cli, fake_api, db)
    plain = readonly.connect(db)
    engine = write_engine(db)
    try:
        with engine.connect() as conn:
            through_sqlalchemy = read_everything(conn)
        through_sqlite3 = read_everything(plain)
    finally:
        plain.close()
        engine.dispose()
    assert through_sqlite3 == through_sqlalchemy
    # The newest snapshot takes streaks from `models`, a time travel from the events: the same here.
    newest = through_sqlite3["snapshot"]
    plain = readonly.connect(db)
    try:
        assert reads.load_snapshot(plain, at=newest.observed_at) == newest
    finally:
        plain.close()
    assert any(m.times_removed for m in newest.models)  # a removal and a return are in it
    # The reads saw what the syncs did, values of every JSON kind included.
    changed = [(e.field, e.old, e.new) for e in through_sqlite3["events"] if e.kind == "changed"]
    assert ("context_length", 4096, 8192) in changed  # numbers
    assert ("architecture.input_modalities", ["image", "text"], ["text"]) in changed  # lists
    assert ("name", "A: one (free)", "Renamed: one (free)") in changed  # text
    assert ("top_provider.max_completion_tokens", 2048, None) in changed  # JSON null
    assert through_sqlite3["free"] == sorted(IDS)
    assert through_sqlite3["events of one"] == [
        e for e in through_sqlite3["events"] if e.model_id == IDS[0] and e.kind in ("changed", "removed")
    ]
    assert through_sqlite3["events of one"]
    assert through_sqlite3["snapshot"].health[IDS[1]].providers == ("P1",)


def test_version_columns_follow_the_record_fields():
    # RecordReader.record builds records positionally from these columns.
    assert ["id", *reads.VERSION_COLUMNS[1:]] == [f.name for f in fields(ModelRecord)]
    assert reads.VERSION_COLUMNS[0] == "model_id"


def test_the_query_commands_never_import_sqlalchemy_on_sqlite(cli, fake_api, tmp_path):
    db = str(tmp_path / "reg.db")
    build_registry(cli, fake_api, db)
    commands = [["models"], ["models", "--all"], ["changes"], ["history", IDS[0]], ["health"], ["health", IDS[1]]]
    script = (
        "import json, sys\n"
        "from catalog.cli import main\n"
        "code = main(json.loads(sys.argv[1]))\n"
        "print('LOADED', sorted(m for m in ('sqlalchemy', 'alembic', 'jinja2', 'httpx') if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    for command in commands:
        argv = [*command, "--db", db, "--format", "json"]
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(argv)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stderr)
        body, _, loaded = done.stdout.rpartition("LOADED ")
        assert loaded.strip() == "[]", command
        assert json.loads(body), command  # rows were read and printed
        in_process = cli(*argv)
        assert in_process.code == 0 and json.loads(in_process.out) == json.loads(body), command


class Interleaved(sqlite3.Connection):
    """A read-only connection that runs `then` once, right after its first statement starts."""

    then = None

    def execute(self, *args, **kwargs):
        cursor = super().execute(*args, **kwargs)
        if self.then is not None:
            then, self.then = self.then, None
            then()
        return cursor


def test_a_snapshot_stays_at_its_run_when_a_sync_commits_while_it_reads(cli, fake_api, tmp_path):
    db = str(tmp_path / "reg.db")
    first = [model(i) for i in IDS]
    for doc in (first, [*first[1:], model(IDS[0], context_length=1024)]):
        fake_api.serve(catalog_doc(doc))
        assert cli("sync", "--db", db, "--api-url", fake_api.url, "--no-render", "--no-health").code == 0
    fake_api.serve(catalog_doc(first[1:]))  # the next sync removes IDS[0]

    def sync_now():
        assert cli("sync", "--db", db, "--api-url", fake_api.url, "--no-render", "--no-health").code == 0

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, factory=Interleaved)
    try:
        before = reads.load_snapshot(conn)
        conn.then = sync_now
        during = reads.load_snapshot(conn)  # its run is read before the sync commits
        after = reads.load_snapshot(conn)
    finally:
        conn.close()
    assert during.models == before.models
    assert [m.times_removed for m in during.models if m.id == IDS[0]] == [0]
    assert IDS[0] not in {m.id for m in after.models}
