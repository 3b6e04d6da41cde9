"""`paused_gc`: no cyclic garbage collection while a sandbox builds or serializes a large account."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block (millions of short-lived objects, none of them cyclic).

    It is switched back on afterwards only if it was on before, so nested pauses are harmless.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
