"""PostgreSQL's sync lock is one only writers can take: a reader role (set up as the manual says)
can neither take it nor block it, through `catalog query` or any client."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from conftest import reader_of, rows
from fakeapi import catalog_doc, model
from psycopg import errors as pgerrors

from catalog.errors import EXIT_LOCKED, LockedError
from catalog.registry.pgconnect import conninfo

DOC = catalog_doc([model("a/one:free"), model("b/two:free")])


def old_advisory_key(database: str, schema: str = "public") -> tuple[int, int]:
    """The key the sync's advisory lock used, which any role could take."""
    namespace = int.from_bytes(hashlib.sha256(b"catalog").digest()[:4], "big") & 0x7FFFFFFF
    key = int.from_bytes(hashlib.sha256(f"{database}\0{schema}".encode()).digest()[:4], "big") & 0x7FFFFFFF
    return namespace, key


@pytest.fixture
def registry(cli, pg_url, answer_file):
    """A synced registry on PostgreSQL and the URL of a reader role on it."""
    assert cli("sync", "--db", pg_url, "--from-file", answer_file(DOC), "--no-render").code == 0
    return pg_url


def test_a_reader_can_neither_take_nor_block_the_sync_lock(cli, pg_server, registry, answer_file):
    reader = reader_of(pg_server, registry)
    database = registry.rsplit("/", 1)[1]
    with psycopg.connect(conninfo(reader), autocommit=True) as hostile:
        # Everything a reader may try, held: the old advisory key, a share of the lock table, a read.
        assert hostile.execute("SELECT pg_try_advisory_lock(%s, %s)", old_advisory_key(database)).fetchone() == (True,)
        hostile.execute("BEGIN")
        hostile.execute("LOCK TABLE sync_lock IN ACCESS SHARE MODE")
        hostile.execute("SELECT count(*) FROM sync_lock").fetchone()
        for attempt in ("LOCK TABLE sync_lock IN EXCLUSIVE MODE NOWAIT", "SELECT * FROM sync_lock FOR SHARE NOWAIT"):
            with pytest.raises((pgerrors.InsufficientPrivilege, pgerrors.ReadOnlySqlTransaction)):
                hostile.execute("SAVEPOINT s")
                try:
                    hostile.execute(attempt)
                finally:
                    hostile.execute("ROLLBACK TO SAVEPOINT s")
        # Even in a read-write transaction (the role's default is read-only), the privilege is missing.
        hostile.execute("ROLLBACK")
        hostile.execute("BEGIN READ WRITE")
        with pytest.raises(pgerrors.InsufficientPrivilege):
            hostile.execute("LOCK TABLE sync_lock IN EXCLUSIVE MODE NOWAIT")
        hostile.execute("ROLLBACK")
        hostile.execute("BEGIN")
        hostile.execute("SELECT count(*) FROM sync_lock").fetchone()  # ACCESS SHARE, held open

        out = cli("sync", "--db", registry, "--from-file", answer_file(DOC), "--no-render")
        assert out.code == 0, out.err
        queried = cli("query", "--db", reader, "--format", "json", "SELECT pg_advisory_lock(0, 1) AS taken")
        assert queried.code == 0, queried.err  # harmless: nothing of the sync's depends on advisory keys
        assert cli("sync", "--db", registry, "--from-file", answer_file(DOC), "--no-render").code == 0
    assert rows(registry, "SELECT count(*) FROM runs WHERE status = 'ok'") == [(3,)]


def test_writers_still_exclude_each_other_and_the_reader_is_never_named(cli, pg_server, registry, answer_file):
    from catalog.registry.db import writer

    reader = reader_of(pg_server, registry)
    with psycopg.connect(conninfo(reader)) as hostile:
        hostile.execute("SELECT count(*) FROM sync_lock").fetchone()  # a reader's share, held open
        with writer(registry, purpose="import"):
            with pytest.raises(LockedError, match=r"another sync is running \(catalog import "), writer(registry):
                pass
            out = cli("sync", "--db", registry, "--from-file", answer_file(DOC), "--no-render", "--wait", "0.3")
            assert out.code == EXIT_LOCKED and "still running after 0.3 s (catalog import " in out.err
            assert out.err.startswith("catalog: waiting up to 0.3 s") and "reader" not in out.err
    assert cli("sync", "--db", registry, "--from-file", answer_file(DOC), "--no-render").code == 0


def test_a_registry_older_than_the_lock_table_gets_it_on_its_next_sync(cli, pg_url, answer_file):
    from alembic import command
    from catalog.registry.migrate import HEAD_REVISION, alembic_config

    engine = _plain_engine(pg_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
    engine.dispose()
    assert rows(pg_url, "SELECT to_regclass('sync_lock') IS NULL") == [(True,)]
    out = cli("sync", "--db", pg_url, "--from-file", answer_file(DOC), "--no-render")
    assert out.code == 0, out.err
    assert rows(pg_url, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
    assert rows(pg_url, "SELECT to_regclass('sync_lock') IS NOT NULL, (SELECT count(*) FROM sync_lock)") == [(True, 0)]


def _plain_engine(url: str):
    from sqlalchemy import create_engine

    return create_engine(url)
