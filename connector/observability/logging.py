"""Structured logs: key=value lines by default, JSON lines by option, secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from connector.http import redact

__all__ = ["SecretRegistry", "configure_logging", "secrets"]


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


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
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
    for noisy in ("httpx", "httpcore", "alembic"):  # one line per request or migration step is noise at INFO
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
