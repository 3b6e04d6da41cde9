"""A create the service refuses part-way leaves nothing behind at hydra.

hydra takes an invoice as a draft and its rows one by one. Before, a row it refused (422) left the draft there
with the rows posted before it, and the outbox row failed: the next create of the invoice (a new version) made a
second one. Now the draft is deleted when a row is refused; the outbox row says why; other invoices go on.
"""

from __future__ import annotations

from sqlalchemy import select

from connector.store.tables import Outbox
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app


def test_an_invoice_with_a_refused_row_leaves_no_draft_at_hydra(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    client = fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    fs.act("create_invoice", clientnr=client["clientnr"],
           lines=[{"amount": 1, "description": "Advies", "price": "95.00", "tax_rate": 21},
                  {"amount": 1, "description": "", "price": "10.00", "tax_rate": 21}])  # hydra: productName blank
    fine = fs.act("create_invoice", clientnr=client["clientnr"],
                  lines=[{"amount": 2, "description": "Advies", "price": "95.00", "tax_rate": 21}])
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=["client", "invoice"]))
    app.sync("fs")

    [result] = app.push("hy")

    assert result.drain is not None and (result.drain.done, result.drain.failed) == (2, 1)  # client + fine; refused
    live = [i for i in hy.state()["invoices"] if not i["deleted"]]
    assert [i["grossAmount"] for i in live] == [fine["totalintax"]], "no draft is left with some of its rows"
    with app.engine.connect() as conn:
        [error] = conn.execute(
            select(Outbox.last_error).where(Outbox.status == "failed")  # type: ignore[arg-type]
        ).scalars().all()
    assert error is not None and "productName" in error
