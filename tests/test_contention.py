"""Several syncs and a dozen readers at once: no reader ever fails or sees a half-applied sync,
syncs queue (--wait) and run one at a time, and every successful sync is recorded as one run.

Real processes throughout: 3 sync workers each running `catalog sync` a few times, 12 reader
processes running `catalog models` and `catalog query` in a loop until the syncs are done. The
fake API alternates two answers and watches how many syncs are inside a fetch at once.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time

from conftest import GENERATED_FILES, reader_of, rows
from fakeapi import Answer, catalog_doc, model, reply

from catalog.jobs.record import payload_hash

SYNC_WORKERS = 3
SYNCS_EACH = 3
READERS = 12
DEADLINE = 180.0  # seconds: a hung run fails instead of blocking CI

SYNC_WORKER = """
import json, sys
from catalog.cli import main
argv, count = json.loads(sys.argv[1]), int(sys.argv[2])
codes = [main(argv) for _ in range(count)]
print("CODES " + json.dumps(codes), flush=True)
"""

# One reader: the real CLI in a loop (stdout captured per call), until the stop file appears.
READER = """
import contextlib, io, json, os, sys, time
os.nice(5)  # on 2 cores, 12 readers at full priority would slow the syncs to a crawl
from catalog.cli import main
db, stop, ready, free_sets = sys.argv[1], sys.argv[2], sys.argv[3], [set(s) for s in json.loads(sys.argv[4])]
deadline = time.monotonic() + float(sys.argv[5])
errors, iterations, last_runs, seen = [], 0, 0, set()

def call(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    if code != 0:
        raise RuntimeError(f"{argv[0]} exited {code}: {err.getvalue().strip()}")
    return json.loads(out.getvalue())

while not os.path.exists(stop) and time.monotonic() < deadline:
    try:
        free = {m["id"] for m in call("models", "--db", db, "--format", "json")}
        if free not in free_sets:
            errors.append(f"a free set that is neither answer's: {len(free)} models")
        runs = call("query", "--db", db, "--format", "json",
                    "SELECT count(*) AS n FROM runs WHERE status = 'ok'")[0]["n"]
        if runs < last_runs:
            errors.append(f"ok runs went back from {last_runs} to {runs}")
        last_runs = runs
        seen.add(runs)
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    iterations += 1
    if iterations == 1:
        open(ready, "w").close()
print(json.dumps({"iterations": iterations, "errors": errors[:20], "seen": sorted(seen)}), flush=True)
"""


class Alternating(Answer):
    """A, B, A, B... held briefly, counting how many requests are inside the server at once.

    The count drops before the answer is sent, so a sync that has its answer is no longer
    counted: only two syncs fetching at the same moment can raise it above one."""

    HOLD = 0.03  # widens the window in which a second, unlocked writer would be caught

    def __init__(self, bodies: list[bytes]):
        self.bodies = bodies
        self.lock = threading.Lock()
        self.served: list[bytes] = []
        self.active = 0
        self.most_active = 0
        self.pause = threading.Event()  # never set: only its timeout is used, as the hold

    def write(self, handler) -> None:
        with self.lock:
            body = self.bodies[len(self.served) % len(self.bodies)]
            self.served.append(body)
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        self.pause.wait(self.HOLD)
        with self.lock:
            self.active -= 1
        reply(body, headers={"Content-Type": "application/json"}).write(handler)


def answers() -> list[dict]:
    a = [
        model(f"v{i % 7}/m{i}-{7 + i % 60}b:free", context_length=4096 * (1 + i % 32))
        if i % 2 == 0
        else model(f"v{i % 7}/paid-{i}", prompt="0.000001", completion="0.000002")
        for i in range(80)
    ]
    b = [dict(m, context_length=m["context_length"] * 2) for i, m in enumerate(a) if i % 9]
    return [catalog_doc(a), catalog_doc(b)]


def wait_all(procs: list[subprocess.Popen], deadline: float) -> list[tuple[int, str, str]]:
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=30)
        results.append((proc.returncode, out, err))
    return results


def test_syncs_queue_and_readers_never_fail(fake_api, tmp_path, db_url, request):
    deadline = time.monotonic() + DEADLINE
    db, out, stop = db_url, tmp_path / "out", tmp_path / "stop"
    docs = answers()
    bodies = [json.dumps(doc).encode() for doc in docs]
    free_sets = [sorted(m["id"] for m in doc["data"] if m["id"].endswith(":free")) for doc in docs]
    answer = Alternating(bodies)
    fake_api.serve(answer)
    argv = ["sync", "--db", str(db), "--api-url", fake_api.url, "--out", str(out), "--timeout", "60", "--wait", "150"]
    first = subprocess.run(
        [sys.executable, "-c", SYNC_WORKER, json.dumps(argv), "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0 and "CODES [0]" in first.stdout, first.stderr
    # On PostgreSQL, readers connect as a reader role (`catalog query` refuses the writer).
    reading = reader_of(request.getfixturevalue("pg_server"), db) if db.startswith("postgresql") else db

    ready = [tmp_path / f"ready-{i}" for i in range(READERS)]
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(reading), str(stop), str(flag), json.dumps(free_sets), str(DEADLINE)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        # Writers start once every reader is past its start-up and reading.
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            if any(r.poll() is not None for r in readers):
                break  # a reader died: its report below says why
            time.sleep(0.02)
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", SYNC_WORKER, json.dumps(argv), str(SYNCS_EACH)],
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(SYNC_WORKERS)
        ]
        written = wait_all(writers, deadline)
    finally:
        stop.touch()
        read = wait_all(readers, deadline)

    codes = []
    for returncode, stdout, stderr in written:
        assert returncode == 0, stderr
        codes += json.loads(stdout.split("CODES ", 1)[1])
    assert codes == [0] * (SYNC_WORKERS * SYNCS_EACH)
    reports = []
    for returncode, stdout, stderr in read:
        assert returncode == 0, stderr
        reports.append(json.loads(stdout))
        assert reports[-1]["errors"] == [], reports[-1]
        assert reports[-1]["iterations"] > 0

    # Exactly one writer at a time: never two syncs inside a fetch together ...
    assert answer.most_active == 1
    total = 1 + SYNC_WORKERS * SYNCS_EACH
    assert len(answer.served) == total
    # Readers really read while the syncs ran: between them they saw intermediate run counts.
    assert len(set().union(*(r["seen"] for r in reports))) >= 3
    # ... and no lost run: each fetch became one ok run, stored in the order it was fetched.
    runs = rows(db, "SELECT status, payload_hash, started_at, finished_at FROM runs ORDER BY id")
    assert [r[0] for r in runs] == ["ok"] * total
    assert [r[1] for r in runs] == [payload_hash(body) for body in answer.served]
    # Runs do not overlap (times have 1-s precision, so equal neighbours are fine).
    for before, after in itertools.pairwise(runs):
        assert after[2] >= before[3], (before, after)
    final = {m for (m,) in rows(db, "SELECT id FROM models WHERE is_free")}
    assert sorted(final) == free_sets[(total - 1) % 2]
    assert json.loads((out / "free-model-pool.json").read_text())["free_count"] == len(final)
    assert sorted(p.name for p in out.iterdir()) == GENERATED_FILES
