"""Log lines: events (`connector.observability.events`) and plain records as logfmt-style key=value lines or JSON
lines, secrets scrubbed from every record.

A line carries:

- ``ts``: when, RFC 3339 in UTC with milliseconds (``2026-01-31T12:00:00.123Z``);
- ``level``, ``logger``, ``event`` and the event's own fields; in JSON, integers, floats and booleans are JSON
  numbers and booleans, ``None`` is ``null``, times are RFC 3339 text, anything else its text; in key=value
  lines a value with a space, a quote or an ``=`` is quoted (JSON string syntax);
- ``exc``: the traceback, when the record carries one.

Records from other libraries (httpx, alembic, apscheduler) and plain ``%``-style calls are the same shape: their
formatted message is the ``event`` and they have no fields. Every record passes `secrets` (a filter) first: the
registered secrets are scrubbed from the event, every text field and the traceback, and a field named like a
credential (``api_key``, ``token``, ``password``...) is masked whole.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from connector.http.redact import redact
from connector.observability.events import Event, EventLogger, get_logger, kv_value, plain, rfc3339

__all__ = [
    "Event",
    "EventLogger",
    "JsonFormatter",
    "KeyValueFormatter",
    "SecretRegistry",
    "configure_logging",
    "get_logger",
    "rfc3339",
    "secrets",
]

_RESERVED = frozenset({"ts", "level", "logger", "event", "exc"})
_SECRET_FIELD = re.compile(r"(?i)(password|passwd|secret|token|api[-_]?key|authorization|credentials?)$")


class SecretRegistry(logging.Filter):
    """Holds every secret the process resolved and scrubs them from each log record."""

    def __init__(self) -> None:
        """Start with no secrets."""
        super().__init__()
        self.values: set[str] = set()

    def add(self, value: str) -> None:
        """Register one more secret value (an API key as read from its reference)."""
        if value:
            self.values.add(value)

    def scrub(self, value: Any, name: str = "") -> Any:
        """A field value with every secret removed; a field named like a credential is masked whole."""
        value = plain(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if _SECRET_FIELD.search(name):
            return "***"
        return redact(value, self.values)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's event and fields (or its formatted message) and its traceback; keep it."""
        if isinstance(record.msg, Event) and not record.args:
            event = record.msg
            record.msg = Event(redact(event.name, self.values),
                               {key: self.scrub(value, key) for key, value in event.fields.items()})
        elif not isinstance(record.msg, Event) or record.args:
            record.msg = redact(record.getMessage(), self.values)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.values)
            record.exc_info = None
        return True


secrets = SecretRegistry()


def _parts(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    if isinstance(record.msg, Event):
        return record.msg.name, record.msg.fields
    return record.getMessage(), {}


def _ts(record: logging.LogRecord) -> str:
    return rfc3339(datetime.fromtimestamp(record.created, UTC))


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=info logger=connector.sync stream run connection=fs read=12``."""

    def format(self, record: logging.LogRecord) -> str:
        """One line (and the traceback after it, if any)."""
        event, fields = _parts(record)
        head = f"ts={_ts(record)} level={record.levelname.lower()} logger={record.name}"
        text = " ".join([head, event, *(f"{key}={kv_value(value)}" for key, value in fields.items())])
        return text + (f"\n{record.exc_text}" if record.exc_text else "")


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "event": ..., <field>: <value>..., "exc": ...}``."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object on one line; a field named like a reserved key gets a trailing underscore."""
        event, fields = _parts(record)
        body: dict[str, Any] = {"ts": _ts(record), "level": record.levelname.lower(), "logger": record.name,
                                "event": event}
        for key, value in fields.items():
            body[f"{key}_" if key in _RESERVED else key] = plain(value)
        if record.exc_text:
            body["exc"] = record.exc_text
        return json.dumps(body, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "kv") -> None:
    """Send logs to stderr in the chosen format, through the secret filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # one line per request, migration step or scheduler wake-up is noise at INFO
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
