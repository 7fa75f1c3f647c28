"""Pausing CPython's cyclic garbage collector around work that allocates in bulk."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """A sync allocates hundreds of thousands of long-lived objects at once, and CPython's
    collector would rescan them again and again (a third of a 50k-model sync). It resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
