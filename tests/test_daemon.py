"""`catalog schedule`: durations, schedules, and the daemon itself (in-process and as a real process)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import rows
from fakeapi import catalog_doc, error_reply, model

from catalog.commands.daemon import crontab_fields, make_trigger, run_daemon
from catalog.durations import duration_arg, format_age, format_duration, parse_duration
from catalog.errors import FetchError, LockedError, UsageError

# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("15m", 900), ("6h", 21600), ("1d", 86400), ("1h30m", 5400), ("2w", 1209600),
     (" 1H 5M ", 3900), ("1d2h3m4s", 93784)],
)  # fmt: skip
def test_durations_people_write(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0s", "0h0m", "-5m", "60", "1.5h", "5 minutes", "h", "30m1h", "1h1h", "1y"])
def test_durations_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        duration_arg(text)
    assert "\n" not in str(caught.value) and repr(text) in str(caught.value)


@pytest.mark.parametrize("seconds", [1, 59, 60, 90, 3600, 5400, 86400, 93784])
def test_format_duration_reads_back(seconds):
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


def test_format_age_rounds_to_two_units():
    assert format_age(timedelta(seconds=42)) == "42s"
    assert format_age(timedelta(hours=3, seconds=20)) == "3h"
    assert format_age(timedelta(hours=3, minutes=5)) == "3h5m"
    assert format_age(timedelta(days=2, hours=4, minutes=59)) == "2d4h"


# --------------------------------------------------------------------------- cron expressions


@pytest.mark.parametrize(
    "expr, weekdays",
    [("0 9 * * 0", "sun"), ("0 9 * * 7", "sun"), ("0 9 * * 1-5", "mon,tue,wed,thu,fri"), ("0 9 * * 5-7", "sun,fri,sat"),
     ("0 9 * * */2", "sun,tue,thu,sat"), ("0 9 * * MON,wed", "mon,wed"), ("0 9 * * 0-6", "*"), ("@weekly", "sun")],
)  # fmt: skip
def test_crontab_weekdays_mean_what_cron_means(expr, weekdays):
    assert crontab_fields(expr)[4] == weekdays


def test_a_sunday_cron_fires_on_sunday():
    # APScheduler 3 alone reads "0" as Monday; the trigger we build must not.
    trigger = make_trigger(every=None, cron="30 9 * * 0", jitter=None)
    now = datetime(2026, 1, 21, tzinfo=UTC)  # a Wednesday
    fire = trigger.get_next_fire_time(None, now)
    assert (fire.weekday(), fire.hour, fire.minute) == (6, 9, 30)
    assert fire.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "expr", ["* * * *", "* * * * * *", "61 * * * *", "* 25 * * *", "0 9 1 * 1", "0 9 * * 8", "0 9 * * fun", "x y z w v"]
)
def test_bad_cron_expressions_are_one_line_usage_errors(expr):
    with pytest.raises(UsageError) as caught:
        make_trigger(every=None, cron=expr, jitter=None)
    assert "\n" not in str(caught.value) and expr in str(caught.value)


def test_cli_rejects_a_bad_schedule_before_starting(cli):
    result = cli("schedule", "--cron", "61 * * * *", "--db", "x.db")
    assert result.code == 2
    assert result.err.strip().startswith("catalog: error: invalid --cron '61 * * * *'")
    assert len(result.err.strip().splitlines()) == 1
    assert cli("schedule", "--every", "0s").code == 2
    assert cli("schedule", "--every", "1h", "--cron", "0 * * * *").code == 2
    assert cli("schedule").code == 2


# --------------------------------------------------------------------------- the daemon in-process


class Records(logging.Handler):
    """Collects the `catalog` logger's messages, whatever earlier tests did to its propagation."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def wait_for(self, text: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in message for message in self.messages):
                return True
            time.sleep(0.01)
        return False


@pytest.fixture
def records():
    handler = Records()
    logger = logging.getLogger("catalog")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_daemon_survives_failures_and_lets_the_running_job_finish(records, stop_signal):
    calls: list[str] = []

    def job():
        calls.append("start")
        if len(calls) == 2:
            raise FetchError("the API answered 500; try again later")
        if len(calls) == 3:
            raise LockedError(
                "another sync is running (pid 4242, since 12:00:03); try again later or pass --wait SECONDS"
            )
        if len(calls) == 4:
            raise ZeroDivisionError("a bug")
        if len(calls) == 5:
            os.kill(os.getpid(), stop_signal)
            # Stay busy until the daemon has begun stopping: it must wait for this run.
            assert records.wait_for("stopping after the current run")
            calls.append("finished")
            return "the last run"
        return f"run {len(calls)}"

    previous = signal.getsignal(stop_signal)
    status = run_daemon(job, every=timedelta(seconds=0.05), cron=None, jitter=None, run_now=True)
    assert status == 0
    assert calls == ["start"] * 5 + ["finished"]  # and no run started after the signal
    assert signal.getsignal(stop_signal) == previous
    messages = records.messages
    assert "run 1" in messages
    assert "run failed: the API answered 500; try again later" in messages
    assert "skipped: another sync is running (pid 4242, since 12:00:03)" in messages
    assert "run failed: unexpected ZeroDivisionError: a bug (run with -v for the traceback)" in messages
    assert messages.index("the last run") < messages.index("stopped")


def test_no_run_now_waits_for_the_schedule(records):
    started = time.monotonic()
    seen: list[float] = []

    def job():
        seen.append(time.monotonic() - started)
        os.kill(os.getpid(), signal.SIGTERM)

    assert run_daemon(job, every=timedelta(seconds=0.3), cron=None, jitter=None, run_now=False) == 0
    assert len(seen) == 1 and seen[0] >= 0.3


# --------------------------------------------------------------------------- the daemon as a process


def run_statuses(db) -> list[str]:
    if db.startswith("postgresql"):
        from psycopg.errors import UndefinedTable

        try:
            return [status for (status,) in rows(db, "SELECT status FROM runs ORDER BY id")]
        except UndefinedTable:  # not migrated yet
            return []
    if not os.path.exists(db):
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return [status for (status,) in conn.execute("SELECT status FROM runs ORDER BY id")]
    except sqlite3.OperationalError:  # created but not migrated yet
        return []


def wait_until(condition, timeout: float, proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert proc.poll() is None, "the daemon exited early"
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_daemon_process_records_runs_survives_a_failure_and_stops_on_sigterm(tmp_path, fake_api, db_url):
    db = db_url
    good = catalog_doc([model("a/one:free"), model("b/two:free")])
    fake_api.serve(good)
    proc = subprocess.Popen(
        [sys.executable, "-m", "catalog", "schedule", "--every", "1s", "--db", db, "--api-url", fake_api.url,
         "--timeout", "1", "--no-render"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: "ok" in run_statuses(db), 30, proc)
        fake_api.serve(error_reply(500, "upstream exploded"))
        wait_until(lambda: "failed" in run_statuses(db), 30, proc)
        fake_api.serve(good)
        wait_until(lambda: run_statuses(db)[-1:] == ["ok"] and "failed" in run_statuses(db), 30, proc)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    statuses = run_statuses(db)
    first_failure = statuses.index("failed")
    assert "ok" in statuses[:first_failure] and "ok" in statuses[first_failure:]
    lines = err.splitlines()
    assert "Traceback" not in err
    failures = [line for line in lines if line.startswith("catalog: run failed: ")]
    assert failures and all("500" in line for line in failures)
    assert sum(line.startswith("catalog: 2 models, 2 free") for line in lines) >= 2
    assert "catalog: SIGTERM: stopping after the current run, if any" in lines
    assert lines[-1] == "catalog: stopped"
