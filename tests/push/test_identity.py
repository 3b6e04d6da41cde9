"""Identity across services: the same client at two services is one canonical client with two links."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.tables import Client, Invoice, Link
from tests.fastfaktura.harness import FastFakturaHarness
from tests.support import FsSandbox, make_app


def test_a_client_known_at_two_services_is_one_canonical_client(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness
) -> None:
    fs.act("create_client", company="Bakkerij De Korf", email="Info@DeKorf.nl ", taxnumber="NL8123.45.678.B01")
    fs.act("create_client", company="Elsewhere BV", email="hello@elsewhere.nl")
    shared = ff.act("create_client", name="De Korf", email="info@dekorf.nl")
    ff.act("create_client", name="Only Here AS", email="post@onlyhere.no")
    ff.act("create_invoice", client_id=shared["id"], send=True,
           lines=[{"description": "Brood", "quantity": 2, "unit_price_cents": 450, "tax_rate": 9}])

    app = make_app(database_url, fs.connection("fs"), ff.connection("ff"))
    app.sync("fs")
    report = app.sync("ff")
    assert report.totals.matched == 1

    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Client)).scalar_one() == 3
        holders = conn.execute(
            select(Link.connection, Link.entity_id).where(Link.entity_kind == "client")  # type: ignore[call-overload]
        ).all()
        by_entity: dict[int, set[str]] = {}
        for connection, entity_id in holders:
            by_entity.setdefault(entity_id, set()).add(connection)
        [korf] = [e for e, held_by in by_entity.items() if held_by == {"fs", "ff"}]
        invoice_client = conn.execute(select(Invoice.client_id)).scalar_one()  # type: ignore[call-overload]
    assert invoice_client == korf, "FastFaktura's invoice belongs to the client FactuurSturen already gave"

    again = app.sync("ff")
    assert again.totals.matched == 0 and again.totals.created == 0 and again.totals.updated == 0
