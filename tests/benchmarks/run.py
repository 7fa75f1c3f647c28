"""Benchmarks: sync cost by catalog size, resync of an unchanged answer, git
backfill against `git-history` and against its floor, start-up, and a health sample. Apart from the test run (pytest does not collect this file).

    python tests/benchmarks/run.py                         # sizes 1000,5000,10000,50000; ~12 min on 2 cores
    python tests/benchmarks/run.py --quick                 # sizes 1000,5000, one repetition: ~30 s
    python tests/benchmarks/run.py --sizes 1000,50000 --json bench.json

Run it with the interpreter `catalog` is installed in (the `catalog` script next to it is used for
the command-line timings). It prints Markdown tables and one PASS/FAIL line per goal, and exits 1
when a goal fails. Nothing leaves 127.0.0.1; everything is written under a temporary folder.

What is measured, and how:

- Sync by size. Synthetic catalogs (every entry free, shaped by `tests/fakeapi.py:model()`, with
  varied vendors, context lengths, modalities, parameters and descriptions of realistic length) are
  served by a ThreadingHTTPServer on 127.0.0.1 in this process, so the fetch is a real HTTP GET.
  For each size a fresh worker process runs one first sync into a new registry by calling the
  library in the order `catalog.sync.run_once` does (lock and paused GC, open registry, fetch, then inside one
  transaction load_state/diff and the writes, then render) and times each phase:
    fetch  = sync.fetch_answer (httpx GET of the whole body)
    parse  = record.payload_hash + entries.read_catalog (decode, parse and normalize, one entry at a time)
    diff   = BEGIN IMMEDIATE + record.check_observed + reads.load_state + record.diff_answer
    store  = store.insert_run + apply_diff + mark_seen + finish_run + COMMIT
    render = refresh.render_snapshot (reads.load_snapshot + render.generate), n/a if catalog.output.render is absent
    open   = registry_lock + db.open_registry (schema check/migrations): constant, not a phase
  httpx, jinja2 and alembic (imported lazily by fetch, render and open) are imported before the
  clocks start, so the phases show per-size work; their once-per-process cost is reported apart.
  Best of --repeat fresh workers per phase. A bare `json.loads` of the same answer (best of
  --repeat, in this process) is shown beside it. Goals at 50,000 models: sum of the phases (+open)
  <= 5 s, render <= 2 s, peak RSS (phases worker and CLI) <= 400 MiB. Peak memory is the worker's `ru_maxrss` (resident-set
  high-water mark of the whole process, interpreter and imports included; the figure after imports
  is shown too), not tracemalloc (which slows Python allocations several-fold). The same size is also
  synced by the real CLI, `catalog sync` in a subprocess (wall time, and its ru_maxrss from wait4).
  Every measured child is started by a small spawner process: Linux carries a process's peak RSS
  across exec, so a child forked from this (large) process would report at least its peak.
- Linearity: time(50k)/time(5k) per phase, in total and for the CLI must be <= 12. Other size
  spans (e.g. --quick's 1k -> 5k) are shown against 1.2 x their size ratio, for information only.
- No query per model: every SQL statement sent to a cursor is counted with a SQLAlchemy
  `before_cursor_execute` listener on the Engine class (an executemany counts once). The counts per
  phase, and of a whole `run_once`, must be the same at the smallest and the largest size.
- Resync of the same answer: in one worker process with the lazily imported modules loaded
  beforehand (so every timed run is warm), `run_once` (render on, as the CLI default) into a fresh
  registry (median of --repeat), then up to --resyncs more runs of the same bytes (at least 3, stopping after
  --resync-budget seconds). Goal: median resync <= 0.2 x median first sync at 5k and more (smaller
  sizes shown); only `runs` gains rows
  (one per run); no generated file rewritten (st_mtime_ns and inode unchanged); registry growth per
  run = (db + wal bytes after `PRAGMA wal_checkpoint(TRUNCATE)`, after - before) / runs. The CLI's
  first and second `catalog sync` wall times are shown too (they include interpreter start-up).
- `catalog import --git` against `git-history file`: a git repository is built in the temporary
  folder from ../shared/openrouter/snapshots/xiechengqi-openrouter-free-api/*.json (one commit per
  capture, oldest first, committed at the capture time in the file name `YYYY-MM-DDTHHMM_sha.json`,
  file `data/models.json`). Then, alternating, --git-repeat times each on a fresh database:
    catalog import --db X --git REPO --path data/models.json --no-render
    git-history file Y data/models.json --repo REPO --id id --convert 'json.loads(content)["data"]' --silent
  and, as the floor, a Python process that reads every blob through one `git cat-file --batch` and
  `json.loads` each (FLOOR_SCRIPT). Best wall time and database size (db + wal files) of each.
  Goals: ours <= 0.15 x git-history's and <= 2.5 x the floor, both measured in the same run.
  Skipped, with a message, when the captures, `git` or `git-history` are absent. git-history is
  looked up as --git-history PATH, $GIT_HISTORY, on PATH, then ../gh-venv/bin/git-history; install it
  apart from catalog (e.g. `python -m venv gh-venv && gh-venv/bin/pip install git-history`).
- Start-up: best of --startup-repeat wall times of `python -c pass` (the floor), `catalog --help`
  and `catalog models --db small.db --format json` on a registry of 40 free models; and, from
  `python -X importtime`, which heavy packages (sqlalchemy, alembic, httpx, jinja2, apscheduler)
  each command imports. Goals: `--help` imports none and takes <= 150 ms (its top imports are listed
  when slower); `models` imports none of them (it reads SQLite through plain sqlite3) and takes <= 200 ms.
- `catalog check` against `grep`: a tree of CHECK_FILES files of CHECK_FILE_BYTES bytes each
  (lines of this repository's code and manual, about one in 400 with an OpenRouter id planted:
  known free ones and unknown `:free` ones), not a git work tree; then, alternating, best of --check-repeat wall times of
    catalog check --db small.db --format json --fail-on none tree
    grep -rE '[A-Za-z0-9._-]+/[A-Za-z0-9._-]+:free' tree
  on the 40-model registry of the start-up part. Goal: ours <= CHECK_GOAL x grep's time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
CAPTURES = REPO.parent / "shared" / "openrouter" / "snapshots" / "xiechengqi-openrouter-free-api"
GIT_PATH = "data/models.json"
DEFAULT_SIZES = (1000, 5000, 10000, 50000)
QUICK_SIZES = (1000, 5000)
PHASES = ("fetch", "parse", "diff", "store", "render")
LINEAR_REF = 5000
LINEAR_FACTOR = 1.2  # 50k within 12x of 5k: 1.2 x the size ratio
RESYNC_GOAL = 0.2  # an unchanged resync costs at most this share of a first sync
RESYNC_RATED_FROM = 5000  # the goal is stated for 5k, 10k and 50k; smaller sizes are shown
GIT_GOAL = 0.15  # import --git at most this share of git-history's time
GIT_FLOOR_GOAL = 2.5  # x the floor: the blobs read from git and json.loads of each, in one process
FIRST_SYNC_SIZE = 50000
FIRST_SYNC_GOAL_S = 5.0
RENDER_GOAL_S = 2.0
RSS_GOAL_MIB = 400
MODELS_GOAL_S = 0.200
HELP_GOAL_S = 0.150
SMALL_REGISTRY = 40  # about the real number of free models
HEAVY = ("sqlalchemy", "alembic", "httpx", "jinja2", "apscheduler")
NOT_FOR_READS = HEAVY  # the query commands read SQLite through plain sqlite3
MAX_BYTES = 1 << 30  # the default 64 MiB is too small for 50k realistic entries
FETCH_TIMEOUT = 600.0
CHILD_TIMEOUT = 3600.0
HEALTH_MODELS = 300
CHECK_FILES = 20_000
CHECK_FILE_BYTES = 4096
CHECK_GOAL = 4.0  # catalog check at most this many times grep -rE's time on the same tree
CHECK_PATTERN = r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+:free"
HEALTH_DELAY = 0.2  # seconds the local server takes to answer each /endpoints call
HEALTH_CONCURRENCY = 8
HEALTH_SLACK = 1.25  # goal: within this factor of the concurrency's bound


# ============================================================== synthetic catalogs


def _fakeapi():
    """tests/fakeapi.py, imported by path: the entry shape the tests use."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_fakeapi", TESTS / "fakeapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VENDORS = (
    "google",
    "meta-llama",
    "qwen",
    "mistralai",
    "deepseek",
    "nvidia",
    "microsoft",
    "openai",
    "z-ai",
    "moonshotai",
    "tngtech",
    "arcee-ai",
    "cognitivecomputations",
    "nousresearch",
    "allenai",
    "ibm-granite",
    "amazon",
    "baidu",
    "tencent",
    "minimax",
    "x-ai",
    "cohere",
)
FAMILIES = (
    "gemma",
    "llama",
    "qwen3",
    "mistral-small",
    "deepseek-r1",
    "nemotron",
    "phi",
    "gpt-oss",
    "glm",
    "kimi",
    "chimera",
    "trinity",
    "dolphin",
    "hermes",
    "olmo",
    "granite",
    "nova",
)
VARIANTS = ("instruct", "chat", "it", "coder", "thinking", "preview", "vl", "base")
WORDS = (
    "model",
    "reasoning",
    "context",
    "tokens",
    "benchmark",
    "multilingual",
    "instruction",
    "tuned",
    "efficient",
    "mixture-of-experts",
    "agentic",
    "coding",
    "tasks",
    "long",
    "window",
    "supports",
    "tool",
    "calling",
    "structured",
    "outputs",
    "vision",
    "latency",
    "throughput",
    "parameters",
    "open-weight",
    "licensed",
    "Apache",
    "2.0",
    "trained",
    "on",
    "the",
    "a",
    "and",
    "with",
    "for",
    "of",
    "in",
    "to",
    "is",
    "by",
    "état-de-l'art",
    "日本語",
)
PARAMS = (
    "frequency_penalty",
    "include_reasoning",
    "logit_bias",
    "max_tokens",
    "min_p",
    "presence_penalty",
    "reasoning",
    "repetition_penalty",
    "response_format",
    "seed",
    "stop",
    "structured_outputs",
    "temperature",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
)
CONTEXTS = (8192, 32768, 65536, 131072, 131072, 163840, 262144, 1048576)
INPUTS = (("text",), ("text",), ("text", "image"), ("text", "image", "file"), ("audio", "text"))


def synthetic_entries(n: int, seed: int | None = None) -> list[dict]:
    """n distinct free entries: 90% free by the `:free` suffix, 10% by a 0/0 price."""
    fake = _fakeapi()
    rng = random.Random(n if seed is None else seed)
    entries = []
    for i in range(n):
        vendor = VENDORS[i % len(VENDORS)] if i < 2000 else f"{VENDORS[i % len(VENDORS)]}-{i % 251}"
        short = f"{rng.choice(FAMILIES)}-{i}-{rng.choice((1, 3, 7, 8, 12, 24, 27, 32, 70, 120, 405))}b-{rng.choice(VARIANTS)}"
        by_suffix = rng.random() < 0.9
        context = rng.choice(CONTEXTS)
        inputs = rng.choice(INPUTS)
        outputs = ("text",) if rng.random() < 0.95 else ("image", "text")
        entry = fake.model(
            f"{vendor}/{short}{':free' if by_suffix else ''}",
            context_length=context,
            created=1700000000 + rng.randrange(60_000_000),
            description=" ".join(rng.choices(WORDS, k=rng.randint(60, 200))).capitalize() + ".",
            supported_parameters=sorted(rng.sample(PARAMS, rng.randint(3, len(PARAMS)))),
            expiration_date=rng.choice((None,) * 9 + ("2026-06-30",)),
            architecture={
                "input_modalities": list(inputs),
                "output_modalities": list(outputs),
                "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            },
            top_provider={"max_completion_tokens": rng.choice((None, 4096, 8192, 32768, context))},
        )
        entries.append(entry)
    return entries


def synthetic_body(n: int) -> bytes:
    return json.dumps({"data": synthetic_entries(n)}, ensure_ascii=False).encode("utf-8")


# ============================================================== the local API


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.endswith("/endpoints") and path.startswith("/health/"):
            time.sleep(HEALTH_DELAY)  # a slow /endpoints: the health benchmark's server
            model_id = path.removeprefix("/health/api/v1/models/").removesuffix("/endpoints")
            body = json.dumps({"data": {"id": model_id, "endpoints": [{"provider_name": "P", "status": 0}]}}).encode()
        else:
            body = self.server.bodies.get(path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalAPI:
    """Serves `/<n>/api/v1/models` for every registered body, from a thread of this process."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.bodies = {}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, body: bytes) -> str:
        path = f"/{name}/api/v1/models"
        self.server.bodies[path] = body
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ============================================================== child processes


@dataclass
class Measured:
    wall: float
    cpu: float  # user + sys of the child and the children it waited for
    maxrss_kib: int
    code: int
    out: str
    err: str


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CATALOG_DB", "CATALOG_API_URL", "OPENROUTER_API_KEY")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"  # never send the local GETs to a proxy
    return env


def run_measured(cmd: list[str], cwd: Path, timeout: float = CHILD_TIMEOUT) -> Measured:
    """Wall time and the child's own ru_maxrss, through the spawner (see Spawner)."""
    return SPAWNER.run([str(c) for c in cmd], cwd, timeout)


def spawn_and_wait(cmd: list[str], cwd: str, timeout: float) -> dict:
    """Run one command with its output in files; its wall time and wait4's rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=child_env(), stdout=out, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss_kib": usage.ru_maxrss,
            "code": os.waitstatus_to_exitcode(status),
            "out": out.read().decode(errors="replace"),
            "err": err.read().decode(errors="replace"),
        }


class Spawner:
    """A small process that starts every measured child. Linux keeps a process's peak RSS across
    exec, and a child forked (or vforked) from this benchmark starts out as a copy of it: its
    ru_maxrss would be at least this process's own peak (the 88 MiB answer, its json.loads, the
    50,000 generated entries: ~600 MiB), whatever the child used. Started before any of that,
    the spawner stays ~15 MiB, so the peaks it reports are the children's own."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def run(self, cmd: list[str], cwd: Path, timeout: float) -> Measured:
        if self.proc is None:
            self.start()
        self.proc.stdin.write(json.dumps({"cmd": cmd, "cwd": str(cwd), "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("bench: the spawner process died")
        return Measured(**json.loads(line))

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--spawner"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()


def serve_spawns() -> None:
    """The spawner's loop: one JSON request per line in, one JSON result per line out."""
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(spawn_and_wait(request["cmd"], request["cwd"], request["timeout"])), flush=True)


SPAWNER = Spawner()


def checked(m: Measured, what: str) -> Measured:
    if m.code != 0:
        raise SystemExit(f"bench: {what} failed with status {m.code}: {(m.err or m.out).strip()[-2000:]}")
    return m


def catalog_cmd() -> list[str]:
    script = Path(sys.executable).parent / "catalog"
    return [str(script)] if script.exists() else [sys.executable, "-m", "catalog"]


def run_worker(mode: str, spec: dict, cwd: Path) -> tuple[dict, Measured]:
    result_path = cwd / f"worker-{mode}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, __file__, "--worker", mode, "--spec", json.dumps(spec), "--result", str(result_path)]
    m = checked(run_measured(cmd, cwd), f"the {mode} worker")
    return json.loads(result_path.read_text()), m


# ============================================================== inside a worker


class StatementCounter:
    """Counts statements sent to any SQLAlchemy engine's cursor; an executemany counts once."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.count = 0
        self.executemany = 0
        event.listen(Engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.executemany += bool(executemany)


def maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def render_status() -> str | None:
    """None when catalog.output.render.generate is usable; else why the render phase is n/a."""
    try:
        from catalog.output import render
    except ImportError as exc:
        return f"catalog.output.render is not importable ({exc})"
    return None if hasattr(render, "generate") else "catalog.output.render has no generate()"


def import_lazy_modules() -> float:
    """Import what open/fetch/render import on first use: a once-per-process cost, timed apart."""
    clock = time.perf_counter()
    import httpx  # noqa: F401

    return time.perf_counter() - clock


def worker_phases(spec: dict) -> dict:
    """One first sync into a new registry, phase by phase, in run_once's order."""
    clock = time.perf_counter()
    from catalog.gcpause import paused_gc
    from catalog.ingest.entries import read_catalog
    from catalog.jobs import record, sync
    from catalog.output.refresh import render_snapshot
    from catalog.registry import reads, store
    from catalog.registry.db import open_registry
    from catalog.registry.lock import registry_lock
    from catalog.settings import Settings
    from catalog.times import now_utc

    no_render = render_status()
    import_seconds = time.perf_counter() - clock
    lazy_import_seconds = import_lazy_modules()
    counter = StatementCounter()
    rss_imports = maxrss_kib()
    settings = Settings(
        db=spec["db"],
        api_url=spec["url"],
        max_bytes=MAX_BYTES,
        timeout=FETCH_TIMEOUT,
        out_dir=Path(spec["out"]),
        render=no_render is None,
        health=False,
    )
    seconds: dict[str, float] = {}
    statements: dict[str, int] = {}

    @contextmanager
    def phase(name: str):
        before, start = counter.count, time.perf_counter()
        yield
        seconds[name] = time.perf_counter() - start
        statements[name] = counter.count - before

    started = now_utc()
    with registry_lock(settings.db), paused_gc():
        with phase("open"):
            engine = open_registry(settings.db)
        try:
            with phase("fetch"):
                fetched = sync.fetch_answer(settings)
            observed = fetched.received_at.replace(microsecond=0)
            with phase("parse"):
                digest = record.payload_hash(fetched.body)
                catalog = read_catalog(fetched.body, paid_as_ids=True)
            source = fetched.source
            del fetched  # as run_once frees the answer's bytes before it stores
            with engine.connect() as conn:
                with phase("diff"):
                    transaction = conn.begin()
                    record.check_observed(observed, reads.last_ok_run(conn))
                    state = reads.load_state(conn)
                    diff = record.diff_answer(catalog, state, allow_mass_removal=False)
                with phase("store"):
                    counts = diff.counts
                    run_id = store.insert_run(
                        conn,
                        started_at=started,
                        observed_at=observed,
                        source=source,
                        status="ok",
                        catalog_size=catalog.size,
                        free_count=diff.free_count,
                        skipped=len(catalog.skipped),
                        payload_hash=digest,
                        **counts,
                    )
                    store.apply_diff(conn, diff, run_id, observed)
                    store.mark_seen(conn, observed)
                    store.finish_run(conn, run_id, now_utc(), started)
                    transaction.commit()
            size, free = catalog.size, diff.free_count
            del catalog, state, diff  # run_once has dropped them before it renders
            if settings.render:
                with phase("render"):
                    render_snapshot(engine, settings)
        finally:
            engine.dispose()
    return {
        "seconds": seconds,
        "statements": statements,
        "executemany": counter.executemany,
        "catalog_size": size,
        "free": free,
        "counts": counts,
        "import_seconds": import_seconds,
        "lazy_import_seconds": lazy_import_seconds,
        "rss_after_imports_kib": rss_imports,
        "maxrss_kib": maxrss_kib(),
        "render_na": no_render,
    }


def registry_bytes(db: Path) -> int:
    """db + wal after a full checkpoint: what the registry occupies on disk."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def table_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        conn.close()


def file_stats(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in sorted(folder.iterdir()) if p.is_file()}


def worker_resync(spec: dict) -> dict:
    """First syncs with run_once (fresh registries), then resyncs of the same bytes into the last one."""
    from catalog.settings import Settings
    from catalog.sync import run_once

    no_render = render_status()
    import_lazy_modules()  # every timed run is warm: the first syncs too, not only the resyncs
    counter = StatementCounter()
    work = Path(spec["dir"])

    def settings(db: Path, out: Path) -> Settings:
        return Settings(
            db=str(db),
            api_url=spec["url"],
            max_bytes=MAX_BYTES,
            timeout=FETCH_TIMEOUT,
            out_dir=out,
            render=no_render is None,
            health=False,
        )

    firsts, first_statements = [], 0
    for i in range(spec["firsts"]):
        db, out = work / f"first-{i}.db", work / f"out-{i}"
        before, start = counter.count, time.perf_counter()
        result = run_once(settings(db, out))
        firsts.append(time.perf_counter() - start)
        first_statements = counter.count - before
        if result.unchanged_answer or result.counts["added"] != spec["size"] or result.render_error:
            raise SystemExit(f"bench: unexpected first sync: {result.summary()} {result.render_error or ''}")
    bytes0, rows0, files0 = registry_bytes(db), table_counts(db), file_stats(out)
    resyncs, resync_statements = [], 0
    deadline = time.monotonic() + spec["budget"]
    while len(resyncs) < spec["resyncs"] and (len(resyncs) < 3 or time.monotonic() < deadline):
        before, start = counter.count, time.perf_counter()
        result = run_once(settings(db, out))
        resyncs.append(time.perf_counter() - start)
        resync_statements = counter.count - before
        if not result.unchanged_answer or result.render_error:
            raise SystemExit(f"bench: the resync was not recognised as unchanged: {result.summary()}")
    bytes1, rows1, files1 = registry_bytes(db), table_counts(db), file_stats(out)
    rewritten = sorted(name for name in files1 if files0.get(name) != files1[name])
    return {
        "firsts": firsts,
        "resyncs": resyncs,
        "first_statements": first_statements,
        "resync_statements": resync_statements,
        "bytes_before": bytes0,
        "bytes_after": bytes1,
        "rows_added": {t: rows1.get(t, 0) - rows0.get(t, 0) for t in sorted(rows0.keys() | rows1.keys())},
        "files": sorted(files1),
        "rewritten": rewritten,
        "render_na": no_render,
    }


WORKERS = {"phases": worker_phases, "resync": worker_resync}


# ============================================================== the benchmarks


@dataclass
class Check:
    name: str
    goal: str
    value: str
    ok: bool | None  # None: not run, or shown for information only
    unrated: str = "SKIP"  # the verdict when ok is None

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL"}.get(self.ok, self.unrated)


@dataclass
class Report:
    machine: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    resync: dict = field(default_factory=dict)
    git: dict = field(default_factory=dict)
    startup: dict = field(default_factory=dict)
    health: dict = field(default_factory=dict)
    check: dict = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def bench_size(n: int, url: str, body_bytes: int, opts, work: Path) -> dict:
    """Phase timings (best of repeat), statements, memory and the CLI's wall time for one size."""
    runs = []
    for r in range(opts.repeat):
        folder = work / f"phases-{n}-{r}"
        folder.mkdir()
        result, m = run_worker("phases", {"db": str(folder / "reg.db"), "url": url, "out": str(folder / "out")}, folder)
        result["child_maxrss_kib"] = m.maxrss_kib
        runs.append(result)
        if result["counts"]["added"] != n:
            raise SystemExit(f"bench: the {n}-model sync added {result['counts']['added']} models")
    names = ["open", *PHASES]
    best = {p: min(r["seconds"][p] for r in runs) if p in runs[0]["seconds"] else None for p in names}
    cli_first, cli_second = [], []
    cli_rss = 0
    for r in range(opts.repeat):
        folder = work / f"cli-{n}-{r}"
        folder.mkdir()
        cmd = [
            *catalog_cmd(),
            "sync",
            "--db",
            "reg.db",
            "--api-url",
            url,
            "--max-bytes",
            MAX_BYTES,
            "--timeout",
            FETCH_TIMEOUT,
            "--out",
            "out",
            "--no-health",
        ]
        if runs[0]["render_na"]:
            cmd.append("--no-render")
        first = checked(run_measured(cmd, folder), f"catalog sync of {n} models")
        second = checked(run_measured(cmd, folder), f"the second catalog sync of {n} models")
        cli_first.append(first.wall)
        cli_second.append(second.wall)
        cli_rss = max(cli_rss, first.maxrss_kib, second.maxrss_kib)
    return {
        "size": n,
        "body_bytes": body_bytes,
        "best_seconds": best,
        "sum_seconds": sum(v for k, v in best.items() if v is not None),
        "all_seconds": [r["seconds"] for r in runs],
        "statements": runs[0]["statements"],
        "executemany": runs[0]["executemany"],
        "lazy_import_seconds": min(r["lazy_import_seconds"] for r in runs),
        "maxrss_kib": max(r["maxrss_kib"] for r in runs),
        "rss_after_imports_kib": runs[0]["rss_after_imports_kib"],
        "cli_first": cli_first,
        "cli_second": cli_second,
        "cli_maxrss_kib": cli_rss,
        "render_na": runs[0]["render_na"],
    }


def json_loads_seconds(body: bytes, repeat: int) -> float:
    """A bare json.loads of the answer, best of `repeat`: the floor of any sync of it."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        doc = json.loads(body)
        best = min(best, time.perf_counter() - start)
        del doc
    return best


def bench_resync(n: int, url: str, opts, work: Path) -> dict:
    folder = work / f"resync-{n}"
    folder.mkdir()
    spec = {
        "dir": str(folder),
        "url": url,
        "size": n,
        "firsts": opts.repeat,
        "resyncs": opts.resyncs,
        "budget": opts.resync_budget,
    }
    result, m = run_worker("resync", spec, folder)
    result["first_median"] = statistics.median(result["firsts"])
    result["resync_median"] = statistics.median(result["resyncs"])
    result["ratio"] = result["resync_median"] / result["first_median"]
    result["growth_per_run"] = (result["bytes_after"] - result["bytes_before"]) / len(result["resyncs"])
    result["maxrss_kib"] = m.maxrss_kib
    return result


def find_git_history(given: str | None) -> str | None:
    """--git-history when given (and then only it), else $GIT_HISTORY, PATH, ../gh-venv/bin."""
    candidates = (
        [given]
        if given
        else [
            os.environ.get("GIT_HISTORY"),
            shutil.which("git-history"),
            str(REPO.parent / "gh-venv" / "bin" / "git-history"),
        ]
    )
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def capture_date(path: Path) -> str:
    """`2026-01-24T0323_84af1bd.json` -> `2026-01-24T03:23:00+0000` (a date git accepts)."""
    stamp = path.name.split("_", 1)[0]
    return f"{stamp[:13]}:{stamp[13:15]}:00+0000"


def build_capture_repo(repo: Path, captures: list[Path]) -> int:
    """One commit per capture, oldest first, dated at its capture time; returns the commit count."""
    env = {**child_env(), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    git = [
        "git",
        "-C",
        str(repo),
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@localhost",
        "-c",
        "commit.gpgsign=false",
    ]
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=env, check=True)
    target = repo / GIT_PATH
    target.parent.mkdir(parents=True)
    for capture in captures:
        shutil.copyfile(capture, target)
        date = capture_date(capture)
        dated = {**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        subprocess.run([*git, "add", GIT_PATH], env=dated, check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", f"capture {capture.name}"], env=dated, check=True)
    return len(captures)


# The floor of a backfill: every blob read from git through one `cat-file --batch` and parsed,
# in one process; what any importer must at least do. argv: repository, path.
FLOOR_SCRIPT = """
import json, subprocess, sys
repo, path = sys.argv[1], sys.argv[2]
shas = subprocess.run(["git", "-C", repo, "log", "--reverse", "--format=%H", "--", path],
                      capture_output=True, text=True, check=True).stdout.split()
proc = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
entries = 0
for sha in shas:
    proc.stdin.write(f"{sha}:{path}\\n".encode())
    proc.stdin.flush()
    header = proc.stdout.readline().split()
    body = proc.stdout.read(int(header[2]))
    proc.stdout.read(1)
    entries += len(json.loads(body)["data"])
proc.stdin.close()
proc.wait()
print(len(shas), entries)
"""


def db_files_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal")) if p.exists())


def bench_git(opts, work: Path) -> dict:
    if not CAPTURES.is_dir() or not list(CAPTURES.glob("*.json")):
        return {"skipped": f"the real captures are not at {CAPTURES}"}
    if shutil.which("git") is None:
        return {"skipped": "`git` is not installed"}
    git_history = find_git_history(opts.git_history)
    if git_history is None:
        return {"skipped": "git-history not found (give --git-history PATH or put it on PATH)"}
    captures = sorted(CAPTURES.glob("*.json"))
    repo = work / "captures-repo"
    start = time.perf_counter()
    commits = build_capture_repo(repo, captures)
    build_seconds = time.perf_counter() - start
    ours, theirs, ours_cpu, theirs_cpu, floor = [], [], [], [], []
    ours_size = theirs_size = 0
    summary = floor_out = ""
    for r in range(opts.git_repeat):  # alternate, so machine noise hits all three alike
        folder = work / f"git-{r}"
        folder.mkdir()
        m = checked(run_measured([sys.executable, "-c", FLOOR_SCRIPT, repo, GIT_PATH], folder), "the floor")
        floor.append(m.wall)
        floor_out = m.out.strip()
        m = checked(
            run_measured(
                [*catalog_cmd(), "import", "--db", "ours.db", "--git", repo, "--path", GIT_PATH, "--no-render"], folder
            ),
            "catalog import --git",
        )
        ours.append(m.wall)
        ours_cpu.append(m.cpu)
        ours_size = db_files_bytes(folder / "ours.db")
        summary = m.out.strip()
        m = checked(
            run_measured(
                [
                    git_history,
                    "file",
                    "theirs.db",
                    GIT_PATH,
                    "--repo",
                    repo,
                    "--id",
                    "id",
                    "--convert",
                    'json.loads(content)["data"]',
                    "--silent",
                ],
                folder,
            ),
            "git-history file",
        )
        theirs.append(m.wall)
        theirs_cpu.append(m.cpu)
        theirs_size = db_files_bytes(folder / "theirs.db")
    version = subprocess.run([git_history, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "captures": len(captures),
        "commits": commits,
        "build_seconds": build_seconds,
        "ours": ours,
        "theirs": theirs,
        "ours_cpu": ours_cpu,
        "theirs_cpu": theirs_cpu,
        "ours_bytes": ours_size,
        "theirs_bytes": theirs_size,
        "ours_summary": summary,
        "ratio": min(ours) / min(theirs),
        "git_history": git_history,
        "git_history_version": version,
        "floor": floor,
        "floor_ratio": min(ours) / min(floor),
        "floor_out": floor_out,
    }


def bench_health(api: LocalAPI) -> dict:
    """One health sample of HEALTH_MODELS models whose /endpoints each take HEALTH_DELAY seconds."""
    import math

    from catalog.availability.healthcheck import sample_models

    url = f"http://127.0.0.1:{api.server.server_address[1]}/health/api/v1/models"
    ids = [f"v{i % 17}/model-{i}:free" for i in range(HEALTH_MODELS)]
    started = time.perf_counter()
    samples = sample_models(ids, api_url=url, timeout=600, concurrency=HEALTH_CONCURRENCY)
    wall = time.perf_counter() - started
    bound = math.ceil(HEALTH_MODELS / HEALTH_CONCURRENCY) * HEALTH_DELAY
    return {
        "models": HEALTH_MODELS,
        "delay": HEALTH_DELAY,
        "concurrency": HEALTH_CONCURRENCY,
        "wall": wall,
        "bound": bound,
        "serial": HEALTH_MODELS * HEALTH_DELAY,
        "up": sum(1 for x in samples if x.state == "up"),
    }


def heavy_imports(args: list[str], cwd: Path) -> tuple[list[str], list[tuple[str, int]]]:
    """Heavy packages a command imports, and its slowest top-level imports (name, µs cumulative)."""
    m = run_measured([sys.executable, "-X", "importtime", *catalog_cmd_for_python(), *args], cwd)
    heavy, top = set(), []
    for line in m.err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, raw = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue  # the header line
        name = raw.strip()
        if name.split(".")[0] in HEAVY:
            heavy.add(name.split(".")[0])
        if len(raw) - len(raw.lstrip()) == 1:  # nesting level 0: imported by the program itself
            top.append((name, int(cumulative)))
    return sorted(heavy), sorted(top, key=lambda t: -t[1])[:8]


def catalog_cmd_for_python() -> list[str]:
    """The console script as a Python file (so `python -X importtime` can run it), or `-m catalog`."""
    script = Path(sys.executable).parent / "catalog"
    return [str(script)] if script.exists() else ["-m", "catalog"]


def best_wall(cmd: list, cwd: Path, times: int) -> float:
    return min(checked(run_measured(cmd, cwd), " ".join(map(str, cmd))).wall for _ in range(times))


def bench_startup(api: LocalAPI, opts, work: Path) -> dict:
    folder = work / "startup"
    folder.mkdir()
    url = api.add("small", synthetic_body(SMALL_REGISTRY))
    checked(
        run_measured(
            [*catalog_cmd(), "sync", "--db", "small.db", "--api-url", url, "--no-render", "--no-health"], folder
        ),
        "the small registry's sync",
    )
    models = ["models", "--db", "small.db", "--format", "json"]
    result = {
        "python": best_wall([sys.executable, "-c", "pass"], folder, opts.startup_repeat),
        "help": best_wall([*catalog_cmd(), "--help"], folder, opts.startup_repeat),
        "models": best_wall([*catalog_cmd(), *models], folder, opts.startup_repeat),
    }
    result["help_heavy"], result["help_top"] = heavy_imports(["--help"], folder)
    result["models_heavy"], result["models_top"] = heavy_imports(models, folder)
    return result


def corpus_lines() -> list[str]:
    """Lines of this repository's own code and manual, as text a project holds: with its slashes,
    URLs and comments, without the `:free` ids the manual quotes (so every id found was planted)."""
    lines = []
    for pattern in ("catalog/**/*.py", "docs/*.md", "templates/*.j2"):
        for path in sorted(REPO.glob(pattern)):
            lines += [line for line in path.read_text(encoding="utf-8").splitlines() if ":free" not in line]
    return lines


def write_check_tree(root: Path, ids: list[str]) -> int:
    """CHECK_FILES files of about CHECK_FILE_BYTES under `root`; returns how many ids were planted."""
    import random

    rng = random.Random(7)
    lines = corpus_lines()
    planted = 0
    for i in range(CHECK_FILES):
        folder = root / f"pkg{i // 200:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        parts, size = [], 0
        while size < CHECK_FILE_BYTES - 200:
            line = rng.choice(lines)
            if rng.random() < 1 / 400:  # about one id per 400 lines: ids are rare in a project
                line = f'{line[:20]} "{rng.choice(ids)}" {line[20:]}'
                planted += 1
            parts.append(line + "\n")
            size += len(parts[-1].encode())
        (folder / f"mod{i:05d}.py").write_text("".join(parts), encoding="utf-8")
    return planted


def bench_check(api: LocalAPI, opts, work: Path) -> dict:
    folder = work / "check"
    folder.mkdir()
    body = synthetic_body(SMALL_REGISTRY)
    url = api.add("check", body)
    checked(
        run_measured(
            [*catalog_cmd(), "sync", "--db", "small.db", "--api-url", url, "--no-render", "--no-health"], folder
        ),
        "the check registry's sync",
    )
    known = [entry["id"] for entry in json.loads(body)["data"]]
    planted = write_check_tree(folder / "tree", [*known[:20], "nobody/unknown-model:free", "x/y-7b:free"])
    ours_cmd = [*catalog_cmd(), "check", "--db", "small.db", "--format", "json", "--fail-on", "none", "tree"]
    grep_cmd = ["grep", "-rE", CHECK_PATTERN, "tree"]
    ours, theirs, found = [], [], 0
    for _ in range(opts.check_repeat):
        m = checked(run_measured(ours_cmd, folder), "catalog check")
        ours.append(m.wall)
        found = len(json.loads(m.out))
        theirs.append(checked(run_measured(grep_cmd, folder), "grep -rE").wall)
    return {
        "files": CHECK_FILES,
        "file_bytes": CHECK_FILE_BYTES,
        "planted": planted,
        "found": found,
        "ours": min(ours),
        "grep": min(theirs),
        "ratio": min(ours) / min(theirs),
    }


# ============================================================== checks and output


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def human_bytes(n: float) -> str:
    return (
        f"{n / 1024 / 1024:.1f} MiB"
        if abs(n) >= 1 << 20
        else f"{n / 1024:.0f} KiB"
        if abs(n) >= 10240
        else f"{n:.0f} B"
    )


def linearity_checks(report: Report) -> list[dict]:
    sizes = sorted(report.sizes)
    if len(sizes) < 2:
        return []
    ref = LINEAR_REF if LINEAR_REF in sizes and sizes[-1] != LINEAR_REF else sizes[0]
    top = sizes[-1]
    allowed = LINEAR_FACTOR * top / ref
    rated = (ref, top) == (LINEAR_REF, 50000)  # the goal; other spans are for information
    rows = []
    a, b = report.sizes[ref], report.sizes[top]
    items = [(p, a["best_seconds"].get(p), b["best_seconds"].get(p)) for p in PHASES]
    items.append(("total (phases)", a["sum_seconds"], b["sum_seconds"]))
    items.append(("CLI `catalog sync`", min(a["cli_first"]), min(b["cli_first"])))
    for name, low, high in items:
        ratio = high / low if low and high is not None else None
        check = Check(
            f"linear: {name}",
            f"t({top:,})/t({ref:,}) <= {allowed:g}",
            f"{ratio:.1f}" if ratio is not None else "n/a",
            None if ratio is None or not rated else ratio <= allowed,
            "SKIP" if ratio is None else "INFO",
        )
        report.checks.append(check)
        rows.append(
            {
                "what": name,
                "ref": ref,
                "top": top,
                "low": low,
                "high": high,
                "ratio": ratio,
                "allowed": allowed,
                "verdict": check.verdict,
            }
        )
    return rows


def statement_checks(report: Report) -> None:
    sizes = sorted(report.sizes)
    if len(sizes) < 2:
        return
    low, high = report.sizes[sizes[0]], report.sizes[sizes[-1]]
    same = low["statements"] == high["statements"]
    report.checks.append(
        Check(
            "no query per model (phases)",
            f"statements at {sizes[0]:,} == at {sizes[-1]:,}",
            f"{sum(low['statements'].values())} vs {sum(high['statements'].values())}",
            same,
        )
    )
    rs = [report.resync[s] for s in (sizes[0], sizes[-1]) if s in report.resync]
    if len(rs) == 2:
        report.checks.append(
            Check(
                "no query per model (run_once)",
                f"statements at {sizes[0]:,} == at {sizes[-1]:,}",
                f"{rs[0]['first_statements']} vs {rs[1]['first_statements']}",
                rs[0]["first_statements"] == rs[1]["first_statements"],
            )
        )


def first_sync_checks(report: Report) -> None:
    s = report.sizes.get(FIRST_SYNC_SIZE)
    if s is None:
        return
    best = s["best_seconds"]
    report.checks.append(
        Check(
            f"first sync {FIRST_SYNC_SIZE:,}: time",
            f"<= {FIRST_SYNC_GOAL_S:g} s (sum of phases + open)",
            f"{s['sum_seconds']:.2f} s ({s['sum_seconds'] / s['json_loads']:.1f} x json.loads)",
            s["sum_seconds"] <= FIRST_SYNC_GOAL_S,
        )
    )
    if best.get("render") is not None:
        report.checks.append(
            Check(
                f"first sync {FIRST_SYNC_SIZE:,}: render",
                f"<= {RENDER_GOAL_S:g} s",
                ms(best["render"]),
                best["render"] <= RENDER_GOAL_S,
            )
        )
    peak = max(s["maxrss_kib"], s["cli_maxrss_kib"])
    report.checks.append(
        Check(
            f"first sync {FIRST_SYNC_SIZE:,}: peak RSS",
            f"<= {RSS_GOAL_MIB} MiB (phases and CLI)",
            mib(peak),
            peak / 1024 <= RSS_GOAL_MIB,
        )
    )


def resync_checks(report: Report) -> None:
    for n, r in sorted(report.resync.items()):
        runs = len(r["resyncs"])
        extra = {t: d for t, d in r["rows_added"].items() if t != "runs" and d}
        report.checks.append(
            Check(
                f"resync {n:,}: time",
                f"<= {RESYNC_GOAL} x first sync",
                f"{r['ratio']:.2f}",
                r["ratio"] <= RESYNC_GOAL if n >= RESYNC_RATED_FROM else None,
                "INFO",
            )
        )
        report.checks.append(
            Check(
                f"resync {n:,}: rows",
                f"runs +{runs}, nothing else",
                f"runs +{r['rows_added'].get('runs', 0)}" + (f", {extra}" if extra else ""),
                r["rows_added"].get("runs") == runs and not extra,
            )
        )
        if r["render_na"]:
            report.checks.append(Check(f"resync {n:,}: files", "none rewritten", "render n/a", None))
        else:
            report.checks.append(
                Check(
                    f"resync {n:,}: files",
                    "none rewritten",
                    f"{len(r['rewritten'])} of {len(r['files'])}" + (f" {r['rewritten']}" if r["rewritten"] else ""),
                    not r["rewritten"],
                )
            )


def other_checks(report: Report) -> None:
    g = report.git
    if "skipped" in g:
        report.checks.append(Check("import --git vs git-history", f"<= {GIT_GOAL} x its time", g["skipped"], None))
    elif g:
        report.checks.append(
            Check(
                "import --git vs git-history", f"<= {GIT_GOAL} x its time", f"{g['ratio']:.3f}", g["ratio"] <= GIT_GOAL
            )
        )
        report.checks.append(
            Check(
                "import --git vs the floor",
                f"<= {GIT_FLOOR_GOAL} x (git blobs + json.loads)",
                f"{g['floor_ratio']:.2f}",
                g["floor_ratio"] <= GIT_FLOOR_GOAL,
            )
        )
    s = report.startup
    if s:
        report.checks.append(
            Check(
                "start-up: catalog --help", f"<= {HELP_GOAL_S * 1000:.0f} ms", ms(s["help"]), s["help"] <= HELP_GOAL_S
            )
        )
        report.checks.append(
            Check("start-up: --help heavy imports", "none", ", ".join(s["help_heavy"]) or "none", not s["help_heavy"])
        )
        report.checks.append(
            Check(
                "start-up: models --format json",
                f"<= {MODELS_GOAL_S * 1000:.0f} ms",
                ms(s["models"]),
                s["models"] <= MODELS_GOAL_S,
            )
        )
        bad = [h for h in s["models_heavy"] if h in NOT_FOR_READS]
        report.checks.append(
            Check(
                "start-up: models heavy imports",
                f"none of {', '.join(NOT_FOR_READS)}",
                ", ".join(s["models_heavy"]) or "none",
                not bad,
            )
        )


def check_checks(report: Report) -> None:
    c = report.check
    if c:
        report.checks.append(
            Check(
                f"check of {c['files']:,} files vs grep -rE",
                f"<= {CHECK_GOAL:g} x grep's time",
                f"{c['ratio']:.2f} ({c['ours']:.2f} s vs {c['grep']:.2f} s)",
                c["ratio"] <= CHECK_GOAL and c["found"] == c["planted"],
            )
        )


def health_checks(report: Report) -> None:
    h = report.health
    if h:
        report.checks.append(
            Check(
                f"health of {h['models']} models",
                f"<= {HEALTH_SLACK} x {h['bound']:.1f} s (concurrency bound)",
                f"{h['wall']:.2f} s, {h['up']} up",
                h["wall"] <= HEALTH_SLACK * h["bound"] and h["up"] == h["models"],
            )
        )


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(report: Report, linear: list[dict]) -> str:
    m = report.machine
    out = [
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}, SQLite {m['sqlite']}, "
        f"SQLAlchemy {m['sqlalchemy']}, catalog {m['catalog']}. Command: `{m['command']}`",
        "",
    ]
    if report.sizes:
        out += ["### Sync of a synthetic all-free catalog (first sync into a new registry)", ""]
        rows = []
        for n, s in sorted(report.sizes.items()):
            b = s["best_seconds"]
            stm = s["statements"]
            rows.append(
                [
                    f"{n:,}",
                    human_bytes(s["body_bytes"]),
                    ms(s.get("json_loads")),
                    *(ms(b.get(p)) for p in PHASES),
                    ms(s["sum_seconds"]),
                    ms(min(s["cli_first"])),
                    mib(s["maxrss_kib"]),
                    mib(s["cli_maxrss_kib"]),
                    " / ".join(str(stm.get(p, "-")) for p in ("open", *PHASES)),
                ]
            )
        out.append(
            table(
                [
                    "models",
                    "answer",
                    "`json.loads` of it",
                    *PHASES,
                    "sum (+open)",
                    "CLI `catalog sync`",
                    "peak RSS (phases)",
                    "peak RSS (CLI)",
                    "SQL statements open/fetch/parse/diff/store/render",
                ],
                rows,
            )
        )
        out += [
            "",
            f"Times: best of {report.machine['repeat']} fresh processes. Peak RSS: ru_maxrss of the process "
            f"(interpreter + imports ≈ {mib(next(iter(report.sizes.values()))['rss_after_imports_kib'])} of it). "
            f"`open` (lock + schema check) is counted in the sum, not a phase. httpx, jinja2 and alembic, "
            f"which open/fetch/render import lazily, are imported before the clocks start "
            f"({ms(next(iter(report.sizes.values()))['lazy_import_seconds'])} once per process; "
            f"the CLI column pays it).",
            "",
        ]
    if linear:
        out += ["### Linearity", ""]
        out.append(
            table(
                ["what", f"{linear[0]['ref']:,} models", f"{linear[0]['top']:,} models", "ratio", "goal", ""],
                [
                    [
                        r["what"],
                        ms(r["low"]),
                        ms(r["high"]),
                        f"{r['ratio']:.1f}" if r["ratio"] else "n/a",
                        f"<= {r['allowed']:g}",
                        r["verdict"],
                    ]
                    for r in linear
                ],
            )
        )
        if linear[0]["verdict"] == "INFO":
            out += ["", "The goal is stated for 5,000 → 50,000 models; these sizes are shown for information."]
        out.append("")
    if report.resync:
        out += ["### Resync of the same answer (`run_once`, render on)", ""]
        rows = []
        for n, r in sorted(report.resync.items()):
            s = report.sizes.get(n, {})
            rows.append(
                [
                    f"{n:,}",
                    ms(r["first_median"]),
                    f"{ms(r['resync_median'])} (×{len(r['resyncs'])})",
                    f"{r['ratio']:.2f}",
                    f"{ms(min(s['cli_first'])) if s else '-'} → {ms(min(s['cli_second'])) if s else '-'}",
                    f"{r['first_statements']} / {r['resync_statements']}",
                    ", ".join(f"{t} +{d}" for t, d in r["rows_added"].items() if d) or "none",
                    "n/a" if r["render_na"] else f"{len(r['rewritten'])} of {len(r['files'])}",
                    f"{r['growth_per_run']:.0f} B",
                ]
            )
        out.append(
            table(
                [
                    "models",
                    "first sync",
                    "resync (median)",
                    f"ratio (goal ≤ {RESYNC_GOAL})",
                    "CLI first → second",
                    "SQL first / resync",
                    "rows added",
                    "files rewritten",
                    "db growth per run",
                ],
                rows,
            )
        )
        out += [
            "",
            "First sync: median of fresh registries; resync: median of runs of the same bytes into the last "
            "one. Growth is (db + wal after a checkpoint) / runs; SQLite grows in whole 4 KiB pages, so a few "
            "runs fit in pages already allocated.",
            "",
        ]
    g = report.git
    if g:
        out += ["### Backfill of the 54 real captures: `catalog import --git` vs `git-history file`", ""]
        if "skipped" in g:
            out += [f"Skipped: {g['skipped']}.", ""]
        else:
            out.append(
                table(
                    ["tool", "best wall", "all runs (wall)", "CPU user+sys (best)", "database size"],
                    [
                        [
                            "`catalog import --git ... --no-render`",
                            ms(min(g["ours"])),
                            ", ".join(ms(t) for t in g["ours"]),
                            ms(min(g["ours_cpu"])),
                            human_bytes(g["ours_bytes"]),
                        ],
                        [
                            f"`git-history file` ({g['git_history_version']})",
                            ms(min(g["theirs"])),
                            ", ".join(ms(t) for t in g["theirs"]),
                            ms(min(g["theirs_cpu"])),
                            human_bytes(g["theirs_bytes"]),
                        ],
                        [
                            "floor: the blobs from one `git cat-file --batch` + `json.loads` of each, one process",
                            ms(min(g["floor"])),
                            ", ".join(ms(t) for t in g["floor"]),
                            "-",
                            "-",
                        ],
                    ],
                )
            )
            out += [
                "",
                f"Ratio ours/floor: {g['floor_ratio']:.2f} (goal ≤ {GIT_FLOOR_GOAL}); "
                f"ratio ours/theirs: {g['ratio']:.3f} (goal ≤ {GIT_GOAL}). {g['commits']} commits; ours: "
                f'"{g["ours_summary"]}". git-history keeps every model (free or not), ours only free ones.',
                "",
            ]
    s = report.startup
    if s:
        out += ["### Start-up", ""]
        out.append(
            table(
                ["command", f"best of {report.machine['startup_repeat']}", "heavy packages imported"],
                [
                    ["`python -c pass` (floor)", ms(s["python"]), "-"],
                    ["`catalog --help`", ms(s["help"]), ", ".join(s["help_heavy"]) or "none"],
                    [
                        f"`catalog models --db small.db --format json` ({SMALL_REGISTRY} models)",
                        ms(s["models"]),
                        ", ".join(s["models_heavy"]) or "none",
                    ],
                ],
            )
        )
        if s["help"] > HELP_GOAL_S:
            out += [
                "",
                "Slowest top-level imports of `catalog --help` (cumulative): "
                + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in s["help_top"]),
            ]
        out.append("")
    h = report.health
    if h:
        out += ["### Health sample under one deadline", ""]
        out.append(
            table(
                [
                    "models",
                    "server delay per call",
                    "concurrency",
                    "wall",
                    "bound (calls / concurrency x delay)",
                    "one at a time",
                ],
                [[h["models"], ms(h["delay"]), h["concurrency"], ms(h["wall"]), ms(h["bound"]), ms(h["serial"])]],
            )
        )
        out.append("")
    out += ["### Checks", ""]
    out.append(table(["check", "goal", "measured", ""], [[c.name, c.goal, c.value, c.verdict] for c in report.checks]))
    if report.notes:
        out += [""] + [f"Note: {n}" for n in report.notes]
    return "\n".join(out)


def machine_facts(opts) -> dict:
    import sqlalchemy

    import catalog

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "catalog": catalog.__version__,
        "command": " ".join(["python", "tests/benchmarks/run.py", *sys.argv[1:]]),
        "repeat": opts.repeat,
        "startup_repeat": opts.startup_repeat,
    }


def parse_args(argv: list[str] | None):
    p = argparse.ArgumentParser(description="Benchmarks of catalog (see the module docstring).")
    p.add_argument("--sizes", help="catalog sizes, comma-separated (default 1000,5000,10000,50000)")
    p.add_argument("--quick", action="store_true", help="sizes 1000,5000, one repetition, fewer resyncs")
    p.add_argument("--repeat", type=int, help="fresh processes per size and first syncs (default 3; quick 1)")
    p.add_argument("--resyncs", type=int, help="resyncs per size (default 20; quick 5)")
    p.add_argument(
        "--resync-budget",
        type=float,
        default=60.0,
        help="stop resyncing a size after this many seconds (at least 3 runs)",
    )
    p.add_argument("--git-repeat", type=int, help="runs of each backfill tool (default 3; quick 1)")
    p.add_argument("--startup-repeat", type=int, help="start-up runs per command (default 10; quick 3)")
    p.add_argument("--check-repeat", type=int, help="runs of catalog check and of grep (default 3; quick 1)")
    p.add_argument("--git-history", metavar="PATH", help="the git-history executable")
    p.add_argument(
        "--only",
        choices=("sizes", "resync", "git", "startup", "health", "check"),
        action="append",
        help="run only this part (repeatable)",
    )
    p.add_argument("--json", metavar="PATH", type=Path, help="also write every number as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--spawner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    quick = opts.quick
    opts.sizes = (
        sorted({int(s) for s in opts.sizes.split(",")}) if opts.sizes else list(QUICK_SIZES if quick else DEFAULT_SIZES)
    )
    opts.repeat = opts.repeat or (1 if quick else 3)
    opts.resyncs = opts.resyncs or (5 if quick else 20)
    opts.git_repeat = opts.git_repeat or (1 if quick else 3)
    opts.startup_repeat = opts.startup_repeat or (3 if quick else 10)
    opts.check_repeat = opts.check_repeat or (1 if quick else 3)
    opts.only = set(opts.only or ("sizes", "resync", "git", "startup", "health", "check"))
    return opts


def progress(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.spawner:
        serve_spawns()
        return 0
    if opts.worker:
        os.environ.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        opts.result.write_text(json.dumps(WORKERS[opts.worker](json.loads(opts.spec))))
        return 0
    SPAWNER.start()  # now, while this process is small (see Spawner)
    report = Report(machine=machine_facts(opts))
    na = render_status()
    if na:
        report.notes.append(f"render is n/a: {na}")
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # render digests: the children's, kept in here
    api = LocalAPI()
    try:
        for n in opts.sizes if opts.only & {"sizes", "resync"} else ():
            progress(f"generating {n:,} models")
            body = synthetic_body(n)
            url = api.add(str(n), body)
            if "sizes" in opts.only:
                progress(f"sync of {n:,} models: phases and CLI, {opts.repeat} run(s)")
                report.sizes[n] = bench_size(n, url, len(body), opts, work)
                report.sizes[n]["json_loads"] = json_loads_seconds(body, opts.repeat)
            if "resync" in opts.only:
                progress(f"resync of {n:,} models")
                report.resync[n] = bench_resync(n, url, opts, work)
            del body
        if "git" in opts.only:
            progress("import --git vs git-history")
            report.git = bench_git(opts, work)
            if "skipped" in report.git:
                progress(f"skipped the git benchmark: {report.git['skipped']}")
        if "startup" in opts.only:
            progress("start-up")
            report.startup = bench_startup(api, opts, work)
        if "health" in opts.only:
            progress(f"health of {HEALTH_MODELS} models, {HEALTH_DELAY} s per call")
            report.health = bench_health(api)
        if "check" in opts.only:
            progress(f"check of {CHECK_FILES:,} files against grep -rE")
            report.check = bench_check(api, opts, work)
    finally:
        api.close()
        SPAWNER.close()
        if opts.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    linear = linearity_checks(report)
    statement_checks(report)
    first_sync_checks(report)
    resync_checks(report)
    other_checks(report)
    health_checks(report)
    check_checks(report)
    print(markdown(report, linear))
    if opts.json:
        doc = asdict(report)
        doc["linearity"] = linear
        opts.json.write_text(json.dumps(doc, indent=2, default=str))
    return 1 if any(c.ok is False for c in report.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
