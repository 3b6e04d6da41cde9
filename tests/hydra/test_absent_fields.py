"""hydra leaves null properties out: a customer field empty at the first read and filled later is stored.

Before: the merge read the link's last payload with the keys it lacks taken from the new payload, so a key
absent before (email null, left out) counted as unchanged at the service and the stored empty value stayed,
for ever, even under ``sync --full``.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from connector.store.tables import Client, Link
from tests.hydra.harness import HydraHarness
from tests.support import make_app


def _stored(app, remote_id: str) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        row = conn.execute(
            select(Client.email, Client.vat_number)
            .join(Link, (Link.entity_id == Client.id) & (Link.entity_kind == "client"))
            .where(Link.remote_id == remote_id)
        ).one()
    return row.email, row.vat_number


@pytest.mark.parametrize("full", [False, True])
def test_a_field_left_out_at_first_and_filled_later_is_stored(
    database_url: str, hy: HydraHarness, api: httpx.Client, full: bool
) -> None:
    hy.seed(clients=3, invoices=2)
    customer = hy.act("create_customer", name="Zonder Mail B.V.")
    wire = api.get(f"/customers/{customer['id']}").json()
    assert "email" not in wire and "vatNumber" not in wire  # left out, not null
    app = make_app(database_url, hy.connection("hy"))
    app.sync("hy")
    assert _stored(app, str(customer["id"])) == (None, None)

    hy.act("edit_customer", id=customer["id"], changes={"email": "nu@example.nl", "vatNumber": "NL123456789B01"})
    report = app.sync("hy", full=full)

    assert report.totals.updated >= 1
    assert _stored(app, str(customer["id"])) == ("nu@example.nl", "NL123456789B01")
    again = app.sync("hy", full=full)
    assert again.totals.updated == 0 and _stored(app, str(customer["id"])) == ("nu@example.nl", "NL123456789B01")
