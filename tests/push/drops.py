"""Pushing through dropped answers: an app on a clock the test moves, and a push repeated until nothing is pending."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from connector.app import App
from connector.settings import Connection, Settings
from connector.store.db import make_engine, upgrade
from connector.store.tables import Outbox
from tests.push.conftest import SteppedClock

__all__ = ["push_until_settled", "stepped_app"]


def stepped_app(database_url: str, *connections: Connection) -> tuple[App, SteppedClock]:
    """An App over the migrated `database_url` whose clock `push_until_settled` moves past retry backoffs."""
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    clock = SteppedClock()
    return App(Settings(database_url=database_url), clock=clock, connections=list(connections)), clock


def push_until_settled(app: App, clock: SteppedClock, target: str, rounds: int) -> None:
    """Push to `target` until no outbox row is pending (at most `rounds` times), five minutes apart."""
    for _ in range(rounds):
        app.push(target)
        clock.offset += timedelta(minutes=5)
        with app.engine.connect() as conn:
            pending = conn.execute(select(func.count()).where(Outbox.status == "pending")).scalar_one()  # type: ignore[arg-type]
        if not pending:
            return
