"""Structured logs: events with typed fields as key=value or JSON lines, one event per stream run with its counts,
RFC 3339 UTC timestamps with milliseconds, no secret anywhere."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.observability.logging import Event, configure_logging, get_logger, secrets
from tests.support import FsSandbox, make_app, seed_until_yesterday

TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and the secret registry back as they were."""
    root = logging.getLogger()
    handlers, level, known = root.handlers[:], root.level, set(secrets.values)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    secrets.values = known


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_lines_carry_typed_fields_an_rfc3339_utc_ts_and_no_msg(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    before = datetime.now(UTC)
    get_logger("connector.test").info("stream run", connection="fs", read=7, seconds=0.25, complete=True,
                                      untrusted=None, window_start=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    (line,) = capsys.readouterr().err.splitlines()
    body = json.loads(line)
    assert TS.fullmatch(body["ts"]), body["ts"]
    stamp = datetime.fromisoformat(body["ts"])
    assert stamp.utcoffset() == timedelta(0) and before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)
    assert body == {"ts": body["ts"], "level": "info", "logger": "connector.test", "event": "stream run",
                    "connection": "fs", "read": 7, "seconds": 0.25, "complete": True, "untrusted": None,
                    "window_start": "2026-01-02T03:04:05Z"}
    assert body["complete"] is True and type(body["read"]) is int


def test_a_message_containing_key_value_text_stays_one_field(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error text with `` since=`` in it once became a cut-off `error` and an invented `since` field."""
    error = "ProtocolError: bad window since=2024-01-01 until=x level=debug"
    configure_logging("INFO", "json")
    get_logger("connector.test").warning("refetch failed", connection="fs", error=error)
    configure_logging("INFO", "kv")
    get_logger("connector.test").warning("refetch failed", connection="fs", error=error)

    json_line, kv_line = capsys.readouterr().err.splitlines()
    body = json.loads(json_line)
    assert body["error"] == error and "since" not in body and "until" not in body and body["level"] == "warning"
    assert kv_line.endswith(f" refetch failed connection=fs error={json.dumps(error)}")


def test_fields_named_like_the_line_keys_do_not_overwrite_them(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    get_logger("connector.test").info("odd", level="x", event="y", ts=3)
    body = json.loads(capsys.readouterr().err)
    assert (body["level"], body["event"]) == ("info", "odd") and (body["level_"], body["event_"], body["ts_"]) == (
        "x", "y", 3)


def test_json_lines_never_carry_a_secret(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    secrets.add("s3cr3t-key-value")
    log = logging.getLogger("connector.test")
    events = get_logger("connector.test")

    log.info("stream run connection=fs status=ok read=%d", 7)  # a plain %-style record: its text is the event
    log.warning("refused key=%s", "s3cr3t-key-value")
    events.warning("refused", key="s3cr3t-key-value", url="https://user:pw@example.com/x?api_key=abc123",
                   api_key="not-registered-but-named-so")
    try:
        raise ValueError("bad token s3cr3t-key-value")
    except ValueError:
        events.exception("failed", connection="fs")

    err = capsys.readouterr().err
    assert "s3cr3t-key-value" not in err and "abc123" not in err and "pw@" not in err
    assert "not-registered-but-named-so" not in err
    plain, refused, event, failed = _lines(err)
    assert plain["event"] == "stream run connection=fs status=ok read=7" and plain["level"] == "info"
    assert "msg" not in plain and refused["level"] == "warning" and "***" in refused["event"]
    assert event["key"] == "***" and event["api_key"] == "***" and "example.com" in event["url"]
    assert failed["connection"] == "fs" and "ValueError" in failed["exc"] and failed["level"] == "error"


def test_key_value_lines_are_the_default(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    get_logger("connector.test").info("stream run", connection="fs", read=3, ok=True, note="two words")

    (line,) = capsys.readouterr().err.splitlines()
    head, _, rest = line.partition(" ")
    assert TS.fullmatch(head.removeprefix("ts=")), head
    assert rest == 'level=info logger=connector.test stream run connection=fs read=3 ok=true note="two words"'


def test_an_event_reads_as_key_value_text_to_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="connector.test"):
        get_logger("connector.test").info("lease busy", lease="fs", holder="beta")
    assert "lease busy lease=fs holder=beta" in caplog.text
    (record,) = caplog.records
    assert isinstance(record.msg, Event) and record.msg.fields == {"lease": "fs", "holder": "beta"}


def test_a_sync_logs_one_event_per_stream_run_with_its_counts(
    restore_logging: None, capsys: pytest.CaptureFixture[str], sqlite_url: str, fs: FsSandbox
) -> None:
    seed_until_yesterday(fs, days=200, seed=4, clients=8, invoices=20, lines=1)
    app = make_app(sqlite_url, fs.connection())
    configure_logging("INFO", "json")
    secrets.add(fs.api_key)

    report = app.sync("fs")

    err = capsys.readouterr().err
    assert fs.api_key not in err
    runs = [line for line in _lines(err) if line["event"] == "stream run"]
    assert [r["stream"] for r in runs] == [s.stream for s in report.streams]
    for line, stream in zip(runs, report.streams, strict=True):
        assert line["connection"] == "fs" and line["status"] == "ok"
        assert (line["read"], line["created"], line["updated"], line["quarantined"], line["requests"]) == (
            stream.counts.read, stream.counts.created, stream.counts.updated, stream.counts.quarantined,
            stream.requests,
        )
