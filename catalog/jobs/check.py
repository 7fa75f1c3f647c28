"""`catalog check`: which model ids a project names are gone, no longer free, expiring, down or
unknown, and the replacement for each, from what the registry knows. Reads files, never the network.

The registry's facts are where each model stands (registry/standing.py) and the replacement rule
(output/replacement.py), the one the availability feed's `gone` list follows too.
Fixing rewrites only ids whose verdict is in the set asked for and which have a replacement, in
files the scan read (so never a git-ignored file), each file written whole or not at all.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.config.pools import PoolConfig
from catalog.jobs.id_finder import IdFinder
from catalog.jobs.id_scan import scan
from catalog.jobs.project_files import list_project_files, read_text
from catalog.output.lastpools import PastPools
from catalog.output.pools import build_pools
from catalog.output.replacement import Replacements, build_replacements, size_b_of
from catalog.registry.reads import load_snapshot
from catalog.registry.standing import Standing, standings
from catalog.times import parse_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection

VERDICTS = ("ok", "down", "expiring", "gone", "not_free", "unknown")
FIXABLE = ("gone", "not_free")
DEFAULT_EXPIRING_DAYS = 14
WITH_REPLACEMENT = frozenset({"gone", "not_free", "down", "expiring"})


class RegistryView:
    """What the registry knows, as `check` asks it: where each model ever free stands now, and
    the replacement of one (worked out when first asked, as the pools it was last in may have to
    be rebuilt from the history)."""

    def __init__(self, conn: AnyConnection, config: PoolConfig) -> None:
        self.standings = standings(conn)
        self._conn, self._config = conn, config
        self._found: dict[str, str | None] = {}

    @cached_property
    def _replacements(self) -> Replacements:  # built when first needed: most checks find only ok ids
        return build_replacements(build_pools(load_snapshot(self._conn), self._config))

    @cached_property
    def _past(self) -> PastPools:
        return PastPools(self._conn, self._config)

    def replacement(self, model_id: str) -> str | None:
        if model_id not in self._found:
            self._found[model_id] = self._replacement_of(model_id)
        return self._found[model_id]

    def _replacement_of(self, model_id: str) -> str | None:
        standing = self.standings.get(model_id)
        if standing is None:
            return None
        record, pools = standing.record, self._replacements.current_pools(model_id)
        if not standing.free:
            last = self._past.last_seen(model_id)
            record, pools = (last.record, last.pools) if last else (record, ())
        return self._replacements.for_model(model_id, record.vendor, size_b_of(record), pools)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    model_id: str
    verdict: str
    since: str | None = None  # gone / not_free: when it left
    expires_at: str | None = None
    replacement: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "model_id": self.model_id,
            "verdict": self.verdict,
            "since": self.since,
            "expires_at": self.expires_at,
            "replacement": self.replacement,
        }


@dataclass(frozen=True)
class FileFix:
    path: Path
    before: str
    after: str
    fixed: tuple[Finding, ...]  # the findings rewritten

    def diff(self) -> str:
        name = str(self.path)
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass
class CheckResult:
    findings: list[Finding]
    files: int  # files read
    fixes: list[FileFix]


def verdict_of(standing: Standing | None, now: datetime, expiring_days: int) -> str:
    if standing is None:
        return "unknown"
    if not standing.free:
        return "gone" if standing.reason == "delisted" else "not_free"
    if standing.health_state == "down":
        return "down"
    expires = _expiry(standing.expiration_date)
    if expires is not None and expires <= now + timedelta(days=expiring_days):
        return "expiring"
    return "ok"


def check(
    paths: Iterable[Path],
    view: RegistryView,
    *,
    now: datetime,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
    fix: Iterable[str] = (),
) -> CheckResult:
    """Every occurrence of a model id under `paths`, judged; with `fix`, the rewrites those verdicts
    call for (computed, not written: `write_fixes` writes them)."""
    finder = IdFinder(view.standings)
    to_fix = frozenset(fix)
    scanned = scan(list_project_files(str(path) for path in paths), finder)
    findings: list[Finding] = []
    fixes: list[FileFix] = []
    for hits in scanned.hits:
        in_file = [
            _finding(hits.path, o.line, o.column, o.model_id, view, now, expiring_days) for o in hits.occurrences
        ]
        findings.extend(in_file)
        planned = _fix_of(hits.path, [f for f in in_file if f.verdict in to_fix and f.replacement])
        if planned is not None:
            fixes.append(planned)
    return CheckResult(findings, scanned.files, fixes)


def unfixed(result: CheckResult) -> list[Finding]:
    """The findings that rewriting `result.fixes` leaves in place."""
    fixed = {f for fix in result.fixes for f in fix.fixed}
    return [f for f in result.findings if f not in fixed]


def write_fixes(fixes: Iterable[FileFix]) -> None:
    """Each fixed file replaced whole (temporary file beside it, then rename), keeping its mode."""
    for fix in fixes:
        mode = fix.path.stat().st_mode
        handle, temporary = tempfile.mkstemp(dir=fix.path.parent, prefix=f".{fix.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(fix.after.encode("utf-8", "surrogateescape"))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, mode & 0o7777)
            os.replace(temporary, fix.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _finding(
    path: str,
    line: int,
    column: int,
    model_id: str,
    view: RegistryView,
    now: datetime,
    expiring_days: int,
) -> Finding:
    standing = view.standings.get(model_id)
    verdict = verdict_of(standing, now, expiring_days)
    since = standing.since.date().isoformat() if standing and standing.since else None
    expires = standing.expiration_date if standing and verdict == "expiring" else None
    replacement = view.replacement(model_id) if verdict in WITH_REPLACEMENT else None
    return Finding(path, line, column, model_id, verdict, since, expires, replacement)


def _fix_of(path: str, findings: list[Finding]) -> FileFix | None:
    data = read_text(path) if findings else None
    if data is None:
        return None
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")  # as the finder counts lines: only a newline ends one
    fixed = []
    # Right to left within a line, so earlier columns stay where they were found.
    for finding in sorted(findings, key=lambda f: (f.line, -f.column)):
        index, start, end = finding.line - 1, finding.column - 1, finding.column - 1 + len(finding.model_id)
        current = lines[index]
        if current[start:end] == finding.model_id:  # else not where it was found: leave it alone
            lines[index] = current[:start] + (finding.replacement or finding.model_id) + current[end:]
            fixed.append(finding)
    after = "\n".join(lines)
    return FileFix(Path(path), text, after, tuple(fixed)) if fixed else None


def _expiry(value: str | None) -> datetime | None:
    """The end of an `expiration_date` (a day, or a time), as an aware UTC time; None if unreadable."""
    if not value:
        return None
    try:
        moment = parse_time(value)
    except (TypeError, ValueError):
        return None
    return moment if len(value) > 10 else moment + timedelta(days=1)
