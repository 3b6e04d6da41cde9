"""Test kit of the backfill tests: a seeded 3-year FactuurSturen account, a `Backfill` over an `App`, state reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from connector.app import App
from connector.settings import Connection, Settings
from connector.stopping import StopToken
from connector.store import runs
from connector.store.tables import SyncRun
from connector.sync.backfill import Backfill, WindowEvent
from tests.support import FsSandbox, make_app

YEARS_DAYS = 3 * 365


def sandbox_today(fs: FsSandbox) -> date:
    """The sandbox's local date."""
    return date.fromisoformat(fs.post("/clock", {})["now"][:10])


def seed_three_years(fs: FsSandbox, *, invoices: int, seed: int = 21, clients: int = 150) -> tuple[date, date]:
    """Seed invoices sent evenly over the three years before the sandbox's today; returns (first, today)."""
    today = sandbox_today(fs)
    first = today - timedelta(days=YEARS_DAYS)
    fs.seed(seed=seed, clients=clients, invoices=invoices, lines_per_invoice=2,
            start_date=first.isoformat(), end_date=(today - timedelta(days=1)).isoformat())
    return first, today


def midnight(day: date) -> datetime:
    """A date's midnight, UTC (what `--since YYYY-MM-DD` means)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def stoppable_app(database_url: str, *connections: Connection) -> tuple[App, StopToken]:
    """A migrated App whose pulls stop on the returned token."""
    token = StopToken()
    base = make_app(database_url, *connections)
    return App(Settings(database_url=database_url), connections=base.connections, stop=token), token


@contextmanager
def backfill_of(app: App, name: str, since: datetime, until: datetime | None, **kwargs: Any) -> Iterator[Backfill]:
    """A `Backfill` of connection `name` in 30-day windows (unless `step` is given); closes its provider."""
    conn = app.connection(name)
    provider = app.provider(conn)
    try:
        yield Backfill(
            app.migrated_engine(),
            app.clock,
            conn.name,
            provider,
            app.mapping(conn.provider),
            since=since,
            until=until,
            step=kwargs.pop("step", timedelta(days=30)),
            options=app.pull_options(conn),
            **kwargs,
        )
    finally:
        provider.close()


def stop_when_window_starts(token: StopToken, number: int) -> Any:
    """An `on_window` that asks to stop as window `number` starts (so it stops after that window's first page)."""

    def on_window(event: WindowEvent, report: Any) -> None:
        if event.finished is None and event.number == number:
            token.stop("test stop")

    return on_window


def cursor(engine: Engine, connection: str, stream: str) -> dict[str, Any]:
    """The stored cursor row of a connection x stream ({} when none)."""
    return runs.load_cursor(engine, connection, stream)


def backfill_runs(engine: Engine, connection: str, stream: str = "backfill:invoices") -> list[dict[str, Any]]:
    """The backfill's run rows, oldest first (id order)."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(table).where(table.c.connection == connection, table.c.stream == stream).order_by(table.c.id)
        ).mappings().all()
    return [dict(r) for r in rows]


def utc(value: datetime | None) -> datetime | None:
    """A stored instant as aware UTC (SQLite returns naive values)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
