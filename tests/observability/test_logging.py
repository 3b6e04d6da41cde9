"""Structured logs: key=value or JSON lines, one event per stream run with its counts, no secret anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from connector.observability.logging import configure_logging, secrets, split_event
from tests.support import FsSandbox, make_app, seed_until_yesterday


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and the secret registry back as they were."""
    root = logging.getLogger()
    handlers, level, known = root.handlers[:], root.level, set(secrets.values)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    secrets.values = known


@pytest.mark.parametrize(
    ("message", "event", "fields"),
    [
        ("stream run connection=fs read=12 seconds=0.25", "stream run", {"connection": "fs", "read": 12,
                                                                          "seconds": 0.25}),
        ("push failed target=books error=Rejected: 422 vat invalid", "push failed",
         {"target": "books", "error": "Rejected: 422 vat invalid"}),
        ("pacing fs: waiting 3.0s (budget spent)", "pacing fs: waiting 3.0s (budget spent)", {}),
        ("lookup number=0042 page=0 delta=-3", "lookup", {"number": "0042", "page": 0, "delta": -3}),
        ("GET /clients?page=2 -> 200", "GET /clients?page=2 -> 200", {}),
        ("level=x msg=y", "", {"level": "x", "msg": "y"}),
    ],
)
def test_split_event(message: str, event: str, fields: dict[str, Any]) -> None:
    assert split_event(message) == (event, fields)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_lines_carry_fields_and_never_a_secret(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    secrets.add("s3cr3t-key-value")
    log = logging.getLogger("connector.test")

    log.info("stream run connection=fs status=ok read=%d", 7)
    log.warning("refused key=%s", "s3cr3t-key-value")
    try:
        raise ValueError("bad token s3cr3t-key-value")
    except ValueError:
        log.exception("failed connection=fs")

    err = capsys.readouterr().err
    assert "s3cr3t-key-value" not in err
    run, refused, failed = _lines(err)
    assert run["event"] == "stream run" and run["read"] == 7 and run["status"] == "ok" and run["level"] == "info"
    assert refused["key"] != "s3cr3t-key-value" and refused["level"] == "warning"
    assert failed["connection"] == "fs" and "ValueError" in failed["exc"]


def test_key_value_lines_are_the_default(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    logging.getLogger("connector.test").info("stream run connection=fs read=%d", 3)

    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("ts=") and line.endswith(" level=info logger=connector.test stream run connection=fs read=3")


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
