"""The store on both backends: migrations, refusal of an unmigrated database, exact decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from connector.errors import NotMigrated
from connector.store.db import current_revision, ensure_migrated, head_revision, make_engine, upgrade
from connector.store.tables import Invoice, InvoiceLine


def test_unmigrated_database_is_refused_then_migrated(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(NotMigrated, match="connector db upgrade"):
        ensure_migrated(engine)
    assert upgrade(engine) == head_revision()
    ensure_migrated(engine)
    assert current_revision(engine) == head_revision()
    assert upgrade(engine) == head_revision()  # idempotent
    engine.dispose()


def test_decimals_survive_exactly(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        invoice_id = conn.execute(
            insert(Invoice.__table__).returning(Invoice.__table__.c.id),  # type: ignore[attr-defined]
            {
                "currency": "EUR",
                "status": "sent",
                "extra": {},
                "version": 1,
                "subtotal_minor": 10**15,
                "tax_minor": 0,
                "total_minor": 10**15,
            },
        ).scalar_one()
        conn.execute(
            insert(InvoiceLine.__table__),
            {  # type: ignore[attr-defined]
                "invoice_id": invoice_id,
                "position": 1,
                "description": "x",
                "quantity": Decimal("0.333333333333"),
                "unit_price": Decimal("5.952"),
                "vat_rate": Decimal("21"),
                "discount_percent": Decimal("0"),
                "line_total_minor": 10**15,
                "extra": {},
            },
        )
    with engine.connect() as conn:
        line = conn.execute(select(InvoiceLine.quantity, InvoiceLine.unit_price)).one()  # type: ignore[call-overload]
        total = conn.execute(select(Invoice.total_minor)).scalar_one()  # type: ignore[call-overload]
    assert line == (Decimal("0.333333333333"), Decimal("5.952"))
    assert total == 10**15
    engine.dispose()
