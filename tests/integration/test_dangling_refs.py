"""An invoice stored before its client gets its client once the client is pulled, without refetching it."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.tables import Invoice
from tests.support import FsSandbox, make_app, seed_until_yesterday


def test_client_less_invoices_are_linked_when_their_client_arrives(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=20, seed=4, clients=5, invoices=12)
    app = make_app(database_url, fs.connection())
    first = app.sync("fs", streams=["invoices"])  # as if the clients stream had not run (or failed) yet
    assert first.totals.unresolved_refs == 12
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(Invoice.client_id.is_(None))).scalar_one() == 12  # type: ignore[union-attr]
    fs.clear_requests()
    second = app.sync("fs", streams=["clients"])
    assert second.resolved_refs == 12
    assert all("/invoices" not in r["path"] for r in fs.requests()), "re-mapped from the kept payloads"
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(Invoice.client_id.is_(None))).scalar_one() == 0  # type: ignore[union-attr]
    third = app.sync("fs")
    assert third.totals.updated == 0 and third.resolved_refs == 0, "nothing left to change"
