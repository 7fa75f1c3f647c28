"""`catalog check`'s findings as a person reads them, as JSON, or as GitHub Actions annotations."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol, TextIO

from catalog.display.term import paint

COLORS = {
    "ok": "green",
    "down": "yellow",
    "expiring": "yellow",
    "gone": "red",
    "not_free": "red",
    "unknown": "red",
}
ERRORS = frozenset({"gone", "not_free", "unknown"})  # GitHub `::error`; the rest are `::warning`


class FindingLike(Protocol):
    """A finding of `catalog check` (jobs/check.py's `Finding`), as read here."""

    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def model_id(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def since(self) -> str | None: ...
    @property
    def expires_at(self) -> str | None: ...
    @property
    def replacement(self) -> str | None: ...

    def as_dict(self) -> dict[str, object]: ...


def write_findings(findings: Sequence[FindingLike], out: TextIO, fmt: str, *, color: bool = False) -> None:
    if fmt == "json":
        # One finding a line, each encoded by json's C encoder (indent= would use the Python one).
        items = ",\n".join("  " + json.dumps(f.as_dict(), ensure_ascii=False) for f in findings)
        out.write(f"[\n{items}\n]\n" if items else "[]\n")
    elif fmt == "github":
        for finding in findings:
            if finding.verdict != "ok":
                out.write(_annotation(finding) + "\n")
    else:
        for finding in findings:
            out.write(_text_line(finding, color) + "\n")


def summary(findings: Iterable[FindingLike], files: int) -> str:
    """One line: how many files were read, ids found, and how many of each verdict."""
    counts = Counter(f.verdict for f in findings)
    total = sum(counts.values())
    files_text = f"{files} file" + ("" if files == 1 else "s")
    if not total:
        return f"no OpenRouter model ids found in {files_text}"
    parts = ", ".join(f"{counts[v]} {v.replace('_', ' ')}" for v in COLORS if counts[v])
    return f"{total} model id{'' if total == 1 else 's'} in {files_text}: {parts}"


def _text_line(finding: FindingLike, color: bool) -> str:
    verdict = finding.verdict.replace("_", " ")
    where = f"{finding.path}:{finding.line}:{finding.column}:"
    line = f"{where} {paint(verdict, COLORS[finding.verdict]) if color else verdict} {finding.model_id}"
    detail = _detail(finding)
    if detail:
        line += f" ({detail})"
    if finding.replacement:
        line += f" — {finding.replacement}"
    return line


def _detail(finding: FindingLike) -> str:
    if finding.verdict == "gone":
        return f"delisted since {finding.since}" if finding.since else "delisted"
    if finding.verdict == "not_free":
        return f"paid since {finding.since}" if finding.since else "no longer free"
    if finding.verdict == "expiring":
        return f"expires {finding.expires_at}"
    if finding.verdict == "down":
        return "measured down"
    if finding.verdict == "unknown":
        return "never listed as free"
    return ""


def _annotation(finding: FindingLike) -> str:
    level = "error" if finding.verdict in ERRORS else "warning"
    properties = ",".join(
        f"{name}={_escape_property(value)}"
        for name, value in (
            ("file", finding.path),
            ("line", str(finding.line)),
            ("col", str(finding.column)),
            ("title", f"catalog check: {finding.verdict.replace('_', ' ')}"),
        )
    )
    message = f"{finding.model_id} is {finding.verdict.replace('_', ' ')}"
    detail = _detail(finding)
    if detail:
        message += f" ({detail})"
    if finding.replacement:
        message += f"; replace it with {finding.replacement}"
    return f"::{level} {properties}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    # GitHub's workflow-command encoding: % first, then the line breaks that would end the command.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
