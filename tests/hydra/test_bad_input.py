"""Bad input: unreadable records go to quarantine, bad tokens and garbage answers fail clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from connector.errors import AuthFailed, ProtocolError
from connector.store.tables import Client, Invoice, Payment, Quarantine
from tests.hydra.harness import TOKEN, WRONG_TOKEN, HydraHarness
from tests.hydra.hostile import RawNumberProxy
from tests.support import make_app, run_cli


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _quarantine(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Quarantine.entity_kind, Quarantine.remote_id, Quarantine.error,  # type: ignore[call-overload]
                                        Quarantine.resolved_at)).all())


@pytest.mark.parametrize(("where", "field", "value", "kind", "names"), [
    ({"row": "first"}, "netPrice", "12,3a", "invoice", "invoice.lines[1].unit_price"),
    ({}, "grossAmount", "1.234,00", "invoice", "invoice.total_minor"),
    ({"transaction": "first"}, "amount", "twelve", "payment", "payment.amount_minor"),
    # Values the store cannot take; before: OverflowError (SQLite), ValueError "Exceeds the limit (4300 digits)"
    # (PostgreSQL), the whole page lost on every run.
    ({"transaction": "first"}, "amount", "1e9999", "payment", "payment.amount_minor"),  # 10,002 digits in cents
    ({}, "openAmount", "12345678901234567890123456.00", "invoice", "invoice.open_minor"),  # past a BIGINT
    ({"row": "first"}, "quantity", "1E+45", "invoice", "invoice.lines[1].quantity"),  # past its 40-character column
])
def test_an_unreadable_record_is_quarantined_and_the_rest_stored(
    database_url: str, hy: HydraHarness, where: dict[str, Any], field: str, value: str, kind: str, names: str
) -> None:
    hy.seed(clients=10, invoices=60)
    # An invoice in quarantine takes its payments along, so corrupt invoices without payments.
    victim = next(i for i in hy.state()["invoices"] if bool(i["transactions"]) == (kind == "payment"))
    touched = hy.act("corrupt_invoice", id=victim["id"], field=field, value=value, **where)
    remote = str(victim["id"]) if kind == "invoice" else str(touched["id"])
    app = make_app(database_url, hy.connection("hy"))

    report = app.sync("hy")

    assert report.totals.quarantined == 1
    [(q_kind, q_remote, error, resolved)] = _quarantine(app.engine)
    assert (q_kind, q_remote, resolved) == (kind, remote, None)
    assert names in error and (value in error or "out of range" in error or "does not fit" in error)
    payments = sum(len(i["transactions"]) for i in hy.state()["invoices"])
    assert _count(app.engine, Invoice) == 60 - (kind == "invoice")
    assert _count(app.engine, Payment) == payments - (kind == "payment")

    app.sync("hy")  # a rerun does not quarantine it again
    assert len(_quarantine(app.engine)) == 1

    if kind == "payment":  # saved again in the app: clean values, a new stamp, the quarantine resolves
        hy.act("edit_transaction", id=touched["id"], changes={"amount": "3.00"})
    else:
        hy.act("edit_invoice", id=victim["id"], changes={"reference": "gecorrigeerd"})
        if where:
            hy.act("edit_row", id=touched["id"], changes={"productName": "Gecorrigeerd"})
    app.sync("hy")
    assert [q[3] is not None for q in _quarantine(app.engine)] == [True]
    assert _count(app.engine, Invoice) == 60


@pytest.mark.parametrize("kind", ["html", "truncated_json"])
@pytest.mark.parametrize("path", ["/api/invoices", "/api/invoice-rows", "/api/invoice-transactions"])
def test_garbage_answers_are_protocol_errors(sqlite_url: str, hy: HydraHarness, kind: str, path: str) -> None:
    hy.seed(clients=3, invoices=12)
    hy.faults([{"kind": kind, "times": None, "path_prefix": path}])
    app = make_app(sqlite_url, hy.connection("hy"))
    with pytest.raises(ProtocolError):
        app.sync("hy")
    assert _count(app.engine, Invoice) == 0


def test_a_wrong_token_fails_clearly_and_writes_nothing(sqlite_url: str, hy: HydraHarness, tmp_path: Path) -> None:
    hy.seed(clients=5, invoices=10)
    app = make_app(sqlite_url, hy.connection("hy", wrong_key=True))
    with pytest.raises(AuthFailed) as caught:
        app.sync("hy")
    assert "[hy]" in str(caught.value) and WRONG_TOKEN not in str(caught.value)
    assert _count(app.engine, Client) == _count(app.engine, Invoice) == 0

    conf = hy.connections_toml(tmp_path / "c.toml", wrong_key=True)
    result = run_cli("sync", "--connection", "hy",
                     env={"CONNECTOR_DATABASE_URL": sqlite_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert result.returncode == 1
    assert "[hy]" in result.stderr and "401" in result.stderr
    assert WRONG_TOKEN not in result.stderr + result.stdout
    assert _count(app.engine, Client) == _count(app.engine, Invoice) == 0



@pytest.mark.parametrize("number", ["1e999", "-1e9999", "12345678901234567890123456.5"])
def test_a_raw_json_number_out_of_range_is_quarantined(database_url: str, hy: HydraHarness, number: str) -> None:
    """The wire carries the bare number (through `RawNumberProxy`): JSON decoded with parse_float=Decimal reads 1e999
    as Decimal('1E+999'). Before: a payment of 1,001 digits in cents, OverflowError / DataError, nothing stored."""
    hy.seed(clients=5, invoices=20)
    victim = next(i for i in hy.state()["invoices"] if i["transactions"])
    touched = hy.act("corrupt_invoice", id=victim["id"], field="amount", value=f"@raw:{number}", transaction="first")
    proxy = RawNumberProxy(hy.origin)
    try:
        wire = httpx.get(f"{proxy.origin}/api/invoice-transactions/{touched['id']}",
                         headers={"Authorization": f"Bearer {TOKEN}"}).content
        assert f'"amount":{number}'.encode() in wire.replace(b" ", b"")  # a bare number on the wire
        app = make_app(database_url, hy.connection("hy", base_url=proxy.origin + "/api"))
        report = app.sync("hy")
    finally:
        proxy.close()

    assert report.totals.quarantined == 1
    [(kind, remote_id, error, _)] = _quarantine(app.engine)
    assert (kind, remote_id) == ("payment", str(touched["id"])) and error.startswith("payment.amount_minor: ")
    assert "@raw" not in error and _count(app.engine, Invoice) == 20
