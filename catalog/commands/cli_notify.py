"""`catalog notify`: send a test message to every target (--test) or list the outbox (--pending).
Target URLs are shown redacted (scheme and host), as they may hold secrets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.commands import cliutil
from catalog.errors import EXIT_FAILED, EXIT_OK, CatalogError

if TYPE_CHECKING:
    from catalog.config.watch import NotifyConfig

PENDING_COLUMNS = ("id", "target", "kind", "run_id", "observed_at", "created_at", "attempts", "last_error")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "notify",
        help="test the notification targets, or list the notifications waiting to be delivered",
        description="Webhook and Apprise targets come from [[notify.webhook]] and [[notify.apprise]] in "
        "catalog.toml; each sync with matching changes queues a digest for each, delivered after the sync.",
    )
    cliutil.add_common(p)
    p.add_argument(
        "--config", metavar="PATH", type=Path, help="catalog.toml with the targets (default ./catalog.toml if present)"
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--test", action="store_true", help="send a test message to every target and report each result")
    what.add_argument("--pending", action="store_true", help="list the digests and alerts waiting for delivery")
    cliutil.add_format(p)
    cliutil.add_table_options(p)
    p.set_defaults(func=cmd_notify)


def notify_config(args: argparse.Namespace) -> NotifyConfig:
    from catalog.config.loader import load_config

    return load_config(args.config).watch.notify


def targets_of(args: argparse.Namespace) -> NotifyConfig:
    notify = notify_config(args)
    if not notify.targets:
        raise CatalogError("no notification targets: add [[notify.webhook]] or [[notify.apprise]] to catalog.toml")
    return notify


def cmd_notify(args: argparse.Namespace) -> int:
    return cmd_test(args) if args.test else cmd_pending(args)


def cmd_test(args: argparse.Namespace) -> int:
    from catalog.times import now_utc
    from catalog.watch.notify_send import delivery_id, send, test_message

    failed = 0
    for target in targets_of(args).targets:
        message = test_message(target, now_utc())
        error = send(target, message, delivery=delivery_id(message.body, "test"))
        failed += error is not None
        print(f"{target.label}: {'ok' if error is None else 'FAILED: ' + error}")
    sys.stdout.flush()
    return EXIT_FAILED if failed else EXIT_OK


def cmd_pending(args: argparse.Namespace) -> int:
    from catalog.registry.db import read_connection
    from catalog.watch.notify import pending_rows

    notify = notify_config(args)  # no target configured: the outbox may still hold rows for old ones
    with read_connection(cliutil.db_of(args)) as conn:
        rows = pending_rows(conn, notify)
    return cliutil.emit(rows, PENDING_COLUMNS, args, "notify")
