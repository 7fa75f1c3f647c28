"""What a model's record says about it before any pool looks at it: its size, the words of its id
and name, its expiry, and which id globs match it. Pure.

The manual's pools page describes these rules for users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fnmatch import fnmatchcase, translate
from functools import lru_cache

from catalog.config.pools import Rules
from catalog.ingest.normalize import ModelRecord

EXPIRY_WINDOW_DAYS = 30  # "expires soon": an expiration_date at most this many days after the sync

_SIZE_MOE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b[-_ ]?a(\d+(?:\.\d+)?)b(?![a-z0-9])")
_SIZE_MIX = re.compile(r"(?<![a-z0-9.])(\d+)x(\d+(?:\.\d+)?)b(?![a-z0-9])")
_SIZE_PLAIN = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_WORD_BREAK = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Size:
    total_b: float | None = None
    active_b: float | None = None  # mixture-of-experts: parameters used per token
    source: str | None = None  # where it was read: "id", "name" or "hugging_face_id"

    @property
    def known(self) -> bool:
        return self.total_b is not None

    @property
    def speed_b(self) -> float | None:
        """The parameters that set answer speed: the active ones for a mixture of experts."""
        return self.active_b if self.active_b is not None else self.total_b

    @property
    def label(self) -> str | None:
        if self.total_b is None:
            return None
        if self.active_b is None:
            return f"{self.total_b:g}B"
        return f"{self.total_b:g}B ({self.active_b:g}B active)"


UNKNOWN_SIZE = Size()


def parse_size(text: str, source: str | None = None) -> Size:
    """`405b` -> 405B; `80b-a3b` -> 80B total, 3B active; `8x7b` -> 56B; nothing found -> unknown."""
    low = text.lower()
    # Each pattern's search only where it can match (a MoE size has two b's, a mix an x): two
    # thirds of 150,000 searches a 50,000-model render failed.
    if low.count("b") > 1 and (m := _SIZE_MOE.search(low)):
        return Size(float(m.group(1)), float(m.group(2)), source)
    if "x" in low and (m := _SIZE_MIX.search(low)):
        return Size(float(m.group(1)) * float(m.group(2)), None, source)
    if m := _SIZE_PLAIN.search(low):
        return Size(float(m.group(1)), None, source)
    return UNKNOWN_SIZE


def size_of(record: ModelRecord) -> Size:
    """The first size readable from the id (without vendor and `:free`), the name, the HF id."""
    slug = record.id.split("/", 1)[-1].removesuffix(":free")
    for source, text in (("id", slug), ("name", record.name), ("hugging_face_id", record.hugging_face_id)):
        if text:
            size = parse_size(text, source)
            if size.known:
                return size
    return UNKNOWN_SIZE


def words_text(record: ModelRecord) -> str:
    """The id (without vendor) and name, lowered: its words are its runs of a-z and 0-9."""
    return f"{record.id.split('/', 1)[-1]} {record.name or ''}".lower()


def first_word(wanted: tuple[str, ...], text: str) -> str | None:
    """The first of `wanted` that is one of the words of `text`."""
    if not any_word(wanted).search(text):  # one regex for all: most texts hold none
        return None
    words = set(_WORD_BREAK.split(text))
    words.discard("")
    return next((w for w in wanted if w in words), None)


@lru_cache(maxsize=64)
def any_word(wanted: tuple[str, ...]) -> re.Pattern[str]:
    """Finds any of `wanted` standing as a whole word; one that is not all a-z and 0-9 never can."""
    words = [re.escape(w) for w in wanted if _WORD.fullmatch(w)]
    return re.compile(f"(?<![a-z0-9])(?:{'|'.join(words)})(?![a-z0-9])" if words else "(?!)")


def expiry_date(record: ModelRecord) -> date | None:
    """`expiration_date` as a date; None when absent or unparsable."""
    m = _DATE.match(record.expiration_date or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def expires_soon(record: ModelRecord, observed_at: datetime | None, days: int = EXPIRY_WINDOW_DAYS) -> date | None:
    """The expiration date when it falls at most `days` after the observed time (or before it)."""
    when = expiry_date(record)
    if when is None or observed_at is None:
        return None
    return when if when <= observed_at.date() + timedelta(days=days) else None


def matching_glob(model_id: str, globs: tuple[str, ...]) -> str | None:
    """The first glob the id matches, ignoring case; None when none does."""
    if not globs:  # the usual exclude lists
        return None
    low = model_id.lower()
    if not any_glob(globs).match(low):  # one regex for all: most ids match none
        return None
    return next(g for g in globs if fnmatchcase(low, g.lower()))


@lru_cache(maxsize=64)
def any_glob(globs: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(translate(g.lower()) for g in globs))


# (fits SMALL, why), (fits LARGE, why), the size in billions to score with
SizeFit = tuple[tuple[bool, str], tuple[bool, str], float]


def size_fit(size: Size, text: str, reasoning: bool, context: int | None, rules: Rules) -> SizeFit:
    """(fits SMALL, why), (fits LARGE, why), and the size to score with; `text` is words_text()."""
    if size.known:
        return known_fit(size.speed_b, size.total_b, size.active_b is not None, rules.small_max_b, rules.large_min_b)
    cls, why = fallback_class(text, reasoning, context, rules)
    assumed = rules.small_max_b if cls == "SMALL" else rules.large_min_b
    return (cls == "SMALL", why), (cls == "LARGE", why), assumed


@lru_cache(maxsize=1024)  # 50,000 models come in a few dozen sizes
def known_fit(speed: float, total: float, moe: bool, small_max_b: float, large_min_b: float) -> SizeFit:
    small, large = speed <= small_max_b, total >= large_min_b
    what = "active" if moe else "total"
    small_why = f"{speed:g}B {what} {'≤' if small else '>'} {small_max_b:g}B (rules.small_max_b)"
    large_why = f"{total:g}B total {'≥' if large else '<'} {large_min_b:g}B (rules.large_min_b)"
    return (small, small_why), (large, large_why), total


def fallback_class(text: str, reasoning: bool, context: int | None, rules: Rules) -> tuple[str, str]:
    """Where a model of unknown size goes: never dropped, always SMALL or LARGE, with the reason."""
    if hit := first_word(rules.small_words, text):
        return "SMALL", f"size unknown; the word '{hit}' means SMALL (rules.small_words)"
    if hit := first_word(rules.large_words, text):
        return "LARGE", f"size unknown; the word '{hit}' means LARGE (rules.large_words)"
    if reasoning and (context or 0) >= rules.large_min_context:
        return (
            "LARGE",
            f"size unknown; reasoning and context ≥ {rules.large_min_context} (rules.large_min_context) mean LARGE",
        )
    return "SMALL", "size unknown; without reasoning and a long context it counts as SMALL"
