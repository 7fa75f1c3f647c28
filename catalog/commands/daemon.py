"""`catalog schedule`: run a job forever on an interval or a crontab expression.

A thin shell over APScheduler 3 (BlockingScheduler, one job, in-memory job store: the registry
holds no scheduler tables). What this module adds is the behaviour a daemon owes its operator:
- one line per run on the `catalog` logger; a failed run is logged and the next one still happens;
- never two runs at once (max_instances=1 here, the registry lock across processes);
- SIGTERM/SIGINT let a running job finish, then the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

from catalog.durations import format_duration
from catalog.errors import CatalogError, LockedError, UsageError

if TYPE_CHECKING:
    from types import FrameType

    from apscheduler.events import SchedulerEvent
    from apscheduler.schedulers.base import BaseScheduler
    from apscheduler.triggers.base import BaseTrigger

    # What signal.signal() takes and gives back: a function, SIG_DFL/SIG_IGN, or None.
    SignalHandler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

log = logging.getLogger("catalog")

JOB_ID = "sync"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 and 7 = Sunday
CRON_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def run_daemon(
    job: Callable[[], object],
    *,
    every: timedelta | None,
    cron: str | None,
    jitter: float | None,
    run_now: bool,
) -> int:
    """Run `job` on schedule until SIGTERM/SIGINT; returns the exit status (0 after a clean stop).

    Must be called from the main thread (signal handlers live there). `job` returns a one-line
    summary to log (or None); the exceptions it raises are logged, never fatal.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    trigger = make_trigger(every=every, cron=cron, jitter=jitter)
    scheduler = BlockingScheduler(timezone=UTC)
    stopping = threading.Event()
    started = threading.Event()
    _quiet_apscheduler()
    _listen(scheduler, started)
    job_options = dict(
        id=JOB_ID,
        name="catalog sync",
        coalesce=True,  # after a suspend or a long run, catch up with one run, not a burst
        max_instances=1,
        # APScheduler's default grace is 1 s, which silently drops a run that starts late (busy
        # host, resumed laptop). With coalesce=True a backlog is one run anyway, so a late run is
        # always worth doing: no limit.
        misfire_grace_time=None,
    )
    if run_now:
        job_options["next_run_time"] = datetime.now(UTC)
    scheduler.add_job(_guarded, trigger, args=(job, stopping), **job_options)

    stopper = threading.Thread(target=_stop, args=(scheduler, started), name="catalog-stop", daemon=True)
    previous = _install_signal_handlers(stopping, stopper)
    try:
        log.info(
            "scheduled: %s%s",
            describe_schedule(every=every, cron=cron, jitter=jitter),
            "; first run now" if run_now else "",
        )
        scheduler.start()
    finally:
        _restore_signal_handlers(previous)
    if stopping.is_set():
        stopper.join()  # shutdown(wait=True) returns once the running job has finished
    log.info("stopped")
    return 0


def make_trigger(*, every: timedelta | None, cron: str | None, jitter: float | None) -> BaseTrigger:
    """IntervalTrigger or CronTrigger (UTC); UsageError with one line for a bad schedule."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if (every is None) == (cron is None):
        raise UsageError("give exactly one of --every DURATION or --cron EXPR")
    if every is not None:
        if every.total_seconds() <= 0:
            raise UsageError("--every must be longer than zero")
        return IntervalTrigger(seconds=every.total_seconds(), timezone=UTC, jitter=jitter or None)
    assert cron is not None  # exactly one of the two is given, and it is not `every`
    fields = crontab_fields(cron)
    try:
        return CronTrigger(
            minute=fields[0], hour=fields[1], day=fields[2], month=fields[3], day_of_week=fields[4],
            timezone=UTC, jitter=jitter or None,
        )  # fmt: skip
    except ValueError as exc:
        raise UsageError(f"invalid --cron {cron!r}: {exc}") from None


def crontab_fields(expr: str) -> list[str]:
    """A five-field crontab expression as CronTrigger arguments.

    Two differences with crontab are bridged or refused rather than left to surprise:
    APScheduler 3 numbers weekdays from Monday=0 (crontab: Sunday=0), so numeric weekdays are
    rewritten as names; and crontab runs when EITHER restricted day field matches while
    CronTrigger needs both, so restricting both is refused.
    """
    text = CRON_MACROS.get(expr.strip().lower(), expr)
    fields = text.split()
    if len(fields) != 5:
        raise UsageError(
            f"invalid --cron {expr!r}: expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    if fields[2] != "*" and fields[4] != "*":
        raise UsageError(f"invalid --cron {expr!r}: restrict day-of-month or day-of-week, not both")
    fields[4] = _weekdays(fields[4], expr)
    return fields


def _weekdays(field: str, expr: str) -> str:
    """Crontab day-of-week (numbers, names, ranges, steps) -> a list of weekday names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                first, last = 0, 6
            else:
                first_text, _, last_text = body.partition("-")
                first = _weekday_number(first_text)
                last = _weekday_number(last_text) if last_text else (6 if step_text else first)
                if last == 0 and first > 0:
                    last = 7  # `5-7` / `fri-sun`: Sunday as 7 closes the week
            if step < 1 or first > last:
                raise ValueError
        except ValueError:
            raise UsageError(f"invalid --cron {expr!r}: cannot read day-of-week {part!r}") from None
        days.update(day % 7 for day in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(WEEKDAY_NAMES[day] for day in sorted(days))


def _weekday_number(text: str) -> int:
    name = text.strip().lower()
    if name in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(name)
    number = int(name)
    if not 0 <= number <= 7:
        raise ValueError
    return number


def describe_schedule(*, every: timedelta | None, cron: str | None, jitter: float | None) -> str:
    what = f"every {format_duration(every)}" if every is not None else f"cron {cron!r} (UTC)"
    return what + (f", up to {jitter:g} s jitter" if jitter else "")


def _guarded(job: Callable[[], object], stopping: threading.Event) -> None:
    """One run: log one line whatever happens; nothing escapes to the scheduler."""
    if stopping.is_set():
        return  # a signal arrived while this run was being submitted: do not start a new sync
    try:
        summary = job()
    except LockedError as exc:
        log.warning("skipped: %s", str(exc).split(";")[0], extra={"fields": {"event": "run", "status": "skipped"}})
    except CatalogError as exc:
        log.debug("run failed", exc_info=True)
        log.error("run failed: %s", exc, extra={"fields": {"event": "run", "status": "failed"}})
    except Exception as exc:  # a bug in one run must not end the daemon
        log.debug("run failed", exc_info=True)
        log.error(
            "run failed: unexpected %s: %s (run with -v for the traceback)",
            type(exc).__name__, exc, extra={"fields": {"event": "run", "status": "failed"}},
        )  # fmt: skip
    else:
        if summary is not None:
            log.info("%s", summary, extra={"fields": {"event": "run", "status": "ok"}})


def _listen(scheduler: BaseScheduler, started: threading.Event) -> None:
    """Our own one-liners for scheduler events whose APScheduler warnings we silence."""
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_SCHEDULER_STARTED

    def on_event(event: SchedulerEvent) -> None:
        if event.code == EVENT_SCHEDULER_STARTED:
            started.set()
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("skipped: the previous run is still going")

    scheduler.add_listener(on_event, EVENT_SCHEDULER_STARTED | EVENT_JOB_MAX_INSTANCES)


def _quiet_apscheduler() -> None:
    """Route APScheduler's own logging through ours: errors always, warnings with -v."""
    ours = logging.getLogger("catalog")
    theirs = logging.getLogger("apscheduler")
    if ours.handlers:
        theirs.handlers[:] = ours.handlers
        theirs.propagate = False
    theirs.setLevel(logging.WARNING if ours.isEnabledFor(logging.DEBUG) else logging.ERROR)


def _stop(scheduler: BaseScheduler, started: threading.Event) -> None:
    """Shut down from a helper thread, not the handler itself: the handler can interrupt the
    scheduler loop while it holds its locks, and shutdown(wait=True) must wait for those."""
    from apscheduler.schedulers import SchedulerNotRunningError

    started.wait()
    try:
        scheduler.shutdown(wait=True)
    except SchedulerNotRunningError:
        pass


def _install_signal_handlers(
    stopping: threading.Event, stopper: threading.Thread
) -> dict[signal.Signals, SignalHandler]:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            log.info("already stopping; waiting for the current run to finish")
            return
        stopping.set()
        log.info("%s: stopping after the current run, if any", signal.Signals(signum).name)
        stopper.start()

    return {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}


def _restore_signal_handlers(previous: dict[signal.Signals, SignalHandler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
