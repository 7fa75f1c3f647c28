"""The four kinds of event a sync records, and the one sentence that tells a run's counts of them."""

from __future__ import annotations

from collections.abc import Mapping

EVENT_KINDS = ("added", "removed", "returned", "changed")  # as `catalog changes --kind` lists them
COUNTED = ("added", "returned", "removed", "changed")  # the order a run's counts are told in


def no_changes() -> dict[str, int]:
    return dict.fromkeys(COUNTED, 0)


def counts_sentence(counts: Mapping[str, int]) -> str:
    """`+2 added, 0 returned, -1 removed, 3 changed`."""
    c = counts
    return f"+{c['added']} added, {c['returned']} returned, -{c['removed']} removed, {c['changed']} changed"
