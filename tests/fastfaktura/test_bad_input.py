"""Bad input: an unreadable invoice goes to quarantine, a wrong key and garbage answers fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from connector.errors import AuthFailed, ProtocolError
from connector.store.tables import Client, Invoice, Link, Quarantine
from tests.fastfaktura.harness import WRONG_KEY, FastFakturaHarness
from tests.support import make_app, run_cli


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(("field", "value"), [("lines.0.unit_price_cents", "12,3a"), ("total_cents", "n/a"),
                                              ("lines.1.quantity", "two")])
def test_an_unreadable_invoice_is_quarantined_and_the_rest_is_stored(
    database_url: str, ff: FastFakturaHarness, field: str, value: str
) -> None:
    ff.seed(clients=20, invoices=120)
    victim = ff.state()["invoices"][40]["id"]
    ff.act("corrupt_invoice", invoice_id=victim, field=field, value=value)
    app = make_app(database_url, ff.connection("ff"))

    report = app.sync("ff")

    assert report.totals.quarantined >= 1
    with app.engine.connect() as conn:
        rows = conn.execute(select(Quarantine.remote_id, Quarantine.error, Quarantine.entity_kind)).all()
    mine = [r for r in rows if r.remote_id == victim]
    assert len(mine) == 1 and mine[0].entity_kind == "invoice"
    assert value in mine[0].error and "invoice." in mine[0].error
    assert _count(app.engine, Invoice) == 119  # every other invoice of its page was stored

    # The quarantined invoice has no link, so it is fetched again, but not quarantined twice.
    again = app.sync("ff")
    assert _count(app.engine, Quarantine) == len(rows)
    assert again.totals.created == again.totals.updated == 0


def test_a_wrong_key_fails_clearly_and_writes_nothing(sqlite_url: str, ff: FastFakturaHarness, tmp_path: Path) -> None:
    ff.seed(clients=5, invoices=10)
    app = make_app(sqlite_url, ff.connection("ff", wrong_key=True))

    with pytest.raises(AuthFailed) as caught:
        app.sync("ff")

    assert "[ff]" in str(caught.value) and WRONG_KEY not in str(caught.value)
    assert _count(app.engine, Client) == _count(app.engine, Link) == 0

    conf = ff.connections_toml(tmp_path / "c.toml", "ff", wrong_key=True)
    result = run_cli("sync", "--connection", "ff",
                     env={"CONNECTOR_DATABASE_URL": sqlite_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert result.returncode == 1
    assert "[ff]" in result.stderr and WRONG_KEY not in result.stderr + result.stdout
    assert _count(app.engine, Client) == _count(app.engine, Invoice) == 0


@pytest.mark.parametrize("kind", ["html", "truncated_json"])
@pytest.mark.parametrize("where", ["/api/v1/clients", "/api/v1/invoices/"])
def test_garbage_answers_are_typed_protocol_errors(sqlite_url: str, ff: FastFakturaHarness, kind: str,
                                                   where: str) -> None:
    ff.seed(clients=5, invoices=10)
    app = make_app(sqlite_url, ff.connection("ff"))
    ff.faults([{"kind": kind, "times": None, "path_prefix": where}])

    with pytest.raises(ProtocolError):
        app.sync("ff")


@pytest.mark.parametrize(("field", "value", "names"), [
    ("paid", 10**25, "payment.amount_minor"),  # a paid event's 26-digit amount: past a BIGINT
    ("lines.0.tax_rate", 10**40, "invoice.lines[1].tax_minor"),  # beyond decimal arithmetic: a reason, no trace
    ("currency", 5, "invoice.currency"),  # was stored as "5"
    ("client_id", None, "invoice.client_remote_id"),  # was stored without its client
])
def test_a_value_the_store_cannot_take_is_quarantined_with_the_reason(
    database_url: str, ff: FastFakturaHarness, field: str, value: object, names: str
) -> None:
    ff.seed(clients=10, invoices=60)
    victim, events = next((i["id"], i["events"]) for i in ff.state()["invoices"] if i["status"] == "paid")
    if field == "paid":  # the paid event's amount
        field = f"events.{[e['type'] for e in events].index('paid')}.amount_cents"
    ff.act("corrupt_invoice", invoice_id=victim, field=field, value=value)
    app = make_app(database_url, ff.connection("ff"))

    app.sync("ff")

    with app.engine.connect() as conn:
        rows = conn.execute(select(Quarantine.remote_id, Quarantine.error, Quarantine.entity_kind)).all()
    [(_, error, _)] = [r for r in rows if r.entity_kind == names.split(".")[0]]
    assert names in error and "[<class" not in error
    stored = 60 - names.startswith("invoice")
    assert _count(app.engine, Invoice) == stored  # every other invoice is stored
    app.sync("ff")
    assert _count(app.engine, Quarantine) == len(rows) and _count(app.engine, Invoice) == stored
