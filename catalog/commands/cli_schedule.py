"""Commands for running on a schedule: schedule (the daemon), deploy (systemd / cron), status."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.commands import cliutil
from catalog.durations import duration_arg, format_age, format_duration
from catalog.errors import EXIT_FAILED, EXIT_OK, UsageError
from catalog.events import counts_sentence

if TYPE_CHECKING:
    from catalog.commands.deploy import Job

log = logging.getLogger("catalog")

HOURLY = timedelta(hours=1)
UNIT_NAME = re.compile(r"[A-Za-z0-9:_.@-]+")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_schedule(sub)
    register_deploy(sub)
    register_status(sub)


def seconds_arg(text: str) -> float:
    """Zero or more seconds (jitter: 0 means none)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more seconds")
    return value


# --------------------------------------------------------------------------- schedule


def register_schedule(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schedule", help="run sync on a schedule in the foreground (a daemon)")
    cliutil.add_common(p)
    cliutil.add_source(p)
    cliutil.add_render(p)
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--every", type=duration_arg, metavar="DURATION", help="interval between runs: 90s, 15m, 6h, 1d, 1h30m"
    )
    when.add_argument("--cron", metavar="EXPR", help='five-field crontab expression, in UTC (e.g. "17 * * * *")')
    p.add_argument(
        "--jitter", type=seconds_arg, metavar="SECONDS", help="delay each run by up to this many random seconds"
    )
    p.add_argument(
        "--no-run-now", action="store_true", help="wait for the first scheduled time instead of running at start"
    )
    p.add_argument(
        "--allow-mass-removal",
        action="store_true",
        help="accept an answer that removes more than half of the free models",
    )
    cliutil.add_lock_wait(p)
    cliutil.add_measurement(p)
    p.set_defaults(func=cmd_schedule)


def cmd_schedule(args: argparse.Namespace) -> int:
    from catalog.commands.daemon import run_daemon

    settings = cliutil.settings_from_args(args)

    def job() -> str | None:
        from catalog.jobs.sync import run_once

        result = run_once(settings)
        if result.render_error:
            # Stored, but the generated files are stale: still one line, at a level that shows.
            log.warning(
                "%s; %s", result.summary(), result.render_error, extra={"fields": {"event": "run", "status": "ok"}}
            )
            return None
        return result.summary()

    return run_daemon(job, every=args.every, cron=args.cron, jitter=args.jitter, run_now=not args.no_run_now)


# --------------------------------------------------------------------------- deploy


def register_deploy(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deploy", help="print or install a systemd timer, or print a crontab line, that runs sync")
    targets = p.add_subparsers(dest="deploy_target", metavar="TARGET", required=True)

    s = targets.add_parser("systemd", help="a service and a timer unit (printed, or written with --write)")
    add_deploy_options(s)
    s.add_argument("--user", action="store_true", help="user units (systemctl --user) instead of system units")
    s.add_argument(
        "--write",
        nargs="?",
        const="",
        metavar="DIR",
        help="write the units (default folder: /etc/systemd/system, or ~/.config/systemd/user with --user)",
    )
    s.add_argument(
        "--run-as",
        metavar="USER",
        help="system units: the user the sync runs as (default: you; as root, a dynamic user)",
    )
    s.add_argument(
        "--jitter",
        type=seconds_arg,
        metavar="SECONDS",
        help="RandomizedDelaySec (default a tenth of the period, at most 300)",
    )
    s.set_defaults(func=cmd_deploy_systemd)

    c = targets.add_parser("cron", help="a crontab line")
    add_deploy_options(c)
    c.add_argument(
        "--log",
        type=Path,
        metavar="FILE",
        help="where the line appends its output (default NAME.log beside the registry)",
    )
    c.set_defaults(func=cmd_deploy_cron)


def add_deploy_options(parser: argparse.ArgumentParser) -> None:
    cliutil.add_common(parser)
    cliutil.add_render(parser)
    parser.add_argument("--every", type=duration_arg, default=HOURLY, metavar="DURATION", help="how often (default 1h)")
    parser.add_argument(
        "--api-url", metavar="URL", help="models endpoint to pass on (default: CATALOG_API_URL, else OpenRouter's)"
    )
    parser.add_argument("--timeout", type=cliutil.positive_float, metavar="SECONDS", help="fetch timeout to pass on")
    parser.add_argument("--name", default="catalog-sync", metavar="NAME", help="unit / job name (default catalog-sync)")


def deploy_job(args: argparse.Namespace, state: Path | None = None) -> Job:
    from catalog.commands import deploy
    from catalog.settings import DEFAULT_API_URL, env_api_url

    if not UNIT_NAME.fullmatch(args.name):
        raise UsageError(f"--name {args.name!r}: use letters, digits and : _ . @ - only")
    api_url = args.api_url or (env_api_url() if env_api_url() != DEFAULT_API_URL else None)
    return deploy.build_job(
        db=cliutil.db_of(args),
        out_dir=args.out,
        render=not args.no_render,
        lang=args.lang,
        templates_dir=args.templates,
        config_path=args.config,
        api_url=api_url,
        timeout=args.timeout,
        name=args.name,
        charts=not args.no_charts,
        feed_url=args.feed_url,
        state=state,
    )


def cmd_deploy_systemd(args: argparse.Namespace) -> int:
    from catalog.commands import deploy
    from catalog.commands.deploy_access import hidden_from_others

    folder = None if args.write is None else (Path(args.write) if args.write else deploy.unit_dir(args.user))
    run_as = args.run_as if args.run_as is not None else deploy.default_run_as()
    dynamic = not args.user and run_as is None  # deployed as root: never run as root
    job = deploy_job(args, deploy.state_dir(args.name) if dynamic else None)
    if dynamic and (hidden := hidden_from_others(job.command)) is not None:
        print(f"catalog: warning: the unit's unprivileged user cannot reach {hidden}: install catalog where "
              "every user can read it (e.g. a venv in /opt), or pass --run-as USER", file=sys.stderr)  # fmt: skip
    if args.user and args.run_as:
        raise UsageError("--run-as is for system units; user units run as you")
    if args.run_as:
        import pwd

        try:
            pwd.getpwnam(args.run_as)
        except KeyError:
            raise UsageError(f"--run-as {args.run_as}: no such user on this machine") from None
    files = deploy.render_systemd(
        job, every=args.every, user_mode=args.user, run_as=run_as, jitter=args.jitter,
        target_dir=folder.absolute() if folder else None,
    )  # fmt: skip
    if folder is None:
        print("\n".join(files.values()), end="")
        where = deploy.unit_dir(args.user)
        print(
            f"catalog: two unit files above; pass --write to install them into {where} (or --write DIR)",
            file=sys.stderr,
        )
        return EXIT_OK
    deploy.ensure_folders(job, owner=None if args.user else run_as)
    for path in deploy.write_units(files, folder.absolute()):
        print(f"wrote {path}")
    print("next:")
    commands = deploy.install_commands(
        job, user_mode=args.user, every=args.every, catalog_argv=deploy.catalog_executable(), written_to=folder
    )
    for line in commands:
        print(f"  {line}")
    return EXIT_OK


def cmd_deploy_cron(args: argparse.Namespace) -> int:
    from catalog.commands import deploy

    job = deploy_job(args)
    log_file = args.log.expanduser().absolute() if args.log else deploy.default_log_file(job)
    print(deploy.render_cron(job, every=args.every, log_file=log_file), end="")
    print(
        "catalog: install with `crontab -e`, or append it: catalog deploy cron ... | (crontab -l 2>/dev/null; cat) | crontab -",
        file=sys.stderr,
    )
    return EXIT_OK


# --------------------------------------------------------------------------- status


def register_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="last successful and failed runs, free count, age of the data")
    cliutil.add_common(p)
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.add_argument(
        "--max-age",
        type=duration_arg,
        metavar="DURATION",
        help="exit 1 when the newest data is older than this (or there is none): for monitors",
    )
    cliutil.add_table_options(p, columns=False)
    p.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from catalog.jobs.status import read_status  # SQLAlchemy: only when asked

    db = cliutil.db_of(args)
    status = read_status(db)
    now = datetime.now(UTC)
    age = now - status["last_ok"]["observed_at"] if status["last_ok"] else None
    status["data_age_seconds"] = int(age.total_seconds()) if age is not None else None
    stale = None
    if args.max_age is not None:
        stale = age is None or age > args.max_age
        status["max_age_seconds"] = int(args.max_age.total_seconds())
    status["stale"] = stale
    if args.format == "json":
        print_json(status)
    else:
        print_table(status, age, now, args.no_color)
    sys.stdout.flush()
    if stale:
        if age is None:
            print("catalog: stale: no successful sync yet", file=sys.stderr)
        else:
            print(
                f"catalog: stale: last successful sync {format_age(age)} ago (older than {format_duration(args.max_age)})",
                file=sys.stderr,
            )
        return EXIT_FAILED
    return EXIT_OK


def notification_line(counts: dict[str, Any]) -> str:
    from catalog.times import format_time

    line = f"{counts['pending']} pending, {counts['delivered']} delivered, {counts['expired']} given up"
    last = counts["last_error"]
    if counts["failing"] and last:
        line += f"; failing: {last['target']}: {last['error']} (at {format_time(last['at'])})"
    return line


def account_lines(account: dict[str, Any] | None, now: datetime) -> list[tuple[str, str]]:
    """The account's own view (read with the key): requests left today, models it may not use."""
    from catalog.times import format_time

    if account is None:  # no sync had the key: nothing was asked
        return []
    lines = []
    left, read_at = account["free_requests_left"], account["read_at"]
    if left is not None:
        of = f" of {account['free_requests_limit']}" if account["free_requests_limit"] is not None else ""
        # OpenRouter's counter resets at 00:00 UTC: a reading from an earlier day is not today's.
        day = "today" if read_at.date() == now.date() else f"on {read_at.date().isoformat()} (reset since)"
        lines.append(("free requests", f"{left}{of} left {day} (read {format_time(read_at)})"))
    if account["blocked"] is not None:
        lines.append(("blocked", f"{account['blocked']} free models for this account (privacy settings)"))
    return lines


def print_json(status: dict[str, Any]) -> None:
    from catalog.display.formats import json_value

    print(json.dumps(json_value(status), indent=2, ensure_ascii=False))


def print_table(status: dict[str, Any], age: timedelta | None, now: datetime, no_color: bool = False) -> None:
    from catalog.display import term
    from catalog.display.cells import truncate
    from catalog.display.visible import visible
    from catalog.times import format_time

    def when(run: dict[str, Any]) -> str:
        moment = run["finished_at"] or run["started_at"]
        return f"#{run['id']} at {format_time(moment)} ({format_age(now - moment)} ago)"

    ok, failed = status["last_ok"], status["last_failed"]
    lines = [("registry", status["registry"])]
    if ok:
        counts = f"{ok['catalog_size']} models, {ok['free_count']} free: {counts_sentence(ok)}"
        took = f", took {ok['duration_ms'] / 1000:.1f} s" if ok["duration_ms"] is not None else ""
        lines += [("last ok run", f"{when(ok)}{took}"), ("  result", counts), ("  source", ok["source"])]
    else:
        lines.append(("last ok run", "none yet"))
    if failed:
        lines += [("last failed run", when(failed)), ("  error", failed["error"] or "")]
    else:
        lines.append(("last failed run", "none"))
    failures = status["failures_since_ok"]
    if failures:
        plural = "s" if failures != 1 else ""
        lines.append(
            (
                "failing",
                f"{failures} failed run{plural} since the last ok one" if ok else f"all {failures} run{plural} failed",
            )
        )
    if status["clock_skew_seconds"]:
        lines.append(
            (
                "clock skew",
                (
                    f"the syncing host's clock was {format_age(timedelta(seconds=status['clock_skew_seconds']))} "
                    f"behind the registry (clock read {format_time(ok['clock_at'])}); check its time sync"
                ),
            )
        )
    lines.append(("free models", "unknown" if ok is None else str(ok["free_count"])))
    health = status["health"]
    lines.append(("health", ", ".join(f"{n} {state}" for state, n in health.items())))
    lines.append(("probes today", str(status["probes_today"])))
    lines += account_lines(status["account"], now)
    lines.append(("notifications", notification_line(status["notifications"])))
    if ok is not None and age is not None:  # age is None only without an ok run
        lines.append(("data age", f"{format_age(age)} (observed {format_time(ok['observed_at'])})"))
    if status.get("max_age_seconds") is not None:
        verdict = "STALE" if status["stale"] else "fresh"
        lines.append(("max age", f"{format_duration(timedelta(seconds=status['max_age_seconds']))}: {verdict}"))
    width = max(len(key) for key, _ in lines)
    # At a terminal a line never wraps, and the verdicts that call for action stand out.
    room = term.width(sys.stdout) - width - 2 if term.is_terminal(sys.stdout) else None
    colors = (
        {
            "failing": "red",
            "notifications": "red" if status["notifications"]["failing"] else None,
            "max age": "red" if status["stale"] else "green",
        }
        if term.color_wanted(sys.stdout, no_color)
        else {}
    )
    for key, value in lines:
        value = visible(value)  # a failed run's error may quote a server
        value = truncate(value, max(room, 1)) if room is not None else value
        print(f"{key:<{width}}  {term.paint(value, colors.get(key))}")
