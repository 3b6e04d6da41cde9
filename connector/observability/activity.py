"""Live activity of pulls and pushes, for progress displays: hooks the sync calls, listeners a command registers.

Like the metrics hooks, each hook is a no-op while nobody listens, never raises (a broken display must not fail
the work it shows) and imports nothing from the connector, so every layer may call it. `connector sync`,
`backfill` and `push` listen while they run (`connector.cli.progress`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from connector.observability.events import get_logger

__all__ = ["Listener", "listening", "page_committed", "push_planned", "row_pushed"]

log = get_logger("connector.observability")


class Listener(Protocol):
    """What a progress display hears."""

    def on_page(self, connection: str, stream: str, records: int) -> None:
        """A page of `records` records of `stream` was committed."""

    def on_planned(self, connection: str, rows: int) -> None:
        """A push to `connection` queued `rows` new outbox rows and is about to send what is due."""

    def on_pushed(self, connection: str, kind: str, outcome: str) -> None:
        """One outbox row was handled: done, failed, unsupported, superseded or deferred."""


_listeners: list[Listener] = []
_lock = threading.Lock()


@contextmanager
def listening(listener: Listener) -> Iterator[Listener]:
    """Hear every hook while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield listener
    finally:
        with _lock:
            _listeners.remove(listener)


def _each(method: str, *args: object) -> None:
    for listener in tuple(_listeners):
        try:
            getattr(listener, method)(*args)
        except Exception:  # a display bug must never fail the work it shows
            log.log(logging.DEBUG, "activity listener failed", exc_info=True)


def page_committed(connection: str, stream: str, records: int) -> None:
    """Hook for the stream runner: a page was committed with its checkpoint."""
    if _listeners:
        _each("on_page", connection, stream, records)


def push_planned(connection: str, rows: int) -> None:
    """Hook for a push cycle: the plan is queued, the drain starts."""
    if _listeners:
        _each("on_planned", connection, rows)


def row_pushed(connection: str, kind: str, outcome: str) -> None:
    """Hook for the push drain: one row handled."""
    if _listeners:
        _each("on_pushed", connection, kind, outcome)
