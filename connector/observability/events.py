"""Log events: an event name with typed fields, logged through a standard-library logger.

``log = get_logger("connector.sync"); log.info("stream run", connection="fs", read=12)``: the fields travel with
the record as values (an `Event` is the record's message), so nothing is formatted into text and parsed back.
`connector.observability.logging` renders them as key=value or JSON lines. This module imports nothing from the
connector, so every layer may log through it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

__all__ = ["Event", "EventLogger", "get_logger", "kv_value", "plain", "rfc3339"]

_BARE = re.compile(r"[^\s\"'=\\]+")  # a key=value value that needs no quotes


class Event:
    """A log record's message: an event name and its fields.

    ``str(event)`` is the key=value text (``stream run connection=fs read=12``), so a handler that knows
    nothing of events (pytest's caplog, a library's) still shows every field.
    """

    __slots__ = ("fields", "name")

    def __init__(self, name: str, fields: Mapping[str, Any]) -> None:
        """Args: name: what happened, a short fixed phrase. fields: its values by name."""
        self.name = name
        self.fields = dict(fields)

    def __str__(self) -> str:
        """The key=value rendering (values with spaces, quotes or ``=`` quoted)."""
        return " ".join([self.name, *(f"{key}={kv_value(value)}" for key, value in self.fields.items())]).strip()

    def __repr__(self) -> str:
        """For debugging: the class and the key=value rendering."""
        return f"Event({self})"


def plain(value: Any) -> Any:
    """A field value as JSON takes it: numbers, booleans and None as they are, times in RFC 3339, else text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):  # full precision: a field may be compared with the store's own times
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def kv_value(value: Any) -> str:
    """A field value as key=value text: bare when it can be, else a JSON string; true/false, null."""
    value = plain(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC as RFC 3339 with milliseconds and a ``Z`` (a naive time is taken as UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventLogger:
    """Logs events with fields through a standard-library logger (so levels, handlers and filters apply)."""

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger) -> None:
        """Args: logger: the standard-library logger the records go to."""
        self.logger = logger

    def log(self, level: int, event: str, /, *, exc_info: Any = None, **fields: Any) -> None:
        """Log `event` with `fields` at `level` (`exc_info` as the standard library takes it)."""
        if self.logger.isEnabledFor(level):
            self.logger.log(level, Event(event, fields), exc_info=exc_info, stacklevel=3)

    def debug(self, event: str, /, **fields: Any) -> None:
        """Log `event` at DEBUG."""
        self.log(logging.DEBUG, event, **fields)

    def info(self, event: str, /, **fields: Any) -> None:
        """Log `event` at INFO."""
        self.log(logging.INFO, event, **fields)

    def warning(self, event: str, /, *, exc_info: Any = None, **fields: Any) -> None:
        """Log `event` at WARNING (with the exception in hand when `exc_info` is true)."""
        self.log(logging.WARNING, event, exc_info=exc_info, **fields)

    def error(self, event: str, /, **fields: Any) -> None:
        """Log `event` at ERROR."""
        self.log(logging.ERROR, event, **fields)

    def exception(self, event: str, /, **fields: Any) -> None:
        """Log `event` at ERROR with the exception being handled."""
        self.log(logging.ERROR, event, exc_info=True, **fields)

    def is_enabled_for(self, level: int) -> bool:
        """Whether an event at `level` would be logged."""
        return self.logger.isEnabledFor(level)


def get_logger(name: str) -> EventLogger:
    """The event logger called `name` (the standard-library logger of that name underneath)."""
    return EventLogger(logging.getLogger(name))


