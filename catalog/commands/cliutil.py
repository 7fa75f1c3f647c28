"""Shared pieces of the command line: option groups, Settings from arguments, error mapping.

Kept free of heavy imports so that `catalog --help` starts fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog import errors
from catalog import settings as defaults
from catalog.ingest.secrets import LogScrubber

log = logging.getLogger("catalog")


def parse_time_arg(text: str) -> datetime:
    """ISO 8601 (`2026-01-24`, `2026-01-24T08:00`, `...Z`, `...+08:00`); naive means UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2026-01-24T08:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


MAX_SECONDS = 86400.0  # a day: the longest timeout or wait an option takes
MAX_WHOLE = 1_000_000_000  # the largest count an option takes


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= MAX_SECONDS:  # also refuses inf and nan
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0 and at most {MAX_SECONDS:g}")
    return value


def add_common(parser: argparse.ArgumentParser) -> None:
    """--db, -v and --log-format: every command has them."""
    parser.add_argument(
        "--db",
        default=None,
        metavar="DB",
        help="registry: a path or SQLAlchemy URL (env CATALOG_DB; default catalog.db)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="detail, and tracebacks on errors")
    parser.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="log lines on stderr (default text)"
    )


def add_source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--api-url", metavar="URL", help="models endpoint (env CATALOG_API_URL; default OpenRouter's, all modalities)"
    )
    group.add_argument("--from-file", metavar="PATH", type=Path, help="read a saved API answer instead of the network")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=defaults.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="bound on the whole fetch, retries included (default 30)",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=defaults.DEFAULT_MAX_BYTES,
        metavar="N",
        help="refuse an answer larger than this (default 64 MiB)",
    )


def add_render(parser: argparse.ArgumentParser, *, with_no_render: bool = True) -> None:
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path(defaults.DEFAULT_OUT),
        help="where generated files go (default generated/)",
    )
    if with_no_render:
        parser.add_argument("--no-render", action="store_true", help="store only; do not rewrite the generated files")
    parser.add_argument("--lang", choices=["en", "zh"], default="en", help="language of free-models.md (default en)")
    parser.add_argument("--templates", metavar="DIR", type=Path, help="templates that override the built-in ones")
    parser.add_argument("--config", metavar="PATH", type=Path, help="pool rules (default ./catalog.toml if present)")
    parser.add_argument("--no-charts", action="store_true", help="leave the SVG charts out of the generated files")
    parser.add_argument(
        "--feed-url",
        metavar="URL",
        type=http_url,
        help='public address of free-models.atom, for its rel="self" link (default: [feed] url)',
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    from catalog.display.formats import FORMATS

    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="output format (default: table on a terminal, json otherwise)"
    )


def http_url(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError("must be an http:// or https:// URL")
    return text.strip()


def whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_WHOLE:
        raise argparse.ArgumentTypeError(f"{text!r} must be from 0 to {MAX_WHOLE:,}")
    return value


def at_least_one(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def add_health(parser: argparse.ArgumentParser, *, after_sync: bool = True) -> None:
    """Options of the health sample: after each HTTP sync, or alone (`health --refresh`, whose
    deadline is its own --timeout)."""
    from catalog.durations import duration_arg

    if after_sync:
        parser.add_argument("--no-health", action="store_true", help="skip the health sample after the sync")
        parser.add_argument(
            "--health-timeout",
            type=positive_float,
            default=defaults.DEFAULT_HEALTH_TIMEOUT,
            metavar="SECONDS",
            help="one deadline over all health calls (default 30)",
        )
    parser.add_argument(
        "--health-concurrency",
        type=at_least_one,
        default=defaults.DEFAULT_HEALTH_CONCURRENCY,
        metavar="N",
        help="health calls at once (default 8)",
    )
    parser.add_argument(
        "--health-keep",
        type=duration_arg,
        default=defaults.DEFAULT_HEALTH_KEEP,
        metavar="DURATION",
        help="prune health samples older than this (default 90d)",
    )


def add_measurement(parser: argparse.ArgumentParser) -> None:
    """What sync and schedule measure after each sync: the health sample, and probes when asked."""
    add_health(parser)
    parser.add_argument(
        "--probe", action="store_true", help="probe the pools' fallbacks after each sync (needs OPENROUTER_API_KEY)"
    )
    add_probe_budget(parser)


def add_probe_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget",
        type=whole_number,
        default=defaults.DEFAULT_PROBE_BUDGET,
        metavar="N",
        help="at most N probes per UTC day, all processes together (default 10)",
    )
    parser.add_argument(
        "--reserve",
        type=whole_number,
        default=defaults.DEFAULT_PROBE_RESERVE,
        metavar="N",
        help="never leave fewer free-model requests than this for the app (default 20)",
    )


def add_table_options(parser: argparse.ArgumentParser, *, columns: bool = True) -> None:
    """--wide / --columns (which columns a table shows) and --no-color."""
    if columns:
        pick = parser.add_mutually_exclusive_group()
        pick.add_argument(
            "--wide", action="store_true", help="a table with every column (default at a terminal: the main ones)"
        )
        pick.add_argument(
            "--columns", type=column_list, metavar="A,B,C", help="a table with these columns, in this order"
        )
    parser.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR set, or not a terminal)")


def emit(rows: list[dict[str, Any]], columns: Sequence[str], args: argparse.Namespace, view: str) -> int:
    """A reading command's rows, in its --format, shaped at a terminal by its view."""
    from catalog.display.formats import print_rows
    from catalog.display.views import options_from_args

    print_rows(rows, columns, args.format, options_from_args(args, view))
    return errors.EXIT_OK


def column_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give column names separated by commas, e.g. id,context")
    return names


def add_lock_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=positive_float,
        metavar="SECONDS",
        help="wait this long for another sync to finish instead of exiting with status 75",
    )


def db_of(args: argparse.Namespace) -> str:
    return args.db or defaults.env_db()


def settings_from_args(args: argparse.Namespace) -> defaults.Settings:
    """Settings for a sync-like command; attributes a command lacks keep their defaults."""
    from catalog.ingest.urls import models_url

    def get(name: str, default: Any = None) -> Any:  # an option's parsed value, of the option's type
        return getattr(args, name, default)

    return defaults.Settings(
        db=db_of(args),
        api_url=models_url(get("api_url") or defaults.env_api_url()),  # the API's base means its /models
        from_file=get("from_file"),
        api_key=defaults.env_api_key(),
        timeout=get("timeout", defaults.DEFAULT_TIMEOUT),
        max_bytes=get("max_bytes", defaults.DEFAULT_MAX_BYTES),
        observed_at=get("observed_at"),
        out_dir=get("out", Path(defaults.DEFAULT_OUT)),
        render=not get("no_render", False),
        lang=get("lang", "en"),
        templates_dir=get("templates"),
        feed_url=get("feed_url"),
        charts=not get("no_charts", False),
        config_path=get("config"),
        dry_run=get("dry_run", False),
        allow_mass_removal=get("allow_mass_removal", False),
        lock_wait=get("wait"),
        health=not get("no_health", False),
        health_timeout=get("health_timeout", defaults.DEFAULT_HEALTH_TIMEOUT),
        health_concurrency=get("health_concurrency", defaults.DEFAULT_HEALTH_CONCURRENCY),
        health_keep=get("health_keep", defaults.DEFAULT_HEALTH_KEEP),
        probe=get("probe", False),
        probe_budget=get("budget", defaults.DEFAULT_PROBE_BUDGET),
        probe_reserve=get("reserve", defaults.DEFAULT_PROBE_RESERVE),
        probe_timeout=get("probe_timeout", defaults.DEFAULT_PROBE_TIMEOUT),
        probe_models=tuple(get("model") or ()),
        probe_pools=tuple(get("pool") or ()),
    )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from catalog.display.visible import json_escaped

        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        return json_escaped(json.dumps(doc, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """Log lines for people: a message quoting a server (a malformed id, an error body) shows its
    control and bidi characters as escapes, and stays on its one line."""

    def format(self, record: logging.LogRecord) -> str:
        from catalog.display.visible import visible

        if record.exc_text:  # filled before us (the secret scrubber formats tracebacks to scrub them)
            record.exc_text = visible(record.exc_text, keep="\n")
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        from catalog.display.visible import visible

        return visible(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        from catalog.display.visible import visible

        return visible(super().formatException(ei), keep="\n")

    def formatStack(self, stack_info: str) -> str:
        from catalog.display.visible import visible

        return visible(super().formatStack(stack_info), keep="\n")


def setup_logging(verbose: bool, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogScrubber())  # no log line shows a key, whoever wrote it
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("catalog: %(levelname)s: %(message)s" if verbose else "catalog: %(message)s")
        )
    root = logging.getLogger("catalog")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def run_handler(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Call a command; map errors to one line on stderr and an exit status."""
    verbose = getattr(args, "verbose", False)
    try:
        return handler(args)
    except errors.CatalogError as exc:
        if verbose:
            log.exception("traceback")
        print(f"catalog: error: {_visible(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("catalog: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        silence_stdout()
        return errors.EXIT_OK
    except Exception as exc:  # a bug: still one line unless -v
        if verbose:
            log.exception("traceback")
        print(
            f"catalog: error: unexpected {type(exc).__name__}: {_visible(str(exc))} (run again with -v for the traceback)",
            file=sys.stderr,
        )
        return errors.EXIT_FAILED


def _visible(text: str) -> str:
    """An error may quote a server (a body, a model id): no control codes reach the terminal."""
    from catalog.display.visible import visible

    return visible(text)


def silence_stdout() -> None:
    """After a closed pipe, point stdout at devnull so the interpreter's final flush stays quiet."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
