"""The records pool building passes around: a model's profile, a pool's candidates and entries,
the score's signals and the decisions `catalog pools --explain` shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from catalog.ingest.normalize import ModelRecord
from catalog.output.modelfacts import Size
from catalog.state import FreeModel, ModelHealth


@dataclass(frozen=True)
class Signal:
    name: str  # one of SIGNALS
    points: float
    detail: str


class Profile(NamedTuple):
    """What the rules read about one free model. (A named tuple: as immutable as a frozen
    dataclass, and made in two thirds of the time, 50,000 times a render.)"""

    id: str
    model: FreeModel
    size: Size
    reasoning: bool
    tools: bool
    reads_text: bool
    reads_images: bool
    writes_text_only: bool
    coding: str | None  # the code pattern that matched
    router: str | None  # the router glob that matched
    skip: str | None  # the skip word that matched
    small: tuple[bool, str]  # fits SMALL by size, and why
    large: tuple[bool, str]  # fits LARGE by size, and why
    assumed_b: float  # size used for scoring (the class limit when the size is unknown)
    streak_days: float
    times_removed: int
    expires: date | None
    health: ModelHealth  # state `unknown` and nothing measured when never sampled
    unusable: str | None  # measured as unusable (down, or a recent probe that cannot succeed), and why
    kept_out: str | None  # why no pool takes it, whatever the config's globs: unusable, router, not chat
    shared_points: tuple[float, ...]  # the score's signals that every pool counts alike (scoring.py)

    @property
    def record(self) -> ModelRecord:
        return self.model.record


@dataclass(frozen=True)
class PoolEntry:
    profile: Profile
    score: float
    signals: tuple[Signal, ...]
    why: str  # the rule, pin or fill that put it in the pool
    pinned: bool = False
    filler: bool = False

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def model(self) -> FreeModel:
        return self.profile.model


@dataclass(frozen=True)
class Decision:
    model_id: str
    status: str  # chosen / cut (below the cap) / left out / missing (pinned, not free)
    reason: str
    rank: int | None = None
    score: float | None = None
    failed: tuple[str, ...] = ()  # left out: the rules or selectors it failed (selectors.LEFT_OUT...)


class Candidate(NamedTuple):
    """A model a pool takes, ranked by its score before any word explains it."""

    profile: Profile
    score: float
    why: str | None = None  # None: what the pool's rule and selectors say (judge)
    pinned: bool = False
    filler: bool = False
