"""The connector under FactuurSturen's quirk switches (issue 12): whichever way the real service behaves, what a
person deletes there is marked deleted and every stream stays healthy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.store.tables import Client, Invoice, Link
from tests.support import FsSandbox, make_app, seed_until_yesterday


def _deleted(app_engine: object, kind: str, remote_id: str) -> bool:
    table = {"client": Client, "invoice": Invoice}[kind]
    with app_engine.connect() as conn:  # type: ignore[attr-defined]
        row = conn.execute(
            select(table.remote_deleted_at)  # type: ignore[attr-defined]
            .join(Link, Link.entity_id == table.id)  # type: ignore[attr-defined]
            .where(Link.connection == "fs", Link.entity_kind == kind, Link.remote_id == remote_id)
        ).one()
    return row[0] is not None


@pytest.mark.parametrize("answers_list", [False, True], ids=["404", "unknown_id_answers_list"])
def test_deleted_open_invoice_and_client_are_marked_deleted_and_streams_stay_healthy(
    database_url: str, fs: FsSandbox, answers_list: bool
) -> None:
    fs.post("/quirks", {"unknown_id_answers_list": answers_list})
    seed_until_yesterday(fs, days=200, seed=12, clients=4, invoices=40)
    lonely = fs.act("create_client", company="Zonder Facturen BV", email="leeg@example.nl")
    app = make_app(database_url, fs.connection(page_size=10))
    app.sync("fs")

    truth = fs.state()
    old_open = next(i for i in sorted(truth["invoices"], key=lambda i: i["sent"]) if float(i["open"]) > 0)
    fs.act("delete_invoice", invoice=old_open["id"])
    fs.act("delete_client", clientnr=lonely["clientnr"])

    second = app.sync("fs")
    assert all(s.status == "ok" for s in second.streams), [(s.stream, s.status, s.error) for s in second.streams]
    assert _deleted(app.engine, "invoice", str(old_open["id"]))
    assert _deleted(app.engine, "client", str(lonely["clientnr"]))

    for _ in range(2):
        later = app.sync("fs")
        assert all(s.status == "ok" for s in later.streams), [(s.stream, s.error) for s in later.streams]
        assert later.totals.created == 0 and later.totals.quarantined == 0
