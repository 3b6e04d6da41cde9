"""Through the FactuurSturen provider: an invoice listing whose body inflates past the limit fails the stream
run; nothing is swept, no cursor moves, nothing stored changes (a listing cut short is never taken whole)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from connector.errors import ProtocolError
from connector.store.runs import load_cursor
from connector.store.tables import SyncRun
from tests.hostile.server import HostileServer, bomb, bomb_route
from tests.support import FsSandbox, make_app, seed_until_yesterday
from tests.truth import store_snapshot

MIB = 1024 * 1024


@pytest.fixture
def proxy(fs: FsSandbox) -> Iterator[HostileServer]:
    """The hostile server in front of the FactuurSturen sandbox: it forwards what it has no route for."""
    origin = urlsplit(fs.base_url)
    server = HostileServer(upstream=f"{origin.scheme}://{origin.netloc}").start()
    yield server
    server.stop()


def test_an_invoice_listing_past_the_body_limit_fails_the_run_and_changes_nothing(
    database_url: str, fs: FsSandbox, proxy: HostileServer
) -> None:
    seed_until_yesterday(fs, days=365, seed=5, clients=20, invoices=30)
    app = make_app(database_url, fs.connection(base_url=f"{proxy.url}/api/v1"))
    app.sync("fs", full=True)
    before, cursor = store_snapshot(app.engine, "fs"), load_cursor(app.engine, "fs", "invoices")
    assert len(before["invoices"]) == 30 and cursor

    # Given the invoice listing now comes as a gzip bomb: one real invoice, then 80 MiB of spaces (valid
    # JSON once inflated whole, past the default limit of 64 MiB)
    json_please = {"Accept": "application/json"}
    first = httpx.get(f"{fs.base_url}/invoices", auth=(fs.username, fs.api_key), headers=json_please).json()[0]
    proxy.routes["/api/v1/invoices"] = bomb_route(bomb(80 * MIB, b"[" + json.dumps(first).encode()))

    with pytest.raises(ProtocolError, match="GET /api/v1/invoices -> 200: body larger than the limit"):
        app.sync("fs", full=True)

    assert store_snapshot(app.engine, "fs") == before  # before the limit: 29 invoices swept as deleted
    assert load_cursor(app.engine, "fs", "invoices") == cursor
    with app.engine.connect() as conn:
        last = conn.execute(
            select(SyncRun.status, SyncRun.error).where(SyncRun.stream == "invoices").order_by(SyncRun.id.desc())
        ).first()
    assert last is not None and last.status == "failed" and "larger than the limit" in last.error
