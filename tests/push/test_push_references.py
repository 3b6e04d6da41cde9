"""A record whose reference the target does not hold yet waits; it is not sent half-formed nor failed."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from connector.store.tables import Outbox
from tests.fastfaktura.harness import FastFakturaHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday


def test_invoices_of_a_client_the_target_refused_wait_for_it(
    sqlite_url: str, fs: FsSandbox, ff: FastFakturaHarness
) -> None:
    seed_until_yesterday(fs, days=30, seed=31, clients=6, invoices=30)
    # A phone that cannot be made E.164: the client is refused (a failed row with the field), its invoices wait.
    most = Counter(str(invoice["clientnr"]) for invoice in fs.state()["invoices"]).most_common(1)[0][0]
    fs.act("edit_client", clientnr=most, changes={"phone": "bel na 17u"})
    app = make_app(sqlite_url, fs.connection("src"), ff.connection("dst", receives=["client", "invoice"]))
    app.sync("src")
    app.push("dst")
    with app.engine.connect() as conn:
        rows = conn.execute(select(Outbox.entity_kind, Outbox.status, Outbox.last_error)).all()  # type: ignore[call-overload]
    refused_clients = [r for r in rows if r[0] == "client" and r[1] == "failed"]
    assert refused_clients and all("phone" in str(r[2]) for r in refused_clients)
    waiting = [r for r in rows if r[0] == "invoice" and r[1] == "pending"]
    assert waiting and all("waiting for the invoice's client" in str(r[2]) for r in waiting)
    assert not [r for r in rows if "client_id" in str(r[2])], "no invoice was sent without its client"
    sent = sum(1 for r in rows if r[0] == "invoice" and r[1] == "done")
    assert len(ff.state()["invoices"]) == sent
