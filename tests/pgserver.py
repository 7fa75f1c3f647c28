"""A real PostgreSQL server for the tests, started from the installed server binaries (no Docker).

`initdb` + `pg_ctl` on a temporary folder, listening on 127.0.0.1 and a free port, through
`runuser -u postgres --` when the tests run as root (PostgreSQL refuses to run as root). Without
server binaries the PostgreSQL tests are skipped, unless CATALOG_REQUIRE_POSTGRES=1 (CI), where
they fail instead.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUPERUSER = "postgres"


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl live: PATH, then pg_config --bindir, then Debian's folders."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    try:
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False, timeout=30
        ).stdout.strip()
    except FileNotFoundError:
        out = ""
    if out and (Path(out) / "initdb").is_file():
        return Path(out)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable(reason: str):
    if os.environ.get("CATALOG_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (CATALOG_REQUIRE_POSTGRES=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@dataclass
class Server:
    bindir: Path
    folder: Path
    port: int
    as_postgres: bool
    names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, timeout=120
        )
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}\n{tail}")

    def start(self) -> None:
        data = self.folder / "data"
        base = ("initdb", "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        try:
            # A linguistic collation, as most servers have: text sorts unlike SQLite's (code points),
            # so the tests show that catalog's output does not depend on it. ICU needs PostgreSQL 15+.
            self.run(*base, "--locale-provider=icu", "--icu-locale=en-US")
        except RuntimeError:
            shutil.rmtree(data, ignore_errors=True)
            self.run(*base)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self.run(
            "pg_ctl", "start", "-D", str(data), "-w", "-t", "60", "-l", str(self.folder / "server.log"), "-o", options
        )

    def stop(self) -> None:
        self.run("pg_ctl", "stop", "-D", str(self.folder / "data"), "-m", "immediate", "-w")

    def url(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}", autocommit=True)

    def new_database(self) -> str:
        name = f"t{next(self.names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return name


def start_server() -> Server:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install '.[postgres]')")
    bindir = bin_dir()
    if bindir is None:
        unavailable("no initdb found (install the postgresql server package)")
    as_postgres = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="catalog-pg-"))
    if as_postgres:
        import pwd

        try:
            owner = pwd.getpwnam(SUPERUSER)
        except KeyError:
            unavailable(f"running as root needs a `{SUPERUSER}` user to run the server as")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = Server(bindir, folder, free_port(), as_postgres)
    server.start()
    return server
