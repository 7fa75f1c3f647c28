"""Shared-deployment measurements on a real PostgreSQL server (started here, as the tests do).

    python tests/benchmarks/postgres.py [--races 5] [--json out.json]

- race: two `catalog sync` processes started at once against one PostgreSQL registry, each with
  its own CATALOG_LOCK_DIR (two hosts); the fake API never answers the winner. Measured: from the
  start to the loser's exit 75 (goal: at most 3 s), and from SIGKILL of the winner to the next
  sync's success (the lock is freed when the server sees the connection close).
- replay: the 54 real captures (when ../shared/openrouter/snapshots exists) through `run_once`,
  into SQLite and into PostgreSQL, wall time of each.

Prints one PASS/FAIL line per goal and exits 1 when one fails. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from conftest import capture_time  # noqa: E402
from fakeapi import FakeAPI, catalog_doc, hang, model  # noqa: E402
from pgserver import start_server  # noqa: E402

LOSER_GOAL_S = 3.0
DOC = catalog_doc([model("a/one:free"), model("b/two:free")])


def spawn(argv: list[str], lock_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "CATALOG_LOCK_DIR": str(lock_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "catalog", *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def race(server, work: Path, n: int) -> dict:
    """One two-host race: seconds to the loser's 75, seconds from the kill to the next success."""
    url = server.url(server.new_database())
    with FakeAPI() as api:
        api.queue(hang())
        api.serve(DOC)
        argv = ["sync", "--db", url, "--api-url", api.url, "--no-render", "--timeout", "120"]
        started = time.monotonic()
        procs = [spawn(argv, _folder(work, f"{n}-{host}")) for host in ("a", "b")]
        loser = None
        while loser is None:
            loser = next((p for p in procs if p.poll() is not None), None)
            time.sleep(0.005)
        to_75 = time.monotonic() - started
        code, err = loser.returncode, loser.stderr.read().strip()
        winner = next(p for p in procs if p is not loser)
        api.wait_for_requests(1, timeout=60)  # the winner is inside its endless fetch, lock held
        winner.send_signal(signal.SIGKILL)
        winner.wait()
        killed = time.monotonic()
        while True:
            after = spawn(argv, _folder(work, f"{n}-c{time.monotonic_ns()}"))
            after.wait()
            if after.returncode != 75:
                break
        freed = time.monotonic() - killed
    return {
        "loser_exit": code,
        "loser_seconds": to_75,
        "message": err,
        "next_ok": after.returncode == 0,
        "kill_to_next_ok_seconds": freed,
    }


def _folder(work: Path, name: str) -> Path:
    folder = work / name
    folder.mkdir()
    return folder


def replay(db: str) -> float:
    from catalog.commands.cliutil import parse_time_arg
    from catalog.settings import Settings
    from catalog.sync import run_once

    folder = TESTS.parents[1] / "shared" / "openrouter" / "snapshots" / "xiechengqi-openrouter-free-api"
    paths = sorted(folder.glob("*.json"))
    started = time.monotonic()
    for path in paths:
        run_once(Settings(db=db, from_file=path, observed_at=parse_time_arg(capture_time(path)), render=False))
    return time.monotonic() - started if paths else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=5, help="two-host races to run (default 5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    opts = parser.parse_args()
    server = start_server()
    try:
        work = Path(tempfile.mkdtemp(prefix="catalog-bench-pg-"))
        races = [race(server, work, n) for n in range(opts.races)]
        replays = {"sqlite": replay(str(work / "replay.db")), "postgresql": replay(server.url(server.new_database()))}
    finally:
        server.stop()
    worst = max(r["loser_seconds"] for r in races)
    ok = all(r["loser_exit"] == 75 and r["next_ok"] for r in races) and worst <= LOSER_GOAL_S
    print(
        f"two-host races: {len(races)}; loser exits 75 after median {statistics.median(r['loser_seconds'] for r in races):.2f} s, "
        f"worst {worst:.2f} s (goal <= {LOSER_GOAL_S:g} s); SIGKILL to next successful sync: median "
        f"{statistics.median(r['kill_to_next_ok_seconds'] for r in races):.2f} s"
    )
    print(f"  loser's line: {races[0]['message']}")
    print(f"replay of the real captures: SQLite {replays['sqlite']:.2f} s, PostgreSQL {replays['postgresql']:.2f} s")
    print(("PASS" if ok else "FAIL") + f": a second host exits 75 within {LOSER_GOAL_S:g} s, naming the holder")
    if opts.json:
        opts.json.write_text(json.dumps({"races": races, "replay_seconds": replays}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
