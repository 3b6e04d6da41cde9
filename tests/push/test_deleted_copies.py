"""A deletion at one service speaks for the canonical record only when that service owns it.

Before: a person deleting the copy of an invoice the push had put at hydra made the sweep mark the canonical
invoice deleted, and a deleted canonical record is never pushed again: its origin's later changes stopped
reaching every other service. Now a copy's deletion ends that service's link only (and the deleted link keeps
the push from creating the record there again); the issuer deleting its invoice, or the last service holding
a record deleting it, still marks it deleted.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from connector.app import App
from connector.store.tables import Client, Invoice, Link
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app

ALL = ["client", "invoice", "payment"]


def _deleted_invoices(app: App) -> set[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(select(Invoice.number).where(Invoice.remote_deleted_at.is_not(None)))  # type: ignore[union-attr]
        return set(rows.scalars())


def _deleted_clients(app: App) -> set[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(select(Client.name).where(Client.remote_deleted_at.is_not(None)))  # type: ignore[union-attr]
        return set(rows.scalars())


def _live_links(app: App, kind: str) -> dict[str, int]:
    """Live links of `kind` per connection."""
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(Link.connection).where(Link.entity_kind == kind, Link.remote_deleted_at.is_(None))  # type: ignore[union-attr]
        )
        return dict(Counter(rows.scalars()))


def _push(app: App) -> int:
    planned = 0
    for result in app.push():
        assert result.drain is not None and result.drain.failed == 0, (result.target, result.drain.errors)
        planned += result.drain.done
    return planned


def test_a_copy_deleted_at_a_target_leaves_the_invoice_live_until_its_issuer_deletes_it(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    client = fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    invoice, other = (
        fs.act("create_invoice", clientnr=client["clientnr"],
               lines=[{"amount": n, "description": "Advies", "price": "95.00", "tax_rate": 21}])
        for n in (2, 3)
    )
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=ALL))
    app.sync("fs")
    _push(app)
    app.sync("hy")
    [copy] = [i for i in hy.state()["invoices"] if i["grossAmount"] == invoice["totalintax"]]

    hy.act("delete_invoice", id=copy["id"])  # a person removes what the push put there
    swept = app.sync("hy", streams=["sweep"])

    assert swept.totals.deleted == 1
    assert _deleted_invoices(app) == set(), "a copy's deletion is hydra's business, not the invoice's end"
    assert _live_links(app, "invoice") == {"fs": 2, "hy": 1}
    assert _push(app) == 0, "the deleted link keeps the push from making the invoice at hydra again"
    assert sorted(i["deleted"] for i in hy.state()["invoices"]) == [False, True]

    fs.act("delete_invoice", invoice=invoice["id"])  # now its issuer deletes it
    app.sync("fs", full=True)

    assert _deleted_invoices(app) == {invoice["invoicenr_full"]}
    assert _live_links(app, "invoice") == {"fs": 1, "hy": 1}
    del other


def test_a_client_deleted_at_one_service_lives_on_while_another_holds_it(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    gone = fs.act("create_client", company="Fietsen Meijer", email="info@meijer.nl")
    fs.act("create_client", company="Drukkerij Jansen", email="info@jansen.nl")
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=ALL))
    app.sync("fs")
    _push(app)
    app.sync("hy")
    assert _live_links(app, "client") == {"fs": 2, "hy": 2}

    fs.act("delete_client", clientnr=gone["clientnr"])
    app.sync("fs", full=True)

    assert _deleted_clients(app) == set(), "hydra still holds the client"
    assert _live_links(app, "client") == {"fs": 1, "hy": 2}
