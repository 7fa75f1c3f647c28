"""A sync (or any write) given a role that may only read the registry says so in one line, and
what to do: use the writer's URL. On a real PostgreSQL server, with the reader role set up as
docs/postgresql.md says (`catalog db reader-sql`, run by an admin)."""

from __future__ import annotations

from conftest import reader_of

DOC = {
    "data": [
        {"id": "a/one:free", "name": "One", "context_length": 131072, "pricing": {"prompt": "0", "completion": "0"}}
    ]
}
CHANGED = {"data": [*DOC["data"], {"id": "b/two:free", "name": "Two", "pricing": {"prompt": "0", "completion": "0"}}]}


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("catalog: error: "), err
    assert "Traceback" not in err and "unexpected" not in err
    return err


def test_a_sync_with_the_readers_url_says_the_role_only_reads(cli, pg_server, pg_url, answer_file):
    assert cli("sync", "--db", pg_url, "--from-file", answer_file(DOC), "--no-render").code == 0
    reader = reader_of(pg_server, pg_url)
    result = cli("sync", "--db", reader, "--from-file", answer_file(CHANGED), "--no-render")
    assert result.code == 1
    err = one_line(result.err)
    assert "can only read" in err and "syncs need the writer's URL" in err and "docs/postgresql.md" in err
    # Refused at the sync lock, which a reader may not take, before it tries any write.
    assert "permission denied for table sync_lock" in err
    # nothing was stored
    assert [m["id"] for m in cli("models", "--db", reader, "--format", "json").json()] == ["a/one:free"]


def test_a_role_without_write_privileges_is_told_to_use_the_writers_url(cli, pg_server, pg_url, answer_file):
    assert cli("sync", "--db", pg_url, "--from-file", answer_file(DOC), "--no-render").code == 0
    database = pg_url.rsplit("/", 1)[1]
    role = f"select_only_{database}"  # roles are server-wide: one per database
    with pg_server.admin(database) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        admin.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    result = cli("sync", "--db", pg_server.url(database, user=role), "--from-file", answer_file(CHANGED), "--no-render")
    assert result.code == 1
    err = one_line(result.err)
    assert "permission denied" in err and "syncs need the writer's URL" in err and "docs/postgresql.md" in err
