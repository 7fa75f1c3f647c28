"""Previous free set + a new catalog -> change events. Pure: the rules live here and only here.

- added:    free now, never free before;
- returned: free now, free at some earlier time, not at the previous sync (plus one `changed` per
            field that differs from its state when it was last free);
- removed:  free at the previous sync, not now; reason `delisted` (gone from the catalog) or
            `now_paid` (listed, not free). An entry that was present but malformed is *held*: it
            keeps its state and is never counted as a removal;
- changed:  free at both syncs, one event per tracked field that differs (dotted API path).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from catalog.ingest.normalize import Catalog, ModelRecord

KIND_ORDER = {"added": 0, "returned": 1, "changed": 2, "removed": 3}


class Change(NamedTuple):
    # A named tuple, not a frozen dataclass: a first sync of 50,000 models makes 50,000, and a
    # frozen dataclass sets each field through object.__setattr__ (36 ms -> 9 ms).
    model_id: str
    kind: str
    reason: str | None = None
    field: str | None = None
    old: Any = None
    new: Any = None


@dataclass(slots=True)
class Diff:
    changes: list[Change] = field(default_factory=list)
    added: list[ModelRecord] = field(default_factory=list)
    returned: list[ModelRecord] = field(default_factory=list)
    # Free at both syncs with at least one field changed: their stored version is replaced.
    updated: list[ModelRecord] = field(default_factory=list)
    removed: dict[str, str] = field(default_factory=dict)  # id -> reason
    free_count: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in KIND_ORDER}


def field_changes(model_id: str, old: ModelRecord, new: ModelRecord) -> list[Change]:
    before, after = old.tracked(), new.tracked()
    return [
        Change(model_id, "changed", field=name, old=before.get(name), new=after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]


def compute(
    previous_free: Iterable[str],
    last_known: Mapping[str, ModelRecord],
    catalog: Catalog,
) -> Diff:
    """`previous_free`: ids free at the previous successful sync. `last_known`: for every model
    ever free, its values when last seen free."""
    previous = set(previous_free)
    now_free = catalog.free
    held = catalog.held_ids & previous
    diff = Diff(free_count=len(now_free) + len(held))

    for model_id in sorted(now_free):
        record = now_free[model_id]
        known = last_known.get(model_id)
        if known is None:
            diff.added.append(record)
            diff.changes.append(Change(model_id, "added"))
        elif model_id in previous:
            changes = field_changes(model_id, known, record)
            if changes:
                diff.updated.append(record)
                diff.changes.extend(changes)
        else:
            diff.returned.append(record)
            diff.changes.append(Change(model_id, "returned"))
            diff.changes.extend(field_changes(model_id, known, record))

    removals = []
    for model_id in sorted(previous - now_free.keys() - held):
        reason = "now_paid" if catalog.lists(model_id) else "delisted"
        diff.removed[model_id] = reason
        removals.append(Change(model_id, "removed", reason=reason))
    # Both lists are in (model id, kind, field) order already and share no model: merge them.
    if removals:
        diff.changes = list(heapq.merge(diff.changes, removals, key=attrgetter("model_id")))
    return diff


def is_mass_removal(previous_free_count: int, removed_count: int) -> bool:
    """More than half of the free models, or all of them, gone at once: likely a bad answer."""
    if previous_free_count == 0 or removed_count == 0:
        return False
    return removed_count * 2 > previous_free_count or removed_count == previous_free_count
