"""The cyclic garbage collector while a stream run allocates pages of decoded records.

A first load allocates millions of short-lived containers (decoded JSON, canonical records, rows). With
CPython's defaults every full collection then walks the whole heap again, most of it modules, metadata
and caches that existed before the run: about a sixth of a 20k-invoice first load's CPU. `quiet_gc`
freezes the objects that exist when a run starts (`gc.freeze`), so collections skip them, and unfreezes
them when the run ends (`gc.unfreeze`), so nothing is kept from collection for longer than one run.
Collection thresholds stay as they are: fewer young collections save little and let the garbage cycles
a page leaves (SQLAlchemy, httpx) pile up, so memory would grow with the size of the run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["quiet_gc"]


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Leave what exists now out of garbage collection until the block ends (see the module docstring).

    Overlapping runs (threads of a daemon) are safe: the first to end unfreezes everything, which only
    costs the other runs some speed.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
