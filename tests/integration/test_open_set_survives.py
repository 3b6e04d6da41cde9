"""A full payment of an old open FactuurSturen invoice is seen even when the run that listed the invoices
never saved the open set (`connector sync --stream clients --stream invoices`, or a run killed after its
invoice listing): the refresh's "previously open" is its memo together with what the store holds as open.
Before: the open set was empty, the paid invoice left the service's open listing, and was never read again.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from connector.store.db import make_engine
from connector.store.tables import Invoice, Link, Payment
from tests.support import FsSandbox, run_cli, seed_until_yesterday


def test_an_old_invoice_paid_in_full_after_a_run_without_the_refresh_is_stored_paid(
    database_url: str, fs: FsSandbox, tmp_path: Path
) -> None:
    seed_until_yesterday(fs, days=365, seed=12, clients=20, invoices=300)
    conf = fs.connections_toml(tmp_path / "connections.toml", page_size=100)
    env = {**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0

    first = run_cli("sync", "--connection", "fs", "--stream", "clients", "--stream", "invoices", env=env)
    assert first.returncode == 0, first.stderr
    # A person pays an old open invoice (far outside the next run's window) in full.
    old = next(i for i in sorted(fs.state()["invoices"], key=lambda i: i["sent"])
               if Decimal(i["open"]) > 0 and Decimal(i["open"]) == Decimal(i["totalintax"]))  # nothing paid yet
    fs.act("register_payment", invoice=old["id"], amount=str(old["open"]))

    second = run_cli("sync", "--connection", "fs", env=env)
    assert second.returncode == 0, second.stderr

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            entity_id = conn.execute(select(Link.entity_id).where(  # type: ignore[call-overload]
                Link.connection == "fs", Link.entity_kind == "invoice", Link.remote_id == str(old["id"])
            )).scalar_one()
            status, open_minor = conn.execute(
                select(Invoice.status, Invoice.open_minor).where(Invoice.id == entity_id)  # type: ignore[call-overload]
            ).one()
            paid = conn.execute(
                select(Payment.amount_minor).where(Payment.invoice_id == entity_id)  # type: ignore[call-overload]
            ).scalars().all()
    finally:
        engine.dispose()
    assert (status, open_minor) == ("paid", 0)
    assert paid == [int(Decimal(old["open"]) * 100)]
