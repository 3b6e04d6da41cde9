"""FactuurSturen payments pushed exactly once: a payment create whose answer is lost after the service
committed it is found again before any retry, and every kind a service creates can be found so.

The invoice is issued at FactuurSturen and pushed to hydra; a person books two equal payments (same amount,
same day) at hydra. Both payment POSTs to FactuurSturen commit and then lose their connection. A payment has no
field for the connector's marker, so the retry re-reads the invoice and takes the payment with the payload's
date and amount that no other canonical payment is linked to (`FactuurSturenProvider.find_marked`). Before:
each retry posted it again (4 payments at the service, the invoice over-paid).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.cli import main
from connector.providers.base import Capabilities
from connector.providers.registry import get_provider_class, known_providers
from connector.store.tables import Invoice, Link, Outbox
from tests.hydra.harness import HydraHarness
from tests.push.drops import push_until_settled, stepped_app
from tests.support import FsSandbox

ALL = ["client", "invoice", "payment"]


def test_dropped_payment_creates_at_factuursturen_are_booked_once(
    database_url: str, fs: FsSandbox, hy: HydraHarness
) -> None:
    client = fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    fs.act("create_invoice", clientnr=client["clientnr"],
           lines=[{"amount": 4, "description": "Brood", "price": "25.00", "tax_rate": 21}])
    app, clock = stepped_app(
        database_url, fs.connection("fs", receives=["payment"], max_attempts=1), hy.connection("hy", receives=ALL)
    )
    app.sync("fs")
    push_until_settled(app, clock, "hy", rounds=5)
    app.sync("hy")
    with app.engine.connect() as conn:
        invoice_id, total = conn.execute(select(Invoice.id, Invoice.total_minor)).one()  # type: ignore[call-overload]
        hy_invoice, fs_invoice = (
            conn.execute(select(Link.remote_id).where(  # type: ignore[call-overload]
                Link.connection == name, Link.entity_kind == "invoice", Link.entity_id == invoice_id
            )).scalar_one()
            for name in ("hy", "fs")
        )
    assert total == 12100
    day = f"{date.today() - timedelta(days=1)}T10:00:00+00:00"
    for _ in range(2):  # two equal payments: each retry must take the one not linked to the other
        hy.act("add_transaction", invoice=int(hy_invoice), amount="40.00", date=day)
    app.sync("hy")
    fs.faults({"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/invoices_payment", "times": 2})

    push_until_settled(app, clock, "fs", rounds=10)

    assert len([r for r in fs.requests() if r["status"] == 0]) == 2, "both faults fired"
    payments = fs.state()["payments"]
    assert [Decimal(str(p["amount"])) for p in payments] == [Decimal("40.00")] * 2, "no duplicate at the service"
    [invoice] = [i for i in fs.state()["invoices"] if str(i["id"]) == fs_invoice]
    assert invoice["open"] == "41.00"
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(Outbox.status, Outbox.remote_id).where(  # type: ignore[call-overload]
                Outbox.connection == "fs", Outbox.entity_kind == "payment"
            )
        ).all()
        linked = conn.execute(
            select(Link.remote_id).where(Link.connection == "fs", Link.entity_kind == "payment")  # type: ignore[call-overload]
        ).scalars().all()
    assert sorted(status for status, _ in rows) == ["done", "done"]
    assert len(set(linked)) == 2, "each canonical payment linked to its own payment there"


@pytest.mark.parametrize("provider", known_providers())
def test_every_kind_a_provider_creates_has_a_marker_look_up_or_an_idempotency_key(provider: str) -> None:
    capabilities = get_provider_class(provider).capabilities
    assert capabilities.idempotency_keys or capabilities.marked == capabilities.writable
    assert all(capabilities.safe_to_retry(kind) for kind in ALL)


def test_a_push_route_without_either_is_refused_at_configuration(
    fs: FsSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cls = get_provider_class("factuursturen")
    unmarked: Capabilities = dataclasses.replace(cls.capabilities, marked=cls.capabilities.marked - {"payment"})
    monkeypatch.setattr(cls, "capabilities", unmarked)
    conf = fs.connections_toml(tmp_path / "connections.toml", name="fs_books", receives=["client", "payment"])
    monkeypatch.setenv("CONNECTOR_CONNECTIONS_FILE", str(conf))
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")

    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fs_books" in err[0] and "payment" in err[0] and "receives" in err[0], err
