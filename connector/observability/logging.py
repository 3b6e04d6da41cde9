"""Structured logs: key=value lines by default, JSON lines by option, secrets scrubbed from every record.

Messages are written as ``<event> key=value key=value ...`` (one event per stream run, with its counts).
The JSON format splits them: ``{"ts", "level", "logger", "event", <key>: <value>..., "msg"}``, integers and
decimals as JSON numbers, so a log pipeline can filter on fields without parsing text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from connector.http import redact

__all__ = ["SecretRegistry", "configure_logging", "secrets", "split_event"]

_KEY = re.compile(r"(?:^|(?<=\s))([a-z][a-z0-9_]*)=")
_INT = re.compile(r"-?(?:0|[1-9]\d*)")  # no leading zeros: "0042" is an identifier, not a number
_FLOAT = re.compile(r"-?(?:0|[1-9]\d*)\.\d+")
_RESERVED = frozenset({"ts", "level", "logger", "event", "msg", "exc"})


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

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its redacted rendering."""
        message = record.getMessage()
        record.msg = redact(message, self.values)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.values)
            record.exc_info = None
        return True


secrets = SecretRegistry()


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        head = (
            f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} level={record.levelname.lower()} logger={record.name}"
        )
        text = f"{head} {record.getMessage()}"
        return text + (f"\n{record.exc_text}" if record.exc_text else "")


def split_event(message: str) -> tuple[str, dict[str, Any]]:
    """Split ``"stream run connection=fs read=12 error=Timeout: no answer"`` into its event and fields.

    A value runs until the next `` key=``, so it may contain spaces; integers and decimals become numbers.

    Args:
        message: a formatted log message.

    Returns:
        (the text before the first key, {key: value}); the whole message and no fields when it has no key.
    """
    keys = list(_KEY.finditer(message))
    if not keys:
        return message, {}
    fields: dict[str, Any] = {}
    for key, following in zip(keys, [*keys[1:], None], strict=True):
        text = message[key.end() : following.start() if following else len(message)].strip()
        fields[key.group(1)] = int(text) if _INT.fullmatch(text) else float(text) if _FLOAT.fullmatch(text) else text
    return message[: keys[0].start()].strip(), fields


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, fields = split_event(message)
        body: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event,
        }
        body.update((k, v) for k, v in fields.items() if k not in _RESERVED)
        body["msg"] = message
        if record.exc_text:
            body["exc"] = record.exc_text
        return json.dumps(body, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "kv") -> None:
    """Send logs to stderr in the chosen format, through the secret filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _KeyValueFormatter())
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # one line per request, migration step or scheduler wake-up is noise at INFO
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
